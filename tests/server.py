"""A loopback Chat Completions server for tests: real HTTP, scripted replies, recorded requests.

Runs in a background thread (usable from sync, async and Textual pilot tests) or standalone:
``python tests/server.py --port 0`` (or ``python -m tests.server``) prints its base URL.

Scripts are queued and consumed one per chat request (``times=N`` queues N copies); with
nothing queued the server echoes the last user message.

Models named in ``reasoning_models`` (``--reasoning-model NAME``) behave like OpenAI's reasoning
models: a request with ``max_tokens`` or a temperature other than 1 gets the 400 OpenAI sends
(``code`` unsupported_parameter / unsupported_value, ``param``), so does a reasoning effort they do
not take; their echo streams ``reasoning_content`` first and reports reasoning and cached tokens.
Other models refuse ``reasoning_effort`` the way gpt-4o does. ``refused_params`` makes a model
refuse any other parameter (``stream_options``, ``seed``...) the same way.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import select
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ["chinwag-test", "gpt-4o-mini", "gpt-4o"]
REASONING_EFFORTS = ("low", "medium", "high")

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON body, or None
    usage: dict | None = None  # the usage the server sent back, if any
    disconnected: threading.Event = field(default_factory=threading.Event)
    """Set when the client closed the connection before the reply was complete."""


@dataclass
class Script:
    kind: str  # reply, fail, cut_off, malformed, unreadable_json, hang, null_content, mid_stream_error, plain_json
    text: str = ""
    chunks: int | None = None
    delay: float = 0.0
    usage: bool | dict = True
    finish_reason: str = "stop"
    status: int = 200
    message: str = ""
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    abrupt: bool = True
    reasoning: str = ""  # streamed before the text, as delta.<reasoning_field>
    reasoning_field: str = "reasoning_content"
    model: str | None = None  # only for a request to this model (compare: one script per column)


class _ClientGone(Exception):
    """The client closed the connection (or the server is stopping)."""


def split_text(text: str, chunks: int | None) -> list[str]:
    """Pieces that concatenate to ``text``: one per word, or ``chunks`` nearly equal slices."""
    if chunks is None:
        return re.findall(r"\s+|\S+\s*", text)
    n = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), n)
    pieces, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return [p for p in pieces if p]


def _words(content: Any) -> int:
    if isinstance(content, list):  # content parts: text parts count, an image counts 85
        return sum(len(str(p.get("text") or "").split()) if p.get("type") == "text" else 85
                   for p in content if isinstance(p, dict))
    return len(str(content or "").split())


def estimate_usage(body: dict, pieces: list[str], thoughts: list[str] = (), cached: bool = False) -> dict:
    """Deterministic stand-in token counts: words + 3 per message + 3, one per piece.
    ``thoughts``: reasoning pieces, counted in completion_tokens and reported in its details;
    ``cached``: report every message but the last as served from the prompt cache."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    sizes = [_words(m.get("content")) + 3 for m in messages]
    prompt = sum(sizes) + 3
    completion = len(pieces) + len(thoughts)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if thoughts or cached:
        usage["completion_tokens_details"] = {"reasoning_tokens": len(thoughts)}
        usage["prompt_tokens_details"] = {"cached_tokens": sum(sizes[:-1]) if cached else 0}
    return usage


