"""Reading ChatGPT and Claude exports into plain conversations (engine only, no store)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from import_helpers import (
    CHATGPT,
    CLAUDE,
    EDITED_FIRST,
    EDITED_LEAF,
    FIRST,
    REPLY_A,
    REPLY_B,
    chain,
    chatgpt_conversation,
    chatgpt_sample,
    claude_sample,
    node,
    write_json,
)

from chinwag.importers import ImportedConversation, Problem, chatgpt, claude, read_export
from chinwag.importers.plain import BadConversation


def read(path: Path) -> list:
    return list(read_export(path))


def conversations(path: Path) -> list[ImportedConversation]:
    return [item for item in read(path) if isinstance(item, ImportedConversation)]


def by_id(conv: ImportedConversation) -> dict:
    return {m.id: m for m in conv.messages}


def path_to(conv: ImportedConversation, leaf: str) -> list[str]:
    messages = by_id(conv)
    out = []
    while leaf is not None:
        out.append(leaf)
        leaf = messages[leaf].parent
    return out[::-1]


# -- ChatGPT ------------------------------------------------------------------------


def test_chatgpt_edit_and_regenerate_are_siblings_and_the_shown_branch_is_current():
    lisbon = conversations(CHATGPT)[0]
    assert lisbon.source == "chatgpt" and lisbon.source_id == "6760b4e9-1f0c-8008-a3a9-0c4b5e2f7d10"
    assert lisbon.title == "Lisbon trip ideas" and lisbon.created_at == "2024-12-16T23:00:00Z"
    assert len(lisbon.messages) == 7 and lisbon.branches == 3
    messages = by_id(lisbon)
    # The first message and its edit hang from the same (hidden) place: both roots.
    assert messages[FIRST].parent is None and messages[EDITED_FIRST].parent is None
    assert messages[REPLY_A].parent == messages[REPLY_B].parent  # a regenerated reply
    assert lisbon.current == EDITED_LEAF
    assert [messages[i].text for i in path_to(lisbon, EDITED_LEAF)] == [
        "Plan three days in Lisbon for a family with two kids.",
        messages[EDITED_LEAF].text,
    ]
    assert messages[REPLY_B].model == "gpt-4o-mini" and messages[REPLY_A].model == "gpt-4o"
    assert messages[FIRST].model is None and messages[REPLY_A].finish_reason == "stop"
    assert messages[FIRST].created_at == "2024-12-16T23:00:01Z"


def test_chatgpt_parents_come_before_children_in_creation_order():
    for conv in conversations(CHATGPT) + conversations(CLAUDE):
        seen = set()
        for message in conv.messages:
            assert message.parent is None or message.parent in seen
            seen.add(message.id)


def test_chatgpt_hidden_nodes_are_not_messages():
    lisbon, runs, regex = conversations(CHATGPT)
    everything = " ".join(m.text for c in (lisbon, runs, regex) for m in c.messages)
    for hidden in ("Porto", "Be brief", "matplotlib", "ImageDisplayed", "Thought for", "Reading the table"):
        assert hidden not in everything
    assert lisbon.hidden == 3  # root, system, custom instructions
    assert [m.role for m in runs.messages] == ["user", "assistant"]
    assert runs.messages[1].model == "o3" and runs.messages[1].parent == runs.messages[0].id


def test_chatgpt_thoughts_become_the_reasoning_of_the_reply_they_led_to():
    lisbon, runs, _ = conversations(CHATGPT)
    assert runs.messages[1].reasoning == (
        "Reading the table\n\nThe image shows five runs; I will plot them with matplotlib.")
    assert runs.messages[0].reasoning is None and all(m.reasoning is None for m in lisbon.messages)


def test_chatgpt_images_are_noted_by_name_not_fetched():
    runs = conversations(CHATGPT)[1]
    assert runs.messages[0].text == (
        "[image: runs-week-9.png]\n\nHere are my runs this week. Make a chart of distance per day."
    )


def test_chatgpt_broken_conversation_is_reported_and_the_rest_read():
    items = read(CHATGPT)
    problems = [i for i in items if isinstance(i, Problem)]
    assert [type(i).__name__ for i in items] == [
        "ImportedConversation", "ImportedConversation", "Problem", "ImportedConversation"]
    assert problems[0].where == "chatgpt.json #3 (Broken on purpose)"
    assert "mapping is not an object" in problems[0].reason and not problems[0].warning


def test_chatgpt_root_listed_after_its_children_and_old_model_slug():
    regex = conversations(CHATGPT)[2]
    assert [m.role for m in regex.messages] == ["user", "assistant"]
    assert regex.messages[1].model == "text-davinci-002-render-sha"
    assert regex.messages[1].text.startswith("`^\\d{4}")


def test_children_that_disagree_with_parent_are_rebuilt_from_parent():
    nodes = chain("q", "a1", "q2", "a2")
    nodes[0]["children"] = ["m3"]  # wrong
    nodes[2]["children"] = []  # m2 does not list m3, but m3 says m2 is its parent
    conv = chatgpt.parse(chatgpt_conversation(nodes, current="m4"))
    assert [(m.id, m.parent) for m in conv.messages] == [
        ("m1", None), ("m2", "m1"), ("m3", "m2"), ("m4", "m3")]


def test_missing_parent_falls_back_to_the_node_listing_it_as_child():
    nodes = chain("q", "a")
    del nodes[2]["parent"]
    conv = chatgpt.parse(chatgpt_conversation(nodes, current="m2"))
    assert by_id(conv)["m2"].parent == "m1"


def test_dangling_parent_makes_a_root_and_cycles_are_cut():
    nodes = chain("q", "a", "q2", "a2")
    nodes[1]["parent"] = "nowhere"
    nodes[2]["parent"] = "m4"  # m2 <- m4 <- m3 <- m2: a cycle
    conv = chatgpt.parse(chatgpt_conversation(nodes, current="m4"))
    messages = by_id(conv)
    assert set(messages) == {"m1", "m2", "m3", "m4"}
    assert messages["m1"].parent is None
    roots = [m for m in conv.messages if m.parent is None]
    assert len(roots) == 2  # m1, and the cycle cut open somewhere
    for message in conv.messages:  # every message reaches a root
        assert len(path_to(conv, message.id)) <= 4


def test_self_parent_and_current_pointing_at_hidden_or_unknown_nodes():
    nodes = chain("q", "a")
    nodes[1]["parent"] = "m1"
    nodes.append(node("tail", "m2", "tool", "scaffolding"))
    conv = chatgpt.parse(chatgpt_conversation(nodes, current="tail"))
    assert by_id(conv)["m1"].parent is None and conv.current == "m2"
    assert chatgpt.parse(chatgpt_conversation(chain("q", "a"), current="nope")).current == "m2"
    assert chatgpt.parse(chatgpt_conversation(chain("q", "a"), current=None)).current == "m2"


def test_the_shown_branch_ends_where_the_export_showed_it_never_below():
    """ChatGPT shows root -> current_node: the branch ends at current_node, or at its nearest
    shown ancestor when current_node is hidden (a tool or system node, a thought), never in
    messages below it, listed as children or not (QA F11)."""
    nodes = chain("u1", "a1")
    nodes[2]["children"] = ["tool1"]  # x1 names m2 as parent, m2 does not list it
    nodes += [node("tool1", "m2", "tool", "output", when=1700000005),
              node("x1", "m2", "user", "never shown", ["x2"], when=1700000010),
              node("x2", "x1", "assistant", "never shown either", when=1700000020)]
    conv = chatgpt.parse(chatgpt_conversation(nodes, current="tool1"))
    assert conv.current == "m2" and {"x1", "x2"} <= set(by_id(conv))  # kept, as a branch
    system = [node("sys", "m2", "system", "hidden", ["deeper"]), node("deeper", "sys", "tool", "more")]
    nodes[2]["children"] = ["sys", "x1"]
    assert chatgpt.parse(chatgpt_conversation(nodes + system, current="deeper")).current == "m2"
    assert chatgpt.parse(chatgpt_conversation(nodes, current="m1")).current == "m1"  # an inner message too
    assert chatgpt.parse(chatgpt_conversation(nodes, current="x2")).current == "x2"


def test_a_very_deep_conversation_needs_no_recursion():
    texts = [f"turn {i}" for i in range(5000)]
    conv = chatgpt.parse(chatgpt_conversation(chain(*texts), current="m5000"))
    assert len(conv.messages) == 5000 and conv.current == "m5000" and conv.branches == 1


def test_message_ids_that_are_not_sane_are_replaced_consistently():
    nodes = chain("q", "a")
    weird = "\x1b]52;c;aGk=\x07" + "x" * 300
    nodes[1]["id"] = weird
    nodes[0]["children"] = [weird]
    nodes[2]["parent"] = weird
    data = chatgpt_conversation(nodes, current="m2")
    data["mapping"] = {n["id"]: n for n in nodes}
    first, second = chatgpt.parse(data), chatgpt.parse(json.loads(json.dumps(data)))
    assert [m.id for m in first.messages] == [m.id for m in second.messages]
    assert re.fullmatch(r"x[0-9a-f]{23}", first.messages[0].id) and first.messages[0].text == "q"
    assert first.messages[1].parent == first.messages[0].id


def test_wrong_types_anywhere_skip_or_import_but_never_crash():
    """Replace every value of the sample, one at a time, by values of other types."""
    sample = chatgpt_sample()[0]
    claude_one = claude_sample()[0]
    odd = [None, 0, -1, 1e308, "", "x", [], {}, True, ["x"], {"x": 1}]
    for parser, original in ((chatgpt, sample), (claude, claude_one), (chatgpt, canvas_conversation())):
        for path in _paths(original):
            for value in odd:
                data = json.loads(json.dumps(original))
                _set(data, path, value)
                try:
                    conv = parser.parse(data)
                except BadConversation:
                    continue
                for message in conv.messages:
                    assert isinstance(message.text, str) and message.text.strip()
                    assert message.created_at is None or message.created_at.endswith("Z")


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


def _set(data, path, value):
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def test_bad_times_are_dropped_not_trusted():
    nodes = chain("q", "a")
    nodes[1]["message"]["create_time"] = float("nan")
    nodes[2]["message"]["create_time"] = 1e20
    conv = chatgpt.parse(chatgpt_conversation(nodes, current="m2"))
    assert [m.created_at for m in conv.messages] == [None, None]
    data = claude_sample()[1]
    data["created_at"] = "0001-01-01T00:00:00Z"
    times = ["9999-12-31T23:59:59Z", "2024-03-05T19:00:05+01:00", "yesterday", "2024-03-05 18:00:09"]
    for item, when in zip(data["chat_messages"], times):
        item["created_at"] = when
    conv = claude.parse(data)
    assert [m.created_at for m in conv.messages] == [None, "2024-03-05T18:00:05Z", None, "2024-03-05T18:00:09Z"]
    assert conv.created_at == "2024-03-05T18:00:05Z"  # the first message's, when its own is absurd


# -- Claude -------------------------------------------------------------------------


def test_claude_parent_uuids_make_a_tree():
    rust = conversations(CLAUDE)[0]
    assert rust.source == "claude" and rust.title == "Rust lifetimes question"
    ids = [m.id for m in rust.messages]
    question, first_try, retry, follow_up, fixed = ids
    messages = by_id(rust)
    assert messages[first_try].parent == question and messages[retry].parent == question
    assert messages[follow_up].parent == retry and messages[fixed].parent == follow_up
    assert rust.branches == 2 and rust.current == fixed
    assert rust.created_at == "2025-02-11T09:14:02Z" and messages[question].created_at == "2025-02-11T09:14:03Z"


def test_claude_content_blocks_attachments_and_artifacts():
    rust = conversations(CLAUDE)[0]
    question, first_try, _, follow_up, fixed = [m.text for m in rust.messages]
    assert question.startswith("Why does this not compile?\n\n[attachment: main.rs]\n\nfn longest(")
    assert first_try == "The compiler cannot tell whether the result borrows from `x` or from `y`."
    assert "elided" not in first_try  # thinking is not chat: it is the reply's reasoning
    assert rust.messages[1].reasoning == "The function returns a reference but has two input lifetimes."
    assert rust.messages[2].reasoning is None
    assert follow_up == "Show me the fixed version\n\n[file: compiler-error.png]"
    assert fixed.startswith("Here it is:\n\n[artifact: Fixed longest]\n\n```rust\nfn longest<'a>")
    assert fixed.endswith("```\n\nThe `'a` ties the result to both inputs.") and "OK" not in fixed


def test_claude_without_parent_uuids_is_one_straight_branch():
    haiku = conversations(CLAUDE)[1]
    assert [m.role for m in haiku.messages] == ["user", "assistant", "user", "assistant"]
    assert [m.parent for m in haiku.messages] == [None] + [m.id for m in haiku.messages[:-1]]
    assert haiku.branches == 1 and haiku.current == haiku.messages[-1].id
    assert haiku.created_at == "2024-03-05T18:00:00Z"


def test_claude_empty_conversation_reads_as_empty():
    empty = conversations(CLAUDE)[2]
    assert empty.messages == [] and empty.current is None


def test_claude_parent_later_in_the_list_and_unknown_parent():
    data = claude_sample()[0]
    items = data["chat_messages"]
    items.reverse()  # children first
    items.append({"uuid": "orphan", "sender": "human", "text": "lost", "parent_message_uuid": "gone"})
    conv = claude.parse(data)
    messages = by_id(conv)
    assert messages["orphan"].parent is None
    assert messages["01950a1e-5f60-7718-9a2b-3c4d5e6f7081"].parent == "01950a1d-0a1b-7c2d-8e3f-4a5b6c7d8e9f"


@pytest.mark.parametrize("sender", ["system", None, 3, "tool"])
def test_claude_other_senders_are_not_messages(sender):
    data = claude_sample()[1]
    data["chat_messages"][0]["sender"] = sender
    assert len(claude.parse(data).messages) == 3


def test_conversation_without_an_id_gets_a_stable_digest(tmp_path):
    data = claude_sample()[1]
    del data["uuid"]
    first = claude.parse(data).source_id
    assert first.startswith("sha256:") and claude.parse(json.loads(json.dumps(data))).source_id == first


def test_one_conversation_object_instead_of_a_list(tmp_path):
    path = write_json(tmp_path / "one.json", chatgpt_sample()[0])
    (conv,) = read(path)
    assert conv.title == "Lisbon trip ideas" and len(conv.messages) == 7


def test_something_else_entirely_is_reported_per_element(tmp_path):
    path = write_json(tmp_path / "conversations.json", [{"hello": 1}, 5, "x", claude_sample()[1]])
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Problem"] * 3 + ["ImportedConversation"]
    assert "not a ChatGPT or Claude conversation" in items[0].reason


def canvas_conversation() -> dict:
    def canvas(node_id, parent, recipient, spec, children):
        text = spec if isinstance(spec, str) else json.dumps(spec)
        return node(node_id, parent, "assistant", children=children, when=1700000010,
                    recipient=recipient, content={"content_type": "code", "language": "json", "text": text})

    nodes = [
        node("root", None, None, children=["u"]),
        node("u", "root", "user", "Write fizzbuzz", ["c1"], when=1700000001),
        canvas("c1", "u", "canmore.create_textdoc",
               {"name": "fizzbuzz", "type": "code/python", "content": "print('```')\nfor i in range(3): pass"}, ["t1"]),
        node("t1", "c1", "tool", "Successfully created text document", ["a1"], when=1700000011),
        node("a1", "t1", "assistant", "Done: see the canvas.", ["c2"], when=1700000012),
        canvas("c2", "a1", "canmore.update_textdoc", {"updates": [{"pattern": ".*", "replacement": "print(1)"}]}, ["c3"]),
        canvas("c3", "c2", "canmore.update_textdoc", {"updates": [{"pattern": "1", "replacement": "2"}]}, ["c4"]),
        canvas("c4", "c3", "canmore.create_textdoc", "{not json", []),
    ]
    return chatgpt_conversation(nodes, current="c4")


def test_chatgpt_canvas_documents_come_in_as_fenced_blocks():
    conv = chatgpt.parse(canvas_conversation())
    texts = [m.text for m in conv.messages]
    assert texts[1] == "[canvas: fizzbuzz]\n\n````python\nprint('```')\nfor i in range(3): pass\n````"
    assert texts[2:] == ["Done: see the canvas.", "[canvas rewritten]\n\nprint(1)", "[canvas edited: 1 change]"]
    assert [m.role for m in conv.messages] == ["user", "assistant", "assistant", "assistant", "assistant"]
    assert conv.current == "c3"  # the broken canvas call is left out
