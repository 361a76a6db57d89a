"""Store: documents on disk, the index, search, references and two writers at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from chinwag.conversation import ASSISTANT, USER, Conversation, Message, Persona
from chinwag.store import NotFoundError, ReadOnlyError, Store, UnreadableError
from chinwag.tokens import count_conversation


def make(title="Chat", when="2026-01-01T10:00:00Z", texts=("hello", "hi there"), conv_id=None):
    conv = Conversation(id=conv_id or f"20260101-100000-{abs(hash((title, when))) % 0xFFFFFF:06x}", created_at=when)
    for i, text in enumerate(texts):
        conv.add(Message(USER if i % 2 == 0 else ASSISTANT, text, created_at=when))
    conv.title, conv.updated_at = title, when
    return conv


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "conversations")


def raw(store, conv_id):
    return json.loads((store.root / f"{conv_id}.json").read_text("utf-8"))


# -- documents ---------------------------------------------------------------------


def test_default_root_is_the_data_dir(isolated_dirs):
    assert Store().root == isolated_dirs / "xdg-data" / "chinwag" / "conversations"


def test_save_and_load_round_trip(store):
    conv = make(texts=("Ça va? 日本語 👋", "Très bien"))
    conv.persona = Persona("sassy", "Be sassy.")
    store.save(conv)
    text = (store.root / f"{conv.id}.json").read_text("utf-8")
    assert "日本語 👋" in text and '\n  "id"' in text  # UTF-8 as is, indented
    loaded = store.load(conv.id)
    assert loaded.to_dict() == conv.to_dict()


def test_unknown_fields_survive_load_and_save(store):
    conv = make()
    store.save(conv)
    doc = raw(store, conv.id)
    doc["plugin_state"] = {"pinned": True, "nested": [1, 2]}
    doc["messages"][0]["reaction"] = "👍"
    doc["persona"]["voice"] = "alto"
    (store.root / f"{conv.id}.json").write_text(json.dumps(doc), "utf-8")

    loaded = store.load(conv.id)
    loaded.add_user("one more")
    store.save(loaded)

    again = raw(store, conv.id)
    assert again["plugin_state"] == {"pinned": True, "nested": [1, 2]}
    assert again["messages"][0]["reaction"] == "👍"
    assert again["persona"]["voice"] == "alto"
    assert again["messages"][-1]["content"] == "one more"


def test_load_missing_and_bad_ids(store):
    with pytest.raises(NotFoundError):
        store.load("20260101-000000-000000")
    for bad in ("../secrets", "a/b", ".hidden", "", "index"):
        with pytest.raises(NotFoundError):
            store.load(bad)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{\n  "format": "chinwag.conversation",\n  "id": x\n}', "not valid JSON: line 3 column 9"),
        (b'{"format": "something.else", "version": 1, "id": "a"}', "not a chinwag conversation"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_unreadable_files_are_listed_and_never_touched(store, content, reason):
    good = make()
    store.save(good)
    bad = store.root / "broken.json"
    bad.write_bytes(content)
    mtime = bad.stat().st_mtime_ns

    summaries = {s.id: s for s in store.list()}
    assert reason in summaries["broken"].error
    assert summaries[good.id].error is None
    with pytest.raises(UnreadableError) as caught:
        store.load("broken")
    assert reason in caught.value.reason

    intruder = make(conv_id="broken")
    with pytest.raises(UnreadableError):
        store.save(intruder)
    with pytest.raises(UnreadableError):
        store.rename("broken", "New name")
    assert bad.read_bytes() == content and bad.stat().st_mtime_ns == mtime
    assert not list(store.root.glob(".broken.json.tmp-*"))


def test_a_folder_named_like_a_document_is_not_a_conversation(store):
    (store.root / "odd.json").mkdir(parents=True)
    assert store.list() == []
    with pytest.raises(UnreadableError, match="cannot be opened"):
        store.load("odd")


def test_corrupt_file_stays_byte_identical_through_everything(store):
    corrupt = b'{"format": "chinwag.conversation", "version": 1, "id": "c", "title": "hello' + bytes(range(256))
    path = store.root / "corrupt.json"
    store.root.mkdir(parents=True)
    path.write_bytes(corrupt)
    os.chmod(path, 0o644)
    before = path.stat()

    store.list()
    store.search("hello")
    store.rebuild_index()
    with pytest.raises(UnreadableError):
        store.load("corrupt")
    other = make(texts=("hello",))
    store.save(other)
    store.list()

    assert path.read_bytes() == corrupt
    after = path.stat()
    assert (after.st_mtime_ns, after.st_mode, after.st_ino) == (before.st_mtime_ns, before.st_mode, before.st_ino)


def test_a_newer_format_opens_read_only_and_is_never_saved(store):
    conv = make()
    store.save(conv)
    doc = raw(store, conv.id)
    doc["version"] = 99
    path = store.root / f"{conv.id}.json"
    path.write_text(json.dumps(doc), "utf-8")
    before = path.read_bytes()

    loaded = store.load(conv.id)
    assert loaded.read_only and "newer" in loaded.read_only_reason
    with pytest.raises(ReadOnlyError):
        store.save(loaded)
    # An older copy held in memory must not overwrite the newer file either.
    with pytest.raises(ReadOnlyError):
        store.save(make(conv_id=conv.id))
    assert path.read_bytes() == before
    assert [s.read_only for s in store.list()] == [True]


def test_lone_surrogate_is_kept_escaped(store):
    conv = make(texts=("broken \ud83d pair",))
    store.save(conv)
    assert store.load(conv.id).messages[0].content == "broken \ud83d pair"


# -- listing and the index ----------------------------------------------------------


def test_list_is_newest_first_with_summaries(store):
    old = make("Old one", "2026-01-01T10:00:00Z")
    new = make("New one", "2026-03-01T10:00:00Z", texts=("a", "b", "c"))
    new.switch_persona(Persona("pirate", "Arr."))  # an event: not a message in the count
    new.updated_at = "2026-03-01T10:00:00Z"
    store.save(old)
    store.save(new)

    first, second = store.list()
    assert (first.title, second.title) == ("New one", "Old one")
    assert first.messages == 3 and first.persona == "pirate" and first.model == "gpt-4o-mini"
    assert first.tokens == count_conversation(store.load(new.id)) > 0
    assert first.to_json()["title"] == "New one" and first.to_json()["error"] is None


def test_temp_files_are_not_documents_and_stale_ones_are_removed(store):
    conv = make()
    store.save(conv)
    fresh = store.root / f".{conv.id}.json.tmp-aaaa"
    stale = store.root / f".{conv.id}.json.tmp-bbbb"
    for tmp in (fresh, stale):
        tmp.write_text('{"half": ')
    old = time.time() - 3600
    os.utime(stale, (old, old))
    (store.root / "notes.txt").write_text("not a conversation")

    assert [s.id for s in store.list()] == [conv.id]
    assert fresh.exists() and not stale.exists()


def test_empty_store(store):
    assert store.list() == [] and store.search("x") == []
    with pytest.raises(NotFoundError, match="no saved conversations"):
        store.resolve("latest")


# -- search ---------------------------------------------------------------------------


def test_search_titles_and_contents_case_insensitively(store):
    weather = make("Weather complaints", "2026-01-01T10:00:00Z", texts=("What is the WEATHER like?", "Rainy."))
    cooking = make("Soup", "2026-01-02T10:00:00Z", texts=("A recipe for soup", "Boil water, then weather the storm."))
    other = make("Unrelated", "2026-01-03T10:00:00Z", texts=("nothing here", "indeed"))
    for conv in (weather, cooking, other):
        store.save(conv)

    hits = store.search("weather")
    assert [h.summary.id for h in hits] == [weather.id, cooking.id]  # ranked: in the title counts most
    assert hits[0].snippet == "What is the WEATHER like?"
    assert [h.snippet for h in store.search("COMPLAINTS")] == ["Weather complaints"]  # title only
    assert list(store.iter_search("weather")) == hits
    assert store.search("zebra") == []
    assert store.search("   ") == []


def test_search_ignores_field_names_and_metadata(store):
    store.save(make(texts=("plain words", "more words")))
    for query in ("assistant", "gpt-4o-mini", "created_at", "chinwag.conversation"):
        assert store.search(query) == [], query


@pytest.mark.parametrize(
    ("content", "query"),
    [
        ('she said "stop" twice', '"stop"'),
        (r"C:\Users\me\file.txt", r"\users\me"),
        ("first line\nsecond line", "line\nsecond"),
        ("Grüße aus Köln — 日本語", "GRÜSSE"),  # full case folding: ß matches SS
        ("tab\tseparated", "tab\tsep"),
        ("emoji 🎉 party", "🎉 PARTY"),
        ("Grüße aus der Straße", "STRASSE"),  # an ASCII query, a non-ASCII file
        ("a bell\x07 then words", "THEN WORDS"),  # the file holds a \u0007 escape
    ],
)
def test_search_handles_json_escapes_and_unicode(store, content, query):
    conv = make(texts=(content,))
    store.save(conv)
    hits = store.search(query)
    assert [h.summary.id for h in hits] == [conv.id]


def test_search_snippet_is_one_short_line_around_the_match(store):
    text = ("lorem ipsum dolor " * 20) + "NEEDLE in\nthe haystack " + ("sit amet " * 20)
    store.save(make(texts=(text,)))
    (hit,) = store.search("needle")
    assert "NEEDLE" in hit.snippet and "\n" not in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) <= 82


def test_search_snippet_has_no_escape_sequences(store):
    store.save(make(texts=("colour \x1b[31mred\x1b[0m here",)))
    (hit,) = store.search("red")
    assert "\x1b" not in hit.snippet and "red" in hit.snippet


# -- delete, rename, resolve ----------------------------------------------------------------


def test_delete_and_rename(store):
    conv = make("Before")
    store.save(conv)
    renamed = store.rename(conv.id, "  After   all ")
    assert renamed.title == "After all" and store.load(conv.id).title == "After all"
    assert [s.title for s in store.list()] == ["After all"]
    with pytest.raises(ValueError):
        store.rename(conv.id, "   ")
    store.delete(conv.id)
    assert store.list() == [] and not any(store.root.glob(f"*{conv.id}*"))
    with pytest.raises(NotFoundError):
        store.delete(conv.id)


def test_resolve_latest_full_prefix_and_close_matches(store):
    a = make("A", "2026-01-01T10:00:00Z", conv_id="20260101-100000-aaaaaa")
    b = make("B", "2026-02-01T10:00:00Z", conv_id="20260201-100000-bbbbbb")
    c = make("C", "2026-02-01T09:00:00Z", conv_id="20260201-090000-cccccc")
    for conv in (a, b, c):
        store.save(conv)
    (store.root / "zzz-broken.json").write_text("{")  # newest file, but unreadable

    assert store.resolve("latest") == b.id
    assert store.resolve(a.id) == a.id
    assert store.resolve("20260101") == a.id
    assert store.resolve("20260201-09") == c.id
    with pytest.raises(NotFoundError, match="matches 2 conversations") as many:
        store.resolve("20260201")
    assert b.id in str(many.value) and c.id in str(many.value)
    with pytest.raises(NotFoundError) as typo:
        store.resolve("20260101-100000-aaaaab")
    assert a.id in str(typo.value)
    with pytest.raises(NotFoundError, match="No conversation matches 'nothing-like-it'.$"):
        store.resolve("nothing-like-it")


# -- two writers ----------------------------------------------------------------------------


def test_two_stores_merge_instead_of_overwriting(tmp_path):
    root = tmp_path / "shared"
    first, second = Store(root), Store(root)
    conv = make(texts=("start",), when="2026-01-01T10:00:00Z")
    first.save(conv)

    mine, theirs = first.load(conv.id), second.load(conv.id)
    mine.add(Message(ASSISTANT, "reply from process one", created_at="2026-01-01T10:00:05Z"))
    assert not first.save(mine)
    theirs.add(Message(USER, "question from process two", created_at="2026-01-01T10:00:03Z"))
    theirs.extra["added_by_two"] = True
    merged = second.save(theirs)
    assert [m.content for m in merged.messages] == ["reply from process one"]
    assert second.last_merge is merged

    # What was saved first comes first; both follow "start" (siblings: neither saw the other).
    expected = ["start", "reply from process one", "question from process two"]
    assert [m.content for m in theirs.messages] == expected  # the caller's copy is merged too
    on_disk = Store(root).load(conv.id)
    assert [m.content for m in on_disk.messages] == expected
    assert on_disk.extra["added_by_two"] is True

    # The first store now sees a changed file and merges back, losing nothing.
    mine.add(Message(USER, "thanks", created_at="2026-01-01T10:00:09Z"))
    assert [m.content for m in first.save(mine).messages] == ["question from process two"]
    assert [m.content for m in Store(root).load(conv.id).messages] == expected + ["thanks"]
    assert not first.save(mine) and not first.last_merge


WRITER = """
import sys
from chinwag.conversation import Message
from chinwag.store import Store
store, name = Store(sys.argv[1]), sys.argv[2]
conv = store.load(sys.argv[3])
for i in range(int(sys.argv[4])):
    conv.add(Message("user", f"{name}-{i}", created_at=f"2026-01-01T10:{i // 60:02d}:{i % 60:02d}Z"))
    store.save(conv)
