"""The loopback server itself: plain HTTP use, standalone start, quick shutdown."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from server import ChatServer

LIMIT = 15
ROOT = Path(__file__).resolve().parent.parent


def post(url: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=LIMIT) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_non_streaming_request_gets_a_chat_completion(chat_server):
    chat_server.reply("Plain answer")
    status, _, body = post(f"{chat_server.base_url}/chat/completions",
                           {"model": "gpt-4o", "messages": [{"role": "user", "content": "Q"}]})
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Plain answer"}
    assert body["usage"] == chat_server.chat_requests[0].usage


def test_error_body_is_openai_shaped_with_retry_after(chat_server):
    chat_server.fail(429, "Slow down", retry_after=3)
    status, headers, body = post(f"{chat_server.base_url}/chat/completions", {"model": "m", "messages": []})
    assert status == 429
    assert {k.lower(): v for k, v in headers.items()}["retry-after"] == "3"
    assert body["error"]["message"] == "Slow down"
    assert body["error"]["code"] == "rate_limit_exceeded"


def test_scripts_are_used_once_each_then_the_default_echo(chat_server):
    chat_server.reply("First", times=2)
    url = f"{chat_server.base_url}/chat/completions"
    answers = [post(url, {"model": "m", "messages": [{"role": "user", "content": "ping"}]})[2] for _ in range(3)]
    contents = [a["choices"][0]["message"]["content"] for a in answers]
    assert contents == ["First", "First", "You said: ping"]


def test_stop_is_quick_with_hanging_and_streaming_connections():
    server = ChatServer().start()
    server.hang()
    server.reply("slow " * 1000, delay=1.0)
    body = json.dumps({"model": "m", "stream": True, "messages": []}).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    hanging, streaming = (socket.create_connection(("127.0.0.1", server.port), timeout=LIMIT) for _ in range(2))
    hanging.sendall(request)
    deadline = time.monotonic() + LIMIT
    while not server.chat_requests and time.monotonic() < deadline:
        time.sleep(0.01)
    streaming.sendall(request)
    assert streaming.recv(15).startswith(b"HTTP/1.1 200")
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(LIMIT)
    assert not stopper.is_alive()
    assert hanging.recv(1) == b""  # the server hung up on both
    while streaming.recv(65536):
        pass
    hanging.close()
    streaming.close()


@pytest.mark.parametrize("command", [["tests/server.py"], ["-m", "tests.server"]])
def test_standalone_server_prints_its_url_and_answers(command):
    process = subprocess.Popen([sys.executable, *command, "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert select.select([process.stdout], [], [], LIMIT)[0], "no URL printed"
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        with urllib.request.urlopen(f"{url}/models", timeout=LIMIT) as response:
            ids = [m["id"] for m in json.loads(response.read())["data"]]
        assert "chinwag-test" in ids
    finally:
        process.terminate()
        process.wait(LIMIT)
