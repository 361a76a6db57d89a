"""The history screen with many conversations against few: opening it and one search.

    python bench/bench_history.py [--count 10000] [--small 100] [--messages 50]

Headless (App.run_test). "open" runs from pressing F2 until the table shows its first page
and the count of every conversation; "all rows" from ctrl+end (which adds every remaining
row) until the cursor is on the oldest; "search" from setting the query (one keystroke's
worth) until the table shows the hits, including the 0.1 s debounce. "stall" is the longest
the event loop went without running a 5 ms timer meanwhile: what a person typing would feel. Generating the files and the first
index build (which counts every message's tokens) are one-time costs, reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_conversations import RARE_WORD, generate  # noqa: E402

SIZE = (140, 40)


class StallMeter:
    """Record the longest gap between ticks of a fast interval timer on the app's loop."""

    def __init__(self, app) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        app.set_interval(0.005, self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def reset(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0


async def until(pilot, condition, limit: float = 120.0) -> None:
    give_up = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > give_up:
            raise SystemExit(f"gave up after {limit:.0f} s: {pilot.app.screen!r}")
        await pilot.pause(0.002)


async def measure(root: Path) -> dict[str, float]:
    from chinwag.config import Settings
    from chinwag.store import Store
    from chinwag.tui.app import ChinwagApp
    from chinwag.tui.screens.history import PAGE, HistoryScreen

    expected = len(Store(root).search(RARE_WORD))
    total = len(Store(root).list())
    app = ChinwagApp(Settings(), store=Store(root))
    async with app.run_test(size=SIZE, notifications=False) as pilot:
        await pilot.pause(0.5)  # let start-up (and the tokenizer warm-up) settle
        stall = StallMeter(app)
        await pilot.pause(0.05)
        stall.reset()
        start = time.perf_counter()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen)
                    and app.screen.table.row_count == min(total, PAGE)
                    and str(app.screen.query_one("#history-count").content) == f"{total:,} conversations")
        opened, open_stall = time.perf_counter() - start, stall.worst
        screen = app.screen
        await pilot.pause(0.2)  # the preview of the first row
        screen.table.focus()
        await pilot.pause(0.05)
        stall.reset()
        start = time.perf_counter()
        await pilot.press("ctrl+end")
        await until(pilot, lambda: screen.table.row_count == total and screen.table.cursor_row == total - 1)
        everything, all_stall = time.perf_counter() - start, stall.worst
        await pilot.pause(0.2)
        stall.reset()
        start = time.perf_counter()
        screen.search.value = RARE_WORD
        counted = f"{expected:,} of {total:,} conversations"
        await until(pilot, lambda: str(screen.query_one("#history-count").content) == counted
                    and screen.table.row_count == expected)
        searched, search_stall = time.perf_counter() - start, stall.worst
    return {"open": opened, "open_stall": open_stall, "all": everything, "all_stall": all_stall,
            "search": searched, "search_stall": search_stall, "hits": expected, "total": total}


def prepare(root: Path, count: int, messages: int) -> None:
    from chinwag.store import Store

    start = time.perf_counter()
    generate(root, count, messages)
    made = time.perf_counter() - start
    start = time.perf_counter()
    Store(root).list()
    print(f"{count:>6} conversations x {messages}: generated in {made:.1f} s, index built in "
          f"{time.perf_counter() - start:.1f} s (one-time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as tmp:
        for name in ("DATA", "CONFIG", "CACHE", "STATE"):  # keep the user's config and data out of it
            os.makedirs(f"{tmp}/{name}")
            os.environ[f"XDG_{name}_HOME"] = f"{tmp}/{name}"
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        prepare(small, args.small, args.messages)
        prepare(large, args.count, args.messages)
        results = {n: asyncio.run(measure(root)) for n, root in ((args.small, small), (args.count, large))}

    a, b = results[args.small], results[args.count]
    print(f"\n{'':24}{args.small:>12,}{args.count:>12,}{'ratio':>9}")
    for key, label in (("open", "open until listed"), ("open_stall", "  longest stall"),
                       ("all", "all rows (ctrl+end)"), ("all_stall", "  longest stall"),
                       ("search", f"search {RARE_WORD!r}"), ("search_stall", "  longest stall")):
        print(f"{label:24}{a[key] * 1000:>10.0f}ms{b[key] * 1000:>10.0f}ms{b[key] / a[key]:>8.1f}x")
    print(f"{'hits':24}{a['hits']:>12}{b['hits']:>12}")
    print(f"\nsize ratio {args.count / args.small:.0f}x; search includes the {0.1 * 1000:.0f} ms debounce")


if __name__ == "__main__":
    main()
