"""Hostile and huge content through the chat screen: markup, terminal escapes, 1 MB, 10,000 lines, scripts.

Decided: the JSON document keeps message content exactly as sent or received (it is data);
the screen and the text exports never pass a control sequence on to a terminal.
"""

from __future__ import annotations

import io
import re

from rich.console import Console
from test_faults import assert_responsive, no_traceback, rendered_text
from textual import events
from textual.widgets import Input, OptionList
from tui_helpers import SIZE, chat, make_app, only_document, replying, saved_documents, screen_text, send, wait_for

from chinwag.tui.messages import OpenConversation
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.export import FORMAT_NAMES, ExportScreen
from chinwag.tui.widgets.token_meter import TokenMeter

MARKUP = "Markup: [bold red]x[/] and [link=file:///etc/passwd]click[/link] and a lone [/] end"
LITERAL = ["[bold red]x[/]", "[link=file:///etc/passwd]click[/link]", "a lone [/] end"]
ESCAPES = (
    "clear\x1b[2Jscreen clip\x1b]52;c;aGVsbG8=\x07board title\x1b]0;pwned\x07bar bell\x07nul\x00x "
    "\x1b[31mred\x1b[0m c1\x9d0;owned\x9c osc\x9b2Jcsi done Snip \u202egnp.exe\u202c \u2068x\u2069"
)
# Controls, and the bidi embeddings/overrides/isolates that reorder what is read ("Trojan Source").
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What Textual itself writes: colours (SGR) and cursor moves. Anything else came from content.
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mH]")


def terminal_output(app) -> str:
    """The bytes a full repaint of the current screen writes to the terminal."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.file.getvalue()


def assert_terminal_safe(app) -> None:
    leftover = OWN_SEQUENCES.sub("", terminal_output(app))
    found = sorted({repr(leftover[m.start():m.start() + 12]) for m in CONTROL.finditer(leftover)})
    assert not found, f"control codes reach the terminal: {found}"
    assert not CONTROL.search(app.export_screenshot())


async def export_via_tui(pilot, app, fmt: str, path) -> str:
    """ctrl+e, pick the format, type the path, ctrl+s; returns the file's text."""
    await pilot.press("ctrl+e")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "export dialog")
    app.screen.query_one(OptionList).highlighted = list(FORMAT_NAMES).index(fmt)
    await pilot.pause()
    app.screen.query_one("#path", Input).value = str(path)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen) and path.exists(), f"{fmt} export")
    return path.read_text("utf-8")


# -- markup ----------------------------------------------------------------------------


async def test_markup_in_a_reply_and_a_message_shows_literally(chat_server):
    chat_server.reply(MARKUP)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, MARKUP)
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        # Both the message and the reply show every piece exactly as typed.
        await wait_for(pilot, lambda: all(rendered_text(app).count(x) >= 2 for x in LITERAL), "markup shown literally")
        no_traceback(app)
        await assert_responsive(pilot, app)
    assert [m["content"] for m in only_document()["messages"]] == [MARKUP, MARKUP]


# -- terminal escapes --------------------------------------------------------------------


async def test_escapes_in_a_reply_never_reach_the_terminal_or_text_exports(chat_server, tmp_path):
    chat_server.reply(ESCAPES, chunks=1)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "say something nasty")
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        await wait_for(pilot, lambda: "csi done" in rendered_text(app), "reply on screen")
        assert_terminal_safe(app)
        shown = rendered_text(app)
        assert "clearscreen" in shown and "titlebar" in shown and "owned" not in shown
        assert "gnp.exe" in shown
        exports = {fmt: await export_via_tui(pilot, app, fmt, tmp_path / f"out.{fmt}") for fmt in FORMAT_NAMES}
        # Reopened from disk, the reply is just as harmless.
        chat(app).post_message(OpenConversation(app.context.store.load(only_document()["id"])))
        await wait_for(pilot, lambda: "csi done" in rendered_text(app), "reopened reply")
        assert_terminal_safe(app)
    assert only_document()["messages"][1]["content"] == ESCAPES  # the document keeps the data
    for fmt, text in exports.items():
        assert "csi done" in text, fmt
        assert not CONTROL.search(text), f"control code in the {fmt} export"
        if fmt != "json":  # the JSON export is the document: it keeps the data, JSON-escaped
            assert "aGVsbG8=" not in text and "pwned" not in text and "owned" not in text, fmt
    assert "\\u001b]52;c;aGVsbG8=" in exports["json"]


