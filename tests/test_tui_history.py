"""The history screen (F2) driven as a person would: browse, search, resume, rename, delete, export."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from textual.widgets import Input, OptionList
from documents import saved
from tui_helpers import SIZE, chat, make_app, replying, saved_documents, screen_text, send, wait_for

from chinwag import paths
from chinwag.conversation import Conversation
from chinwag.store import Store, encode
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.export import ExportScreen
from chinwag.tui.screens.dialogs import Confirm, TextPrompt
from chinwag.tui.screens.history import HistoryScreen
from chinwag.tui.widgets.history_table import PAGE



@pytest.fixture
def three():
    old = saved("Will it rain today?", "Grey, obviously.", "2026-01-02T10:00:00Z")
    mid = saved("Tell me about airships", "The zeppelin Hindenburg was the largest.", "2026-02-03T11:00:00Z",
                model="gpt-4.1")
    new = saved("Write a haiku about tea", "Steam curls from the cup", "2026-03-04T12:00:00Z")
    return old, mid, new


def history(app) -> HistoryScreen:
    assert isinstance(app.screen, HistoryScreen), app.screen
    return app.screen


def titles(app) -> list[str]:
    table = history(app).table
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def cells(app, row: int) -> list[str]:
    return [str(cell) for cell in history(app).table.get_row_at(row)]


def preview(app) -> str:
    return str(history(app).query_one("#history-preview").content)


def count_line(app) -> str:
    return str(history(app).query_one("#history-count").content)


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def local(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def file_of(conv_id: str):
    return paths.conversations_dir() / f"{conv_id}.json"


async def open_history(pilot, rows: int) -> None:
    await pilot.press("f2")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.table.row_count == rows,
                   "history list")


async def focus_row(pilot, row: int) -> None:
    """Move from the search to the list, then down to ``row``."""
    await pilot.press("down", *["down"] * row)
    assert history(pilot.app).table.has_focus and history(pilot.app).table.cursor_row == row


async def test_browse_newest_first_with_preview(chat_server, three):
    old, mid, new = three
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        assert titles(app) == ["Write a haiku about tea", "Tell me about airships", "Will it rain today?"]
        assert cells(app, 1) == ["Tell me about airships", local(mid.updated_at), "assistant", "gpt-4.1", "2",
                                 str(Store().list()[1].tokens)]
        assert count_line(app) == "3 conversations"
        await wait_for(pilot, lambda: "Steam curls from the cup" in preview(app), "preview of the newest")
        assert "You:\nWrite a haiku about tea" in preview(app)
        await focus_row(pilot, 2)
        await wait_for(pilot, lambda: "Grey, obviously." in preview(app), "preview follows the cursor")
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)
        await open_history(pilot, 3)
        await pilot.press("f2")
        assert isinstance(app.screen, ChatScreen)


async def test_search_filters_and_shows_snippet(chat_server, three):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await pilot.press(*"ZEPPELIN")
        await wait_for(pilot, lambda: titles(app) == ["Tell me about airships"], "search result")
        assert "The zeppelin Hindenburg was the largest." in cells(app, 0)
        assert count_line(app) == "1 of 3 conversations"
        history(app).search.value = "no such words"
        await wait_for(pilot, lambda: history(app).table.row_count == 0, "no match")
        assert count_line(app) == "0 of 3 conversations"
        history(app).search.value = ""
        await wait_for(pilot, lambda: history(app).table.row_count == 3, "full list again")
        assert count_line(app) == "3 conversations"


async def test_letters_typed_on_the_list_go_to_the_search(chat_server, three):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await focus_row(pilot, 0)
        await pilot.press(*"haiku")
        assert history(app).search.value == "haiku" and history(app).search.has_focus
        await wait_for(pilot, lambda: titles(app) == ["Write a haiku about tea"], "search result")


async def test_enter_resumes_and_the_same_file_grows(chat_server, three):
    old, _, _ = three
    chat_server.reply("Still grey.")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await focus_row(pilot, 2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "back to the chat")
        await wait_for(pilot, lambda: "Grey, obviously." in screen_text(app), "resumed messages on screen")
        assert chat(app).session.conversation.id == old.id
        assert "Resumed: Will it rain today?" in messages(app)
        await send(pilot, "And tomorrow?")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
    sent = [m["content"] for m in chat_server.chat_requests[0].body["messages"] if m["role"] != "system"]
    assert sent == ["Will it rain today?", "Grey, obviously.", "And tomorrow?"]
    assert len(saved_documents()) == 3  # no new file
    document = json.loads(file_of(old.id).read_text())
    assert [m["content"] for m in document["messages"]] == [
        "Will it rain today?", "Grey, obviously.", "And tomorrow?", "Still grey."]


async def test_enter_in_the_search_resumes_the_first_match(chat_server, three):
    _, mid, _ = three
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await pilot.press(*"airship")
        await wait_for(pilot, lambda: titles(app) == ["Tell me about airships"], "search result")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "back to the chat")
        assert chat(app).session.conversation.id == mid.id


async def rename_row(pilot, listed: int, row: int) -> None:
    """F2 with ``listed`` conversations, then ``r`` on row ``row``."""
    await open_history(pilot, listed)
    await focus_row(pilot, row)
    await pilot.press("r")


async def test_rename_refuses_empty_then_saves(chat_server, three):
    old, _, _ = three
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await rename_row(pilot, 3, 2)
        assert isinstance(app.screen, TextPrompt)
        field = app.screen.query_one(Input)
        assert field.value == "Will it rain today?"
        field.value = "   "
        await pilot.press("enter")
        assert isinstance(app.screen, TextPrompt)
        assert "cannot be empty" in str(app.screen.query_one("#prompt-error").content)
        field.value = "Weather moans"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and "Weather moans" in titles(app),
                       "renamed row")
        assert history(app).highlighted.id == old.id
    assert json.loads(file_of(old.id).read_text())["title"] == "Weather moans"


async def test_delete_asks_first_and_cancel_keeps_the_file(chat_server, three):
    _, mid, _ = three
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await focus_row(pilot, 1)
        await pilot.press("d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        assert isinstance(app.screen, HistoryScreen) and file_of(mid.id).exists()
        await pilot.press("d")
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen) and file_of(mid.id).exists()
        await pilot.press("d")
        await pilot.press("y")
        await wait_for(pilot, lambda: history(app).table.row_count == 2, "row removed")
        assert not file_of(mid.id).exists()
        assert titles(app) == ["Write a haiku about tea", "Will it rain today?"]
        assert count_line(app) == "2 conversations"
        await wait_for(pilot, lambda: "Grey, obviously." in preview(app), "preview of the next row")
    assert len(saved_documents()) == 2


async def test_deleting_the_open_conversation_says_so(chat_server, three):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "a fresh chat")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
        current = chat(app).session.conversation.id
        await open_history(pilot, 4)
        await focus_row(pilot, 0)
        assert history(app).highlighted.id == current
        await pilot.press("d")
        assert "open in the chat" in str(app.screen.query_one("#confirm-question").content)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not file_of(current).exists(), "deleted")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "back in the chat")
        assert chat(app).session.conversation.id != current  # a fresh conversation, not the deleted one
        await send(pilot, "carry on")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 2, "reply")
    assert not file_of(current).exists()  # the deleted file did not come back


async def test_renaming_the_open_conversation_sticks(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "original title")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
        current = chat(app).session.conversation.id
        await open_history(pilot, 1)
        await focus_row(pilot, 0)
        await pilot.press("r")
        app.screen.query_one(Input).value = "Better title"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "renamed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "back in the chat")
        assert chat(app).title == "Better title"
        await send(pilot, "more")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 2, "reply")
    assert json.loads(file_of(current).read_text())["title"] == "Better title"


async def test_export_from_history(chat_server, three, tmp_path):
    _, mid, _ = three
    target = tmp_path / "airships.html"
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await focus_row(pilot, 1)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("down")  # Markdown -> HTML
        assert app.screen.query_one(OptionList).highlighted_option.id == "html"
        path_input = app.screen.query_one("#path", Input)
        path_input.value = str(target)
        path_input.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists(), "export written")
        assert isinstance(app.screen, HistoryScreen)
        assert f"Exported to {target}" in messages(app)
    html = target.read_text()
    assert "<html" in html and "The zeppelin Hindenburg was the largest." in html


async def test_export_from_chat_with_ctrl_e(chat_server, tmp_path):
    chat_server.reply("Here is a reply worth keeping.")
    target = tmp_path / "chat.txt"
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "say something")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("down", "down")  # Markdown -> HTML -> text
        path_input = app.screen.query_one("#path", Input)
        path_input.value = str(target)
        path_input.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists(), "export written")
        assert f"Exported to {target}" in messages(app)
    text = target.read_text()
    assert "say something" in text and "Here is a reply worth keeping." in text


async def test_unreadable_file_is_listed_and_never_touched(chat_server, three):
    folder = paths.conversations_dir()
    broken = folder / "20260401-090000-badbad.json"
    raw = b'{"format": "chinwag.conversation", "version": 1, "id": "x", "messages": [\n'
    broken.write_bytes(raw)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 4)
        rows = titles(app)
        assert "unreadable: 20260401-090000-badbad" in rows
        await focus_row(pilot, rows.index("unreadable: 20260401-090000-badbad"))
        await wait_for(pilot, lambda: "not valid JSON" in preview(app), "reason in the preview")
        for key in ("enter", "r", "d", "e"):
            await pilot.press(key)
            assert isinstance(app.screen, HistoryScreen), key  # no dialog, no resume
        await pilot.press("y")
        assert sum("left untouched" in m for m in messages(app)) == 4
        await pilot.press("escape")
        assert chat(app).session.conversation.messages == []
    assert broken.read_bytes() == raw


async def test_newer_format_opens_read_only(chat_server):
    future = Conversation(created_at="2026-05-06T07:08:09Z")
    future.add_user("From the future")
    future.add_assistant("Hello from version 2")
    data = future.to_dict() | {"version": 3, "hologram": {"kept": True}}
    raw = json.dumps(data, indent=2).encode()
    path = paths.conversations_dir()
    path.mkdir(parents=True, exist_ok=True)
    file_of(future.id).write_bytes(raw)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 1)
        assert titles(app) == ["From the future read-only"]
        await focus_row(pilot, 0)
        await pilot.press("r")
        assert isinstance(app.screen, HistoryScreen)
        assert any("read-only" in m for m in messages(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "opened")
        await wait_for(pilot, lambda: "Hello from version 2" in screen_text(app), "messages shown")
        assert chat(app).session.conversation.read_only
        assert "newer chinwag" in screen_text(app)
        await send(pilot, "can I write?")
        await pilot.pause()
        assert chat_server.chat_requests == []
    assert file_of(future.id).read_bytes() == raw


def write_many(count: int) -> None:
    """``count`` one-message conversations, written directly (Store.save fsyncs: slow for hundreds)."""
    folder = paths.conversations_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        conv = Conversation(created_at=f"2026-01-01T{n // 60:02d}:{n % 60:02d}:00Z")
        conv.add_user(f"Question number {n}")
        conv.updated_at = conv.created_at
        (folder / f"{conv.id}.json").write_bytes(encode(conv))


async def test_long_history_is_listed_a_page_at_a_time(chat_server):
    count = PAGE + 30
    write_many(count)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, PAGE)
        assert count_line(app) == f"{count} conversations"
        assert titles(app)[0] == f"Question number {count - 1}"
        await focus_row(pilot, 0)
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: history(app).table.row_count == count, "every row")
        assert history(app).table.cursor_row == count - 1
        assert history(app).highlighted.title == "Question number 0"
        await pilot.press(*'"number 7"')  # from the bottom of the list into a search (a phrase)
        await wait_for(pilot, lambda: count_line(app) == f"11 of {count} conversations", "search result")
        assert titles(app)[0] == "Question number 7"  # ranked: the shortest text with the phrase first


async def test_titles_and_messages_are_shown_as_plain_text(chat_server):
    saved("[bold]loud[/] \x1b]0;pwned\x07title", "[/]broken markup \x1b[31mred", "2026-01-01T00:00:00Z")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 1)
        assert titles(app) == ["[bold]loud[/] title"]
        await wait_for(pilot, lambda: "[/]broken markup red" in preview(app), "preview")
        assert "\x1b" not in preview(app) and "pwned" not in preview(app)


async def test_search_from_the_bottom_of_a_short_list(chat_server):
    write_many(40)  # a little over a screenful: clearing the table scrolls it back up
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 40)
        await focus_row(pilot, 0)
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: history(app).table.cursor_row == 39, "at the bottom")
        await pilot.press(*'"number 3"')
        await wait_for(pilot, lambda: count_line(app) == "11 of 40 conversations", "search result")
        assert titles(app)[0] == "Question number 3"  # ranked: the shortest text with the phrase first
        assert sorted(titles(app)) == sorted(["Question number 3", *(f"Question number {n}" for n in range(30, 40))])
        assert [n.message for n in app._notifications if n.severity == "error"] == []


async def test_the_palette_offers_what_the_screen_on_top_can_do(chat_server, three):
    from textual.app import SystemCommand

    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        titles = lambda: [c.title for c in app.get_system_commands(app.screen) if isinstance(c, SystemCommand)]
        assert "Regenerate reply" in titles() and "Rename conversation" not in titles()
        await open_history(pilot, 3)
        assert "Rename conversation" in titles() and "Delete conversation" in titles()
        # The chat is hidden under the history: its commands are not offered to act on it unseen.
        assert "Regenerate reply" not in titles() and "Send message" not in titles()
        await focus_row(pilot, 1)
        [rename] = [c for c in app.get_system_commands(app.screen) if c.title == "Rename conversation"]
        rename.callback()
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt), "the rename dialog from the palette")


async def test_rename_saves_with_ctrl_s_too(chat_server, three):
    old, _, _ = three
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await rename_row(pilot, 3, 2)
        app.screen.query_one(Input).value = "Saved with ctrl+s"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "back to the history")
    assert json.loads(file_of(old.id).read_text())["title"] == "Saved with ctrl+s"


async def test_a_search_that_fails_says_so_instead_of_searching_for_ever(chat_server, three, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("year 0 is out of range")

    monkeypatch.setattr(Store, "iter_search", broken)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, 3)
        await pilot.press(*"zeppelin")
        await wait_for(pilot, lambda: count_line(app).startswith("The search failed"), "a line saying so")
        assert "RuntimeError" not in count_line(app) and "year 0" not in count_line(app)
