"""textual-serve's server with a token in front of everything it serves.

textual-serve (aiohttp) has no authentication: whoever reaches its WebSocket gets a new app
process, and chinwag's app holds the user's API keys. ``ChinwagServer`` subclasses its
``Server`` and keeps its app processes, protocol and file delivery as they are; it adds:

- a middleware that answers 401 to every request (page, static files, downloads, WebSocket
  handshake) that carries no valid token: ``?token=``, the cookie, or ``Authorization: Bearer``;
- the token moved from the URL into an HttpOnly, SameSite=Strict cookie (then a redirect to
  the bare URL, so it stays out of the address bar, the history and Referer headers);
- a Host check (loopback names only when served on loopback: no DNS rebinding) and an Origin
  check on the WebSocket (no other local page can drive the app);
- its own page (no third-party fonts, a strict Content-Security-Policy), downloads that are
  always attachments, and an access log without query strings.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from chinwag.web import security

log = logging.getLogger("chinwag.web")
TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "chinwag_token"
QUIT_WAIT = 10.0  # seconds an app process has to save and quit at the end of its session
MAX_CELLS = 1000  # the largest width or height, in cells, a session starts with
SHUTDOWN_WAIT = QUIT_WAIT + 5.0  # seconds the server waits for all sessions to end when it stops
REFUSED = (
    "chinwag: this server needs its token. Open the URL that `chinwag serve` printed "
    "(http://HOST:PORT/?token=...); the token is then kept in a cookie for this browser session.\n"
)


class AccessLog(AbstractAccessLogger):
    """One line per request, without the query string (where a token may be)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s", request.remote, request.method, request.path, response.status)


class AppProcess(AppService):
    """textual-serve's app process, always reaped: killed if it has not quit within QUIT_WAIT."""

    async def stop(self) -> None:
        process = self._process
        stopping = asyncio.ensure_future(super().stop())  # asks the app to quit, reads its last output
        done, _ = await asyncio.wait({stopping}, timeout=QUIT_WAIT)
        if not done and process is not None and process.returncode is None:
            log.warning("an app process did not quit within %s s: killed", QUIT_WAIT)
            process.kill()
        await stopping
        if process is not None:
            await process.wait()


