"""Search sees the text as the screen shows it: escape sequences are gone with their payload,
and a snippet is cut between characters as seen, with one … where it is cut."""

from __future__ import annotations

import pytest
from documents import saved

from chinwag.cli import main
from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.graphemes import shorten
from chinwag.sanitize import clean
from chinwag.search import excerpt, snippet
from chinwag.store import Store

FILLER = "lorem ipsum dolor sit amet " * 6

# Every kind of sequence a terminal acts on without showing it, each carrying the payload
# "zqxhidden c;UVZA" (a word for the word table, a phrase with punctuation for the trigram table).
PAYLOAD = "zqxhidden c;UVZA"
SEQUENCES = {
    "OSC 52 ended by BEL": f"\x1b]52;{PAYLOAD}\x07",
    "OSC ended by ST": f"\x1b]0;{PAYLOAD}\x1b\\",
    "8-bit OSC": f"\x9d2;{PAYLOAD}\x9c",
    "DCS": f"\x1bP{PAYLOAD}\x1b\\",
    "8-bit DCS ended by BEL": f"\x90{PAYLOAD}\x07",
    "SOS": f"\x1bX{PAYLOAD}\x1b\\",
    "PM": f"\x1b^{PAYLOAD}\x1b\\",
    "APC": f"\x1b_{PAYLOAD}\x1b\\",
}


def make(*texts: str, title: str = "Chat") -> Conversation:
    conv = Conversation(title=title)
    for i, text in enumerate(texts):
        conv.add(Message(USER if i % 2 == 0 else ASSISTANT, text))
    return conv


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "conversations")


@pytest.mark.parametrize("sequence", SEQUENCES.values(), ids=SEQUENCES.keys())
def test_a_payload_nobody_sees_is_not_found(store, sequence):
    store.save(make("how do I copy?", f"{FILLER}Here you go{sequence} and a quick answer{FILLER}"))
    for query in ("zqxhidden", "UVZA", '"c;UVZA"', "hidden", "c;"):
        assert store.search(query) == [], query
    (hit,) = store.search("quick")
    assert "Here you go and a quick answer" in hit.snippet  # the text around it, joined as shown
    assert "UVZA" not in hit.snippet and "hidden" not in hit.snippet


def test_a_payload_in_a_title_is_not_found(store):
    store.save(make("hello", "hi", title="Notes\x1b]52;c;zqxhidden\x07 on clipboards"))
    assert store.search("zqxhidden") == []
    (hit,) = store.search("clipboards")
    assert hit.snippet == "Notes on clipboards"


@pytest.mark.parametrize("before", [0, 1, 5, 20, 40, 57, 60, 61, 79, 80, 81, 100])
def test_a_snippet_never_starts_inside_a_sequence(store, before):
    # Wherever the hit lies after a long OSC 52, the line around it shows none of its payload.
    sequence = "\x1b]52;c;" + "RVZJTA==" * 12 + "\x07"
    store.save(make("q", "x " * before + sequence + "then the needle " + "y " * 60))
    (hit,) = store.search("needle")
    assert "RVZJTA" not in hit.snippet and "52;" not in hit.snippet and "needle" in hit.snippet


def test_visible_text_beside_sequences_is_found_as_shown(store):
    store.save(make("colours", "plain \x1b[1;31mred\x1b[0m text, a \x1bclone escape and a tab\there"))
    assert [h.snippet for h in store.search('"plain red text"')] == ["plain red text, a lone escape and a tab here"]
    assert store.search("clone") == []  # ESC c (reset) takes the c with it, as the terminal does


def test_search_and_the_chat_screen_agree(store):
    # The chat shows clean(content): every hit of a word is a word the screen shows.
    raw = "a\x1b]8;;https://zqxlink.example\x1b\\link\x1b]8;;\x1b\\ and \x9b31mcolour\x9b0m"
    store.save(make("q", raw))
    shown = clean(raw)
    for word in ("zqxlink", "link", "colour", "31m"):
        assert bool(store.search(word)) == (word in shown), word