async def test_an_escape_split_across_chunks_leaves_no_garbage(chat_server):
    chat_server.reply(ESCAPES, chunks=12, delay=0.1)  # slow: each piece reaches the screen alone
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "say something nasty")
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        await wait_for(pilot, lambda: "csi done" in rendered_text(app), "reply on screen")
        assert_terminal_safe(app)
        shown = rendered_text(app)
        assert "]52;" not in shown and "]0;" not in shown and "[2J" not in shown
    assert only_document()["messages"][1]["content"] == ESCAPES


async def test_escapes_in_a_sent_message_never_reach_the_terminal(chat_server):
    chat_server.reply("ok")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, ESCAPES)
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        await wait_for(pilot, lambda: "csi done" in rendered_text(app), "message on screen")
        assert_terminal_safe(app)
    assert only_document()["messages"][0]["content"] == ESCAPES
    assert chat_server.chat_requests[0].body["messages"][-1]["content"] == ESCAPES


async def test_pasted_escapes_never_reach_the_terminal(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        composer = chat(app).composer
        composer.focus()
        app.post_message(events.Paste(ESCAPES))
        await wait_for(pilot, lambda: "csi done" in composer.text, "the paste")
        await pilot.pause()
        assert_terminal_safe(app)


# -- size --------------------------------------------------------------------------------


def megabyte() -> str:
    line = "{:06d} the quick brown fox jumps over the lazy dog, ünïcödé ✓ and [brackets]\n"
    text = "".join(line.format(i) for i in range(12_500))
    return text[: 1_000_000]


async def test_megabyte_paste_over_the_budget_is_counted_and_kept_whole(chat_server):
    text = megabyte()
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        composer = chat(app).composer
        composer.focus()
        app.post_message(events.Paste(text))
        await wait_for(pilot, lambda: composer.text == text, "the paste")
        meter = app.screen.query_one(TokenMeter)
        await wait_for(pilot, lambda: meter.meter is not None and meter.meter.draft_tokens > 100_000, "draft count")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Not sent" in screen_text(app), "too-long notice")
        assert composer.text == text  # far over the 8,000-token budget: refused, kept in the composer
        no_traceback(app)
        await assert_responsive(pilot, app)
    assert saved_documents() == [] and chat_server.chat_requests == []


async def test_megabyte_message_within_budget_is_sent_exactly(chat_server):
    text = megabyte()
    chat_server.reply("received")
    app = make_app(chat_server, token_budget=10_000_000, model="gpt-4.1-mini")  # a 1M-token context window
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, text)
        await wait_for(pilot, lambda: not replying(app) and "received" in screen_text(app), "reply")
        await assert_responsive(pilot, app)
    assert chat_server.chat_requests[0].body["messages"][-1]["content"] == text
    assert [m["content"] for m in only_document()["messages"]] == [text, "received"]


async def test_ten_thousand_line_reply_is_saved_whole(chat_server):
    text = "".join(f"line {i}: some words here\n" + ("\n" if i % 100 == 99 else "") for i in range(10_000))
    chat_server.reply(text, chunks=1_000)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "give me a long one")
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply",
                       steps=800)
        await wait_for(pilot, lambda: "line 9999: some words here" in rendered_text(app), "the last line on screen")
        await assert_responsive(pilot, app)
    reply = only_document()["messages"][1]
    assert reply["content"] == text and reply["finish_reason"] == "stop"


# -- scripts -----------------------------------------------------------------------------

WORLD = ["日本語のテキスト", "中文字符", "한국어", "😀", "👍🏽", "مرحبا", "بالعالم", "שלום", "עולם", "Ünïcödé"]


async def test_wide_emoji_and_right_to_left_text_round_trip(chat_server):
    text = " ".join(WORLD) + " 👨‍👩‍👧 end"
    chat_server.reply(text)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, text)
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        await wait_for(pilot, lambda: all(rendered_text(app).count(w) >= 2 for w in WORLD), "every script on screen")
        assert_terminal_safe(app)
    document = only_document()
    assert [m["content"] for m in document["messages"]] == [text, text]
    assert text.startswith(document["title"].rstrip("…"))