def refusal(body: dict, reasoning: bool) -> tuple[str, str, str] | None:
    """(message, code, param) of the 400 OpenAI sends for parameters this model does not take."""
    if reasoning and "max_tokens" in body:
        return ("Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.", "unsupported_parameter", "max_tokens")
    temperature = body.get("temperature")
    if reasoning and temperature is not None and temperature != 1:
        return (f"Unsupported value: 'temperature' does not support {temperature:g} with this model. "
                "Only the default (1) value is supported.", "unsupported_value", "temperature")
    effort = body.get("reasoning_effort")
    if effort is not None and not reasoning:
        return ("Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                "unsupported_parameter", "reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        supported = ", ".join(f"'{e}'" for e in REASONING_EFFORTS[:-1]) + f", and '{REASONING_EFFORTS[-1]}'"
        return (f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this model. "
                f"Supported values are: {supported}.", "unsupported_value", "reasoning_effort")
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: "ChatServer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up; report anything else."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    @property
    def owner(self) -> "ChatServer":
        return self.server.owner

    # -- requests ------------------------------------------------------------

    def _record(self, body: Any) -> Recorded:
        rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.owner.lock:
            self.owner.requests.append(rec)
        return rec

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "chinwag-tests"}
                    for m in self.owner.models]
            headers = {}
            if self.owner.echo_key_header:  # like a careless proxy: the key comes back in a header
                key = self.headers.get("authorization", "").removeprefix("Bearer ")
                headers[self.owner.echo_key_header] = key
            self._send_json(200, {"object": "list", "data": data}, headers)
        else:
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error", None)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error", None)
            return
        if not isinstance(body, dict):
            self._send_error(400, "The body is not a JSON object.", "invalid_request_error", None)
            return
        reasoning = body.get("model") in self.owner.reasoning_models
        refused = refusal(body, reasoning)
        for param in sorted(self.owner.refused_params.get(body.get("model"), ())):
            if refused is None and param in body:
                refused = (f"Unsupported parameter: '{param}' is not supported with this model.",
                           "unsupported_parameter", param)
        if refused is not None:
            message, code, param = refused
            self._send_error(400, message, "invalid_request_error", code, param=param)
            return
        script = self.owner.next_script(body)
        try:
            self._answer(rec, body, script)
        except (_ClientGone, OSError):
            rec.disconnected.set()
            self.close_connection = True

    def _answer(self, rec: Recorded, body: dict, script: Script) -> None:
        if script.kind == "fail":
            error_type, default_code = ERROR_TYPES.get(script.status, ("server_error", None))
            self._send_error(script.status, script.message, error_type, script.code or default_code,
                             script.headers)
        elif script.kind == "hang":
            while True:
                self._pause(0.05)
        elif body.get("stream") and script.kind != "plain_json":
            self._stream(rec, body, script)
        else:
            self._complete(rec, body, script)

    # -- replies -------------------------------------------------------------

    def _complete(self, rec: Recorded, body: dict, script: Script) -> None:
        """A whole chat.completion body (also the answer to a stream request when scripted so)."""
        pieces = split_text(script.text, script.chunks)
        rec.usage = self._usage(body, script, pieces) or estimate_usage(body, pieces)
        message: dict[str, Any] = {"role": "assistant", "content": script.text}
        if script.reasoning:
            message[script.reasoning_field] = script.reasoning
        self._send_json(200, {
            "id": self.owner.new_id(), "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", MODELS[0]),
            "choices": [{"index": 0, "message": message, "finish_reason": script.finish_reason, "logprobs": None}],
            "usage": rec.usage,
        })

    def _stream(self, rec: Recorded, body: dict, script: Script) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        pieces = split_text(script.text, script.chunks)
        chunk_id, created, model = self.owner.new_id(), int(time.time()), body.get("model", MODELS[0])

        def chunk(choices: list, **extra: Any) -> dict:
            out = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model,
                   "system_fingerprint": None, "choices": choices}
            if include_usage:
                out["usage"] = None
            return {**out, **extra}

        def delta(content: str | None, role: str | None = None, finish: str | None = None,
                  thought: str | None = None) -> dict:
            d: dict[str, Any] = {"content": content}
            if thought is not None:
                d[script.reasoning_field] = thought
            if role:
                d["role"] = role
            return chunk([{"index": 0, "delta": d if finish is None else {}, "logprobs": None,
                           "finish_reason": finish}])

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        if script.kind == "null_content":
            self._event(chunk([]))  # like a provider's prompt-filter chunk: no choices
            self._event(delta(None, role="assistant"))
        else:
            self._event(delta("", role="assistant"))
        for thought in split_text(script.reasoning, None):
            self._pause(script.delay)
            self._event(delta(None, thought=thought))
        for i, piece in enumerate(pieces):
            self._pause(script.delay)
            if script.kind == "null_content":
                self._event(delta(None))
            self._event(delta(piece))
            if script.kind == "cut_off" and i + 1 >= max(1, len(pieces) // 2):
                return self._cut(script.abrupt)
        if script.kind == "cut_off":
            return self._cut(script.abrupt)
        if script.kind == "malformed":
            self._write_chunk(b'data: {"id": "broken", "choices": [{"index": 0, "delta": \n\n')
            return self._end()
        if script.kind == "unreadable_json":  # valid JSON that Python's json cannot hold
            self._write_chunk(b"data: " + script.message.encode() + b"\n\n")
            return self._end()
        if script.kind == "mid_stream_error":
            error = {"message": script.message, "type": "server_error", "param": None, "code": script.code}
            self._event({"error": error})
            return self._end()
        self._pause(script.delay)
        self._event(delta(None, finish=script.finish_reason))
        usage = self._usage(body, script, pieces)
        if include_usage and usage:
            rec.usage = usage
            self._event(chunk([], usage=usage))
        self._end()

    def _usage(self, body: dict, script: Script, pieces: list[str]) -> dict | None:
        if isinstance(script.usage, dict):
            usage = dict(script.usage)
            usage.setdefault("total_tokens", usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
            return usage
        if not script.usage:
            return None
        cached = body.get("model") in self.owner.reasoning_models
        return estimate_usage(body, pieces, split_text(script.reasoning, None), cached)

    # -- wire ----------------------------------------------------------------

    def _event(self, data: dict) -> None:
        self._write_chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _end(self) -> None:
        self._write_chunk(b"data: [DONE]\n\n")
        self._write(b"0\r\n\r\n")

    def _cut(self, abrupt: bool) -> None:
        """End without finish_reason or [DONE]: drop the connection, or end the body cleanly."""
        if not abrupt:
            self._write(b"0\r\n\r\n")
        self.close_connection = True

    def _write_chunk(self, data: bytes) -> None:
        self._write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _write(self, data: bytes) -> None:
        if self.owner.stopping.is_set():
            raise _ClientGone
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _ClientGone from exc

    def _pause(self, seconds: float) -> None:
        """Wait, but notice a client that hangs up and a server that stops."""
        deadline = time.monotonic() + seconds
        while True:
            if self.owner.stopping.is_set():
                raise _ClientGone
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    gone = self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    gone = True
                if gone:
                    raise _ClientGone
                self.owner.stopping.wait(left)  # the client sent more: just sleep

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(data)

    def _send_error(self, status: int, message: str, error_type: str, code: str | None,
                    headers: dict[str, str] | None = None, param: str | None = None) -> None:
        error = {"message": message, "type": error_type, "param": param, "code": code}
        self._send_json(status, {"error": error}, headers)


class ChatServer:
    """The loopback server. ``with ChatServer() as server:`` or ``start()``/``stop()``."""

    def __init__(self, port: int = 0, default_delay: float = 0.0, reasoning_models: Any = ()) -> None:
        self.requests: list[Recorded] = []
        self.reasoning_models = set(reasoning_models)
        self.models = list(MODELS) + sorted(self.reasoning_models - set(MODELS))
        self.echo_key_header: str | None = None  # /v1/models answers with the key in this header
        # {model: parameter names}: a request to that model holding one of them gets the 400
        # unsupported_parameter older vLLM and Azure send (e.g. for stream_options).
        self.refused_params: dict[str, set[str]] = {}
        self.default_delay = default_delay
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._scripts: deque[Script] = deque()
        self._ids = itertools.count(1)
        self._httpd = _HTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="chat-server", daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def start(self) -> "ChatServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Quick even with hanging or streaming connections."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- script API ------------------------------------------------------------

    def reply(self, text: str, chunks: int | None = None, delay: float = 0.0, usage: bool | dict = True,
              finish_reason: str = "stop", times: int = 1, reasoning: str = "",
              reasoning_field: str = "reasoning_content", model: str | None = None) -> None:
        """Stream ``text`` (per word, or in ``chunks`` pieces), ``delay`` seconds before each piece.
        ``usage``: True = estimated counts, a dict = these counts, False = no usage chunk.
        ``reasoning``: streamed first, per word, as ``delta.<reasoning_field>``.
        ``model``: the script waits for a request to that model (others go past it)."""
        self._queue(Script("reply", text, chunks, delay, usage, finish_reason, reasoning=reasoning,
                           reasoning_field=reasoning_field, model=model), times)

    def plain_json(self, text: str, reasoning: str = "", usage: bool | dict = True, finish_reason: str = "stop",
                   times: int = 1) -> None:
        """Answer even a stream request with one whole chat.completion JSON body, as some proxies do."""
        self._queue(Script("plain_json", text, usage=usage, finish_reason=finish_reason, reasoning=reasoning),
                    times)

    def fail(self, status: int, message: str, retry_after: float | None = None, code: str | None = None,
             headers: dict[str, str] | None = None, times: int = 1) -> None:
        """Answer with an OpenAI-shaped error body; ``retry_after`` sets the retry-after header."""
        headers = dict(headers or {})
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        self._queue(Script("fail", status=status, message=message, code=code, headers=headers), times)

    def cut_off(self, text: str, abrupt: bool = True, times: int = 1) -> None:
        """Send the first half of ``text``, then no finish_reason and no [DONE]. ``abrupt``: drop the
        connection mid-body (incomplete chunked read); else end the body cleanly."""
        self._queue(Script("cut_off", text, abrupt=abrupt), times)

    def malformed(self, text: str = "Partial reply", times: int = 1) -> None:
        """Stream ``text``, then a frame that is not JSON."""
        self._queue(Script("malformed", text), times)

    def unreadable_json(self, text: str, frame: str) -> None:
        """Stream ``text``, then ``frame`` as a data line (valid JSON json.loads cannot read:
        a 5,000-digit number, arrays nested 100,000 deep)."""
        self._queue(Script("unreadable_json", text, message=frame), 1)

    def hang(self, times: int = 1) -> None:
        """Read the request and never answer (until the client hangs up or the server stops)."""
        self._queue(Script("hang"), times)

    def null_content(self, text: str, times: int = 1) -> None:
        """Stream ``text`` with an empty-choices chunk and null-content deltas mixed in."""
        self._queue(Script("null_content", text), times)

    def mid_stream_error(self, text: str, message: str = "The server had an error while processing your request.",
                         code: str | None = None, times: int = 1) -> None:
        """Stream ``text``, then an ``{"error": {...}}`` frame instead of a finish."""
        self._queue(Script("mid_stream_error", text, message=message, code=code), times)

    # -- internals -----------------------------------------------------------

    def _queue(self, script: Script, times: int) -> None:
        with self.lock:
            self._scripts.extend(Script(**vars(script)) for _ in range(times))

    def next_script(self, body: dict) -> Script:
        with self.lock:
            for script in self._scripts:
                if script.model is None or script.model == body.get("model"):
                    self._scripts.remove(script)
                    return script
        users = [m for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
        last = users[-1].get("content") if users else ""
        if isinstance(last, list):  # content parts: the text ones
            last = " ".join(str(p.get("text") or "") for p in last if isinstance(p, dict) and p.get("type") == "text")
        last = str(last or "")
        text = f"You said: {last}" if last else "Hello from the chinwag test server."
        thought = ""
        if body.get("model") in self.reasoning_models:
            thought = f"The user wrote {len(last.split())} words. I should repeat them back."
        return Script("reply", text, delay=self.default_delay, reasoning=thought)

    def new_id(self) -> str:
        return f"chatcmpl-test{next(self._ids)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback Chat Completions server for chinwag tests.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each streamed piece")
    parser.add_argument("--reasoning-model", action="append", default=[], metavar="NAME",
                        help="serve NAME as a reasoning model (repeatable)")
    args = parser.parse_args(argv)
    server = ChatServer(args.port, default_delay=args.delay, reasoning_models=args.reasoning_model).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
