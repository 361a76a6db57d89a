"""Two processes on one conversation: messages merge by id, document fields by field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag.client import ChatClient
from chinwag.conversation import USER, Conversation, Message, Persona
from chinwag.session import ChatSession
from chinwag.store import Store, UnreadableError

WHEN = "2026-01-01T10:00:00Z"


def started(root) -> Conversation:
    conv = Conversation(model="gpt-4o-mini", created_at=WHEN)
    conv.add(Message(USER, "opening", created_at=WHEN))
    Store(root).save(conv)
    return conv


def on_disk(root, conv_id) -> Conversation:
    return Store(root).load(conv_id)


def test_the_same_text_from_both_within_one_second_keeps_both_exchanges(tmp_path):
    conv = started(tmp_path)
    one, two = Store(tmp_path), Store(tmp_path)
    a, b = one.load(conv.id), two.load(conv.id)
    for copy_, store in ((a, one), (b, two)):
        copy_.add(Message(USER, "same words", created_at="2026-01-01T10:00:07Z"))
        copy_.add(Message("assistant", "same reply", created_at="2026-01-01T10:00:07Z"))
        store.save(copy_)
    saved = on_disk(tmp_path, conv.id)
    assert [m.content for m in saved.messages].count("same words") == 2
    assert [m.content for m in saved.messages].count("same reply") == 2
    assert len({m.id for m in saved.messages}) == 5
    # Each exchange keeps its own shape: a reply follows its own question.
    for reply in (m for m in saved.messages if m.content == "same reply"):
        assert saved.get(reply.parent).content == "same words"


def test_a_rename_in_one_window_is_not_reverted_by_the_others_next_save(tmp_path):
    conv = started(tmp_path)
    other_store = Store(tmp_path)
    other = other_store.load(conv.id)
    Store(tmp_path).rename(conv.id, "Renamed elsewhere")
    other.add_user("still typing here")
    merged = other_store.save(other)
    assert merged.fields == ["title"] and other.title == "Renamed elsewhere"
    saved = on_disk(tmp_path, conv.id)
    assert saved.title == "Renamed elsewhere"
    assert [m.content for m in saved.path] == ["opening", "still typing here"]


def test_the_newer_edit_of_a_field_wins_whoever_saves_last(tmp_path):
    conv = started(tmp_path)
    store_a, store_b = Store(tmp_path), Store(tmp_path)
    a, b = store_a.load(conv.id), store_b.load(conv.id)
    a.rename("Older name")  # edited first, saved last
    b.rename("Newer name")
    b.persona = Persona("pirate", "Arr.")
    store_b.save(b)
    a.settings = a.settings.replace(temperature=0.1)
    store_a.save(a)
    saved = on_disk(tmp_path, conv.id)
    assert saved.title == "Newer name" and a.title == "Newer name"
    assert saved.persona.name == "pirate"
    assert saved.settings.temperature == 0.1
    # And the other way round: the first window's later edit wins over the second's older one;
    # each setting merges on its own.
    a.rename("Newest name")
    b.settings = b.settings.replace(max_tokens=50)
    store_a.save(a)
    store_b.save(b)
    saved = on_disk(tmp_path, conv.id)
    assert (saved.title, saved.settings.max_tokens, saved.settings.temperature) == ("Newest name", 50, 0.1)
    # A change made in place, which no assignment saw, is noticed at save and stamped then.
    b.persona.system_prompt = "Arr, matey."
    store_b.save(b)
    store_a.save(a)
    assert a.persona.system_prompt == "Arr, matey."


def test_two_copies_in_one_process_merge_like_two_processes(tmp_path):
    """The chat holds one copy; the history screen renames through another (Store.rename)."""
    conv = started(tmp_path)
    store = Store(tmp_path)
    shown = store.load(conv.id)
    elsewhere_store = Store(tmp_path)
    elsewhere = elsewhere_store.load(conv.id)
    added = elsewhere.add_user("from another process")
    elsewhere_store.save(elsewhere)
    store.rename(conv.id, "Renamed from history")  # loads, renames and saves a second copy
    store.save(shown)  # what quitting does: nothing of its own to write, everything to take in
    saved = on_disk(tmp_path, conv.id)
    assert saved.title == shown.title == "Renamed from history"
    assert [m.content for m in saved.messages] == ["opening", "from another process"]
    assert saved.current == shown.current == added.id


def test_a_field_neither_side_touched_is_left_alone(tmp_path):
    conv = started(tmp_path)
    store_a, store_b = Store(tmp_path), Store(tmp_path)
    a, b = store_a.load(conv.id), store_b.load(conv.id)
    a.add_user("from a")
    store_a.save(a)
    merged = store_b.save(b)
    assert [m.content for m in merged.messages] == ["from a"]
    assert b.title == a.title and "title" not in merged.fields


async def test_a_window_takes_in_the_others_exchange_before_sending(chat_server, tmp_path):
    """The second window's request holds what the first one added, and it is told so."""
    conv = started(tmp_path)
    client = ChatClient(chat_server.base_url, None, timeout=5, max_retries=0)
    first = ChatSession(Store(tmp_path).load(conv.id), Store(tmp_path), client)
    second_store = Store(tmp_path)
    second = ChatSession(second_store.load(conv.id), second_store, client)
    told = []
    second.on_merge = told.append

    async def turn(session, text):
        session.submit(text)
        reply = session.start_reply()
        return [e async for e in session.reply(reply)]

    chat_server.reply("answer one")
    await turn(first, "same words")
    chat_server.reply("answer two")
    await turn(second, "same words")
    sent = [m["content"] for m in chat_server.chat_requests[-1].body["messages"]]
    assert sent == ["opening", "same words", "answer one", "same words"]
    assert [m.content for m in told[0].messages] == ["same words", "answer one"]
    saved = on_disk(tmp_path, conv.id)
    assert [m.content for m in saved.path] == ["opening", "same words", "answer one", "same words", "answer two"]
    # The first window catches up the same way, without writing anything.
    merged = first.refresh()
    assert [m.content for m in merged.messages] == ["same words", "answer two"]
    assert [m.content for m in first.conversation.path] == [m.content for m in saved.path]


