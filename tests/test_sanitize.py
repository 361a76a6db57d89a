"""sanitize.clean: nothing that a terminal would act on survives; readable text does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag.sanitize import clean

# Bidi embeddings, overrides and isolates: LRE RLE PDF LRO RLO, LRI RLI FSI PDI.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
MARKS = "\u200e\u200f\u061c"  # LRM, RLM, ALM: no span, kept


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),  # SGR colours
        ("a\x1b[2J\x1b[Hb", "ab"),  # clear screen, cursor home
        ("x\x1b[?1049hy", "xy"),  # private mode (alternate screen)
        ("\x1b]0;pwned title\x07after", "after"),  # OSC 0 window title, BEL-terminated
        ("\x1b]2;title\x1b\\after", "after"),  # OSC 2, ST-terminated
        ("copy\x1b]52;c;ZXZpbA==\x07 me", "copy me"),  # OSC 52 clipboard write
        ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink
        ("\x1bPq#0;2;0;0;0\x1b\\img", "img"),  # DCS (sixel)
        ("\x1b_APC payload\x1b\\ok", "ok"),  # APC
        ("\x1bcreset", "reset"),  # RIS full reset
        ("\x1b(Bcharset", "charset"),  # designate G0 charset
        ("\x1b7save\x1b8", "save"),  # save / restore cursor
        ("\x9b31m8-bit CSI", "8-bit CSI"),  # C1 CSI
        ("\x9d0;title\x9cdone", "done"),  # C1 OSC ... C1 ST
        ("bell\x07 nul\x00 bs\x08 del\x7f", "bell nul bs del"),
        ("a\x85b\x9fc", "abc"),  # other C1 controls
        ("line1\r\nline2", "line1\nline2"),
        ("progress 10%\rprogress 20%", "progress 10%progress 20%"),  # a lone CR cannot overwrite
        ("vt\x0bff\x0c", "vtff"),
        ("Snip \u202egnp.exe\u202c title", "Snip gnp.exe title"),  # would read "Snip exe.png title"
        ("\u202dforced LTR\u202c \u202bembedded RTL\u202c \u202aLRE", "forced LTR embedded RTL LRE"),
        ("isolates \u2066a\u2069 \u2067b\u2069 \u2068c", "isolates a b c"),
        ("\u202e\x1b[31mboth\x1b[0m\u2069", "both"),
    ],
)
def test_terminal_controls_are_removed(raw, expected):
    assert clean(raw) == expected


def test_a_lone_escape_is_shown_not_sent():
    assert clean("press \x1b to quit") == "press ␛ to quit"
    assert clean("end\x1b") == "end␛"


def test_an_unterminated_sequence_leaves_a_visible_escape():
    out = clean("\x1b]52;c;ZXZpbA== never terminated")
    assert "\x1b" not in out
    assert out.startswith("␛]52")
    assert "\x1b" not in clean("\x1b[12")


def test_newlines_and_tabs_survive():
    text = "def f():\n\treturn 1\n\n| a | b |\n"
    assert clean(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "emoji 👩‍👩‍👧‍👦 🇫🇷 ❤️ 👍🏽",
        "wide 日本語のテキスト 한국어 中文",
        "rtl مرحبا بالعالم שלום עולם",
        "marks: \u05e9\u05dc\u05d5\u05dd\u200f! 1\u200e2 \u0627\u061c-\u0628",  # LRM, RLM, ALM place punctuation
        "combining é (e\u0301) and zero-width joiner a\u200db",
        "math ∑∫√ and box ─│┌┐ and ␛ itself",
    ],
)
def test_printable_text_is_untouched(text):
    assert clean(text) == text


def test_clean_is_idempotent():
    raw = "\x1b[1mbold\x1b[0m \x1b stray \x9b1m\r\n"
    assert clean(clean(raw)) == clean(raw)


def test_split_unfinished_holds_back_only_an_open_sequence():
    from chinwag.sanitize import split_unfinished

    assert split_unfinished("plain text") == ("plain text", "")
    assert split_unfinished("copy \x1b]52;c;aGVs") == ("copy ", "\x1b]52;c;aGVs")
    assert split_unfinished("red \x1b[3") == ("red ", "\x1b[3")
    assert split_unfinished("esc \x1b") == ("esc ", "\x1b")
    assert split_unfinished("osc \x1b]0;t\x1b") == ("osc ", "\x1b]0;t\x1b")
    assert split_unfinished("done \x1b[31mred") == ("done \x1b[31mred", "")
    assert split_unfinished("title \x1b]0;x\x07 after") == ("title \x1b]0;x\x07 after", "")


def test_lone_surrogates_become_replacement_characters():
    assert clean("a\ud800b\udcffc") == "a\ufffdb\ufffdc"
    clean("x\udfff\x1b[31my").encode("utf-8")  # strict encode works afterwards
    assert clean("ok 👍🏽") == "ok 👍🏽"  # real astral characters are not surrogates in Python


def test_one_line_folds_whitespace_and_accepts_any_value():
    assert clean("  a\n\tb \x1b]0;t\x07 c\r\n", one_line=True) == "a b c"
    assert clean(None) == "" and clean(5) == "5" and clean(["x"], one_line=True) == "['x']"


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("one\rtwo\rthree", "one\ntwo\nthree"),  # how terminals send pasted newlines
        ("one\r\ntwo\nthree\r", "one\ntwo\nthree\n"),
        ("a\x1b[31mred\x1b[0m\rb", "ared\nb"),
        ("keep\ttabs", "keep\ttabs"),
    ],
)
def test_a_paste_keeps_every_kind_of_newline(pasted, expected):
    from chinwag.sanitize import clean_paste

    assert clean_paste(pasted) == expected


def test_safe_json_keeps_every_character_but_escapes_what_a_terminal_acts_on():
    import json

    from chinwag.sanitize import safe_json

    data = {"t\x9bk": "esc \x1b[2J c1 \x9d0;x\x9c del \x7f lone \ud800 ls \u2028 é ✓"}
    text = safe_json(data)
    assert json.loads(text) == data
    assert not any(ch in text for ch in "\x1b\x9b\x9d\x9c\x7f\ud800\u2028")
    text.encode("utf-8")
    assert "é ✓" in text  # readable, not ASCII-escaped


NO_CONTROLS = st.characters(blacklist_categories=("Cc", "Cs"))  # what clean leaves alone, bidi aside


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.one_of(st.text(NO_CONTROLS, max_size=6), st.sampled_from(list(BIDI + MARKS)),
                          st.sampled_from(["مرحبا", "שלום", "abc", " ", "\n", "\x1b[2J", "\x9b1m", "\ud800"])),
                max_size=12).map("".join),
       st.booleans())
def test_no_bidi_control_survives_and_nothing_else_is_lost(text, one_line):
    out = clean(text, one_line=one_line)
    assert not re.search(f"[{BIDI}]", out)
    assert clean(out, one_line=one_line) == out
    without = re.sub(f"[{BIDI}]", "", text)
    if not re.search(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]", text):  # only bidi to take out: the rest is kept
        assert out == (" ".join(without.split()) if one_line else without)
    assert [ch for ch in out if ch in MARKS] == [ch for ch in without if ch in MARKS]  # marks stay, in order


def test_safe_json_escapes_bidi_controls_and_keeps_them():
    import json

    from chinwag.sanitize import safe_json

    data = {"title": "Snip \u202egnp.exe\u202c \u2067x\u2069 \u200f"}
    text = safe_json(data)
    assert json.loads(text) == data
    assert not re.search(f"[{BIDI}]", text) and "\\u202e" in text and "\u200f" in text
