"""Listing and searching thousands of conversations: the index against parsing every file.

    python bench/bench_list.py [--count 10000] [--messages 50]

Generation and the first index build (which counts every message's tokens) are one-time
costs, reported but not part of the comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from chinwag.conversation import Conversation
from chinwag.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from make_conversations import RARE_WORD, generate  # noqa: E402


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def parse_all(root: Path) -> list[Conversation]:
    out = []
    for path in sorted(root.glob("*.json")):
        if path.name != "index.json":
            with open(path, encoding="utf-8") as f:
                out.append(Conversation.from_dict(json.load(f)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as tmp:
        root = Path(tmp)
        gen, _ = timed(lambda: generate(root, args.count, args.messages))
        time.sleep(2.1)  # files younger than 2 s are read again at every listing (coarse mtimes): let them age
        size = sum(p.stat().st_size for p in root.iterdir()) / 1e6
        print(f"generated {args.count} conversations x {args.messages} messages ({size:.0f} MB) in {gen:.1f} s")

        build, summaries = timed(lambda: Store(root).list())
        print(f"first listing (builds the index, counts all tokens): {build:.1f} s, {len(summaries)} entries")

        warm, summaries = timed(lambda: Store(root).list(), repeat=5)
        full, convs = timed(lambda: parse_all(root))
        assert len(summaries) == len(convs) == args.count
        print(f"list() with a warm index:         {warm * 1000:8.1f} ms")
        print(f"json.load + from_dict every file: {full * 1000:8.1f} ms   ({full / warm:.0f}x slower)")

        for word in (RARE_WORD, "coffee"):
            took, hits = timed(lambda: Store(root).search(word), repeat=3)
            print(f"search({word!r}): {took * 1000:8.1f} ms, {len(hits)} hits "
                  f"({took / full:.2f}x the time of parsing every file)")


if __name__ == "__main__":
    main()
