"""Every way a request can fail, driven through the chat screen against the loopback server.

After each fault: the app still answers keys, the chat pane explains in plain words (no
traceback), the user's message is on disk, a partial reply is kept and marked, and a retry
(ctrl+r, or the app's own countdown) brings the reply once the fault is gone.
"""

from __future__ import annotations

import html
import re
import socket

import pytest
from server import ChatServer
from documents import path_of
from tui_helpers import SIZE, chat, make_app, only_document, replying, screen_text, send, wait_for

from chinwag import paths
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.help import HelpScreen
from chinwag.tui.widgets.token_meter import TokenMeter

PROMPT = "tell me something"
DEFAULT_REPLY = f"You said: {PROMPT}"
TRACEBACK_WORDS = ("Traceback", "Error(", "Exception(", 'File "', "openai.")


def rendered_text(app) -> str:
    """Everything on the terminal screen (incl. toasts), one line per row."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, float, str]]] = {}
    pattern = r'<text[^>]*?\bx="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>(.*?)</text>'
    for x, y, length, text in re.findall(pattern, svg, re.S):
        rows.setdefault(float(y), []).append((float(x), float(length), html.unescape(text).replace("\xa0", " ")))
    lines = []
    for _, parts in sorted(rows.items()):
        line, end = "", 0.0
        for x, length, text in sorted(parts):
            line += (" " if x > end + 1 else "") + text
            end = x + length
        lines.append(line)
    return "\n".join(lines)


def everything_shown(app) -> str:
    status = str(chat(app).query_one("#status").render())
    return "\n".join([screen_text(app), status, rendered_text(app)])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def assert_responsive(pilot, app) -> None:
    """Typing reaches the composer and F1 opens (and escape closes) the help screen."""
    composer = chat(app).composer
    composer.focus()
    composer.text = ""
    await pilot.press("o", "k")
    assert composer.text == "ok"
    await pilot.press("f1")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help screen")
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "back to chat")
    composer.focus()
    composer.text = ""


def current_replies() -> list[dict]:
    return [m for m in path_of(only_document()) if m["role"] == "assistant"]


async def retry_until_answered(pilot, app) -> None:
    """ctrl+r (unless a reply is already under way), then wait for the default reply on disk."""

    def answered() -> bool:
        replies = current_replies()
        return not replying(app) and bool(replies) and replies[-1]["content"] == DEFAULT_REPLY

    if not answered() and not replying(app):
        await pilot.press("ctrl+r")
    await wait_for(pilot, answered, "the reply after a retry")
    await wait_for(pilot, lambda: DEFAULT_REPLY in screen_text(app), "the reply on screen")
    assert current_replies()[-1]["finish_reason"] == "stop"


def no_traceback(app) -> None:
    shown = everything_shown(app)
    for word in TRACEBACK_WORDS:
        assert word not in shown, f"{word!r} on screen:\n{shown}"


# -- HTTP errors: nothing arrives, the user's message stays ---------------------------------

HTTP_FAULTS = {
    "401": (dict(status=401, message="Incorrect API key provided: sk-te****."), ["API key", "401"]),
    "403": (dict(status=403, message="You are not allowed to use this model."), ["API key", "403"]),
    "404-model": (dict(status=404, message="The model `gpt-4o-mini` does not exist."), ["Unknown model", "gpt-4o-mini"]),
    "400-context": (
        dict(status=400, message="This model's maximum context length is 128000 tokens.",
             code="context_length_exceeded"),
        ["too long", "context window"],
    ),
    "500": (dict(status=500, message="The server had an error while processing your request."), ["server", "500"]),
    "503": (dict(status=503, message="The engine is currently overloaded."), ["server", "503"]),
}


@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=list(HTTP_FAULTS))
async def test_http_error_is_explained_and_retry_works(chat_server, fault):
    script, words = HTTP_FAULTS[fault]
    chat_server.fail(**script)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: all(w in screen_text(app) for w in words), f"the {fault} explanation")
        no_traceback(app)
        assert [m["content"] for m in only_document()["messages"]] == [PROMPT]
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)
        no_traceback(app)
    assert [m["role"] for m in only_document()["messages"]] == ["user", "assistant"]


async def test_rate_limit_counts_down_and_retries(chat_server):
    chat_server.fail(429, "Rate limit reached for requests.", retry_after=2)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: "Retrying in" in screen_text(app), "the countdown")
        assert "Rate limited" in screen_text(app)
        no_traceback(app)
        assert [m["content"] for m in only_document()["messages"]] == [PROMPT]
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)
    assert [m["role"] for m in only_document()["messages"]] == ["user", "assistant"]


async def test_rate_limit_without_retry_after_says_wait(chat_server):
    chat_server.fail(429, "Rate limit reached for requests.")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: "Rate limited" in screen_text(app), "the rate-limit notice")
        no_traceback(app)
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)


# -- the network -------------------------------------------------------------------------


async def test_connection_refused_then_the_server_comes_up(chat_server):
    port = closed_port()
    app = make_app(chat_server, base_url=f"http://127.0.0.1:{port}/v1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: "Could not reach the server" in screen_text(app), "the connection notice")
        assert f"127.0.0.1:{port}" in screen_text(app)
        no_traceback(app)
        assert [m["content"] for m in only_document()["messages"]] == [PROMPT]
        await assert_responsive(pilot, app)
        with ChatServer(port=port) as late_server:
            await retry_until_answered(pilot, app)
            assert len(late_server.chat_requests) == 1


async def test_server_that_never_answers_times_out(chat_server):
    chat_server.hang()
    app = make_app(chat_server, timeout=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: "did not answer within 1 s" in screen_text(app), "the timeout notice")
        no_traceback(app)
        # (The notice is shown from the reply worker's last step: the worker ends just after.)
        await wait_for(pilot, lambda: not replying(app), "the reply to end")
        assert [m["content"] for m in only_document()["messages"]] == [PROMPT]
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)


# -- broken streams: the partial reply is kept and marked ---------------------------------

FULL = "one two three four five six seven eight"

PARTIAL_FAULTS = {
    "cut-off": (lambda s: s.cut_off(FULL), "cut_off", "cut off — partial reply kept", ["cut off"]),
    "cut-off-clean-end": (lambda s: s.cut_off(FULL, abrupt=False), "cut_off", "cut off — partial reply kept",
                          ["cut off"]),
    "malformed": (lambda s: s.malformed(FULL), "failed", "failed part-way — partial reply kept",
                  ["could not be read"]),
    "error-frame": (lambda s: s.mid_stream_error(FULL), "failed", "failed part-way — partial reply kept",
                    ["part-way through the reply"]),
}


@pytest.mark.parametrize("fault", PARTIAL_FAULTS, ids=list(PARTIAL_FAULTS))
async def test_broken_stream_keeps_the_partial_reply(chat_server, fault):
    script, finish_reason, status_words, words = PARTIAL_FAULTS[fault]
    script(chat_server)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: all(w in screen_text(app) for w in words) and not replying(app), "the notice")
        assert status_words in screen_text(app)
        no_traceback(app)
        user, partial = only_document()["messages"]
        assert user["content"] == PROMPT
        assert partial["finish_reason"] == finish_reason
        assert partial["content"] and FULL.startswith(partial["content"])
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)
    document = only_document()
    messages = document["messages"]
    assert [m["content"] for m in messages] == [PROMPT, partial["content"], DEFAULT_REPLY]
    # The partial reply stays, as a sibling of the one that replaced it; the new one is shown.
    assert messages[1]["parent"] == messages[2]["parent"] == messages[0]["id"]
    assert messages[1]["finish_reason"] == finish_reason and document["current"] == messages[2]["id"]


EMPTY_FAULTS = {
    "cut-off-before-text": (lambda s: s.cut_off(""), "cut off"),
    "malformed-before-text": (lambda s: s.malformed(""), "could not be read"),
    "error-frame-before-text": (lambda s: s.mid_stream_error(""), "instead of a reply"),
}


@pytest.mark.parametrize("fault", EMPTY_FAULTS, ids=list(EMPTY_FAULTS))
async def test_broken_stream_before_any_text_claims_no_partial_reply(chat_server, fault):
    script, words = EMPTY_FAULTS[fault]
    script(chat_server)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: words in screen_text(app) and not replying(app), "the notice")
        assert "partial text is kept" not in everything_shown(app)
        assert "No reply text arrived" in screen_text(app)
        no_traceback(app)
        assert [m["content"] for m in only_document()["messages"]] == [PROMPT]
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)


# -- odd but valid streams: nothing to complain about ---------------------------------------


async def test_null_content_chunks_are_skipped(chat_server):
    chat_server.null_content("Some words survive the nulls")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        await wait_for(pilot, lambda: "Some words survive the nulls" in screen_text(app), "reply on screen")
        assert "None" not in screen_text(app)
        no_traceback(app)
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)
    first = only_document()["messages"][1]
    assert first["content"] == "Some words survive the nulls" and first["finish_reason"] == "stop"


async def test_reply_without_usage_is_estimated(chat_server):
    chat_server.reply("No counts from this server", usage=False)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: not replying(app) and len(only_document()["messages"]) == 2, "reply")
        meter = app.screen.query_one(TokenMeter)
        await wait_for(pilot, lambda: meter.meter is not None and meter.meter.last_estimated, "estimated meter")
        await wait_for(pilot, lambda: re.search(r"completion +~\d", rendered_text(app)), "a ~ count in the meter")
        no_traceback(app)
        await assert_responsive(pilot, app)
        await retry_until_answered(pilot, app)
    first = only_document()["messages"][1]
    assert first["content"] == "No counts from this server" and first["finish_reason"] == "stop"
    assert first["usage"]["estimated"] is True and first["usage"]["completion_tokens"] > 0


# -- the disk: a folder that cannot be written -----------------------------------------------


def block_conversations_folder() -> None:
    """Put a plain file where the conversations folder goes: every save fails (even as root)."""
    folder = paths.conversations_dir()
    if folder.exists():
        folder.rename(folder.with_name("conversations-moved"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")


async def test_unwritable_folder_on_send_is_explained_and_keeps_the_draft(chat_server):
    block_conversations_folder()
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: "save" in screen_text(app).lower(), "the could-not-save notice")
        assert app.is_running
        no_traceback(app)
        assert chat(app).composer.text == PROMPT
        assert chat_server.chat_requests == []  # nothing is sent that could not be saved first
        await assert_responsive(pilot, app)


async def test_unwritable_folder_during_a_reply_is_explained(chat_server):
    chat_server.reply("slow words " * 10, chunks=10, delay=0.1)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, PROMPT)
        await wait_for(pilot, lambda: "slow" in chat(app).session.conversation.messages[-1].content, "streaming")
        block_conversations_folder()
        await wait_for(pilot, lambda: not replying(app), "the end of the reply")
        await wait_for(pilot, lambda: "not saved" in screen_text(app).lower()
                       or "could not save" in screen_text(app).lower(), "the could-not-save notice", steps=40)
        no_traceback(app)
        assert "slow words" in screen_text(app)
        await assert_responsive(pilot, app)
