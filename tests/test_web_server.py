"""`chinwag serve`'s server over real HTTP and WebSocket on loopback: the token guards everything,
and with it a browser's page loads and a WebSocket session runs the chinwag app."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os

import pytest

pytest.importorskip("textual_serve", reason="the web extra is not installed (pip install -e '.[test]' brings it)")

import aiohttp  # noqa: E402
from browser import terminal_text  # noqa: E402
from documents import saved  # noqa: E402
from tui_helpers import only_document  # noqa: E402

from chinwag import export  # noqa: E402
from chinwag.store import Store  # noqa: E402
from chinwag.web.command import app_command  # noqa: E402
from chinwag.web.server import ChinwagServer  # noqa: E402

TOKEN = "k3Ep-it_SECRET.0123456789~abc"
WRONG = [TOKEN[:-1] + "d", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "x", "ünïcode-" + TOKEN]


@pytest.fixture
async def serving(chat_server):
    """Start ChinwagServers on free loopback ports, serving chinwag (with these flags) against
    the loopback API; all are stopped at the end."""
    servers = []

    async def start(**flags) -> ChinwagServer:
        args = argparse.Namespace(base_url=chat_server.base_url, model="gpt-4o-mini", **flags)
        server = ChinwagServer(app_command(args), host="127.0.0.1", port=0, token=TOKEN)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def served(serving):
    return await serving()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


def url(server: ChinwagServer, path: str = "/") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def cookie(server: ChinwagServer, value: str = TOKEN) -> dict[str, str]:
    return {"Cookie": f"{server.cookie}={value}"}


async def get(http, server, path="/", **kwargs) -> tuple[int, dict, str]:
    async with http.get(url(server, path), allow_redirects=False, **kwargs) as response:
        return response.status, dict(response.headers), await response.text()


# -- refused -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/ws", "/static/js/textual.js", "/static/", "/download/0123abcd", "/nowhere"])
async def test_every_path_without_the_token_is_401(served, http, path):
    status, headers, body = await get(http, served, path)
    assert status == 401
    assert "needs its token" in body and "Set-Cookie" not in headers
    assert headers["Cache-Control"] == "no-store"


async def test_wrong_tokens_are_401_in_the_url_the_cookie_and_the_header(served, http):
    for wrong in WRONG:
        assert (await get(http, served, "/", params={"token": wrong}))[0] == 401, wrong
        assert (await get(http, served, "/", headers=cookie(served, wrong)))[0] == 401, wrong
        assert (await get(http, served, "/", headers={"Authorization": f"Bearer {wrong}"}))[0] == 401, wrong
    # Another port's cookie is another server's: it does not count here.
    assert (await get(http, served, "/", headers={"Cookie": f"chinwag_token_1={TOKEN}"}))[0] == 401


async def test_websocket_without_or_with_a_wrong_token_is_refused_before_any_app_starts(served, http):
    for headers in ({}, cookie(served, WRONG[0]), {"Authorization": f"Bearer {WRONG[1]}"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url(served, "/ws"), headers=headers)
        assert refused.value.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url(served, f"/ws?token={WRONG[2]}"))
    assert refused.value.status == 401


async def test_websocket_from_another_origin_is_refused_even_with_the_token(served, http):
    # e.g. a page of another local server (same site for cookies: they ignore ports).
    for origin in ("http://127.0.0.1:3000", "http://evil.example", "null"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url(served, "/ws"), headers={**cookie(served), "Origin": origin})
        assert refused.value.status == 403


async def test_a_foreign_host_name_is_refused_on_loopback(served, http):
    # DNS rebinding: evil.example made to point at 127.0.0.1 still sends Host: evil.example.
    status, _, body = await get(http, served, "/", headers={**cookie(served), "Host": f"evil.example:{served.port}"})
    assert status == 403 and "loopback" in body
    assert (await get(http, served, "/", headers={**cookie(served), "Host": f"localhost:{served.port}"}))[0] == 200


# -- accepted ------------------------------------------------------------------------------


async def test_the_token_in_the_url_becomes_a_strict_httponly_cookie_and_leaves_the_url(served, http):
    status, headers, _ = await get(http, served, "/", params={"token": TOKEN, "fontsize": "14"})
    assert status == 303
    assert headers["Location"] == "/?fontsize=14"  # the token is gone from the address bar and history
    set_cookie = headers["Set-Cookie"]
    assert set_cookie.startswith(f"{served.cookie}={TOKEN};")
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_with_the_cookie_the_page_loads_with_a_strict_policy(served, http):
    status, headers, page = await get(http, served, "/?fontsize=12", headers=cookie(served))
    assert status == 200
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
    assert 'data-font-size="12"' in page
    policy = headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert page.count(f'nonce="{nonce}"') == 2 and "frame-ancestors 'none'" in policy
    assert "googleapis" not in page  # nothing from third parties: no request leaves the machine
    script = await get(http, served, "/static/js/textual.js", headers=cookie(served))
    assert script[0] == 200 and "WebSocket" in script[2]
    assert (await get(http, served, "/", headers={"Authorization": f"Bearer {TOKEN}"}))[0] == 200


async def test_the_access_log_never_holds_the_token(served, http, caplog):
    caplog.set_level(logging.INFO)
    await get(http, served, "/", params={"token": TOKEN})
    await get(http, served, "/", params={"token": WRONG[0]})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET / 303" in logged and "no valid token" in logged
    assert TOKEN not in logged and WRONG[0] not in logged


# -- a session -----------------------------------------------------------------------------


async def read_until(ws, condition, what: str, timeout: float = 30.0) -> str:
    """Terminal text (and JSON text frames, as lists) from the session until ``condition(text)``."""
    seen: list[str] = []

    async def loop() -> str:
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                seen.append(terminal_text(message.data))
            elif message.type == aiohttp.WSMsgType.TEXT:
                seen.append(f"\n[json] {message.data}\n")
            else:
                raise AssertionError(f"the session ended while waiting for {what}: {''.join(seen)[-500:]!r}")
            text = "".join(seen)
            if condition(text):
                return text

    try:
        return await asyncio.wait_for(loop(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"gave up waiting for {what}: {''.join(seen)[-800:]!r}") from None


async def stdin(ws, keys: str) -> None:
    await ws.send_str(json.dumps(["stdin", keys]))


def app_processes(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (the loopback API's URL: unique per test)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                    if marker.encode() in cmdline.read():
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


async def test_a_websocket_session_runs_chinwag_with_browser_keys(served, http, chat_server):
    async with http.ws_connect(url(served, "/ws?width=120&height=30"), headers=cookie(served)) as ws:
        screen = await read_until(ws, lambda t: "Message (Enter send" in t and "Settings" in t, "the chat screen")
        # Served, the footer offers the keys a browser lets through.
        assert "alt+n New chat" in screen and "^n" not in screen
        await stdin(ws, "\x1bn")  # alt+n, as xterm.js sends it
        await read_until(ws, lambda t: "New conversation." in t, "a new conversation from alt+n")
        assert len(app_processes(chat_server.base_url)) == 1  # one app process for the session
        # Stopping the server ends the session and its app process (nothing is left holding keys).
        await served.stop()
        assert (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert app_processes(chat_server.base_url) == []


async def test_export_in_a_session_downloads_the_file(serving, http):
    conversation = saved("Ünïcode export", "The reply to export", "2026-11-20T10:00:00Z")
    served = await serving(cont=True)
    async with http.ws_connect(url(served, "/ws?width=120&height=30"), headers=cookie(served)) as ws:
        await read_until(ws, lambda t: "The reply to export" in t, "the resumed conversation")
        await stdin(ws, "\x05")  # ctrl+e
        await read_until(ws, lambda t: "downloads it in your browser" in t, "the export dialog")
        await stdin(ws, "\r")  # Markdown, the first format
        text = await read_until(ws, lambda t: '["deliver_file_start"' in t, "the download")
        key = json.loads(text.split("[json] ")[-1].splitlines()[0])[1]
        # Without the token the download is refused before anything is looked up ...
        assert (await get(http, served, f"/download/{key}"))[0] == 401
        # ... and with it, it is the export, as an attachment that never renders in this origin.
        async with http.get(url(served, f"/download/{key}"), headers=cookie(served)) as response:
            assert response.status == 200
            body = await response.text()
            assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
            assert response.headers["Content-Disposition"].startswith('attachment; filename="unicode-export.md"')
            assert "sandbox" in response.headers["Content-Security-Policy"]
    assert body == export.render(Store().load(conversation.id), "md")


async def test_closing_the_tab_mid_reply_keeps_what_arrived(served, http, chat_server):
    words = [f"w{n:02d}" for n in range(1, 31)]  # 6 s of streaming: the tab closes long before the end
    chat_server.reply(" ".join(words), delay=0.2)
    async with http.ws_connect(url(served, "/ws?width=120&height=30"), headers=cookie(served)) as ws:
        await read_until(ws, lambda t: "Message (Enter send" in t, "the chat screen")
        await stdin(ws, "Count to thirty\r")
        await read_until(ws, lambda t: "w03" in t, "the first words of the reply")
    # The tab is gone: the app is told to quit, and the served app saves as the terminal app does.
    await served.stop()
    messages = only_document()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "Count to thirty"
    reply = messages[1]
    assert reply["finish_reason"] == "interrupted" and reply["content"].startswith("w01 w02 w03")
    assert "w30" not in reply["content"]
