"""Write N fake conversation documents of M messages each (for benchmarks, run by hand).

    python bench/make_conversations.py DIR [--count N] [--messages M] [--start 2026-08-01]

Other benches import ``generate``. Documents are written as JSON directly (no Store, no
fsync) so making thousands is quick; they follow the format of chinwag.conversation.
About one conversation in a hundred mentions the word RARE_WORD. Every reply carries a usage
object (some estimated, some with cached and reasoning tokens); most conversations use
gpt-4o-mini, some gpt-4o, o3 or a model with no known price, and some run on ollama.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

RARE_WORD = "zeppelin"
WORDS = (
    "the a weather model token stream python terminal chat reply question answer window budget "
    "rain sun cloud coffee code bug fix test file save load index search list export markdown "
    "persona sassy pirate friendly quick brown fox jumps over lazy dog why how what when where "
    "because maybe never always sometimes really quite rather about around through under"
).split()
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
SETUPS = [("openai", "gpt-4o-mini")] * 6 + [("openai", "gpt-4o"), ("openai", "o3"), ("custom", "mystery-model"),
                                             ("ollama", "llama3.2")]


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(rng: random.Random, rare: bool) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 60))
    if rare:
        words.insert(rng.randrange(len(words)), RARE_WORD)
    return " ".join(words).capitalize() + "."


def _usage(rng: random.Random, n: int, model: str) -> dict:
    usage = {"prompt_tokens": 40 * n + rng.randint(20, 400), "completion_tokens": rng.randint(10, 600)}
    if rng.random() < 0.3:
        usage["cached_tokens"] = usage["prompt_tokens"] // 2
    if model == "o3":
        usage["reasoning_tokens"] = usage["completion_tokens"] // 2
    if rng.random() < 0.05:
        usage = {"prompt_tokens": usage["prompt_tokens"], "completion_tokens": usage["completion_tokens"],
                 "estimated": True}
    return usage


def document(index: int, messages: int, rng: random.Random, start: datetime = START) -> dict:
    """One conversation document (format version 1)."""
    created = start + timedelta(minutes=17 * index)
    provider, model = SETUPS[index % len(SETUPS)]
    conv_id = f"{created:%Y%m%d-%H%M%S}-{index:06x}"
    rare_at = rng.randrange(messages) if messages and rng.random() < 0.01 else -1
    items = []
    for n in range(messages):
        when = _iso(created + timedelta(seconds=5 * n))
        text = _text(rng, n == rare_at)
        if n % 2 == 0:
            items.append({"role": "user", "content": text, "created_at": when})
        else:
            items.append({"role": "assistant", "content": text, "created_at": when,
                          "model": model, "finish_reason": "stop", "usage": _usage(rng, n, model)})
    return {
        "format": "chinwag.conversation",
        "version": 1,
        "id": conv_id,
        "title": items[0]["content"][:60] if items else "Empty",
        "created_at": _iso(created),
        "updated_at": _iso(created + timedelta(seconds=5 * messages)),
        "provider": provider,
        "model": model,
        "persona": {"name": "assistant", "system_prompt": "You are a helpful assistant."},
        "settings": {"temperature": 0.7, "max_tokens": 1024, "token_budget": 8000},
        "messages": items,
    }


def generate(root: Path, count: int, messages: int, seed: int = 0, start: datetime = START) -> list[str]:
    """Write ``count`` documents into ``root`` (17 minutes apart from ``start``); return their ids."""
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = []
    for index in range(count):
        doc = document(index, messages, rng, start)
        (root / f"{doc['id']}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False), "utf-8")
        ids.append(doc["id"])
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--start", type=datetime.fromisoformat, default=START,
                        help="when the first conversation starts (default 2025-01-01)")
    args = parser.parse_args()
    start = time.perf_counter()
    when = args.start if args.start.tzinfo else args.start.replace(tzinfo=timezone.utc)
    generate(args.root, args.count, args.messages, start=when)
    print(f"wrote {args.count} conversations of {args.messages} messages in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
