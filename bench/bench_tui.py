"""Benchmarks of the chat TUI, run by hand: `python bench/bench_tui.py`.

1. Time to the first frame: the installed `chinwag` command against a bare Textual app with a
   header, a TextArea and a footer, each started as a fresh process in a pseudo-terminal, in
   turn, in the same run; the time is until the frame is on the terminal (a text of it has been
   written: Textual writes frames from a thread, so an app's Ready event can come earlier).
   The bare app is the floor.
2. Streaming: a ~4,000-token reply at 500 chunks/s from the loopback server (in its own process):
   how long after the last chunk arrives the whole text is on screen, and the app's CPU time
   per chunk (the server's CPU is not counted), against a bare AsyncOpenAI consumer of the
   same stream (the floor: what the SDK itself costs per chunk).
Prints figures and ratios; machines are noisy, so read the ratios.
"""

from __future__ import annotations

import asyncio
import compileall
import fcntl
import multiprocessing
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

BARE = """
from textual.app import App
from textual.widgets import Footer, Header, TextArea
class Bare(App):
    TITLE = "bare-textual-app"
    def compose(self):
        yield Header(); yield TextArea(); yield Footer()
Bare().run()
"""
BARE_MARK = b"bare-textual-app"  # the header's title: in the first frame
CHINWAG = ["--provider", "custom", "--base-url", "http://127.0.0.1:9/v1", "--model", "gpt-4o-mini"]
CHINWAG_MARK = b"New conversation"


def first_frame(argv: list[str], mark: bytes, env: dict) -> float:
    """Seconds from starting ``argv`` in a pseudo-terminal (120x30) to its first frame on it: the
    moment ``mark``, a text of that frame, has been written to the terminal."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, as a user starts it
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    seen, took = b"", None
    try:
        while took is None and select.select([fd], [], [], 10)[0]:
            seen += os.read(fd, 1 << 16)
            if mark in seen:
                took = time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    if took is None:
        raise RuntimeError(f"{argv[0]} drew no {mark!r}: {seen[-300:]!r}")
    return took


def reply_text(tokens: int) -> str:
    from chinwag.tokens import TokenCounter

    paragraph = (
        "The **quick** brown fox jumps over the lazy dog, and then `writes` some code:\n\n"
        "```python\nfor i in range(10):\n    print(i)\n```\n\n- a list item\n- another one\n\n"
    )
    counter = TokenCounter("gpt-4o-mini")
    text = ""
    while counter.count_text(text) < tokens:
        text += paragraph
    return text


def serve(text: str, chunks: int, delay: float, ready, times: int = 1) -> None:
    from server import ChatServer

    server = ChatServer().start()
    server.reply(text, chunks=chunks, delay=delay, times=times)
    ready.send(server.base_url)
    time.sleep(120)


async def stream_once(base_url: str, text: str, chunks: int) -> tuple[float, float]:
    from tui_helpers import chat, make_app, send

    from chinwag import client as api

    class Server:  # make_app only needs the URL
        pass

    server = Server()
    server.base_url = base_url
    app = make_app(server)
    last_chunk = {}

    async with app.run_test(size=(120, 40)) as pilot:
        session = chat(app).session
        original = session.client.stream

        async def timed_stream(*args, **kwargs):
            async for event in original(*args, **kwargs):
                if isinstance(event, api.Finished):
                    last_chunk["at"] = time.perf_counter()
                yield event

        session.client.stream = timed_stream
        cpu_start = time.process_time()
        await send(pilot, "stream please")
        while "at" not in last_chunk:  # a cheap wait, so the bench itself costs little CPU
            await asyncio.sleep(0.01)
        while True:
            views = chat(app).log_view.views()
            body = views[-1].body if len(views) == 2 else None
            if body is not None and getattr(body, "source", None) == text and "at" in last_chunk:
                on_screen = time.perf_counter()
                break
            await asyncio.sleep(0.001)
        cpu = time.process_time() - cpu_start
    return on_screen - last_chunk["at"], cpu / chunks


async def sdk_floor(base_url: str, chunks: int) -> float:
    """CPU seconds per chunk of a bare AsyncOpenAI consumer of the same stream."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    cpu_start = time.process_time()
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "stream please"}], stream=True,
        stream_options={"include_usage": True},
    )
    text = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text.append(chunk.choices[0].delta.content)
    cpu = time.process_time() - cpu_start
    await client.close()
    return cpu / chunks


def main() -> None:
    # An installed chinwag runs from bytecode (pip compiles it); this checkout may not have it yet
    # (PYTHONDONTWRITEBYTECODE), and compiling on every start is not what users wait for.
    compileall.compile_dir(ROOT / "src" / "chinwag", quiet=1)
    tmp = tempfile.mkdtemp(prefix="chinwag-bench-")
    env = dict(os.environ)
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = os.path.join(tmp, name.lower())
        os.environ[f"XDG_{name}_HOME"] = env[f"XDG_{name}_HOME"]
    runs = 15
    env["TERM"] = "xterm-256color"
    bare_argv = [sys.executable, "-c", BARE]
    chinwag_argv = [str(Path(sys.executable).with_name("chinwag")), *CHINWAG]  # the installed command
    first_frame(chinwag_argv, CHINWAG_MARK, env)  # warm the OS file cache and prime the tiktoken cache
    pairs = [(first_frame(bare_argv, BARE_MARK, env), first_frame(chinwag_argv, CHINWAG_MARK, env))
             for _ in range(runs)]  # in turn, so that both meet the same machine
    bare = statistics.median(b for b, _ in pairs)
    ours = statistics.median(o for _, o in pairs)
    print(f"first frame on a terminal (median of {runs} fresh processes each)")
    print(f"  bare Textual app   {bare * 1000:8.0f} ms")
    print(f"  chinwag            {ours * 1000:8.0f} ms   ratio {ours / bare:.2f}x the floor")

    text = reply_text(4000)
    from chinwag.tokens import TokenCounter

    tokens = TokenCounter("gpt-4o-mini").count_text(text)
    chunks = tokens  # about one token a chunk, as real servers send
    receive, send_end = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=serve, args=(text, chunks, 1 / 500, send_end, 2), daemon=True)
    process.start()
    base_url = receive.recv()
    try:
        floor = asyncio.run(sdk_floor(base_url, chunks))
        lag, cpu_per_chunk = asyncio.run(stream_once(base_url, text, chunks))
    finally:
        process.terminate()
    print(f"streaming {tokens:,} tokens in {chunks:,} chunks at 500 chunks/s")
    print(f"  final text on screen after the last chunk   {lag * 1000:8.1f} ms")
    print(f"  bare AsyncOpenAI consumer CPU per chunk     {floor * 1e6:8.0f} µs   (the floor)")
    print(f"  app CPU time per chunk                      {cpu_per_chunk * 1e6:8.0f} µs"
          f"   ({cpu_per_chunk * 500 * 100:.0f}% of one core at 500 chunks/s)   ratio {cpu_per_chunk / floor:.2f}x the floor")


if __name__ == "__main__":
    main()
