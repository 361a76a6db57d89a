"""Format v2: every message has an id and a parent; the document names the leaf it shows."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag import export
from chinwag.conversation import ASSISTANT, USER, VERSION, Conversation, Message
from chinwag.index import summarize
from chinwag.store import Store
from chinwag.tokens import TokenCounter, count_conversation


def texts(messages) -> list[str]:
    return [m.content for m in messages]


def branched() -> tuple[Conversation, dict[str, Message]]:
    """q1 -> a1 -> q2 -> a2, with an edited q1' -> b1 beside q1 and a regenerated a2' beside a2."""
    conv = Conversation(model="gpt-4o-mini")
    m = {}
    m["q1"] = conv.add_user("first question")
    m["a1"] = conv.add_assistant("first answer")
    m["q2"] = conv.add_user("second question")
    m["a2"] = conv.add_assistant("second answer")
    m["a2'"] = conv.add_assistant("second answer, again", parent=m["q2"].id)
    m["q1'"] = conv.add_user("first question, edited", parent=None)
    m["b1"] = conv.add_assistant("answer to the edit")
    return conv, m


def test_messages_have_random_unique_ids_and_parents():
    conv = Conversation()
    one = conv.add_user("same words")
    two = conv.add_user("same words")
    assert one.created_at == two.created_at and one.id != two.id
    assert (one.parent, two.parent) == (None, one.id)
    data = conv.to_dict()
    assert data["version"] == VERSION == 2
    assert [(m["id"], m["parent"]) for m in data["messages"]] == [(one.id, None), (two.id, one.id)]
    assert data["current"] == two.id


def test_adding_goes_under_the_current_leaf_and_becomes_current():
    conv, m = branched()
    assert conv.current == m["b1"].id
    assert texts(conv.path) == ["first question, edited", "answer to the edit"]
    assert conv.messages == list(m.values())  # every node, in creation order
    assert conv.children(None) == [m["q1"], m["q1'"]]
    assert conv.children(m["q2"].id) == [m["a2"], m["a2'"]]
    assert conv.siblings(m["a2'"].id) == [m["a2"], m["a2'"]]
    assert conv.sibling_position(m["a2'"].id) == (2, 2)
    assert conv.sibling_position(m["a1"].id) == (1, 1)
    with pytest.raises(KeyError):
        conv.add_user("orphan", parent="no-such-id")


def test_select_shows_the_newest_leaf_under_a_message():
    conv, m = branched()
    assert conv.select(m["q1"].id) is m["a2'"]
    assert texts(conv.path) == ["first question", "first answer", "second question", "second answer, again"]
    assert conv.select(m["a2"].id) is m["a2"]
    assert conv.last(ASSISTANT) is m["a2"] and conv.last(USER) is m["q2"]
    assert [x.content for x in conv.chat_messages] == texts(conv.path)


def test_missing_or_unknown_current_means_the_last_message():
    conv, m = branched()
    conv.current = None
    assert conv.leaf is m["b1"]
    conv.current = "gone"
    assert conv.leaf is m["b1"] and texts(conv.path) == ["first question, edited", "answer to the edit"]
    assert Conversation().path == [] and Conversation().leaf is None


def test_a_saved_tree_reads_back_the_same(tmp_path):
    conv, m = branched()
    conv.select(m["a2"].id)
    store = Store(tmp_path)
    store.save(conv)
    loaded = Store(tmp_path).load(conv.id)
    assert [(x.id, x.parent) for x in loaded.messages] == [(x.id, x.parent) for x in conv.messages]
    assert [x.id for x in loaded.path] == [x.id for x in conv.path]
    assert loaded.to_dict() == conv.to_dict() and not loaded.read_only


# -- reading version 1 ----------------------------------------------------------------------

V1 = {
    "format": "chinwag.conversation",
    "version": 1,
    "id": "20260101-100000-v1v1v1",
    "title": "Old one",
    "created_at": "2026-01-01T10:00:00Z",
    "updated_at": "2026-01-01T10:05:00Z",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "persona": {"name": "assistant", "system_prompt": ""},
    "settings": {},
    "messages": [
        {"role": "user", "content": "hello", "created_at": "2026-01-01T10:00:00Z"},
        {"role": "assistant", "content": "first try", "created_at": "2026-01-01T10:00:01Z", "superseded": True},
        {"role": "assistant", "content": "second try", "created_at": "2026-01-01T10:00:02Z", "superseded": True},
        {"role": "assistant", "content": "third try", "created_at": "2026-01-01T10:00:03Z"},
        {"role": "user", "content": "again", "created_at": "2026-01-01T10:00:04Z"},
        {"role": "user", "content": "again", "created_at": "2026-01-01T10:00:04Z"},
    ],
}


def write_v1(root, data=V1):
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{data['id']}.json"
    path.write_text(json.dumps(data, indent=2), "utf-8")
    return path


def test_a_v1_document_reads_as_one_branch_with_regenerated_replies_as_siblings(tmp_path):
    write_v1(tmp_path)
    conv = Store(tmp_path).load(V1["id"])
    assert not conv.read_only and conv.source_version == 1
    hello, first, second, third, again, again2 = conv.messages
    assert texts(conv.path) == ["hello", "third try", "again", "again"]
    assert conv.siblings(third.id) == [first, second, third]
    assert again.parent == third.id and again2.parent == again.id and again.id != again2.id
    assert all("superseded" not in m.extra for m in conv.messages)
    # Two processes reading the same v1 file agree on the ids.
    assert [m.id for m in Store(tmp_path).load(V1["id"]).messages] == [m.id for m in conv.messages]


def test_a_v1_document_is_written_as_v2_only_when_it_changes(tmp_path):
    path = write_v1(tmp_path)
    before = path.read_bytes()
    store = Store(tmp_path)
    conv = store.load(V1["id"])
    TokenCounter(conv.model).count_request("", conv.messages)  # counting is not a change
    store.save(conv)
    assert path.read_bytes() == before
    ids = [m.id for m in conv.messages]
    conv.add_user("a new question")
    store.save(conv)
    data = json.loads(path.read_text("utf-8"))
    assert data["version"] == 2 and [m["id"] for m in data["messages"]][:-1] == ids
    assert data["current"] == conv.messages[-1].id
    assert [m.content for m in Store(tmp_path).load(V1["id"]).path][-2:] == ["again", "a new question"]


def test_a_version_0_document_still_reads():
    data = {**V1, "version": 0}
    del data["settings"]
    conv = Conversation.from_dict(data)
    assert texts(conv.path) == ["hello", "third try", "again", "again"] and conv.settings.to_dict() == {}


# -- everything that reads the transcript follows the current path ------------------------


def test_counts_summaries_and_exports_follow_the_current_path():
    conv, m = branched()
    conv.select(m["a1"].id)  # q1 a1 q2 a2' is the path; q1' b1 and a2 are elsewhere
    shown = conv.path
    assert texts(shown) == ["first question", "first answer", "second question", "second answer, again"]
    assert count_conversation(conv) == TokenCounter(conv.model).count_request("", shown)
    summary = summarize(conv)
    assert summary.messages == 4 and summary.tokens == count_conversation(conv)
    for fmt in ("md", "txt", "html"):
        out = export.render(conv, fmt)
        assert "second answer, again" in out and "first question" in out, fmt
        assert "edited" not in out and "answer to the edit" not in out, fmt
        assert "second answer\n" not in out.replace("second answer, again", ""), fmt
    assert len(json.loads(export.render(conv, "json"))["messages"]) == 7  # the document, whole


def test_history_preview_shows_the_current_path():
    from chinwag.tui.screens.history import preview_of

    conv, m = branched()
    preview = preview_of(conv).plain
    assert "answer to the edit" in preview and "second answer" not in preview
    assert "2 messages" in preview


# -- properties ------------------------------------------------------------------------------

# A tree built by random steps: add a message under the current leaf, under a random earlier
# message, as a new root, or select a random message.
steps = st.lists(
    st.tuples(st.sampled_from(["add", "under", "root", "select"]), st.integers(0, 10**6), st.text(max_size=8)),
    max_size=40,
)


def build(plan) -> Conversation:
    conv = Conversation()
    for action, pick, text in plan:
        role = USER if pick % 2 else ASSISTANT
        if action == "add" or not conv.messages:
            conv.add(Message(role, text))
        elif action == "under":
            conv.add(Message(role, text), conv.messages[pick % len(conv.messages)].id)
        elif action == "root":
            conv.add(Message(role, text), None)
        else:
            conv.select(conv.messages[pick % len(conv.messages)].id)
    return conv


@settings(max_examples=150, deadline=None)
@given(steps)
def test_any_tree_has_a_consistent_path_and_survives_a_round_trip(plan):
    conv = build(plan)
    path = conv.path
    if conv.messages:
        assert path[-1] is conv.leaf and path[0].parent is None
        assert all(child.parent == parent.id for parent, child in zip(path, path[1:]))
        assert not conv.children(path[-1].id) or conv.leaf.id == conv.current
    assert len({m.id for m in conv.messages}) == len(conv.messages)
    assert sum(len(conv.children(m.id)) for m in conv.messages) + len(conv.children(None)) == len(conv.messages)
    again = Conversation.from_dict(json.loads(json.dumps(conv.to_dict())))
    assert not again.read_only
    assert [m.id for m in again.path] == [m.id for m in path]
    assert again.to_dict() == conv.to_dict()
