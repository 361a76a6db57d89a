"""The listing index: one Summary per conversation file, kept in ``<root>/index.json``.

Each entry remembers the file's stamp (mtime_ns, size, inode) so a listing re-reads only
the files that changed since. The index is a cache: when it is missing, unreadable or of
another version it is simply rebuilt from the documents.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from chinwag.conversation import Conversation

INDEX_NAME = "index.json"
INDEX_FORMAT = "chinwag.index"
INDEX_VERSION = 1

Stamp = tuple[int, int, int]  # st_mtime_ns, st_size, st_ino: any save changes at least one


@dataclass
class Summary:
    id: str
    title: str
    created_at: str
    updated_at: str
    provider: str
    model: str
    persona: str
    messages: int  # user and assistant messages (events not counted)
    tokens: int
    error: str | None = None  # why the file cannot be read; None when it can
    read_only: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = tuple(f.name for f in fields(Summary))
_TEXT = ("id", "title", "created_at", "updated_at", "provider", "model", "persona")


def _valid(summary: Summary) -> bool:
    """Every field of the type it should have (an index is only a cache: anything else is rebuilt)."""
    return (
        all(isinstance(getattr(summary, name), str) for name in _TEXT)
        and all(type(getattr(summary, name)) is int and getattr(summary, name) >= 0 for name in ("messages", "tokens"))
        and (summary.error is None or isinstance(summary.error, str))
        and isinstance(summary.read_only, bool)
    )


def summarize(conv: Conversation) -> Summary:
    from chinwag.tokens import count_conversation  # loads tiktoken: only when needed

    return Summary(
        id=conv.id,
        title=conv.title,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
        provider=conv.provider,
        model=conv.model,
        persona=conv.persona.name,
        messages=len(conv.chat_messages),
        tokens=count_conversation(conv),
        read_only=conv.read_only,
    )


def unreadable(conv_id: str, reason: str, stamp: Stamp) -> Summary:
    """The summary of a file we cannot read, dated by its modification time."""
    when = datetime.fromtimestamp(stamp[0] / 1e9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Summary(conv_id, "", when, when, "", "", "", 0, 0, error=reason)


def read_index(path: Path) -> dict[str, tuple[Summary, Stamp]]:
    """The entries of the index file; empty when it is missing or not ours."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT or data.get("version") != INDEX_VERSION:
        return {}
    entries = data.get("conversations")
    out: dict[str, tuple[Summary, Stamp]] = {}
    for item in entries if isinstance(entries, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            summary = Summary(*map(item.__getitem__, _FIELDS))
            stamp = (item["mtime_ns"], item["size"], item["ino"])
        except (TypeError, KeyError):
            continue
        if _valid(summary) and all(type(n) is int for n in stamp):
            out[summary.id] = (summary, stamp)
    return out


def dump_index(entries: dict[str, tuple[Summary, Stamp]]) -> bytes:
    items = [
        {**summary.to_json(), "mtime_ns": stamp[0], "size": stamp[1], "ino": stamp[2]}
        for summary, stamp in entries.values()
    ]
    data = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "conversations": items}
    return json.dumps(data, separators=(",", ":")).encode("utf-8")
