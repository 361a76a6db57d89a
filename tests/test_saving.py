"""Saving: nothing empty on disk, symlinks and modes kept, failures in words, drafts kept."""

from __future__ import annotations

import json
import os
import stat

import pytest
from documents import saved
from tui_helpers import SIZE, chat, make_app, screen_text, send, wait_for

from chinwag import paths, recovery
from chinwag.cli import main
from chinwag.client import ChatClient
from chinwag.conversation import Conversation, Persona
from chinwag.session import ChatSession
from chinwag.store import SaveError, StoreError, Store


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def test_opening_the_app_and_quitting_writes_no_conversation(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, "exit")
    assert files_in(paths.conversations_dir()) == []


def test_a_conversation_with_only_a_persona_switch_is_not_written(tmp_path):
    store = Store(tmp_path / "conversations")
    conv = Conversation()
    conv.switch_persona(Persona("pirate", "Arr."))
    store.save(conv)
    assert files_in(store.root) == []
    conv.add_user("now there is something to keep")
    store.save(conv)
    assert files_in(store.root) == [f".{conv.id}.lock", f"{conv.id}.json"]


def test_latest_and_continue_skip_conversations_without_a_message(launched):
    real = saved("a real question", "a real answer", "2026-01-01T10:00:00Z")
    empty = {  # what an earlier chinwag left behind when opened and closed: newer, but empty
        "format": "chinwag.conversation", "version": 1, "id": "20260601-100000-e3e3e3", "title": "",
        "created_at": "2026-06-01T10:00:00Z", "updated_at": "2026-06-01T10:00:00Z", "messages": [],
    }
    (paths.conversations_dir() / f"{empty['id']}.json").write_text(json.dumps(empty))
    assert Store().resolve("latest") == real.id
    assert main(["--continue"]) == 0 and launched[0].resume_id == real.id
    assert Store().resolve(empty["id"]) == empty["id"]  # still reachable by its id