def test_refresh_is_quiet_when_nothing_changed_and_leaves_a_broken_file_to_the_save(tmp_path):
    conv = started(tmp_path)
    store = Store(tmp_path)
    mine = store.load(conv.id)
    assert not store.refresh(mine)
    (tmp_path / f"{conv.id}.json").write_text("{ not json")
    assert not store.refresh(mine)
    mine.add_user("more")
    with pytest.raises(UnreadableError, match="not overwriting it"):
        store.save(mine)


# Random interleavings of two writers: every message either added ends up on disk, once.
plans = st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from(["add", "save", "branch", "rename"])), max_size=30)


@settings(max_examples=60, deadline=None)
@given(plans)
def test_two_writers_never_lose_a_message(tmp_path_factory, plan):
    root = tmp_path_factory.mktemp("merge")
    conv = started(root)
    stores = {"a": Store(root), "b": Store(root)}
    copies = {name: store.load(conv.id) for name, store in stores.items()}
    added: set[str] = {conv.messages[0].id}
    for n, (who, action) in enumerate(plan):
        mine = copies[who]
        if action == "add":
            added.add(mine.add_user(f"{who}{n}").id)
        elif action == "branch":
            added.add(mine.add_user(f"{who}{n}", parent=mine.messages[n % len(mine.messages)].id).id)
        elif action == "rename":
            mine.rename(f"title {who}{n}")
        else:
            stores[who].save(mine)
    for who in "ab":
        stores[who].save(copies[who])
    stores["a"].save(copies["a"])
    saved = json.loads((root / f"{conv.id}.json").read_text("utf-8"))
    assert sorted(m["id"] for m in saved["messages"]) == sorted(added)
    parents = {m["parent"] for m in saved["messages"]} - {None}
    assert parents <= added
    assert {m.id for m in copies["a"].messages} == added == {m.id for m in copies["b"].messages}
    assert copies["a"].title == copies["b"].title == saved["title"]
