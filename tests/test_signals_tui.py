"""The real program in a pseudo-terminal, told to stop mid-reply by a signal: SIGHUP (the
terminal closed), SIGTERM (kill) and SIGINT keep the reply that had arrived (interrupted) and
give the terminal back (alternate screen left, cursor shown)."""

from __future__ import annotations

import os
import signal

import pytest
from test_crash_tui import Terminal, chinwag, documents, pty_missing, replies

pytestmark = pytest.mark.skipif(pty_missing, reason="needs a POSIX pseudo-terminal (os.openpty)")

REPLY = "streaming slowly word by word " * 8
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
SHOW_CURSOR = b"\x1b[?25h"


def start_reply(server, term: Terminal) -> int:
    """Send a message and wait until part of the (slow) reply is on the screen."""
    server.reply(REPLY, chunks=40, delay=0.1)
    term.ready()
    term.type("tell me slowly\r")
    term.wait_for(lambda: b"streaming slowly word" in term.output, "the first words on screen")
    return len(term.output)


def assert_partial_reply_saved() -> None:
    (document,) = documents()
    (reply,) = replies(document)
    assert reply["finish_reason"] == "interrupted"
    assert reply["content"] and REPLY.startswith(reply["content"]) and reply["content"] != REPLY
    assert [m["content"] for m in document["messages"] if m["role"] == "user"] == ["tell me slowly"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_mid_reply_saves_it_and_restores_the_terminal(chat_server, signum):
    with chinwag(chat_server) as term:
        start = start_reply(chat_server, term)
        term.proc.send_signal(signum)
        term.wait_for(lambda: term.proc.poll() is not None, "chinwag to exit")
        term.thread.join(timeout=5)
        after = bytes(term.output[start:])
        assert term.proc.returncode == 128 + signum
    assert LEAVE_ALTERNATE_SCREEN in after and SHOW_CURSOR in after
    assert b"Traceback" not in after
    assert_partial_reply_saved()


def test_closing_the_terminal_mid_reply_saves_it(chat_server):
    """The pane is closed: the terminal is gone (reads and writes fail) and SIGHUP arrives."""
    term = chinwag(chat_server)
    try:
        start_reply(chat_server, term)
        os.close(term.master)
        term.proc.send_signal(signal.SIGHUP)
        term.proc.wait(timeout=20)
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()
    assert term.proc.returncode in (128 + signal.SIGHUP, 0, 1)
    assert_partial_reply_saved()
