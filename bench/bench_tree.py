"""The v2 tree and saving on a long conversation, side by side with the floor.

    python bench/bench_tree.py [--messages 2000] [--branches 50] [--chars 400]

A conversation of ``--messages`` messages in one line with ``--branches`` extra sibling
replies spread along it. Measured, best of 5 runs each:
- load: Store.load (read, parse, check every field); floor: json.loads of the same bytes
- path: Conversation.path, once after a change (index rebuilt) and again (cached)
- save after one message: Store.save (merge check, fingerprint, encode, atomic write);
  floor: json.dumps + the same atomic write
- save with nothing changed: what quitting costs (no write at all)
- v1 file: load of the same conversation written as version 1 (ids derived on read)
Times are printed with their ratio to the floor; no absolute number is a target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from chinwag.conversation import ASSISTANT, USER, Conversation, Message  # noqa: E402
from chinwag.store import Store, atomic_write  # noqa: E402


def best(run, times: int = 5) -> float:
    results = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        results.append(time.perf_counter() - start)
    return min(results)


def build(messages: int, branches: int, chars: int) -> Conversation:
    conv = Conversation(model="gpt-4o-mini")
    text = ("lorem ipsum dolor sit amet " * (chars // 27 + 1))[:chars]
    for i in range(messages):
        conv.add(Message(USER if i % 2 == 0 else ASSISTANT, f"{i} {text}"))
    step = max(1, messages // max(branches, 1))
    for i in range(1, messages, step)[:branches]:
        parent = conv.messages[i].parent
        conv.add(Message(ASSISTANT, f"another reply {i} {text}"), parent)
    conv.select(conv.messages[0].id)
    return conv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--chars", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "conversations"
        conv = build(args.messages, args.branches, args.chars)
        Store(root).save(conv)
        path = root / f"{conv.id}.json"
        raw = path.read_bytes()
        rows = []

        store = Store(root)
        rows.append(("load", best(lambda: store.load(conv.id)), best(lambda: json.loads(raw)), "json.loads"))

        loaded = store.load(conv.id)

        def path_after_change() -> None:
            loaded.forget_tree()
            loaded.path

        rows.append(("path after a change", best(path_after_change), None, ""))
        rows.append(("path again (cached)", best(lambda: loaded.path), None, ""))

        def save_one() -> None:
            loaded.add_user("one more question")
            store.save(loaded)

        data = loaded.to_dict()
        floor_path = root / "floor.json"
        rows.append(("save after one message", best(save_one),
                     best(lambda: atomic_write(floor_path, json.dumps(data, indent=2).encode())),
                     "json.dumps + atomic write"))
        rows.append(("save with nothing changed", best(lambda: store.save(loaded)), None, ""))

        v1 = dict(data, version=1)
        v1.pop("current")
        v1["messages"] = [{k: v for k, v in m.to_dict().items() if k not in ("id", "parent")}
                          for m in loaded.path]
        v1_raw = json.dumps(v1).encode()
        (root / "20200101-000000-000001.json").write_bytes(v1_raw)
        rows.append(("load a v1 file (path only)", best(lambda: store.load("20200101-000000-000001")),
                     best(lambda: json.loads(v1_raw)), "json.loads"))

    nodes = args.messages + args.branches
    print(f"{nodes} messages ({args.branches} branches), {len(raw) / 1e6:.1f} MB")
    for name, took, floor, what in rows:
        ratio = f"{took / floor:5.1f}x {what} ({floor * 1000:.1f} ms)" if floor else ""
        print(f"  {name:28} {took * 1000:8.2f} ms   {ratio}")


if __name__ == "__main__":
    main()
