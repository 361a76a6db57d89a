"""Opening long conversations: time to the newest message on screen and peak memory.

    python bench/bench_open.py [--sizes 2000,20000] [--runs 3] [--v1]

Each case is a fresh `chinwag --resume ID` process (headless, 120x40) that reports when the
newest message is on screen and its peak RSS then; the floor is the same process opening an
empty chat, run in the same rounds. Documents are written as chinwag writes them (version 2);
`--v1` adds wave 1's format, whose message ids are made again on every read until it is saved. Messages mix plain paragraphs with Markdown (code blocks, lists), like real chats.
Prints figures and ratios; machines are noisy, so read the ratios.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from make_conversations import WORDS  # noqa: E402

CHILD = r"""
import sys
import chinwag.tui.app as app_module
from chinwag.tui.widgets.message import MessageView

class Timed(app_module.ChinwagApp):
    def run(self, *args, **kwargs):
        return super().run(headless=True, size=(120, 40))

    def on_ready(self):
        # (Textual calls ChinwagApp.on_ready too: handlers run along the class hierarchy.)
        self.set_interval(0.005, self._check)

    def _check(self):
        from chinwag.tui.screens.chat import ChatScreen
        screen = self.screen
        if not isinstance(screen, ChatScreen):
            return
        want = int(sys.argv[1])
        views = list(screen.query(MessageView))
        if want:
            if not views or views[-1].message is not screen.session.conversation.messages[-1]:
                return
            newest = views[-1]
            if newest.region.height == 0 or not newest.region.overlaps(screen.log_view.region):
                return
        # The peak of this program's memory: VmHWM starts again at exec, where ru_maxrss keeps
        # the peak of the bench process that forked it (large when it made a big document).
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        print(f"ready {rss}", flush=True)
        self.exit()

app_module.ChinwagApp = Timed
from chinwag.cli import main
args = ["--base-url", "http://127.0.0.1:9/v1", "--model", "gpt-4o-mini"]
if int(sys.argv[1]):
    args += ["--resume", sys.argv[2]]
main(args)
"""

MARKDOWN = (
    "Here is how:\n\n```python\nfor item in items:\n    print(item)\n```\n\n"
    "- first point\n- second point with `code`\n\nThat should do it."
)


def conversation(messages: int, rng: random.Random) -> dict:
    items = []
    for n in range(messages):
        text = " ".join(rng.choices(WORDS, k=rng.randint(8, 80))).capitalize() + "."
        if n % 2 == 0:
            items.append({"role": "user", "content": text, "created_at": "2026-01-01T00:00:00Z"})
        else:
            if n % 10 == 1:
                text += "\n\n" + MARKDOWN
            items.append({"role": "assistant", "content": text, "created_at": "2026-01-01T00:00:01Z",
                          "model": "gpt-4o-mini", "finish_reason": "stop",
                          "usage": {"prompt_tokens": 100, "completion_tokens": 50}})
    return {
        "format": "chinwag.conversation", "version": 1, "id": f"20260101-000000-{messages:06x}",
        "title": f"{messages} messages", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "provider": "custom", "model": "gpt-4o-mini",
        "persona": {"name": "assistant", "system_prompt": "You are a helpful assistant."},
        "settings": {"token_budget": 8000}, "messages": items,
    }


def open_once(env: dict, messages: int, conv_id: str) -> tuple[float, int]:
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(messages), conv_id], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = child.stdout.readline().split()
    elapsed = time.perf_counter() - start
    child.wait(timeout=600)
    if not line or line[0] != "ready":
        raise SystemExit(f"the app did not report ready for {messages} messages")
    return elapsed, int(line[1]) * 1024


def main() -> None:
    # An installed chinwag runs from bytecode (pip compiles it); this checkout may not have it yet
    # (PYTHONDONTWRITEBYTECODE), and compiling on every start is not what users wait for.
    compileall.compile_dir(ROOT / "src" / "chinwag", quiet=1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--v1", action="store_true",
                        help="also open wave 1's format (version 1: ids are made on every read)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="chinwag-bench-open-")
    env = dict(os.environ, TERM="xterm-256color")
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = os.path.join(tmp, name.lower())
    folder = Path(env["XDG_DATA_HOME"]) / "chinwag" / "conversations"
    folder.mkdir(parents=True)
    rng = random.Random(0)
    sizes = [int(size) for size in args.sizes.split(",")]
    from chinwag.store import encode, parse

    ids = {}
    for size in sizes:
        doc = conversation(size, rng)
        for version in (2, 1) if args.v1 else (2,):
            if version == 2:  # as chinwag writes it (ids, parents), from the same messages
                doc["id"] = doc["id"][:-1] + "2"
                data = encode(parse(json.dumps(doc)))
            else:
                data = json.dumps(doc, indent=2).encode()
            path = folder / f"{doc['id']}.json"
            path.write_bytes(data)
            ids[size, version] = doc["id"]
            print(f"{size:,} messages (version {version}): {len(data) / 1e6:.1f} MB of JSON")
    open_once(env, 0, "")  # warm the file cache and the tiktoken cache
    # Round by round, each case after the floor: a change in the machine's load touches all alike.
    results: dict = {0: [], **{key: [] for key in ids}}
    for _ in range(args.runs):
        results[0].append(open_once(env, 0, ""))
        for key, conv_id in ids.items():
            results[key].append(open_once(env, key[0], conv_id))
    floor_time = statistics.median(t for t, _ in results[0])
    floor_rss = statistics.median(r for _, r in results[0])
    print(f"\nopen until the newest message is on screen (median of {args.runs} fresh processes)")
    print(f"  {'empty chat (floor)':<22}{floor_time * 1000:8.0f} ms  {floor_rss / 2**20:7.0f} MB peak RSS")
    for (size, version) in ids:
        took = statistics.median(t for t, _ in results[size, version])
        rss = statistics.median(r for _, r in results[size, version])
        label = f"{size:,} messages" + (" (v1)" if version == 1 else "")
        print(f"  {label:<22}{took * 1000:8.0f} ms  {rss / 2**20:7.0f} MB peak RSS"
              f"   {took / floor_time:.2f}x the time, +{(rss - floor_rss) / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
