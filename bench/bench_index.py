"""The SQLite index at scale: search per keystroke, list and search as processes, F5, builds.

    python bench/bench_index.py [--count 10000] [--messages 50] [--repeat 5]

Everything is measured in one run and reported beside its floor, as ratios (the machine is
shared: absolute times move with the load, which is printed before and after):
- search per keystroke with a warm index (rare word, common word, phrase; a two-letter word
  for information) against wave 1's scan of every file (``scan_search`` below, kept as it was);
- ``chinwag list`` and ``chinwag list --search`` as processes against a process that parses
  every file (json.load + Conversation.from_dict);
- opening F5 (headless), from the key until the figures are drawn;
- the first index build and the update after one save, reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_list import timed  # noqa: E402
from make_conversations import RARE_WORD, generate  # noqa: E402

# "weather" is in every conversation like "coffee", but its trigrams (wea eat ath the her) are
# common too: the kind of word that was slowest through the trigram table alone.
QUERIES = (("rare word", RARE_WORD), ("common word", "coffee"), ("common, common trigrams", "weather"),
           ("phrase", '"quick brown fox"'), ("two letters", "ok"))
PAGE = 200  # rows the history screen shows (and makes snippets for) at first
PARSE_ALL = """
import json, os, sys
from chinwag.conversation import Conversation
root = sys.argv[1]
for name in os.listdir(root):
    if name.endswith(".json"):
        with open(os.path.join(root, name), encoding="utf-8") as f:
            Conversation.from_dict(json.load(f))
"""


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def process_time(argv: list[str], repeat: int) -> float:
    def run() -> None:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return timed(run, repeat)[0]


# -- wave 1's search: read every file, substring test, parse the candidates --------------------


def scan_search(root: Path, text: str) -> int:
    from chinwag.store import parse

    needle = text.casefold()
    ascii_needle = needle.encode() if needle.isascii() else None
    hits = 0
    for name in os.listdir(root):
        if not name.endswith(".json"):
            continue
        raw = (root / name).read_bytes()
        if b"\\u" not in raw:
            if ascii_needle is not None and raw.isascii():
                if ascii_needle not in raw.lower():
                    continue
            elif needle not in raw.decode("utf-8-sig", "replace").casefold():
                continue
        conv = parse(raw.decode("utf-8-sig"))
        if any(needle in m.content.casefold() for m in conv.messages if m.is_chat) or needle in conv.title.casefold():
            hits += 1
    return hits


# -- the parts ----------------------------------------------------------------------------


def keystroke(store, query: str) -> int:
    """What the history screen does per keystroke: every hit ranked, the first page's snippets."""
    hits = list(store.iter_search(query, max_age=60.0))
    for hit in hits[:PAGE]:
        _ = hit.snippet
    return len(hits)


async def open_f5(root: Path, repeat: int) -> tuple[float, float]:
    """(key to the first frame with the figures, key to idle with the files checked), medians."""
    from textual import events

    from chinwag.config import Settings
    from chinwag.store import Store
    from chinwag.tui.app import ChinwagApp
    from chinwag.tui.screens.usage import UsageScreen

    app = ChinwagApp(Settings(provider="custom", base_url="http://127.0.0.1:9/v1"), store=Store(root))
    first, settled = [], []
    async with app.run_test(size=(140, 45), notifications=False) as pilot:
        await pilot.pause(0.5)
        for _ in range(repeat):
            start = time.perf_counter()
            app.post_message(events.Key("f5", None))  # as a key press, without waiting for idle
            while not (isinstance(app.screen, UsageScreen) and app.screen.rows is not None):
                await asyncio.sleep(0.001)
            app.export_screenshot()  # a full frame, rendered as the terminal would get it
            first.append(time.perf_counter() - start)
            while not app.screen.checked:
                await asyncio.sleep(0.001)
            await pilot.pause()
            settled.append(time.perf_counter() - start)
            await pilot.press("escape")
            await pilot.pause(0.1)
    return statistics.median(first), statistics.median(settled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"before: {load()} ({os.cpu_count()} cores)")

    with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as tmp:
        for name in ("DATA", "CONFIG", "CACHE", "STATE"):  # keep the user's files out of it
            os.makedirs(f"{tmp}/{name}")
            os.environ[f"XDG_{name}_HOME"] = f"{tmp}/{name}"
        from chinwag import paths
        from chinwag.store import Store

        root = paths.conversations_dir()
        made, _ = timed(lambda: generate(root, args.count, args.messages), 1)
        time.sleep(2.1)  # files younger than 2 s are read again at every listing (coarse mtimes): let them age
        size = sum(p.stat().st_size for p in root.iterdir()) / 1e6
        print(f"{args.count:,} conversations x {args.messages} messages ({size:.0f} MB), generated in {made:.1f} s\n")

        store = Store(root)
        build, _ = timed(store.list, 1)
        index_mb = store.index.path.stat().st_size / 1e6
        print(f"first index build (reads and counts every file): {build:8.1f} s   (index file {index_mb:.0f} MB)")
        conv = store.load(store.list()[len(store.list()) // 2].id)
        conv.add_user("one more message about a zeppelin")
        saved, _ = timed(lambda: store.save(conv), 1)
        again, read = timed(lambda: store.sync(), 1)
        print(f"one save, index updated with it:                  {saved * 1000:8.1f} ms")
        print(f"the next listing's check of every stamp:          {again * 1000:8.1f} ms ({read} file read again)")
        warm, _ = timed(store.sync, args.repeat)
        print(f"  (the same check with nothing changed:           {warm * 1000:8.1f} ms)\n")

        print(f"{'search per keystroke (warm index)':40}{'index':>10}{'scan':>11}{'ratio':>9}  hits")
        for label, query in QUERIES:
            took, hits = timed(lambda: keystroke(store, query), args.repeat)
            scan, _ = timed(lambda: scan_search(root, query.strip('"')), 1)
            print(f"  {label + ' ' + query:38}{took * 1000:8.1f}ms{scan * 1000:9.0f}ms{took / scan:8.3f}x  {hits:,}")
        fresh, _ = timed(lambda: len(store.search(RARE_WORD)), args.repeat)
        print(f"  {'rare word, stamps checked first':38}{fresh * 1000:8.1f}ms   (a search after a pause > 1 s)\n")

        chinwag = [sys.executable, "-m", "chinwag"]
        floor = process_time([sys.executable, "-c", PARSE_ALL, str(root)], 3)
        print(f"{'as processes':36}{'time':>10}{'/ parse every file':>20}")
        print(f"  {'parse every file (the floor)':34}{floor * 1000:8.0f}ms{1:>19.2f}x")
        for label, argv in (("chinwag list", ["list"]), ("chinwag list --search rare", ["list", "--search", RARE_WORD]),
                            ("chinwag list --search common", ["list", "--search", "coffee"]),
                            ("chinwag usage", ["usage"])):
            took = process_time(chinwag + argv, args.repeat)
            print(f"  {label:34}{took * 1000:8.0f}ms{took / floor:>19.2f}x")
        bare = process_time([sys.executable, "-c", "pass"], args.repeat)
        print(f"  {'python -c pass (start-up alone)':34}{bare * 1000:8.0f}ms{bare / floor:>19.2f}x\n")

        first, settled = asyncio.run(open_f5(root, 5))
        print(f"open F5, key to the first frame with the figures (headless): {first * 1000:.0f} ms")
        print(f"  and until the files are checked against the index:     {settled * 1000:.0f} ms")
    print(f"\nafter: {load()}")


if __name__ == "__main__":
    main()
