"""Terms of letters and digits are looked up among words (chinwag.index): the same conversations
as the trigram table finds, ranked by BM25 over words, whatever the saves and deletions did."""

from __future__ import annotations

import random
import re

from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.index import MAX_VARIANTS
from chinwag.search import parse_query, word_key
from chinwag.store import Store

# Words as people write them: any case, punctuation around them, accents (composed or not),
# ligatures, ß, Turkish İ, Greek final sigma, a digraph, CJK runs, underscores and digits.
TOKENS = ["Coffee", "coffee,", "(coffee)", "COFFEEHOUSE", "decaf", "décaféiné", "cafe\u0301", "Café",
          "Straße", "STRASSE", "strasse.", "東京都に行きました", "京都", "foo_bar", "x2026y", "2026",
          "naïve", "NAIVE", "ﬁle", "file", "İstanbul", "istanbul", "ǅemal", "σοφίας", "ΣΟΦΊΑΣ",
          "weather", "Weatherman", "sweater", "the", "other", "o'clock", "e-mail", "email"]
TERMS = ["coffee", "COFFEE", "coffeehouse", "café", "cafe", "caf", "strasse", "straße", "東京都", "京都に",
         "foo_bar", "bar", "2026", "x2026", "naive", "naïve", "file", "ﬁle", "istanbul", "İstanbul", "demal",
         "ǆemal", "σοφίας", "σοφιασ", "weather", "eat", "the", "her", "clock", "mail", "nothingatall"]


def make(title: str, texts: list[str], when: str) -> Conversation:
    conv = Conversation(created_at=when, title=title)
    for n, text in enumerate(texts):
        conv.add(Message(USER if n % 2 == 0 else ASSISTANT, text, created_at=when))
    conv.updated_at = when
    return conv


def day(n: int) -> str:
    return f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T10:00:00Z"


def by_trigrams(store: Store, term: str) -> set[str]:
    """The conversations the trigram table holds ``term`` in (what search gave before words)."""
    sql = "SELECT docs.id FROM text JOIN docs ON docs.rowid = text.rowid WHERE text MATCH ?"
    return {key.decode() for (key,) in store.index.con.execute(sql, (parse_query(term).fts(),))}


def by_words(store: Store, term: str) -> set[str]:
    query = parse_query(term)
    assert word_key(term) is not None and store.index._words_match(store.index.con, query) is not None, term
    return {hit.summary.id for hit in store.search(term)}


def test_words_find_exactly_what_the_trigram_table_finds(tmp_path):
    rng = random.Random(11)
    store = Store(tmp_path / "conversations")
    convs = []
    for n in range(40):
        texts = [" ".join(rng.choices(TOKENS, k=rng.randint(1, 12))) for _ in range(rng.randint(1, 4))]
        convs.append(make(" ".join(rng.choices(TOKENS, k=2)), texts, day(n)))
        store.save(convs[-1])
    for term in TERMS:
        assert by_words(store, term) == by_trigrams(store, term), term
    # Edits, replies and deletions: the word table forgets what the documents no longer say.
    for conv in rng.sample(convs, 10):
        conv.title = rng.choice(TOKENS)
        conv.add(Message(USER, " ".join(rng.choices(TOKENS, k=5)), created_at=conv.created_at))
        store.save(conv)
    for conv in convs[:5]:
        store.delete(conv.id)
    store.save(make("new", ["Coffee at the Straße café"], day(50)))
    for term in TERMS:
        assert by_words(store, term) == by_trigrams(store, term), term
    assert by_words(store, "nothingatall") == set()


def test_a_term_inside_many_words_is_looked_up_by_its_trigrams(tmp_path):
    store = Store(tmp_path / "conversations")
    for n in range(MAX_VARIANTS + 2):
        store.save(make(f"T{n}", [f"teapot{n} and more"], day(n)))
    store.save(make("Other", ["a teacup"], day(40)))
    assert store.index._words_match(store.index.con, parse_query("teapot")) is None  # too many words hold it
    assert len(store.search("teapot")) == MAX_VARIANTS + 2
    assert {hit.summary.title for hit in store.search("teacup")} == {"Other"}


def bm25_order(convs: list[Conversation], word: str) -> list[str]:
    """Ids ranked by BM25 of ``word`` over whole words (title 10x), newest first among equals:
    worked out here from the documents, apart from the index."""
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    sizes = {c.id: len(words(c.title)) + sum(len(words(m.content)) for m in c.messages) for c in convs}
    average = sum(sizes.values()) / len(sizes)
    scored = []
    for c in convs:
        freq = 10 * words(c.title).count(word) + sum(words(m.content).count(word) for m in c.messages)
        if freq:
            score = freq * 2.2 / (freq + 1.2 * (0.25 + 0.75 * sizes[c.id] / average))
            scored.append((score, c.updated_at, c.created_at, c.id))
    return [c_id for *_, c_id in sorted(scored, reverse=True)]


def test_the_first_page_is_the_best_ranked_and_the_count_is_exact(tmp_path):
    # More hits than the history screen's first page (200): which 200 come first must follow
    # the ranking over every hit, and the count must be every hit.
    rng = random.Random(5)
    store = Store(tmp_path / "conversations")
    convs = []
    for n in range(300):
        filler = rng.choices(["rain", "sun", "cloud", "tea"], k=rng.randint(5, 120))
        for _ in range(rng.choice([0, 1, 1, 2, 3, 8])):
            filler.insert(rng.randrange(len(filler)), rng.choice(["heron", "Heron.", "(heron)"]))
        title = rng.choice(["Birds", "Heron watching", "Notes"])
        convs.append(make(title, [" ".join(filler)], f"2026-01-01T10:{n // 60:02d}:{n % 60:02d}Z"))
        store.save(convs[-1])
    expected = bm25_order(convs, "heron")
    assert 200 < len(expected) < 300
    found = [hit.summary.id for hit in store.search("heron")]
    assert len(found) == len(expected)
    assert found[:200] == expected[:200]
    assert found == expected
