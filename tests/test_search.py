"""The search box's syntax and what people type into it: short words, accents, CJK, filters."""

from __future__ import annotations

import time
from datetime import date

import pytest

from chinwag.conversation import ASSISTANT, USER, Conversation, Message, Persona
from chinwag.search import QueryError, excerpt, parse_query, snippet
from chinwag.store import Store


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make(title, texts, when="2026-01-01T10:00:00Z", model="gpt-4o-mini", persona="assistant", end=None):
    conv = Conversation(created_at=when, title=title, model=model, persona=Persona(persona, ""))
    for i, text in enumerate(texts):
        conv.add(Message(USER if i % 2 == 0 else ASSISTANT, text, created_at=when))
    conv.updated_at = end or when
    return conv


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "conversations")
    for conv in (
        make("Coffee shops", ("Where is a good café in Köln?", "Try the Café Reichard."), "2026-01-05T10:00:00Z"),
        make("Straße names", ("Why does Straße have ß?", "It is an old ligature."), "2026-02-10T10:00:00Z",
             model="gpt-4o", persona="tutor"),
        make("東京の旅", ("東京都に行きました", "楽しかったですね。"), "2026-03-01T10:00:00Z",
             model="llama3.2", persona="translator"),
        make("Books", ("Recommend a book about tokens", "OK: try this one."), "2026-03-20T10:00:00Z",
             end="2026-04-02T09:00:00Z"),
        make("Pirates", ("Talk like a pirate", "Arr, the quick brown fox be mine."), "2026-04-15T10:00:00Z",
             persona="my pirate"),
    ):
        store.save(conv)
    return store


def titles(store, query):
    return [hit.summary.title for hit in store.search(query)]


def test_parse_words_phrases_and_filters():
    q = parse_query('coffee "brown fox"  model:GPT-4o persona:"my pirate" after:2026-02 before:2026-03-15 http://x.y')
    assert q.terms == ["coffee", "brown fox", "http://x.y"]
    assert q.models == ["gpt-4o"] and q.personas == ["my pirate"]
    assert q.after.startswith("2026-02-01") and q.before.startswith("2026-03-15")


@pytest.mark.parametrize("query", ["after:yesterdayish", "before:2026-13-01", "after:31/12/2025", "before:12"])
def test_a_bad_date_says_what_to_type(query):
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        parse_query(query)


def test_relative_and_named_days():
    today = date(2026, 3, 10)
    assert parse_query("after:7d", today).after.startswith("2026-03-03")
    assert parse_query("after:2w", today).after.startswith("2026-02-24")
    assert parse_query("before:today", today).before.startswith("2026-03-10")
    assert parse_query("after:yesterday", today).after.startswith("2026-03-09")


def test_a_filter_typed_half_way_filters_nothing_yet(store):
    assert parse_query("model:").terms == [] and not parse_query("model:")
    assert titles(store, "pirate model:") == ["Pirates"]


def test_words_match_inside_words_in_any_order(store):
    assert titles(store, "brown quick") == ["Pirates"]
    assert titles(store, "ligat") == ["Straße names"]  # inside a word


def test_a_quoted_phrase_must_occur_as_typed(store):
    assert titles(store, '"quick brown fox"') == ["Pirates"]
    assert titles(store, '"brown quick"') == []


def test_two_letter_words_match_too(store):
    # Trigram has no entry for fewer than three characters: these are matched by a scan.
    assert titles(store, "ok") == ["Books"]  # "OK:", "book", "tokens" are all in Books only
    assert titles(store, "ß") == ["Straße names"]
    assert titles(store, "ok model:gpt-4o-mini") == ["Books"]


def test_accents_and_case_fold_both_ways(store):
    assert titles(store, "cafe") == ["Coffee shops"]
    assert titles(store, "CAFÉ") == ["Coffee shops"]
    assert titles(store, "koln") == ["Coffee shops"]
    assert titles(store, "strasse") == ["Straße names"]
    assert titles(store, "STRASSE") == ["Straße names"]


def test_chinese_and_japanese_words_of_any_length(store):
    assert titles(store, "東京") == ["東京の旅"]  # two characters: no trigram
    assert titles(store, "都に行") == ["東京の旅"]
    assert titles(store, "京") == ["東京の旅"]
    assert titles(store, "大阪") == []


def test_model_and_persona_filters(store):
    assert titles(store, "model:gpt-4o-mini") == ["Pirates", "Books", "Coffee shops"]  # newest first
    assert titles(store, "model:llama") == ["東京の旅"]
    assert titles(store, "persona:PIRATE") == ["Pirates"]
    assert titles(store, 'persona:"my pirate" fox') == ["Pirates"]
    assert titles(store, "persona:tutor cafe") == []


