"""The derived index: it follows the documents whoever changes them, and rebuilds when damaged."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.index import INDEX_VERSION, Index, index_path
from chinwag.store import Store

EDITOR = """
import json, sys
path, old, new = sys.argv[1:]
with open(path, "r+", encoding="utf-8") as f:  # in place: same inode
    doc = json.load(f)
    for message in doc["messages"]:
        message["content"] = message["content"].replace(old, new)
    f.seek(0)
    f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\\n")  # as chinwag writes it
    f.truncate()
"""


def make(title: str, texts: tuple[str, ...], when: str = "2026-01-01T10:00:00Z") -> Conversation:
    conv = Conversation(created_at=when, title=title)
    for i, text in enumerate(texts):
        conv.add(Message(USER if i % 2 == 0 else ASSISTANT, text, created_at=when))
    conv.updated_at = when
    return conv


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "conversations")


def found(store: Store, query: str) -> list[str]:
    return [hit.summary.title for hit in store.search(query)]


def edit_in_another_process(store: Store, conv: Conversation, old: str, new: str) -> None:
    path = store.root / f"{conv.id}.json"
    subprocess.run([sys.executable, "-c", EDITOR, str(path), old, new], check=True)


def test_the_index_lives_in_the_cache_dir_not_beside_the_documents(store, isolated_dirs):
    store.save(make("Tea", ("oolong",)))
    assert found(store, "oolong") == ["Tea"]
    assert index_path(store.root).is_file()
    assert index_path(store.root).is_relative_to(isolated_dirs / "xdg-cache")
    assert sorted(p.suffix for p in store.root.iterdir() if not p.name.startswith(".")) == [".json"]


def test_a_document_edited_by_another_process_is_found_by_its_new_words_only(store):
    conv = make("Pets", ("I keep an aardvark.", "An aardvark eats ants."))
    store.save(conv)
    assert found(store, "aardvark") == ["Pets"]

    # Same length, same file (inode), moments after it was indexed: only the mtime may differ,
    # and on a filesystem with coarse timestamps not even that (set back here to show it).
    path = store.root / f"{conv.id}.json"
    before = os.stat(path)
    edit_in_another_process(store, conv, "aardvark", "bluebird")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (before.st_mtime_ns, before.st_size, before.st_ino)
    assert found(store, "bluebird") == ["Pets"]
    assert found(store, "aardvark") == []
    assert "bluebird" in store.search("bluebird")[0].snippet


def test_an_edit_while_chinwag_was_closed_is_found_by_the_next_process(store):
    conv = make("Pets", ("I keep an aardvark.",))
    store.save(conv)
    store.list()
    Index.close_all()  # chinwag is closed
    edit_in_another_process(store, conv, "aardvark", "wombat")
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from chinwag.store import Store; "
         "print([h.summary.title for h in Store(sys.argv[1]).search(sys.argv[2])])", str(store.root), "wombat"],
        capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == "['Pets']"
    assert found(store, "aardvark") == []


def test_a_new_and_a_removed_file_are_noticed(store):
    keep, gone = make("Keep", ("apples",)), make("Gone", ("apples",), "2026-01-02T10:00:00Z")
    store.save(keep)
    store.save(gone)
    assert found(store, "apples") == ["Gone", "Keep"]
    (store.root / f"{gone.id}.json").unlink()  # by hand, not through the store
    new = make("New", ("apples and pears",), "2026-01-03T10:00:00Z")
    (store.root / f"{new.id}.json").write_text(json.dumps(new.to_dict()), "utf-8")
    assert sorted(found(store, "apples")) == ["Keep", "New"]
    assert sorted(s.title for s in store.list()) == ["Keep", "New"]


def test_an_unchanged_file_is_not_read_again(store):
    conv = make("Tea", ("oolong",), "2020-01-01T00:00:00Z")
    store.save(conv)
    path = store.root / f"{conv.id}.json"
    os.utime(path, ns=(10**18, 10**18))  # an old, settled stamp
    store.list()
    # Rewrite the index's copy of the title behind its back: a listing that trusts an unchanged
    # stamp shows it; one that re-read every file would not.
    Index.close_all()
    with sqlite3.connect(index_path(store.root)) as con:
        con.execute("UPDATE docs SET title = 'from the index'")
    assert [s.title for s in Store(store.root).list()] == ["from the index"]
    os.utime(path, ns=(10**18 + 1, 10**18 + 1))  # touched: read again
    assert [s.title for s in Store(store.root).list()] == ["Tea"]


def three(store: Store) -> list[str]:
    for n in range(3):
        store.save(make(f"T{n}", (f"walrus number {n}",), f"2026-01-0{n + 1}T10:00:00Z"))
    return [s.title for s in store.list()]


def test_a_deleted_index_is_rebuilt(store):
    assert three(store) == ["T2", "T1", "T0"]
    Index.close_all()
    index_path(store.root).unlink()
    assert [s.title for s in store.list()] == ["T2", "T1", "T0"]
    assert sorted(found(store, "walrus")) == ["T0", "T1", "T2"]
    assert index_path(store.root).is_file()


def test_an_index_deleted_while_open_is_rebuilt(store):
    three(store)
    index_path(store.root).unlink()
    assert sorted(found(store, "walrus")) == ["T0", "T1", "T2"]
    with sqlite3.connect(index_path(store.root)) as con:  # a new file, with every document
        assert con.execute("SELECT count(*) FROM docs").fetchone()[0] == 3


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed-pages", "older-version", "empty"])
def test_a_damaged_or_old_index_is_rebuilt(store, damage):
    three(store)
    Index.close_all()
    path = index_path(store.root)
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "zeroed-pages":
        path.write_bytes(data[:4096] + b"\0" * (len(data) - 4096))
    elif damage == "older-version":
        with sqlite3.connect(path) as con:
            con.execute(f"PRAGMA user_version = {INDEX_VERSION - 1}")
    else:
        path.write_bytes(b"")
    fresh = Store(store.root)
    assert [s.title for s in fresh.list()] == ["T2", "T1", "T0"]
    assert sorted(found(fresh, "walrus")) == ["T0", "T1", "T2"]
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reindex_rebuilds_and_reports_progress(store):
    three(store)
    seen = []
    summaries = store.rebuild_index(lambda done, total: seen.append((done, total)))
    assert [s.title for s in summaries] == ["T2", "T1", "T0"]
    assert seen[-1] == (3, 3)


def test_an_unwritable_cache_dir_still_lists_and_searches(store, isolated_dirs):
    folder = isolated_dirs / "xdg-cache" / "chinwag"
    folder.mkdir(parents=True)
    (folder / "index").write_text("a file where the index folder should be")
    three(store)
    assert sorted(found(store, "walrus")) == ["T0", "T1", "T2"]
    assert store.index.path is None  # in memory for this process


def test_lone_surrogates_and_odd_file_names_are_indexed(store):
    conv = make("Broken \ud83d title", ("broken \udc00 pair and a walrus",))
    conv.id = "odd-\udcff-name"  # an undecodable byte in a file name reads as a surrogate escape
    store.save(conv)
    (hit,) = store.search("walrus")
    assert hit.summary.id == conv.id and "walrus" in hit.snippet
    assert [s.id for s in Store(store.root).list()] == [conv.id]


def test_search_shows_the_current_branch_and_usage_counts_every_branch(store):
    conv = Conversation(created_at="2026-01-01T10:00:00Z", title="Branches")
    question = conv.add(Message(USER, "Name a bird"))
    conv.add(Message(ASSISTANT, "A pelican.", usage={"prompt_tokens": 10, "completion_tokens": 3}))
    conv.add(Message(ASSISTANT, "A cormorant.", usage={"prompt_tokens": 10, "completion_tokens": 4}),
             parent=question.id)  # regenerated: a sibling, now the current branch
    store.save(conv)
    assert found(store, "cormorant") == ["Branches"]
    assert found(store, "pelican") == []
    (row,) = store.usage()
    assert (row.requests, row.prompt, row.completion) == (2, 20, 7)


def test_many_hits_map_to_the_right_conversations_after_changes(store):
    # A search with many hits maps rowids to summaries from memory: that map must follow saves,
    # deletions and renames.
    convs = [make(f"T{n}", (f"heron {n}",), f"2026-01-0{n + 1}T10:00:00Z") for n in range(5)]
    for conv in convs:
        store.save(conv)
    assert sorted(found(store, "heron")) == ["T0", "T1", "T2", "T3", "T4"]
    store.delete(convs[0].id)
    store.rename(convs[1].id, "Renamed")
    store.save(make("New", ("heron again",), "2026-01-08T10:00:00Z"))
    assert sorted(found(store, "heron")) == ["New", "Renamed", "T2", "T3", "T4"]
