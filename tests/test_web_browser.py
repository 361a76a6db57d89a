"""A real headless Chromium against `chinwag serve` and the loopback API: open the printed URL,
type a message, see the reply, copy it, and save a screenshot.

Set CHINWAG_SCREENSHOT=PATH to keep the screenshot (the README's picture is made that way:
``CHINWAG_SCREENSHOT=docs/web-mode.png python -m pytest tests/test_web_browser.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import struct
from pathlib import Path

import pytest

pytest.importorskip("textual_serve", reason="the web extra is not installed (pip install -e '.[test]' brings it)")

from browser import Browser, find_chromium  # noqa: E402

from chinwag.web.command import app_command  # noqa: E402
from chinwag.web.server import ChinwagServer  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: the browser test needs Debian's chromium package "
    "(apt-get install chromium; .ci/run installs it)",
)
TOKEN = "browser-test-token-0123456789"
REPLY = "Hello from the loopback server, in a browser tab."
TYPED = "Does chinwag work in a browser?"
BOUND = 90  # seconds for the whole scenario, browser start included


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


async def scenario(browser: Browser, server: ChinwagServer, chat_server, shot: Path) -> None:
    base = f"http://127.0.0.1:{server.port}/"
    await browser.goto(f"{base}?token={TOKEN}")
    await browser.wait_until(lambda: "Message (Enter send" in browser.websocket_output(), "the chat screen", 30)
    # The token left the address bar for an HttpOnly cookie that page scripts cannot read.
    assert await browser.evaluate("location.href") == base
    assert await browser.evaluate("document.cookie") == ""
    assert "alt+n New chat" in browser.websocket_output()

    await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
    await browser.type_text(TYPED)
    await browser.press("Enter", 13, "\r")
    await browser.wait_until(lambda: REPLY in browser.websocket_output(), "the reply in the page", 30)
    sent = chat_server.chat_requests[-1].body["messages"][-1]
    assert sent == {"role": "user", "content": TYPED}
    await asyncio.sleep(0.3)  # the meter settles after the reply: the picture shows it
    await browser.screenshot(shot)

    # ctrl+y copies the reply: the app's OSC 52 reaches the browser's clipboard.
    await browser.send("Browser.grantPermissions", {"origin": base.rstrip("/"),
                                                    "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    await browser.send("Emulation.setFocusEmulationEnabled", {"enabled": True})
    await browser.press("y", 89, modifiers=2)
    copied = ""
    for _ in range(100):  # the copy takes a round trip through the app: poll, bounded
        copied = await browser.evaluate("navigator.clipboard.readText()")
        if copied == REPLY:
            break
        await asyncio.sleep(0.05)
    assert copied == REPLY


async def test_a_browser_chats_through_chinwag_serve(chat_server, tmp_path):
    chat_server.reply(REPLY, chunks=1)
    args = argparse.Namespace(base_url=chat_server.base_url, model="gpt-4o-mini")
    server = ChinwagServer(app_command(args), host="127.0.0.1", port=0, token=TOKEN)
    await server.start()
    shot = tmp_path / "web-mode.png"
    try:
        async with Browser(CHROMIUM, width=1280, height=640) as browser:
            await asyncio.wait_for(scenario(browser, server, chat_server, shot), BOUND)
    finally:
        await server.stop()
    assert png_size(shot) == (1280, 640)
    if keep := os.environ.get("CHINWAG_SCREENSHOT"):
        shutil.copyfile(shot, keep)