def test_before_and_after_take_the_conversation_span(store):
    # after: active on or after that day (updated); before: started before it (created).
    assert titles(store, "after:2026-04-01") == ["Pirates", "Books"]  # Books went on until 2 April
    assert titles(store, "before:2026-02-10") == ["Coffee shops"]
    assert titles(store, "after:2026-02 before:2026-03-02") == ["東京の旅", "Straße names"]


def test_results_are_ranked_with_the_title_first(store):
    store.save(make("Notes", ("a pirate came by",), "2026-05-01T10:00:00Z"))
    assert titles(store, "pirate") == ["Pirates", "Notes"]


def test_filters_only_list_every_match_with_the_start_of_it(store):
    (hit,) = store.search("persona:translator")
    assert hit.snippet == "東京都に行きました"


def test_snippet_points_at_the_accented_word():
    body = "x " * 200 + "Grüße aus Köln " + "y " * 200
    line = snippet("Title", body, ["koln"])
    assert "Köln" in line and line.startswith("…") and line.endswith("…") and len(line) <= 82


def test_a_snippet_from_the_start_of_a_text_is_the_one_from_all_of_it_or_none():
    # Snippets are made from the first HEAD characters of a text when those decide the line.
    body = "intro words\x1e" + "filler " * 40 + "the Heron stood still " + "tail " * 300
    whole = snippet("Title", body, ["heron"])
    for cut in (400, 600, 1000):
        start = body[:cut]
        line = snippet("Title", start, ["heron"], complete=False)
        assert line is None if cut < 500 else line == whole  # the hit and 160 characters after it
    assert snippet("Heron", body[:100], ["heron"], complete=False) is None  # may be further on
    assert snippet("Heron", "no hit\x1eat all", ["heron"], complete=True) == "Heron"
    assert snippet("T", "first message\x1erest", [], complete=False) == "first message"
    assert snippet("T", "x" * 100, [], complete=False) is None


def test_excerpt_is_short_clean_and_marks_cuts():
    assert excerpt("short text", 0, 5) == "short text"
    long = "word " * 100
    cut = excerpt(long, 250, 254)
    assert cut.startswith("…") and cut.endswith("…") and len(cut) <= 82 and "\n" not in cut


def test_few_hits_are_ranked_as_fts5_bm25_ranks_them(tmp_path):
    # A one-term search through the trigram table (a phrase) with few hits is ranked in Python
    # (FTS5's bm25() would scan the index a second time): the order must be the one bm25() gives.
    store = Store(tmp_path / "conversations")
    texts = {"once": "a red kestrel " + "x " * 50, "thrice": "red kestrel red kestrel red kestrel " + "y " * 50,
             "short": "red kestrel", "long": "red kestrel " + "z " * 400}
    for n, (title, text) in enumerate(texts.items()):
        store.save(make(title, (text,), f"2026-01-0{n + 1}T10:00:00Z"))
    store.save(make("Red kestrel in the title", ("nothing",), "2026-01-09T10:00:00Z"))
    ours = titles(store, '"red kestrel"')
    sql = ("SELECT docs.title FROM text JOIN docs ON docs.rowid = text.rowid WHERE text MATCH '\"red kestrel\"' "
           "ORDER BY text.rank")
    assert ours == [row[0] for row in store.index.con.execute(sql)]
    assert ours[0] == "Red kestrel in the title" and len(ours) == 5


def test_snippets_deep_in_long_conversations(tmp_path):
    # Only the part of a long text around the hit is read for the snippet: it must look the same.
    store = Store(tmp_path / "conversations")
    store.save(make("Deep", ("filler " * 600 + "the NEEDLE is here " + "tail " * 600,)))
    store.save(make("Second message", ("filler " * 600, "Needle opens this reply, then more " + "words " * 50)))
    (deep,) = store.search("needle here")  # two terms: the whole text is read
    (one,) = [hit for hit in store.search("needle") if hit.summary.title == "Deep"]
    assert deep.snippet == one.snippet and "NEEDLE is here" in one.snippet
    assert one.snippet.startswith("…") and one.snippet.endswith("…") and len(one.snippet) <= 82
    (second,) = [hit for hit in store.search("needle") if hit.summary.title == "Second message"]
    assert second.snippet.startswith("Needle opens this reply") and second.snippet.endswith("…")
