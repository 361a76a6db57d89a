"""The recovery file: a draft (and the conversation it belongs to) that could not be saved.

When a save fails on the way out (a read-only data dir, a full disk, a file where the
folder should be), the draft in the composer and the unsaved conversation go to
``<state dir>/recovery.json`` (0600) so the next start can offer them back (``restore``).
One file: the newest failure wins.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chinwag import jsonread, paths
from chinwag.conversation import Conversation, FormatError, now_iso

if TYPE_CHECKING:
    from chinwag.store import Store

RECOVERY_NAME = "recovery.json"
RECOVERY_FORMAT = "chinwag.recovery"


@dataclass
class Recovered:
    draft: str
    saved_at: str
    conversation_id: str | None
    conversation: Conversation | None  # the unsaved document, when it could be kept and read
    restored: bool = False  # restore() saved the conversation back into the store


def recovery_file() -> Path:
    return paths.state_dir() / RECOVERY_NAME


def save(draft: str, conversation: Conversation | None = None) -> Path:
    """Keep ``draft`` and ``conversation``; returns the file. Raises OSError when it cannot."""
    from chinwag.store import atomic_write, encode

    path = recovery_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    document = json.loads(encode(conversation)) if conversation is not None else None
    data = {
        "format": RECOVERY_FORMAT,
        "saved_at": now_iso(),
        "draft": draft,
        "conversation_id": conversation.id if conversation is not None else None,
        "conversation": document,
    }
    atomic_write(path, json.dumps(data, indent=2).encode("ascii"))
    return path


def load() -> Recovered | None:
    """What the last failed save kept, or None (also for a file that is not ours)."""
    try:
        data: Any = jsonread.loads(recovery_file().read_bytes())
    except (OSError, jsonread.JsonProblem):
        return None
    if not isinstance(data, dict) or data.get("format") != RECOVERY_FORMAT:
        return None
    draft, conv_id = data.get("draft"), data.get("conversation_id")
    if not isinstance(draft, str) or not (conv_id is None or isinstance(conv_id, str)):
        return None
    conversation = None
    if data.get("conversation") is not None:
        with suppress(FormatError, RecursionError):
            conversation = Conversation.from_dict(data["conversation"], RECOVERY_NAME)
    saved_at = data.get("saved_at")
    return Recovered(draft, saved_at if isinstance(saved_at, str) else "", conv_id, conversation)


def restore(store: "Store") -> Recovered | None:
    """On start: what the last failed save kept, with its conversation saved back into ``store``
    (merged by id with what is there). The file is removed once the conversation is safe; while
    the store still cannot be written it stays, to be offered again."""
    from chinwag.store import StoreError

    found = load()
    if found is None:
        return None
    if found.conversation is not None and not found.conversation.read_only:
        try:
            store.save(found.conversation)
        except (OSError, StoreError):
            return found
        found.restored = True
    clear()
    return found


def clear() -> None:
    with suppress(FileNotFoundError):
        os.unlink(recovery_file())
