"""A headless Chromium driven over the DevTools protocol (CDP), for the browser test of `chinwag serve`.

Why not Playwright or pyppeteer: both want to download a browser build of their own (no internet
here) and bring a driver process or an unmaintained stack. CDP is a JSON protocol over one
WebSocket; aiohttp (already installed with the web extra) speaks WebSocket, so this is the whole
driver: start Debian's `chromium`, attach to its page, send commands, collect events.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LISTENING = re.compile(rb"DevTools listening on (ws://\S+)")
# Terminal output to plain text: CSI, OSC, two-byte escapes, other control characters.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()#][0-9A-Za-z]|\x1b[=>78MDEc]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def find_chromium() -> str | None:
    for name in BINARIES:
        if path := shutil.which(name):
            return path
    return None


def terminal_text(data: bytes | str) -> str:
    """What a terminal stream says, escape sequences removed (enough to find a phrase in it)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


class Browser:
    """One headless Chromium with one page, driven over CDP. Use as ``async with Browser() as b``."""

    def __init__(self, binary: str, width: int = 1100, height: int = 700, startup_timeout: float = 30.0) -> None:
        self.binary = binary
        self.size = (width, height)
        self.startup_timeout = startup_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.events: list[dict] = []
        self._changed = asyncio.Event()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._profile = tempfile.TemporaryDirectory(prefix="chinwag-chromium-")
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        self.session: str | None = None

    async def __aenter__(self) -> "Browser":
        try:
            await asyncio.wait_for(self._start(), self.startup_timeout)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _start(self) -> None:
        width, height = self.size
        self.process = await asyncio.create_subprocess_exec(
            self.binary, "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--metrics-recording-only", "--mute-audio", "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1", f"--window-size={width},{height}",
            f"--user-data-dir={self._profile.name}", "about:blank",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stderr is not None
        seen = b""
        while (match := LISTENING.search(seen)) is None:
            line = await self.process.stderr.readline()
            if not line:
                raise RuntimeError(f"Chromium exited before it listened: {seen.decode('utf-8', 'replace')[-2000:]}")
            seen += line
        asyncio.get_running_loop().create_task(self._drain(self.process.stderr))
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(match[1].decode(), max_msg_size=0)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        targets = (await self.send("Target.getTargets"))["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        attached = await self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            await self.send(f"{domain}.enable")
        await self.send("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    @staticmethod
    async def _drain(stream: asyncio.StreamReader) -> None:
        while await stream.read(65536):
            pass

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    if "error" in data:
                        future.set_exception(RuntimeError(f"CDP error: {data['error']}"))
                    else:
                        future.set_result(data.get("result", {}))
            else:
                self.events.append(data)
                self._changed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError("the browser closed the DevTools connection"))

    async def send(self, method: str, params: dict | None = None, timeout: float = 20.0) -> dict:
        assert self._ws is not None
        message_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        await self._ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, timeout)

    async def wait_until(self, condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
        """Wait (bounded) until ``condition()`` holds; it is re-checked on every CDP event."""

        async def loop() -> None:
            while not condition():
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), 0.25)
                except asyncio.TimeoutError:
                    pass

        try:
            await asyncio.wait_for(loop(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"gave up waiting for {what}") from None

    # -- conveniences ------------------------------------------------------------------------

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def type_text(self, text: str) -> None:
        await self.send("Input.insertText", {"text": text})

    async def press(self, key: str, code: int, text: str = "", modifiers: int = 0) -> None:
        """One key press (keyDown with its text, then keyUp); modifiers: 1 alt, 2 ctrl, 4 meta, 8 shift."""
        base = {"key": key, "code": key if len(key) > 1 else f"Key{key.upper()}", "windowsVirtualKeyCode": code,
                "nativeVirtualKeyCode": code, "modifiers": modifiers}
        await self.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": text, "unmodifiedText": text, **base})
        await self.send("Input.dispatchKeyEvent", {"type": "keyUp", **base})

    def websocket_output(self) -> str:
        """Everything the page's WebSockets received, as terminal text."""
        chunks = []
        for event in self.events:
            if event.get("method") == "Network.webSocketFrameReceived":
                response = event["params"]["response"]
                payload = response["payloadData"]
                chunks.append(base64.b64decode(payload) if response["opcode"] == 2 else payload.encode())
        return terminal_text(b"".join(chunks))

    async def screenshot(self, path: Path) -> Path:
        # Two animation frames: what the terminal last received is on its canvas.
        await self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        if self._ws is not None:
            try:
                await asyncio.wait_for(self.send("Browser.close", timeout=5), 5)
            except Exception:
                pass
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._profile.cleanup()
