"""Pastes as a terminal sends them (bracketed, newlines as CR): every line kept, in order,
whatever the paste holds, escape sequences included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_crash_tui import chinwag, documents, pty_missing, replies, user_messages

from chinwag.sanitize import clean_paste
from chinwag.tui.driver import PASTE_END, PASTE_START, PasteFilter

PASTE = "line one\rline two\r\nline three \x1b[31mred\x1b[0m and \x1b]52;c;aGVsbG8=\x07 clip\x1b end"
EXPECTED = "line one\nline two\nline three red and  clip␛ end"


def feed_in_pieces(text: str, cuts: list[int]) -> str:
    pastes = PasteFilter()
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    return "".join(pastes.feed(text[a:b]) for a, b in zip(points, points[1:]))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(before=st.text(alphabet="ab\x1b[~0\r", max_size=8),  # no "2": cannot open a paste itself
       pasted=st.text(alphabet=st.sampled_from(["x", "é", "\r", "\n", "\x1b", "[", "2", "0", "1", "~", "]",
                                                 "\x07", "\x9b", "\t", "\ud800"]), max_size=40),
       after=st.text(alphabet="cd\r", max_size=5),
       cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=8))
def test_a_paste_split_anywhere_reaches_the_parser_whole_clean_and_in_order(before, pasted, after, cuts):
    while PASTE_END in pasted:  # a paste cannot hold its own end marker
        pasted = pasted.replace(PASTE_END, "")
    text = before + PASTE_START + pasted + PASTE_END + after
    assert feed_in_pieces(text, cuts) == before + PASTE_START + clean_paste(pasted) + PASTE_END + after


def test_outside_a_paste_everything_passes_at_once():
    pastes = PasteFilter()
    assert pastes.feed("\x1b") == "\x1b"  # the escape key must not wait for more input
    assert pastes.feed("[A typed") == "[A typed"
    assert pastes.feed("\x1b[20") == "\x1b[20"
    assert pastes.feed("0~held") == "0~" and pastes.in_paste
    assert pastes.feed(" still\r" + PASTE_END[:3]) == ""
    assert pastes.feed(PASTE_END[3:] + "x") == "held still\n" + PASTE_END + "x"


@pytest.mark.skipif(pty_missing, reason="needs a POSIX pseudo-terminal (os.openpty)")
def test_a_pasted_text_arrives_as_pasted_between_what_was_typed(chat_server):
    with chinwag(chat_server) as term:
        term.ready()
        term.type("A ")
        term.type(PASTE_START + PASTE + PASTE_END)
        term.type(" Z")
        term.wait_for(lambda: b" Z" in term.output, "the typing after the paste")
        term.type("\r")
        term.wait_for(lambda: documents() and replies(documents()[0]), "the reply on disk")
        assert term.quit() == 0
    assert user_messages(documents()[0]) == [f"A {EXPECTED} Z"]


@pytest.mark.skipif(pty_missing, reason="needs a POSIX pseudo-terminal (os.openpty)")
def test_a_paste_longer_than_one_read_arrives_whole(chat_server):
    lines = [f"line {i:04d} of a long paste \x1b[1mbold\x1b[0m" for i in range(600)]  # ~25 kB: many reads
    with chinwag(chat_server) as term:
        term.ready()
        term.type(PASTE_START + "\r".join(lines) + PASTE_END)
        term.wait_for(lambda: b"line 0599" in term.output, "the end of the paste on screen")
        term.type(" Z\r")
        term.wait_for(lambda: documents() and replies(documents()[0]), "the reply on disk")
        assert term.quit() == 0
    assert user_messages(documents()[0]) == ["\n".join(line.replace("\x1b[1m", "").replace("\x1b[0m", "")
                                                       for line in lines) + " Z"]
