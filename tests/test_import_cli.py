"""`chinwag import`: exports become ordinary documents, once, with every branch."""

from __future__ import annotations

import json
import os
import re

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
    write_json,
    write_zip,
)

from chinwag import paths
from chinwag.cli import main
from chinwag.store import Store

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def count(out: str, status: str) -> int:
    """How many conversation lines have this status."""
    return sum(line.startswith(status) for line in out.splitlines())


def documents() -> dict[str, dict]:
    folder = paths.conversations_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json") if p.name != "index.json"}


def snapshot() -> dict[str, bytes]:
    folder = paths.conversations_dir()
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


def by_title(title: str) -> dict:
    return next(doc for doc in documents().values() if doc["title"] == title)


def test_chatgpt_edited_message_keeps_both_branches_and_a_second_import_adds_nothing(capsys):
    code, out, err = run(capsys, "import", str(CHATGPT))
    assert code == 1  # one conversation could not be imported
    assert "Broken on purpose" in err and "mapping is not an object" in err
    assert "Imported 3 conversations; 11 messages written; 1 not imported" in out
    doc = by_title("Lisbon trip ideas")
    assert doc["version"] == 2 and doc["imported_from"]["source"] == "chatgpt"
    assert doc["imported_from"]["id"] == "6760b4e9-1f0c-8008-a3a9-0c4b5e2f7d10"
    messages = {m["id"]: m for m in doc["messages"]}
    assert len(messages) == 7
    assert messages[FIRST]["parent"] is None and messages[EDITED_FIRST]["parent"] is None
    assert messages[REPLY_A]["parent"] == messages[REPLY_B]["parent"]
    assert doc["current"] == EDITED_LEAF
    conv = Store().load(doc["id"])
    assert [m.content for m in conv.path] == [
        "Plan three days in Lisbon for a family with two kids.", messages[EDITED_LEAF]["content"]]
    assert len(conv.children(None)) == 2  # the first message and its edit

    before = snapshot()
    code, out, err = run(capsys, "import", str(CHATGPT))
    assert snapshot() == before
    assert count(out, "already there") == 3 and "Imported 0 conversations; 0 messages written" in out


def test_imported_documents_continue_with_the_configured_model(capsys):
    run(capsys, "--provider", "ollama", "--model", "llama3.2", "import", str(CLAUDE))
    doc = by_title("Haiku about autumn")
    assert doc["provider"] == "ollama" and doc["model"] == "llama3.2"
    assert doc["created_at"] == "2024-03-05T18:00:00Z" and doc["updated_at"] == "2024-03-05T18:01:30Z"


def test_claude_with_and_without_parent_uuids(capsys):
    code, out, err = run(capsys, "import", str(CLAUDE))
    assert code == 0 and err == ""
    assert "claude.json #3: no messages, nothing to import" in out
    rust = Store().load(by_title("Rust lifetimes question")["id"])
    assert len(rust.messages) == 5 and len(rust.path) == 4
    question = rust.path[0]
    assert [m.content[:20] for m in rust.children(question.id)] == ["The compiler cannot ", "Because the returned"]
    haiku = Store().load(by_title("Haiku about autumn")["id"])
    assert [m.role for m in haiku.path] == ["user", "assistant", "user", "assistant"] == [m.role for m in haiku.messages]


def test_zip_and_many_file_layouts_import_the_same(capsys, tmp_path):
    sample = chatgpt_sample()
    members = {"Export/conversations-000.json": json.dumps(sample[:2]), "Export/conversations-001.json": json.dumps(sample[2:])}
    code, out, _ = run(capsys, "import", str(write_zip(tmp_path / "chatgpt.zip", members)))
    assert "Imported 3 conversations" in out
    folder = tmp_path / "unzipped"
    write_json(folder / "conversations.json", sample)
    code, out, _ = run(capsys, "import", str(folder))
    assert count(out, "already there") == 3 and "Imported 0 conversations" in out