"""


def test_two_processes_writing_the_same_conversation_lose_nothing(tmp_path):
    root = tmp_path / "shared"
    conv = make(texts=("start",), when="2026-01-01T09:00:00Z")
    Store(root).save(conv)
    count = 40
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), name, conv.id, str(count)])
        for name in ("one", "two")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    contents = [m.content for m in Store(root).load(conv.id).messages]
    assert sorted(contents) == sorted(["start"] + [f"{n}-{i}" for n in ("one", "two") for i in range(count)])
    assert [c for c in contents if c.startswith("one")] == [f"one-{i}" for i in range(count)]


def _blocked_on(path) -> bool:
    """A flock waiter is queued on the file at ``path`` (Linux: /proc/locks marks them "->")."""
    inode = os.stat(path).st_ino
    with open("/proc/locks") as locks:
        return any(line.split()[1] == "->" and line.split()[6].endswith(f":{inode}") for line in locks)


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs /proc/locks to see a waiter")
def test_a_save_waiting_on_a_deleted_conversations_lock_never_shares_the_lock(store):
    """delete removes the lock file while holding it; a save that was waiting on that file
    must lock the one now at the path, or it and a newcomer would both hold "the" lock."""
    import fcntl
    import threading

    conv = Conversation(title="t")
    conv.add(Message(USER, "hi"))
    store.save(conv)
    lock_path = store.root / f".{conv.id}.lock"
    inside, done = threading.Event(), threading.Event()

    def waiter() -> None:
        with store._lock(conv.id):
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=waiter)
    with store._lock(conv.id):
        thread.start()
        for _ in range(10_000):
            if _blocked_on(lock_path):
                break
            time.sleep(0.001)
        lock_path.unlink()  # what delete does while it holds the lock
    assert inside.wait(10)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)  # a newcomer
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
        done.set()
        thread.join()