def setup_logging() -> None:
    """Requests, refusals and textual-serve's messages to stderr, tokens and keys redacted."""
    from chinwag.logs import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    for name in ("chinwag.web", "textual-serve", "aiohttp.access", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _plain(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text, headers=headers)


class ChinwagServer(Server):
    """Serves ``command`` (the chinwag app) to browsers that present ``token``."""

    def __init__(self, command: str, *, host: str, port: int, token: str) -> None:
        super().__init__(command, host=host, port=port, title="chinwag", templates_path=TEMPLATES)
        self.token = token
        self.loopback = security.is_loopback(host)
        self.cookie = COOKIE
        self._runner: web.AppRunner | None = None
        self._sessions: dict[asyncio.Task, web.WebSocketResponse] = {}

    # -- the aiohttp application ---------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True)
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])
        app.on_response_prepare.append(self._common_headers)
        app.on_shutdown.append(self._end_sessions)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        problem = security.host_problem(request.headers.get("Host"), self.loopback)
        if problem is not None:
            log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote, problem)
            return _plain(403, f"chinwag: refused: {problem}.\n")
        query_token = request.query.get("token")
        presented = (query_token, request.cookies.get(self.cookie), security.bearer(request.headers.get("Authorization")))
        if not any(security.token_matches(given, self.token) for given in presented):
            log.warning("refused %s %s from %s: no valid token", request.method, request.path, request.remote)
            return _plain(401, REFUSED, **{"WWW-Authenticate": 'Bearer realm="chinwag"'})
        if query_token is not None and request.path == "/" and request.method in ("GET", "HEAD"):
            # Keep the token out of the address bar, the history and any Referer: cookie, clean URL.
            rest = [(name, value) for name, value in request.query.items() if name != "token"]
            response = web.HTTPSeeOther("/" + (f"?{urlencode(rest)}" if rest else ""))
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", path="/")
            raise response
        return await handler(request)

    @staticmethod
    async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/static/") and response.status == 200:
            headers.setdefault("Cache-Control", "private, max-age=3600")  # textual.js is 500 kB
        else:
            headers.setdefault("Cache-Control", "no-store")
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")

    # -- handlers ------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        nonce = secrets.token_urlsafe(16)
        host = request.host  # checked by _guard
        try:
            font_size = max(6, min(int(request.query.get("fontsize", "16")), 64))
        except ValueError:
            font_size = 16
        context = {
            "nonce": nonce,
            "static_url": "/static/",
            "websocket_url": f"ws://{host}/ws",
            "font_size": font_size,
        }
        response = aiohttp_jinja2.render_template("index.html", request, context)
        response.headers["Content-Security-Policy"] = security.page_policy(nonce, host)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's session handler, with an Origin check and an app process that is reaped."""
        origin = request.headers.get("Origin")
        if not security.origin_allowed(origin, request.host):
            log.warning("refused a WebSocket from %s: Origin %r is not this server", request.remote, origin)
            raise web.HTTPForbidden(text="chinwag: refused: the page that opened this WebSocket is not chinwag's.\n")
        task = asyncio.current_task()
        assert task is not None
        websocket = self._sessions[task] = web.WebSocketResponse(heartbeat=15)
        # The page's size in cells, bounded: a huge one would make the app paint a huge screen.
        width = max(20, min(to_int(request.query.get("width", "80"), 80), MAX_CELLS))
        height = max(5, min(to_int(request.query.get("height", "24"), 24), MAX_CELLS))
        app_service: AppProcess | None = None
        try:
            await websocket.prepare(request)
            app_service = AppProcess(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            log.info("session started for %s", request.remote)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a protocol error from the browser ends its session only
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
                log.info("session ended for %s", request.remote)
            self._sessions.pop(task, None)
        return websocket

    async def _end_sessions(self, app: web.Application) -> None:
        """On shutdown: close every session's WebSocket, so each app process is told to quit
        and reaped as when its tab closes; sessions still running after SHUTDOWN_WAIT are cancelled."""
        sessions = dict(self._sessions)
        for websocket in sessions.values():
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"chinwag serve is stopping")
        if sessions:
            _, pending = await asyncio.wait(sessions, timeout=SHUTDOWN_WAIT)
            for task in pending:
                task.cancel()

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        try:
            download = await self.download_manager.get_download_metadata(key)
        except KeyError:
            raise web.HTTPNotFound(text="chinwag: no such download (each one can be fetched once).\n") from None
        response = web.StreamResponse()
        content_type = download.mime_type or "application/octet-stream"
        if download.encoding:
            content_type += f"; charset={download.encoding}"
        response.headers["Content-Type"] = content_type
        # Always a download, never a page of ours: an HTML export must not run in this origin.
        response.headers["Content-Disposition"] = security.attachment(download.file_name)
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        await response.prepare(request)
        async for chunk in self.download_manager.download(key):
            await response.write(chunk)
        await response.write_eof()
        return response

    # -- running -------------------------------------------------------------------------

    async def start(self) -> int:
        """Listen (OSError if the address is taken); returns the port (useful with port 0)."""
        self._runner = web.AppRunner(await self._make_app(), access_log_class=AccessLog, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        self.port = self._runner.addresses[0][1]
        # Cookies ignore ports: one per port keeps two servers on one host from clobbering each other.
        self.cookie = f"{COOKIE}_{self.port}"
        return self.port

    async def stop(self) -> None:
        """Close every session (their app processes are told to quit) and stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run_until_signal(self) -> None:
        """Serve until SIGINT or SIGTERM."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self.stop()