def test_dry_run_writes_nothing_and_says_what_would_happen(capsys):
    code, out, err = run(capsys, "import", "--dry-run", str(CHATGPT))
    assert snapshot() == {}
    lines = out.splitlines()
    assert lines[0].startswith("would import") and "7 messages, 3 branches" in lines[0] and lines[0].endswith("Lisbon trip ideas")
    assert out.strip().endswith("Would import 3 conversations; 11 messages to write; 1 not imported (see above).")
    assert out.startswith("would import") and "Dry run, nothing written" in out
    run(capsys, "import", str(CLAUDE))
    before = snapshot()
    code, out, _ = run(capsys, "import", "-n", str(CLAUDE))
    assert snapshot() == before and count(out, "already there") == 2


def test_a_newer_export_adds_only_the_new_messages(capsys, tmp_path):
    old = chatgpt_conversation(chain("q", "a"), current="m2", title="Growing")
    run(capsys, "import", str(write_json(tmp_path / "old.json", [old])))
    nodes = chain("q", "a", "q2", "a2")
    newer = write_json(tmp_path / "new.json", [chatgpt_conversation(nodes, current="m4", title="Growing")])
    code, out, _ = run(capsys, "import", "-n", str(newer))
    assert "would update" in out and "+2 new messages" in out
    code, out, _ = run(capsys, "import", str(newer))
    assert out.startswith("updated") and "Imported 0 conversations; updated 1; 2 messages written." in out
    (doc,) = documents().values()
    assert [m["id"] for m in doc["messages"]] == ["m1", "m2", "m3", "m4"] and doc["current"] == "m4"


def test_a_newer_export_does_not_take_the_user_off_the_branch_they_carried_on(capsys, tmp_path):
    run(capsys, "import", str(write_json(tmp_path / "old.json", [chatgpt_conversation(chain("q", "a"), current="m2")])))
    store = Store()
    conv = store.load(next(iter(documents())))
    mine = conv.add_user("my own follow-up")
    store.save(conv)
    newer = chatgpt_conversation(chain("q", "a", "q2", "a2"), current="m4")
    run(capsys, "import", str(write_json(tmp_path / "new.json", [newer])))
    doc = next(iter(documents().values()))
    assert doc["current"] == mine.id and len(doc["messages"]) == 5
    assert {m["id"]: m["parent"] for m in doc["messages"]}["m3"] == "m2"


def test_one_bad_conversation_is_skipped_and_the_rest_go_in(capsys, tmp_path):
    good = chatgpt_conversation(chain("q", "a"), current="m2", title="Good one", conv_id="good")
    odd = chatgpt_conversation(chain("q", "a"), current="m2", title="Odd one", conv_id="odd")
    odd["mapping"]["m1"]["message"] = {"author": "nobody", "content": 5}
    odd["mapping"]["m2"]["parent"] = ["not", "an", "id"]
    export = [good, {"mapping": None, "title": "Bad one"}, 7, odd, {"chat_messages": "no"}]
    code, out, err = run(capsys, "import", str(write_json(tmp_path / "conversations.json", export)))
    assert code == 1
    assert {d["title"] for d in documents().values()} == {"Good one", "Odd one"}
    assert err.count("chinwag: conversations.json #") == 3 and "(Bad one)" in err


def test_imported_conversations_list_search_and_export(capsys):
    run(capsys, "import", str(CHATGPT))
    code, out, _ = run(capsys, "list")
    assert "Lisbon trip ideas" in out and "Chart of my runs" in out and "Regex for dates" in out
    items = json.loads(run(capsys, "list", "--json")[1])
    lisbon = next(i for i in items if i["title"] == "Lisbon trip ideas")
    assert lisbon["messages"] == 2  # the current branch
    code, out, _ = run(capsys, "list", "--search", "Oceanário")
    assert lisbon["id"] in out
    code, out, _ = run(capsys, "export", lisbon["id"], "--format", "md")
    assert code == 0 and "family with two kids" in out and "Oceanário" in out


