"""Counting a 2,000-message chat after one new message: cached counts vs a full recount.

Run by hand: python bench/bench_tokens.py
"""

from __future__ import annotations

import os
import tempfile
import time

from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.tokens import TokenCounter, warm_up

MODEL = "gpt-4o-mini"
SYSTEM = "You are a helpful assistant who answers briefly."
MESSAGES = 2000
ROUNDS = 20


def build() -> Conversation:
    conv = Conversation(model=MODEL)
    for i in range(MESSAGES):
        text = f"Message {i}: " + "the quick brown fox jumps over the lazy dog, again and again. " * 8
        conv.add_user(text) if i % 2 == 0 else conv.add_assistant(text)
    return conv


def forget(conv: Conversation) -> None:
    for message in conv.messages:
        message.__dict__.pop("_token_cache", None)


def main() -> None:
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="chinwag-bench-"))
    warm_up(MODEL)
    counter = TokenCounter(MODEL)
    conv = build()
    counter.count_request(SYSTEM, conv.messages)  # every message counted once, as in a live session

    cached, full = [], []
    for i in range(ROUNDS):
        conv.add(Message(USER if i % 2 == 0 else ASSISTANT, f"new message {i}"))
        start = time.perf_counter()
        with_cache = counter.count_request(SYSTEM, conv.messages)
        cached.append(time.perf_counter() - start)

        forget(conv)
        start = time.perf_counter()
        recount = TokenCounter(MODEL).count_request(SYSTEM, conv.messages)
        full.append(time.perf_counter() - start)
        assert with_cache == recount

    best_cached, best_full = min(cached), min(full)
    print(f"{len(conv.messages):,} messages, {with_cache:,} tokens, best of {ROUNDS} rounds")
    print(f"add one message + count, cached:  {best_cached * 1000:8.3f} ms")
    print(f"full recount without cache:       {best_full * 1000:8.3f} ms")
    print(f"ratio (full / cached):            {best_full / best_cached:8.1f}x")


if __name__ == "__main__":
    main()