def test_an_index_of_the_raw_text_is_rebuilt(store):
    # Version 2 indexed the raw text: such a file is rebuilt, not trusted.
    raw = "hi\x1b]52;c;zqxhidden\x07 there"
    store.save(make("q", raw))
    con = store.index.con
    con.execute("UPDATE text SET body = ? WHERE rowid = (SELECT rowid FROM docs)", (raw,))
    assert con.execute("SELECT count(*) FROM text WHERE text MATCH '\"c;zqxhidden\"'").fetchone() == (1,)
    con.execute("PRAGMA user_version = 2")
    store.index.close()
    assert store.search('"c;zqxhidden"') == [] and [h.snippet for h in store.search("there")] == ["hi there"]


# -- the line around a hit -------------------------------------------------------------------


def test_the_cli_shows_one_ellipsis_where_a_line_is_cut(capsys):
    saved("question", "x" * 300 + " suffix quick answer to it " + "y" * 300, "2026-01-02T10:00:00Z")
    assert main(["list", "--search", "quick"]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "quick" in line]
    assert "… …" not in line and "……" not in line
    assert line.strip().startswith("…x") and line.strip().endswith("y…")


@pytest.mark.parametrize("start", range(200, 260, 7))
def test_an_excerpt_has_one_mark_a_side(start):
    text = "… " + "word " * 60 + "hit " + "wait… " * 60
    line = excerpt(text, start, start + 3)
    assert "……" not in line and "… …" not in line and line.count("…") <= 3


def _whole(line: str, text: str) -> None:
    """``line`` (without its … marks) is text cut only between characters as seen."""
    inner = line.removeprefix("…").removesuffix("…")
    assert inner, line
    found = " ".join(text.split()).find(inner)
    assert found >= 0, line
    squeezed = " ".join(text.split())
    from chinwag.graphemes import is_boundary

    assert is_boundary(squeezed, found) and is_boundary(squeezed, found + len(inner)), line


CLUSTERS = {
    "emoji ZWJ sequence": "👩\u200d💻",
    "family": "👨\u200d👩\u200d👧\u200d👦",
    "flag": "🇫🇷",
    "skin tone": "👍🏽",
    "accents": "e\u0301\u0323",
    "variation selector": "❤\ufe0f",
    "Hangul jamo": "\u1100\u1161\u11a8",
    "tag flag": "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
}


@pytest.mark.parametrize("cluster", CLUSTERS.values(), ids=CLUSTERS.keys())
def test_an_excerpt_cuts_between_characters_as_seen(cluster):
    for count in (30, 61, 100):
        text = cluster * count + " the hit " + cluster * count
        for offset in range(0, 9):
            start = len(cluster) * count + 1 + offset % 4
            line = excerpt(text, start, start + 3)
            assert line.startswith("…") and line.endswith("…")
            _whole(line, text)
        line = snippet("Title", text, ["hit"])
        assert "hit" in line
        _whole(line, text)


@pytest.mark.parametrize("cluster", CLUSTERS.values(), ids=CLUSTERS.keys())
def test_a_shortened_cell_cuts_between_characters_as_seen(cluster):
    text = "ab" + cluster * 30
    for width in range(3, 40):
        line = shorten(text, width)
        assert len(line) <= width and line.endswith("…") and "……" not in line
        _whole(line, text)


def test_flags_pair_up_from_the_start_of_their_run():
    text = "x" + "🇫🇷🇩🇪" * 40
    for width in range(2, 60):
        body = shorten(text, width)[1:-1]
        assert len(body) % 2 == 0 and body.count("🇫") == body.count("🇷"), width


def test_one_huge_character_is_still_cut():
    # Stacked accents (hundreds of code points, one "character"): the line stays short anyway.
    zalgo = "Z" + "\u0336\u0337\u0338" * 200
    line = excerpt(zalgo + " hit " + zalgo, len(zalgo) + 1, len(zalgo) + 4)
    assert "hit" in line and len(line) <= 82
    assert len(shorten(zalgo, 40)) <= 40