def test_hostile_titles_and_names_do_not_reach_the_terminal(capsys, tmp_path):
    evil = chatgpt_conversation(chain("hi \x1b[2J", "there"), current="m2",
                                title="\x1b]52;c;aGk=\x07 pwn\x1b[31m\ud800 Snip \u202egnp.exe\u202c \u2067x\u2069")
    export = write_zip(tmp_path / "e.zip", {"\x1b[2Jx\u202e/conversations.json": json.dumps([evil, {"mapping": 1, "title": "\x1b]0;t\x07"}])})
    for argv in (["import", "-n", str(export)], ["import", str(export)], ["list"]):
        code, out, err = run(capsys, *argv)
        assert "\x1b" not in out + err and "\x07" not in out + err
        assert not BIDI_CONTROLS.search(out + err)  # "Snip \u202egnp.exe" would read "Snip exe.png"
        assert "pwn" in out and "Snip gnp.exe x" in out


def test_paths_that_are_not_exports_fail_cleanly(capsys, tmp_path):
    code, out, err = run(capsys, "import", str(tmp_path / "nope.zip"))
    assert code == 1 and out == "" and "no such file or folder" in err
    (tmp_path / "notes.txt").write_text("hello")
    code, out, err = run(capsys, "import", str(tmp_path / "notes.txt"))
    assert code == 1 and "not valid JSON" in err
    with pytest.raises(SystemExit) as exited:
        main(["import"])
    assert exited.value.code == 2


def test_same_conversation_twice_in_one_export(capsys, tmp_path):
    one = chatgpt_conversation(chain("q", "a"), current="m2", title="Twice")
    path = write_json(tmp_path / "conversations.json", [one, one])
    code, out, _ = run(capsys, "import", "-n", str(path))
    assert "would import" in out and "already there" in out
    code, out, _ = run(capsys, "import", str(path))
    assert len(documents()) == 1 and "already there" in out


def test_images_and_hidden_nodes_in_the_document(capsys):
    run(capsys, "import", str(CHATGPT))
    runs = by_title("Chart of my runs")
    assert [m["content"][:24] for m in runs["messages"]] == ["[image: runs-week-9.png]", "Here is the chart. Satur"]
    assert runs["messages"][1]["model"] == "o3" and runs["imported_from"]["model"] == "o3"
    assert runs["messages"][1]["reasoning"].startswith("Reading the table")
    code, out, _ = run(capsys, "export", runs["id"], "--format", "md")
    assert "Here is the chart" in out and "Reading the table" not in out


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("blocked", ["data home is a file", "conversations is a file"])
def test_an_unusable_data_folder_is_one_line_about_the_folder(capsys, tmp_path, monkeypatch, blocked, dry_run):
    """QA2 F13: not one "is in the way" line per conversation blaming its file."""
    if blocked == "data home is a file":
        (tmp_path / "data-file").write_text("")
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-file"))
    else:
        paths.conversations_dir().parent.mkdir(parents=True, exist_ok=True)
        paths.conversations_dir().write_text("")
    convs = [chatgpt_conversation(chain(f"hi {i}", "there"), current="m2", title=f"Par {i}", conv_id=f"c{i}",
                                  when=1_700_000_000.0 + i * 1000) for i in range(5)]
    export = write_json(tmp_path / "par.json", convs)
    code, out, err = run(capsys, "import", *(["-n"] if dry_run else []), str(export))
    assert code == 1 and out == ""
    assert err.splitlines() == [f"chinwag: cannot use {paths.conversations_dir()}: Not a directory"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into any folder")
def test_a_folder_that_cannot_be_written_is_one_line_about_the_folder(capsys, tmp_path):
    folder = paths.conversations_dir()
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    try:
        code, out, err = run(capsys, "import", str(CHATGPT))
    finally:
        folder.chmod(0o700)
    assert code == 1 and out == ""
    assert err.splitlines() == [f"chinwag: cannot use {folder}: Permission denied"]
