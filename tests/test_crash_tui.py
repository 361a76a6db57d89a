"""The real program in a pseudo-terminal: SIGKILL at any moment leaves whole documents; two
chinwags on one conversation lose nothing; a real terminal never receives a reply's escapes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from chinwag import paths
from chinwag.conversation import Conversation
from chinwag.store import Store

pty_missing = not hasattr(os, "openpty") or sys.platform == "win32"
pytestmark = pytest.mark.skipif(pty_missing, reason="needs a POSIX pseudo-terminal (os.openpty)")

LIMIT = 20.0  # seconds any single wait may take
COLS, ROWS = 100, 30


class Terminal:
    """`python -m chinwag ARGS` in a pty; its output is drained by a thread so it never blocks."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        environ.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS), **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-m", "chinwag", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env=environ, start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the program is gone
                return
            if not data:
                return
            self.output.extend(data)

    def wait_for(self, condition, what: str, timeout: float = LIMIT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None and not condition():
                raise AssertionError(f"chinwag exited ({self.proc.returncode}) while waiting for {what}: "
                                     f"{bytes(self.output[-2000:])!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}: {bytes(self.output[-2000:])!r}")
            time.sleep(0.02)

    def ready(self) -> None:
        self.wait_for(lambda: b"Enter send" in self.output, "the chat screen")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.thread.join(timeout=5)

    def quit(self) -> int:
        """ctrl+q, as a person would; returns the exit status."""
        self.type("\x11")
        self.wait_for(lambda: self.proc.poll() is not None, "chinwag to quit")
        self.thread.join(timeout=5)
        return self.proc.returncode

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        os.close(self.master)


def chinwag(server, *args: str, env: dict[str, str] | None = None) -> Terminal:
    return Terminal("--base-url", server.base_url, "--model", "gpt-4o-mini", *args, env=env)


def documents() -> list[dict]:
    """Every conversation file, parsed; fails if any is not a whole, valid document."""
    found = []
    for path in sorted(paths.conversations_dir().glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        Conversation.from_dict(data)
        found.append(data)
    return found


def user_messages(document: dict) -> list[str]:
    return [m["content"] for m in document["messages"] if m["role"] == "user"]


def replies(document: dict) -> list[dict]:
    return [m for m in document["messages"] if m["role"] == "assistant"]


# -- SIGKILL -------------------------------------------------------------------------------

# When to kill each run, counted from the moment the server got the request (None: as soon as
# Enter is typed; "done": after the whole reply is saved). The reply streams for about 2 s.
KILL_POINTS = [0.0, None, 0.3, 0.8, 1.5, "done", 0.05]
REPLY = "streaming slowly " * 10


def test_sigkill_at_any_moment_leaves_whole_documents(chat_server):
    sent: list[str] = []  # messages whose request reached the server: they must be on disk
    finished = 0
    for run, when in enumerate(KILL_POINTS):
        chat_server.reply(REPLY, chunks=20, delay=0.1)
        text = f"message {run}"
        with chinwag(chat_server, *(["--continue"] if documents() else [])) as term:
            term.ready()
            requests = len(chat_server.chat_requests)
            term.type(text + "\r")
            if when is not None:
                term.wait_for(lambda: len(chat_server.chat_requests) > requests, "the request")
                sent.append(text)
            if when == "done":
                term.wait_for(lambda: len([r for r in replies(documents()[0]) if r["finish_reason"] == "stop"])
                              > finished, "the reply on disk")
                finished += 1
            elif when:
                time.sleep(when)
            term.kill()

        docs = documents()
        assert len(docs) == 1, f"run {run}: {len(docs)} documents"
        users = user_messages(docs[0])
        assert [u for u in users if u in sent] == sent, f"run {run} (kill at {when}) lost a message: {users}"
        done = [r for r in replies(docs[0]) if r["finish_reason"] == "stop"]
        assert len(done) >= finished and all(r["content"] == REPLY for r in done)
        assert all(REPLY.startswith(r["content"]) for r in replies(docs[0]))  # a partial one, if saved
        assert [(s.id, s.error) for s in Store().rebuild_index()] == [(docs[0]["id"], None)]
        assert [s.messages for s in Store().list()] == [len(docs[0]["messages"])]
    assert len(sent) == len(KILL_POINTS) - 1


# -- two programs, one conversation ----------------------------------------------------------


def test_two_running_chinwags_on_one_conversation_lose_nothing(chat_server):
    with chinwag(chat_server) as first:
        first.ready()
        first.type("opening message\r")
        first.wait_for(lambda: documents() and len(replies(documents()[0])) == 1, "the first reply")
        with chinwag(chat_server, "--continue") as second:
            second.ready()
            first.type("from the first window\r")
            first.wait_for(lambda: len(replies(documents()[0])) == 2, "the first window's reply")
            second.type("from the second window\r")
            second.wait_for(lambda: len(replies(documents()[0])) == 3, "the second window's reply")
            first.type("first again\r")
            first.wait_for(lambda: len(replies(documents()[0])) == 4, "the first window's second reply")
            assert second.quit() == 0
        assert first.quit() == 0
    (document,) = documents()
    expected = ["opening message", "from the first window", "from the second window", "first again"]
    assert user_messages(document) == expected
    # Each reply answers its own question: the merged history reached the model in order.
    assert [r["content"] for r in replies(document)] == [f"You said: {m}" for m in expected]
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"] * 4


# -- what reaches a real terminal ------------------------------------------------------------

HOSTILE = ("clear\x1b[2Jscreen clip\x1b]52;c;aGVsbG8=\x07board title\x1b]0;pwned\x07bar "
           "c1 \x9d0;owned\x9c osc \x9b2J csi bell\x07 nul\x00 done")
FORBIDDEN = [b"\x1b]52;", b"\x1b]0;pwned", b"\x1b[2J", b"\x07", b"\x00",
             "\x9d".encode(), "\x9b".encode()]


TEXTUALS_OWN = re.compile(rb"\x1b\]22;[\w-]*\x07")  # OSC 22: the mouse pointer's shape


def leaks(output: bytes) -> list[bytes]:
    output = TEXTUALS_OWN.sub(b"", output)
    return [seq for seq in FORBIDDEN if seq in output]


def test_a_real_terminal_never_receives_a_replys_escapes(chat_server):
    chat_server.reply(HOSTILE, chunks=1)
    with chinwag(chat_server) as term:
        term.ready()
        assert leaks(bytes(term.output)) == []
        start = len(term.output)
        term.type("be nasty\r")
        term.wait_for(lambda: documents() and replies(documents()[0]), "the reply on disk")
        term.wait_for(lambda: b"csi bell" in term.output[start:], "the reply on screen")
        assert term.quit() == 0
        output = bytes(term.output[start:])
    assert leaks(output[: output.rfind(b"csi bell") + 200]) == []
    assert replies(documents()[0])[0]["content"] == HOSTILE


def test_a_real_terminal_never_receives_a_pastes_escapes(chat_server):
    pasted = "hi \x9d0;owned\x9c there \x9b2J x"
    with chinwag(chat_server) as term:
        term.ready()
        start = len(term.output)
        term.type(f"\x1b[200~{pasted}\x1b[201~")
        term.wait_for(lambda: b"there" in term.output[start:], "the paste on screen")
        term.type("\r")
        term.wait_for(lambda: documents() and replies(documents()[0]), "the reply on disk")
        assert term.quit() == 0
        output = bytes(term.output[start:])
    assert leaks(output) == []
    assert "hi" in user_messages(documents()[0])[0] and "there" in user_messages(documents()[0])[0]
