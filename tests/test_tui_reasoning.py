"""Reasoning and attachments in the chat screen, driven as a person would, over the wire."""

from __future__ import annotations

import pytest
from server import ChatServer
from tui_helpers import SIZE, chat, make_app, only_document, replying, send, wait_for

from chinwag.tui.screens.attach import AttachScreen
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.export import ExportScreen
from chinwag.tui.screens.help import HelpScreen
from chinwag.tui.widgets.attachment_bar import AttachmentChip
from chinwag.tui.widgets.message import MessageView, Notice
from chinwag.tui.widgets.thinking import ThinkingBlock
from chinwag.tui.widgets.token_meter import TokenMeter


@pytest.fixture
def server():
    with ChatServer(reasoning_models={"o3", "my-reasoner"}) as running:
        yield running


def last_view(app) -> MessageView:
    return chat(app).log_view.views()[-1]


def notices(app) -> list[str]:
    return [str(n.render()) for n in chat(app).log_view.query(Notice)]


def chips(app) -> list[str]:
    return [str(c.render()) for c in chat(app).query(AttachmentChip)]


async def attach(pilot, *paths) -> None:
    """Attach each file with /file and wait for its chip."""
    for path in paths:
        await send(pilot, f"/file {path}")
        await wait_for(pilot, lambda n=path.name: any(n in c for c in chips(pilot.app)), "chip")


async def test_thinking_is_open_while_it_streams_then_folds_when_the_reply_starts(server):
    server.reply("Paris.", reasoning="France's capital city is Paris, " * 6, delay=0.03)
    app = make_app(server, model="o3")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Capital of France?")
        await wait_for(pilot, lambda: last_view(app).thinking is not None and "capital" in
                       last_view(app).thinking.body.source, "thinking on screen")
        assert not last_view(app).thinking.collapsed  # open while the model thinks
        await wait_for(pilot, lambda: not replying(app), "reply")
        view = last_view(app)
        assert view.thinking.collapsed  # folded away once the reply came
        assert view.body.source == "Paris."
        await pilot.press("ctrl+t")
        assert not view.thinking.collapsed
        await pilot.press("ctrl+t")
        assert view.thinking.collapsed
    reply = only_document()["messages"][-1]
    assert reply["reasoning"].startswith("France's capital")
    assert reply["content"] == "Paris."


async def test_a_resumed_reply_shows_its_thinking_folded_and_the_key_is_in_help(server):
    app = make_app(server, model="o3")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        await chat(app).show_conversation()  # as when the conversation is opened again
        blocks = list(chat(app).query(ThinkingBlock))
        assert len(blocks) == 1 and blocks[0].collapsed
        assert "The user wrote 1 words" in blocks[0].body.source
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = [key for _, key, _ in app.help_rows()]
        assert "ctrl+t" in rows and "ctrl+o" in rows and "/file PATH" in rows


async def test_refused_parameters_are_told_in_one_line_each(server):
    app = make_app(server, model="my-reasoner", temperature=0.7, max_tokens=300)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        told = notices(app)
        assert any("max_completion_tokens instead" in n for n in told)
        assert any("only the default temperature" in n for n in told)
        meter = chat(app).query_one(TokenMeter).meter
        await wait_for(pilot, lambda: chat(app).query_one(TokenMeter).meter.last_reasoning is not None, "meter")
        meter = chat(app).query_one(TokenMeter).meter
        assert meter.last_reasoning == 10 and meter.last_cached is not None


async def test_file_command_attaches_shows_a_chip_counts_it_and_sends_it(server, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Meeting moved to Thursday. " * 30)
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, f"/file {notes}")
        await wait_for(pilot, lambda: chips(app), "chip")
        tokens = chat(app).session.attachment_tokens(chat(app).session.pending[0])
        assert chips(app) == [f"📎 notes.txt · {tokens:,} tokens ✕"]
        assert chat(app).composer.text == ""
        await wait_for(pilot, lambda: chat(app).query_one(TokenMeter).meter.attachment_tokens == tokens, "meter")
        await send(pilot, "When is the meeting?")
        await wait_for(pilot, lambda: not replying(app) and len(server.chat_requests) == 1, "reply")
        assert chips(app) == []
        assert "attached: notes.txt" in str(chat(app).log_view.views()[0].header.render())
    sent = server.chat_requests[0].body["messages"][-1]["content"]
    assert sent.startswith("When is the meeting?\n\n<file name=\"notes.txt\">\nMeeting moved")
    assert only_document()["messages"][0]["attachments"][0]["name"] == "notes.txt"


async def test_a_file_alone_can_be_sent_and_backspace_removes_a_chip(server, tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("first file")
    two.write_text("second file")
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await attach(pilot, one, two)
        chat(app).composer.focus()
        await pilot.press("backspace")
        await wait_for(pilot, lambda: len(chips(app)) == 1, "chip removed")
        assert "one.txt" in chips(app)[0]
        await pilot.press("enter")  # empty text, one file: sent
        await wait_for(pilot, lambda: not replying(app) and len(server.chat_requests) == 1, "reply")
        await pilot.press("enter")  # empty text, no file: nothing happens
        await pilot.pause()
    assert len(server.chat_requests) == 1
    assert server.chat_requests[0].body["messages"][-1]["content"] == '\n\n<file name="one.txt">\nfirst file\n</file>'


async def test_ctrl_o_attaches_from_the_dialog_and_bad_files_get_a_clear_line(server, tmp_path):
    good = tmp_path / "good.md"
    good.write_text("# hi")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02binary")
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, AttachScreen), "attach dialog")
        app.screen.query_one("#path").value = str(bad)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "dialog closed")
        await wait_for(pilot, lambda: any("binary file" in str(n.message) for n in app._notifications), "refusal")
        assert chips(app) == []
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, AttachScreen), "attach dialog")
        app.screen.query_one("#path").value = str(good)
        await pilot.press("enter")
        await wait_for(pilot, lambda: chips(app), "chip")
        assert "good.md" in chips(app)[0]


async def test_the_export_dialog_includes_reasoning_only_when_ticked(server, tmp_path):
    server.reply("Four.", reasoning="Adding: HIDDEN-STEP.")
    app = make_app(server, model="o3")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "2+2")
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        for tick, name in ((False, "plain.md"), (True, "thinking.md")):
            await pilot.press("ctrl+e")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "export dialog")
            app.screen.query_one("#path").value = str(tmp_path / name)
            app.screen.query_one("#reasoning").value = tick
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda n=name: (tmp_path / n).exists(), "export written")
    assert "HIDDEN-STEP" not in (tmp_path / "plain.md").read_text()
    assert "HIDDEN-STEP" in (tmp_path / "thinking.md").read_text()


async def test_the_palette_removes_a_chosen_file_with_text_in_the_composer(server, tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "[b]two.txt"  # a name that looks like markup
    one.write_text("first file")
    two.write_text("second file")
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await attach(pilot, one, two)
        chat(app).composer.text = "my message"
        await pilot.press("ctrl+p")
        await pilot.press(*"Remove attachment: [b]two")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chips(app)) == 1, "chip removed")
        assert "one.txt" in chips(app)[0] and chat(app).composer.text == "my message"
