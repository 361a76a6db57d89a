"""Documents with fields of the wrong type open read-only with a notice; nothing crashes.

Hand-edited or damaged documents: every field is checked on read. A conversation with a bad
field still lists, opens, exports and counts; the notice names the file and the field and
never the value; the file is never written.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag import export, paths
from chinwag.cli import main
from chinwag.client import ChatClient
from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.index import Index, index_path
from chinwag.session import ChatSession
from chinwag.store import ReadOnlyError, Store, UnreadableError

SECRET = "PRIVATE-WORDS-" * 40  # a long message text: must never reach a notice or an error


def good_document() -> dict:
    conv = Conversation(id="20260101-100000-abcdef", model="gpt-4o-mini", created_at="2026-01-01T10:00:00Z")
    conv.add(Message(USER, "first " + SECRET, created_at="2026-01-01T10:00:00Z"))
    conv.add(Message(ASSISTANT, "an answer", created_at="2026-01-01T10:00:01Z", finish_reason="stop",
                     usage={"prompt_tokens": 10, "completion_tokens": 3}, model="gpt-4o-mini"))
    conv.add(Message(USER, "second", created_at="2026-01-01T10:00:02Z"))
    return conv.to_dict()


def put(document: dict, root: Path | None = None) -> Path:
    root = root or paths.conversations_dir()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{document['id']}.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


def message(doc, i):
    return doc["messages"][i]


def cycle(doc):
    message(doc, 0)["parent"] = message(doc, 2)["id"]


DAMAGE = {
    # field: (change, the field the notice names)
    "usage is a number": (lambda d: message(d, 1).update(usage=5), "messages[1].usage"),
    "usage holds text": (lambda d: message(d, 1).update(usage={"prompt_tokens": "x"}), "messages[1].usage.prompt_tokens"),
    "finish_reason is a list": (lambda d: message(d, 1).update(finish_reason=["x"]), "messages[1].finish_reason"),
    "role is null": (lambda d: message(d, 0).update(role=None), "messages[0].role"),
    "role is missing": (lambda d: message(d, 2).pop("role"), "messages[2].role"),
    "content is an object": (lambda d: message(d, 2).update(content={"a": 1}), "messages[2].content"),
    "tokens is text": (lambda d: message(d, 0).update(tokens="many"), "messages[0].tokens"),
    "tokens is negative": (lambda d: message(d, 0).update(tokens=-4), "messages[0].tokens"),
    "created_at is a number": (lambda d: message(d, 0).update(created_at=5), "messages[0].created_at"),
    "model is a list": (lambda d: message(d, 1).update(model=[1]), "messages[1].model"),
    "id is a number": (lambda d: message(d, 0).update(id=7), "messages[0].id"),
    "id is missing": (lambda d: message(d, 1).pop("id"), "messages[1].id"),
    "id repeats": (lambda d: message(d, 2).update(id=message(d, 0)["id"]), "messages[2].id"),
    "parent is a number": (lambda d: message(d, 1).update(parent=3), "messages[1].parent"),
    "parent names nothing": (lambda d: message(d, 1).update(parent="nobody"), "messages[1].parent"),
    "parent is itself": (lambda d: message(d, 1).update(parent=message(d, 1)["id"]), "messages[1].parent"),
    "parents in a cycle": (cycle, "parent makes a cycle"),
    "a message is a number": (lambda d: d["messages"].append(5), "messages[3]"),
    "messages is an object": (lambda d: d.update(messages={"a": 1}), "messages"),
    "title is a number": (lambda d: d.update(title=5), "title"),
    "persona is text": (lambda d: d.update(persona="sassy"), "persona"),
    "persona name is a list": (lambda d: d["persona"].update(name=["x"]), "persona.name"),
    "settings is a list": (lambda d: d.update(settings=[1]), "settings"),
    "temperature is text": (lambda d: d["settings"].update(temperature="hot"), "settings.temperature"),
    "token_budget is a list": (lambda d: d["settings"].update(token_budget=[8000]), "settings.token_budget"),
    "current is a number": (lambda d: d.update(current=3), "current"),
    "edited is a list": (lambda d: d.update(edited=["x"]), "edited"),
    "message persona is a number": (lambda d: message(d, 2).update(persona=4), "messages[2].persona"),
    # Text where a date belongs, counts no reply can have, objects where text belongs (QA 14e):
    "reasoning is an object": (lambda d: message(d, 1).update(reasoning={"a": 1}), "messages[1].reasoning"),
    "reasoning is a number": (lambda d: message(d, 1).update(reasoning=4), "messages[1].reasoning"),
    "provider is a list": (lambda d: message(d, 1).update(provider=["x"]), "messages[1].provider"),
    "created_at is a word": (lambda d: message(d, 0).update(created_at="yesterday"), "messages[0].created_at"),
    "document created_at is a word": (lambda d: d.update(created_at="yesterday"), "created_at"),
    "updated_at is a word": (lambda d: d.update(updated_at="soon"), "updated_at"),
    "edited holds a word": (lambda d: d.update(edited={"title": "zzz"}), "edited"),
    "usage count is huge": (lambda d: message(d, 1)["usage"].update(prompt_tokens=10**400),
                            "messages[1].usage.prompt_tokens"),
    "usage count is a fraction": (lambda d: message(d, 1)["usage"].update(completion_tokens=2.5),
                                  "messages[1].usage.completion_tokens"),
    "reasoning tokens too many": (lambda d: message(d, 1)["usage"].update(reasoning_tokens=10**12),
                                  "messages[1].usage.reasoning_tokens"),
    "cached tokens negative": (lambda d: message(d, 1)["usage"].update(
        prompt_tokens_details={"cached_tokens": -1}), "messages[1].usage.prompt_tokens_details.cached_tokens"),
    "usage details is a list": (lambda d: message(d, 1)["usage"].update(completion_tokens_details=[1]),
                                "messages[1].usage.completion_tokens_details"),
    "tokens is huge": (lambda d: message(d, 0).update(tokens=10**10), "messages[0].tokens"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_wrong_field_opens_read_only_naming_the_file_and_the_field(damage, chat_server):
    change, field = DAMAGE[damage]
    document = good_document()
    change(document)
    path = put(document)
    before = path.read_bytes()
    store = Store()

    conv = store.load(document["id"])
    assert conv.read_only
    assert path.name in conv.read_only_reason and field in conv.read_only_reason
    assert "read-only" in conv.read_only_reason
    assert "PRIVATE-WORDS" not in conv.read_only_reason and len(conv.read_only_reason) < 300
    # Everything that reads it still works.
    for fmt in export.FORMATS:
        export.render(conv, fmt)
    session = ChatSession(conv, store, ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    session.meter("a draft")
    conv.path, conv.children(None)
    (summary,) = store.list()
    assert summary.read_only and summary.error is None
    # ...and nothing writes it.
    with pytest.raises(ReadOnlyError):
        store.save(conv)
    session.save()
    with pytest.raises(ReadOnlyError):
        store.rename(document["id"], "new title")
    assert path.read_bytes() == before


def test_absurd_usage_is_never_added_up(capsys):
    # 10**400 prompt tokens made `chinwag usage` report 4.6e18 tokens and $691,752,902,764.
    from chinwag.usage import read_usage

    document = good_document()
    message(document, 1)["usage"] = {"prompt_tokens": 10**400, "completion_tokens": 10**19}
    put(document)
    sane = Conversation(model="gpt-4o-mini")
    sane.add(Message(USER, "hi"))
    sane.add(Message(ASSISTANT, "hello", model="gpt-4o-mini", usage={"prompt_tokens": 1000, "completion_tokens": 50}))
    Store().save(sane)
    assert main(["usage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    total = report["total"]
    assert total["prompt_tokens"] == 1000 and total["completion_tokens"] == 50 and total["requests"] == 1
    # Whoever reads usage (an import, a document read before this check) gets no absurd count.
    use = read_usage({"prompt_tokens": 10**400, "completion_tokens": 7, "reasoning_tokens": 10**12})
    assert (use.prompt, use.completion, use.reasoning) == (0, 7, 0)


def test_the_cli_lists_exports_and_resumes_a_damaged_document(capsys, launched):
    document = good_document()
    message(document, 1)["usage"] = 5
    message(document, 1)["finish_reason"] = ["x"]
    put(document)
    assert main(["list"]) == 0
    assert "(read-only)" in capsys.readouterr().out
    assert main(["export", document["id"], "-f", "md"]) == 0
    out, err = capsys.readouterr()
    assert "an answer" in out and "Traceback" not in err
    assert main(["--resume", document["id"]]) == 0
    conv = Store().load(launched[0].resume_id)  # what the app reads after its first frame
    assert conv.read_only and "messages[1].finish_reason" in conv.read_only_reason
    assert "(and 1 more)" in conv.read_only_reason
    assert len(conv.problems) == 2


def test_a_document_that_is_not_ours_is_still_unreadable_and_untouched():
    root = paths.conversations_dir()
    root.mkdir(parents=True)
    (root / "a.json").write_text(json.dumps({"format": "chinwag.conversation", "version": "two", "id": "a"}))
    (root / "b.json").write_text(json.dumps({"format": "chinwag.conversation", "version": 2}))
    errors = {s.id: s.error for s in Store().list()}
    assert "version should be a whole number" in errors["a"] and "has no id" in errors["b"]
    with pytest.raises(UnreadableError):
        Store().load("a")


def test_deeply_nested_values_do_not_crash(tmp_path):
    document = good_document()
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    message(document, 0)["reaction"] = deep  # an unknown field: kept as it is
    put(document, tmp_path)
    conv = Store(tmp_path).load(document["id"])
    assert not conv.read_only and conv.messages[0].extra["reaction"] == deep


# -- the listing index ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        {"title": 5},
        {"messages": "many"},
        {"tokens": -1},
        {"error": 3},
        {"read_only": "no"},
        {"updated_at": None},
        {"persona": b"x"},
    ],
    ids=lambda e: next(iter(e)),
)
def test_an_index_with_matching_stamps_but_invalid_entries_is_rebuilt(entry, capsys):
    document = good_document()
    put(document)
    store = Store()
    (real,) = store.list()
    Index.close_all()
    (name, value), = entry.items()
    with sqlite3.connect(index_path(store.root)) as con:  # the stamp still matches the file
        con.execute(f"UPDATE docs SET {name} = ?", (value,))
    assert Store().list() == [real]
    assert main(["list"]) == 0 and document["id"] in capsys.readouterr().out
    assert main(["list", "--json"]) == 0 and json.loads(capsys.readouterr().out)[0]["title"] == real.title
    Index.close_all()
    with sqlite3.connect(index_path(store.root)) as con:
        assert con.execute("SELECT title FROM docs").fetchone()[0] == real.title


# -- properties -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
TOP = ["title", "created_at", "updated_at", "provider", "model", "persona", "settings", "current", "edited",
       "messages", "version"]
MESSAGE = ["id", "parent", "role", "content", "created_at", "tokens", "model", "finish_reason", "usage", "persona",
           "reasoning", "provider"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(TOP), json_values), max_size=3),
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from(MESSAGE), json_values), max_size=4),
)
def test_any_value_in_any_field_never_crashes_reading_listing_or_exporting(tmp_path_factory, top, fields):
    document = good_document()
    for name, value in top:
        document[name] = value
    for i, name, value in fields:
        if isinstance(document.get("messages"), list) and i < len(document["messages"]):
            if isinstance(document["messages"][i], dict):
                document["messages"][i][name] = value
    root = tmp_path_factory.mktemp("docs")
    put(document, root)
    store = Store(root)
    (summary,) = store.list()
    try:
        conv = store.load(document["id"])
    except UnreadableError as error:
        assert summary.error == error.reason and "PRIVATE-WORDS" not in error.reason
        return
    for fmt in export.FORMATS:
        export.render(conv, fmt)
    assert "PRIVATE-WORDS" not in conv.read_only_reason
    assert [m.id for m in conv.path] == [m.id for m in conv.path_to(conv.leaf.id)] if conv.messages else True
    if conv.read_only:
        with pytest.raises(ReadOnlyError):
            store.save(conv)
