"""An index SQLite reads but that is not what this version wrote is rebuilt from the documents,
once; conditions that are not damage (a busy file) are not (QA F7).

(Rows deleted from ``usage`` alone cannot be told from documents without usage: not here.)"""

from __future__ import annotations

import os
import sqlite3

import pytest

from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.index import Index, index_path
from chinwag.store import Store

TABLES = ("meta", "docs", "text", "words", "heads", "vocab", "vocab_text", "usage",
          "text_data", "text_idx", "text_content", "text_docsize", "text_config",
          "words_data", "words_idx", "words_docsize", "vocab_text_data", "vocab_text_idx")
DAMAGE = {
    **{f"drop table {t}": [f"DROP TABLE {t}"] for t in TABLES},
    **{f"delete rows of {t}": [f"DELETE FROM {t}"] for t in ("meta", "docs", "heads", "vocab", "text",
                                                              "text_docsize", "words_docsize", "text_content")},
    "delete one docs row": ["DELETE FROM docs WHERE rowid = (SELECT min(rowid) FROM docs)"],
    "docs rowids moved": ["UPDATE docs SET rowid = rowid + 1000"],
    "empty the word index": ["INSERT INTO words(words) VALUES('delete-all')"],
    "drop the vocabulary trigger": ["DROP TRIGGER vocab_added"],
    "drop an index": ["DROP INDEX usage_doc"],
    "drop a docs column": ["ALTER TABLE docs DROP COLUMN personas"],
    "drop a usage column": ["ALTER TABLE usage DROP COLUMN cached"],
    "drop the heads text": ["ALTER TABLE heads DROP COLUMN head"],
    "add a usage column": ["ALTER TABLE usage ADD COLUMN extra INTEGER NOT NULL DEFAULT 0"],
    "add a heads column": ["ALTER TABLE heads ADD COLUMN extra TEXT"],
    "rename a table": ["ALTER TABLE heads RENAME TO heads_old"],
    "rename a column": ["ALTER TABLE docs RENAME COLUMN title TO name"],
    "user_version 0": ["PRAGMA user_version = 0"],
    "user_version 999": ["PRAGMA user_version = 999"],
    "folding changed": ["UPDATE meta SET value = '1.0' WHERE key = 'folding'"],
    "a table where a view was": ["DROP TABLE usage", "CREATE VIEW usage AS SELECT 1 AS doc"],
    "a docs table of other columns": ["DROP TABLE docs", "CREATE TABLE docs(id TEXT, rowid INTEGER)"],
    "heads under other rowids": ["UPDATE heads SET rowid = rowid + 1000"],
    "usage under other rowids": ["UPDATE usage SET doc = doc + 1000"],
}


def make(n: int) -> Conversation:
    when = f"2026-01-0{n + 1}T10:00:00Z"
    conv = Conversation(created_at=when, title=f"T{n}")
    conv.add(Message(USER, f"walrus number {n}", created_at=when))
    conv.add(Message(ASSISTANT, f"a reply {n}", created_at=when, usage={"prompt_tokens": 10, "completion_tokens": 2}))
    conv.updated_at = when
    return conv


def answers(store: Store) -> tuple:
    """What a user sees: the list, a word search, a trigram search, snippets and usage."""
    hits = store.search("walrus")
    phrase = store.search('"number 1"')
    usage = store.usage()
    return ([s.title for s in store.list()], sorted(h.summary.title for h in hits),
            [h.summary.title for h in phrase], sorted(h.snippet for h in hits),
            sum(r.requests for r in usage), sum(r.prompt for r in usage))


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "conversations")
    for n in range(3):
        store.save(make(n))
    for path in store.root.glob("*.json"):  # settled: the index trusts these stamps from now on
        os.utime(path, ns=(path.stat().st_mtime_ns - 3600 * 10**9,) * 2)
    return store


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damage_inside_a_valid_file_is_rebuilt_once(store, damage):
    expected = answers(store)
    assert expected[0] == ["T2", "T1", "T0"] and expected[-2:] == (3, 30)
    Index.close_all()
    path = index_path(store.root)
    con = sqlite3.connect(path, isolation_level=None)
    for statement in DAMAGE[damage]:
        con.execute(statement)
    con.close()
    fresh = Store(store.root)
    assert answers(fresh) == expected
    assert fresh.index.rebuilds == 1  # once, not over and over
    with sqlite3.connect(path) as check:  # the file itself was made again
        assert check.execute("SELECT count(*) FROM docs").fetchone()[0] == 3
    Index.close_all()
    again = Store(store.root)
    assert answers(again) == expected and again.index.rebuilds == 0


def test_a_busy_index_is_not_damage(store):
    """Another process holding the write lock past the timeout: the error is not a rebuild."""
    Index.close_all()
    path = index_path(store.root)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        fresh = Store(store.root)
        fresh.index.con.execute("PRAGMA busy_timeout = 0")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            fresh.index._run(lambda c: c.execute("BEGIN IMMEDIATE"))
        assert fresh.index.rebuilds == 0 and path.exists()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_odd_queries_are_not_damage(store):
    """What a user types never reads as a damaged file: no rebuild, whatever FTS5 makes of it."""
    store.list()
    for text in ('title:walrus', 'body:x', 'nosuchcolumn:walrus', '"', '*', 'NEAR(walrus number)', '^walrus',
                 'walrus OR', '-walrus', '{title}: walrus', 'wal"rus', "a'b", 'ab', '()', 'a:b:c', 'rowid:1'):
        try:
            store.search(text)
        except ValueError:  # a filter the query language refuses, said in words
            pass
    assert store.index.rebuilds == 0
