"""`chinwag --resume ID` and `--continue`: the real CLI path up to the moment the app would take
the terminal (ChinwagApp.run is stood in for), then that same app driven with the pilot."""

from __future__ import annotations

import json

import pytest
from documents import saved
from tui_helpers import SIZE, chat, replying, saved_documents, screen_text, send, wait_for

from chinwag import paths
from chinwag.cli import main
from chinwag.conversation import Conversation
from chinwag.store import Store
from chinwag.tui.app import ChinwagApp



@pytest.fixture
def two():
    old = saved("What is the weather like today?", "Grey, obviously.", "2026-01-02T10:00:00Z")
    new = saved("Write a haiku about tea", "Steam curls from the cup", "2026-03-04T12:00:00Z")
    return old, new


def opened(apps: list[ChinwagApp]) -> Conversation:
    """The conversation the app was told to open (it reads it after its first frame)."""
    (app,) = apps
    return Store().load(app.resume_id)


def test_continue_opens_the_latest(two, launched):
    _, new = two
    assert main(["--continue"]) == 0
    assert opened(launched).id == new.id
    assert [m.content for m in opened(launched).messages] == ["Write a haiku about tea", "Steam curls from the cup"]
    assert Store().resolve("latest") == new.id  # the same helper run() uses


def test_continue_skips_an_unreadable_newest_file(two, launched):
    _, new = two
    (paths.conversations_dir() / "20991231-235959-ffffff.json").write_text("{ not json")
    assert main(["--continue"]) == 0
    assert opened(launched).id == new.id


def test_resume_by_id_and_by_prefix(two, launched):
    old, _ = two
    assert main(["--resume", old.id]) == 0
    assert main(["--resume", old.id[:-1]]) == 0
    assert [app.resume_id for app in launched] == [old.id, old.id]


def test_resume_unknown_id_exits_1_with_close_matches(two, launched, capsys):
    old, _ = two
    near = old.id[:-1] + ("0" if old.id[-1] != "0" else "1")
    assert main(["--resume", near]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"chinwag: No conversation matches '{near}'.")
    assert f"Closest: {old.id}" in err
    assert main(["--resume", "nope"]) == 1
    assert "No conversation matches 'nope'." in capsys.readouterr().err
    assert launched == []  # the app was never built


def test_continue_with_nothing_saved_exits_1(launched, capsys):
    assert main(["--continue"]) == 1
    assert "no saved conversations yet" in capsys.readouterr().err
    assert launched == []


async def test_resume_unreadable_file_says_why_in_the_app_and_leaves_it(two, launched):
    broken = paths.conversations_dir() / "20260101-000000-badbad.json"
    broken.write_bytes(b'{"format": "chinwag.conversation", ')
    assert main(["--resume", "20260101-000000-badbad"]) == 0
    (app,) = launched
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "not valid JSON" in screen_text(app), "the reason on screen")
        assert "left untouched" in screen_text(app)
        assert chat(app).session.conversation.messages == []  # a fresh chat to carry on in
        await pilot.press("ctrl+q")
    assert broken.read_bytes() == b'{"format": "chinwag.conversation", '


async def test_resumed_conversation_is_read_after_the_first_frame(launched):
    from chinwag.conversation import Message

    conversation = Conversation(title="Long one")
    for n in range(400):
        conversation.add(Message("user" if n % 2 == 0 else "assistant", f"message number {n}"))
    Store().save(conversation)
    assert main(["--resume", conversation.id]) == 0
    (app,) = launched
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "message number 399" in screen_text(app), "the newest message")
        assert "Opening conversation" not in screen_text(app)
        assert chat(app).title == "Long one"


async def test_continued_chat_shows_history_and_appends_to_the_same_file(two, launched, chat_server):
    old, new = two
    chat_server.reply("Oolong, then.")
    assert main(["--continue", "--base-url", chat_server.base_url, "--model", "gpt-4o-mini"]) == 0
    (app,) = launched
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Steam curls from the cup" in screen_text(app), "resumed messages")
        assert chat(app).title == "Write a haiku about tea"
        await send(pilot, "Which tea?")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
    sent = [m["content"] for m in chat_server.chat_requests[0].body["messages"] if m["role"] != "system"]
    assert sent == ["Write a haiku about tea", "Steam curls from the cup", "Which tea?"]
    assert len(saved_documents()) == 2
    document = json.loads((paths.conversations_dir() / f"{new.id}.json").read_text())
    assert [m["content"] for m in document["messages"]][-2:] == ["Which tea?", "Oolong, then."]
    assert json.loads((paths.conversations_dir() / f"{old.id}.json").read_text())["messages"][-1]["content"] == (
        "Grey, obviously.")


async def test_resume_with_a_base_url_and_no_model_uses_the_documents_model(launched, chat_server):
    conv = saved("Hello there", "Hi", "2026-03-04T12:00:00Z", model="chinwag-test")
    chat_server.reply("Still here.")
    assert main(["--resume", conv.id, "--base-url", chat_server.base_url]) == 0
    (app,) = launched
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Hi" in screen_text(app), "resumed messages")
        await send(pilot, "Are you?")
        await wait_for(pilot, lambda: not replying(app) and "Still here." in screen_text(app), "the reply")
        assert "Not sent" not in screen_text(app)
    assert [r.body["model"] for r in chat_server.chat_requests] == ["chinwag-test"]