def test_a_symlinked_document_stays_a_symlink_and_its_target_is_written(tmp_path):
    store = Store(tmp_path / "conversations")
    conv = Conversation()
    conv.add_user("hello")
    store.save(conv)
    elsewhere = tmp_path / "synced" / "kept.json"
    elsewhere.parent.mkdir()
    link = store.root / f"{conv.id}.json"
    os.replace(link, elsewhere)
    link.symlink_to(elsewhere)

    loaded = store.load(conv.id)
    loaded.add_user("more")
    store.save(loaded)
    assert link.is_symlink() and os.readlink(link) == str(elsewhere)
    assert [m["content"] for m in json.loads(elsewhere.read_text())["messages"]] == ["hello", "more"]
    assert not list(store.root.glob(".*.tmp-*")) and not list(elsewhere.parent.glob(".*.tmp-*"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_save_keeps_the_files_mode_and_new_files_are_private(tmp_path):
    store = Store(tmp_path)
    conv = Conversation()
    conv.add_user("hello")
    store.save(conv)
    path = tmp_path / f"{conv.id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for mode in (0o644, 0o640):
        os.chmod(path, mode)
        conv.add_user(f"kept {mode:o}")
        store.save(conv)
        assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("where", ["data dir is a file", "conversations dir is a file"])
def test_a_failed_save_says_what_and_where_and_takes_the_message_back(where, chat_server):
    blocked = paths.data_dir() if where == "data dir is a file" else paths.conversations_dir()
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a folder")
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    with pytest.raises(SaveError) as caught:
        session.submit("please keep me")
    assert str(caught.value).startswith("Could not save the conversation: ")
    assert str(paths.data_dir()) in str(caught.value) and "Traceback" not in str(caught.value)
    assert isinstance(caught.value, StoreError)
    assert session.conversation.messages == [] and session.conversation.title == ""
    assert chat_server.chat_requests == []  # not saved, so not sent


def test_quitting_when_the_save_fails_keeps_the_draft_and_the_conversation(chat_server):
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    session.submit("a question that was saved")
    session.conversation.add_user("a message that was not")
    os.replace(paths.conversations_dir(), paths.data_dir() / "moved-away")
    paths.conversations_dir().write_text("in the way")

    problem = session.close("the unsent draft")
    assert problem is not None and "Could not save" in problem and "recovery.json" in problem
    kept = recovery.recovery_file()
    if os.name == "posix":
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    found = recovery.load()
    assert found.draft == "the unsent draft" and found.conversation_id == session.conversation.id
    assert [m.content for m in found.conversation.path] == ["a question that was saved", "a message that was not"]

    # Next start, still broken: offered again, nothing lost.
    assert recovery.restore(Store()).restored is False and kept.exists()
    # Fixed: the conversation goes back into the store (merged by id) and the file goes away.
    paths.conversations_dir().unlink()
    os.replace(paths.data_dir() / "moved-away", paths.conversations_dir())
    found = recovery.restore(Store())
    assert found.restored and found.draft == "the unsent draft" and not kept.exists()
    contents = [m.content for m in Store().load(session.conversation.id).path]
    assert contents == ["a question that was saved", "a message that was not"]
    assert recovery.restore(Store()) is None


async def test_quitting_mid_reply_when_the_save_fails_keeps_the_draft_and_the_reply(chat_server):
    chat_server.reply("slow words " * 40, chunks=40, delay=0.05)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell me slowly")
        conversation = chat(app).session.conversation
        await wait_for(pilot, lambda: "slow words slow" in conversation.leaf.content, "part of the reply")
        chat(app).composer.text = "my next, unsent thought"
        os.replace(paths.conversations_dir(), paths.data_dir() / "moved-away")
        paths.conversations_dir().write_text("in the way")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, "exit")
    found = recovery.load()
    assert found.draft == "my next, unsent thought"
    reply = found.conversation.path[-1]
    assert reply.content.startswith("slow words slow") and reply.finish_reason == "interrupted"


def _break_data_dir() -> None:
    """A file where chinwag's data folder should be: nothing can be saved."""
    paths.data_dir().parent.mkdir(parents=True, exist_ok=True)
    paths.data_dir().write_text("in the way")


@pytest.mark.parametrize("how, history", [("send", False), ("send", True), ("edit", True)])
def test_a_message_that_could_not_be_saved_is_kept_on_quit(chat_server, how, history):
    # Whatever the conversation held, a message that could not be saved stays in the composer,
    # and quitting keeps it: close() saves nothing new (a new conversation has nothing), yet
    # the draft reaches the recovery file and close() says where.
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    first = session.submit("already saved") if history else None
    if history:
        os.replace(paths.data_dir(), paths.data_dir().with_name("moved-away"))
    _break_data_dir()
    with pytest.raises(StoreError):
        session.submit("will this be saved") if how == "send" else session.edit(first, "will this be saved")
    problem = session.close("will this be saved")
    assert problem is not None and "Could not save" in problem and str(recovery.recovery_file()) in problem
    found = recovery.load()
    assert found.draft == "will this be saved"
    kept = [m.content for m in found.conversation.path] if found.conversation is not None else []
    assert kept == (["already saved"] if history else [])


def test_a_draft_typed_after_a_failed_send_is_what_is_kept(chat_server):
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    _break_data_dir()
    with pytest.raises(StoreError):
        session.submit("first try")
    assert session.close("first try, reworded") is not None
    assert recovery.load().draft == "first try, reworded"
    # An empty composer: nothing to keep, nothing to say.
    recovery.clear()
    assert session.close("  ") is None and recovery.load() is None


def test_when_even_the_recovery_file_cannot_be_written_close_says_so(chat_server):
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    _break_data_dir()
    paths.state_dir().parent.mkdir(parents=True, exist_ok=True)
    paths.state_dir().write_text("in the way too")
    with pytest.raises(StoreError):
        session.submit("nowhere to go")
    problem = session.close("nowhere to go")
    assert problem is not None and "Could not save" in problem and "could not be kept either" in problem


def test_a_send_that_worked_after_one_that_failed_keeps_nothing(chat_server):
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    _break_data_dir()
    with pytest.raises(StoreError):
        session.submit("first try")
    paths.data_dir().unlink()
    session.submit("first try")
    assert session.close("a new draft, not sent yet") is None and recovery.load() is None


async def test_quitting_after_a_send_that_could_not_be_saved_keeps_the_draft(chat_server):
    # The QA steps: data dir unusable, a new conversation, Enter, ctrl+q.
    _break_data_dir()
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "will this be saved")
        await wait_for(pilot, lambda: "still in the composer" in screen_text(app), "the refusal")
        assert chat(app).composer.text == "will this be saved" and not chat_server.chat_requests
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, "exit")
    assert recovery.load().draft == "will this be saved"


def test_a_save_that_works_keeps_nothing_in_recovery(chat_server):
    session = ChatSession(Conversation(), Store(), ChatClient(chat_server.base_url, None, timeout=5, max_retries=0))
    session.submit("hello")
    assert session.close("draft") is None and recovery.load() is None


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"format": "other"}',
                                     b'{"format": "chinwag.recovery", "draft": 5}'])
def test_a_recovery_file_that_is_not_ours_is_ignored(content):
    recovery.recovery_file().parent.mkdir(parents=True, exist_ok=True)
    recovery.recovery_file().write_bytes(content)
    assert recovery.load() is None
