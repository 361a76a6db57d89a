"""Importing a big ChatGPT export: streaming against loading the whole file, and a second import.

    python bench/bench_import.py [--count 2000] [--messages 40]

Writes a synthetic export (every 5th conversation has an edited message, so two branches),
then runs each step in a fresh process and reports wall time and peak memory (max RSS)
side by side with the floor: ``json.load`` of the same file, which is what a reader that
does not stream must do before it can import anything. The machine is shared: run it twice
and trust the ratios more than the seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

WORDS = "the a to of and in is it you that for on with as are be this was have or not".split()


def make_export(path: Path, count: int, messages: int) -> None:
    rng = random.Random(42)
    conversations = []
    for i in range(count):
        when = 1_700_000_000 + i * 3600
        mapping = {"client-created-root": {"id": "client-created-root", "message": None, "parent": None, "children": []}}
        previous = "client-created-root"
        for k in range(messages):
            node_id = str(uuid.UUID(int=rng.getrandbits(128)))
            role = "user" if k % 2 == 0 else "assistant"
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 200)))
            mapping[node_id] = {
                "id": node_id, "parent": previous, "children": [],
                "message": {
                    "id": node_id, "author": {"role": role, "name": None, "metadata": {}},
                    "create_time": when + k, "update_time": None,
                    "content": {"content_type": "text", "parts": [text]},
                    "status": "finished_successfully", "end_turn": role == "assistant", "weight": 1.0,
                    "metadata": {"model_slug": "gpt-4o", "default_model_slug": "gpt-4o", "timestamp_": "absolute",
                                 "citations": [], "content_references": []},
                    "recipient": "all", "channel": None,
                },
            }
            mapping[previous]["children"].append(node_id)
            if i % 5 == 0 and k == 2:  # an edit of the second user message: a sibling branch
                edit_id = str(uuid.UUID(int=rng.getrandbits(128)))
                edit = json.loads(json.dumps(mapping[node_id]))
                edit["id"] = edit["message"]["id"] = edit_id
                edit["message"]["content"]["parts"] = ["(edited) " + text]
                mapping[edit_id] = edit
                mapping[previous]["children"].append(edit_id)
            previous = node_id
        conversations.append({"title": f"Conversation {i}", "create_time": when, "update_time": when + messages,
                              "mapping": mapping, "current_node": previous, "id": str(uuid.UUID(int=rng.getrandbits(128))),
                              "default_model_slug": "gpt-4o"})
    path.write_text(json.dumps(conversations), encoding="utf-8")


STEP = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    step, export = sys.argv[1], Path(sys.argv[2])
    start = time.perf_counter()
    if step == "json.load":
        with open(export, "rb") as f:
            count = len(json.load(f))
    elif step == "read":
        from chinwag.importers import read_export
        count = sum(1 for _ in read_export(export))
    else:
        from chinwag.cli import main
        import contextlib, io
        with contextlib.redirect_stdout(io.StringIO()):
            main(["import", str(export)] + (["--dry-run"] if step == "dry run" else []))
        count = 0
    took = time.perf_counter() - start
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent's fork
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"seconds": took, "rss_mb": peak / 1024}))
""")


def run(step: str, export: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", STEP, step, str(export)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory(prefix="chinwag-bench-import-") as tmp:
        export = Path(tmp) / "conversations.json"
        make_export(export, args.count, args.messages)
        size = export.stat().st_size / 2**20
        env = dict(os.environ, XDG_DATA_HOME=str(Path(tmp) / "data"), XDG_CONFIG_HOME=str(Path(tmp) / "config"),
                   XDG_CACHE_HOME=str(Path(tmp) / "cache"), XDG_STATE_HOME=str(Path(tmp) / "state"))
        print(f"export: {args.count} conversations x {args.messages} messages, {size:.0f} MiB\n")
        floor = run("json.load", export, env)
        rows = [("json.load (floor)", floor)]
        for step in ("read", "dry run", "import", "import again"):
            rows.append((f"chinwag {step}", run(step, export, env)))
        print(f"{'step':<22} {'seconds':>8} {'x floor':>8} {'max RSS MiB':>12} {'x floor':>8}")
        for name, result in rows:
            print(f"{name:<22} {result['seconds']:8.2f} {result['seconds'] / floor['seconds']:8.1f} "
                  f"{result['rss_mb']:12.0f} {result['rss_mb'] / floor['rss_mb']:8.2f}")


if __name__ == "__main__":
    main()
