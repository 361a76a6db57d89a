"""Benchmarks of message mode and the tree view, run by hand: `python bench/bench_branches.py`.

The same keys in a conversation of 60 messages (the floor) and of 2,000 (every fifth reply has a
second version), in one run: moving the selection up one message, switching a message in the
middle to its other version (the chat shows the other branch), opening the F6 tree, and the
views the chat mounts for 40 presses of up. Each figure is the best of a few rounds, measured
through Textual's pilot (which waits for the app to settle after each key), so it includes the
pilot's own overhead; read the ratios.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

ROUNDS = 3
SMALL = 60  # the floor: enough messages that 40 ups walk through new ones there too


def conversation(count: int):
    from chinwag.conversation import ASSISTANT, USER, Conversation, Message

    conv = Conversation(title=f"{count} messages")
    for n in range(count):
        role = USER if n % 2 == 0 else ASSISTANT
        conv.add(Message(role, f"message {n} " + "some words to wrap " * 20))
        if role == ASSISTANT and n % 10 == 1:  # a second version, then back to the first
            first = conv.messages[-1]
            conv.add(Message(ASSISTANT, f"another version of {n}"), parent=first.parent)
            conv.select(first.id)
    return conv


async def until(pilot, condition, what: str) -> None:
    """Like tui_helpers.wait_for, in 2 ms steps (its 25 ms steps would be most of a figure)."""
    for _ in range(5000):
        if condition():
            return
        await pilot.pause(0.002)
    raise AssertionError(f"gave up waiting for {what}")


async def measure(count: int) -> dict[str, float]:
    from tui_helpers import chat, make_app, wait_for

    from chinwag.tui.messages import OpenConversation
    from chinwag.tui.screens.tree import ConversationTree, TreeScreen
    from chinwag.tui.widgets.chat_log import ChatLog

    made: list = []
    original = ChatLog._make_view
    ChatLog._make_view = lambda self, m: made.append(m) or original(self, m)
    conv = conversation(count)
    app = make_app(None)
    out: dict[str, float] = {}
    try:
        async with app.run_test(size=(110, 36)) as pilot:
            chat(app).post_message(OpenConversation(conv))
            log = chat(app).log_view
            await wait_for(pilot, lambda: len(log.messages) == count and log.views(), "opened")
            await pilot.pause(0.5)
            await pilot.press("ctrl+up")
            made.clear()
            start = time.perf_counter()
            for _ in range(40):
                await pilot.press("up")
            out["up (per key)"] = (time.perf_counter() - start) / 40
            out["views mounted for 40 ups"] = len(made)
            middle = next(i for i in range(count // 2, count) if len(conv.siblings(log.messages[i].id)) > 1)
            times, views = [], []
            for _ in range(ROUNDS):
                log.select(middle)
                await wait_for(pilot, lambda: log.view_for(log.selected) is not None, "mounted")
                await pilot.pause(0.2)
                made.clear()
                start = time.perf_counter()
                await pilot.press("right" if conv.sibling_position(log.selected.id)[0] == 1 else "left")
                await until(pilot, lambda: log.view_for(log.selected) is not None
                            and log.view_for(log.selected).region.overlaps(log.region), "switched")
                times.append(time.perf_counter() - start)
                views.append(len(made))
            out["switch version"] = min(times)
            out["views mounted for a switch"] = min(views)
            times = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                await pilot.press("f6")
                await until(pilot, lambda: isinstance(app.screen, TreeScreen)
                            and app.screen.query_one(ConversationTree).cursor_node is not None, "tree")
                times.append(time.perf_counter() - start)
                await pilot.press("escape")
                await pilot.pause(0.2)
            out["F6 tree open"] = min(times)
    finally:
        ChatLog._make_view = original
    return out


def main() -> None:
    import os

    with tempfile.TemporaryDirectory() as home:
        for name in ("DATA", "CONFIG", "CACHE", "STATE"):
            os.environ[f"XDG_{name}_HOME"] = f"{home}/{name.lower()}"
        small, large = asyncio.run(measure(SMALL)), asyncio.run(measure(2000))
    print(f"{'':28} {f'{SMALL} messages':>14} {'2,000 messages':>16} {'ratio':>7}")
    for key in small:
        a, b = small[key], large[key]
        unit = (lambda v: f"{v * 1000:.1f} ms") if "views" not in key else (lambda v: f"{v:.0f}")
        ratio = f"{b / a:.2f}" if a else "—"
        print(f"{key:28} {unit(a):>14} {unit(b):>16} {ratio:>7}")


if __name__ == "__main__":
    main()
