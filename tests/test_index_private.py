"""The index holds every conversation's text: it is as private as the documents (QA F6)."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.index import Index, index_path
from chinwag.store import Store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def sqlite_files(path) -> dict[str, int]:
    """Each file of the index that exists (-wal and -shm exist while it is open) -> its mode."""
    return {suffix: mode(f"{path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")
            if os.path.exists(f"{path}{suffix}")}


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual default: new files 0644, new folders 0755
    yield
    os.umask(old)


@pytest.fixture
def store(tmp_path, isolated_dirs, umask_022):
    store = Store(tmp_path / "conversations")
    conv = Conversation(title="Secret")
    conv.add(Message(USER, "my secret walrus"))
    conv.add(Message(ASSISTANT, "kept"))
    store.save(conv)
    return store


def test_a_new_index_and_the_files_sqlite_makes_beside_it_are_private(store):
    assert [h.summary.title for h in store.search("walrus")] == ["Secret"]
    path = index_path(store.root)
    assert mode(path.parent) == 0o700
    files = sqlite_files(path)
    assert {"", "-wal", "-shm"} <= files.keys() and set(files.values()) == {0o600}


@pytest.mark.parametrize("how", ["reindex", "damaged"])
def test_a_rebuilt_index_is_private_too(store, how):
    path = index_path(store.root)
    store.list()
    if how == "reindex":
        store.rebuild_index()
    else:
        Index.close_all()
        with sqlite3.connect(path) as con:
            con.execute("DROP TABLE words")
        store = Store(store.root)
    assert [h.summary.title for h in store.search("walrus")] == ["Secret"]
    assert set(sqlite_files(path).values()) == {0o600} and mode(path.parent) == 0o700


def test_an_index_left_readable_by_an_older_chinwag_is_tightened_on_open(store):
    path = index_path(store.root)
    store.list()
    with sqlite3.connect(path) as con:  # a reader keeps the -wal and -shm files in place
        con.execute("SELECT 1 FROM docs").fetchall()
        Index.close_all()
        for suffix in ("", "-wal", "-shm"):
            os.chmod(f"{path}{suffix}", 0o644)
        os.chmod(path.parent, 0o755)
        fresh = Store(store.root)
        assert [s.title for s in fresh.list()] == ["Secret"]
        assert sqlite_files(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        assert mode(path.parent) == 0o700
