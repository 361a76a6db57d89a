"""Conversations written straight to the store, for tests that need some history."""

from __future__ import annotations

from chinwag.conversation import Conversation
from chinwag.store import Store


def path_of(document: dict) -> list[dict]:
    """The messages of a saved v2 document on its current path, root first."""
    by_id = {m["id"]: m for m in document["messages"]}
    message, path = by_id.get(document.get("current")), []
    while message is not None:
        path.append(message)
        message = by_id.get(message["parent"])
    return path[::-1]


def saved(text: str, reply: str, when: str, model: str = "gpt-4o-mini") -> Conversation:
    """A two-message conversation saved with created_at and updated_at set to ``when``."""
    conv = Conversation(created_at=when, model=model)
    conv.add_user(text)
    conv.add_assistant(reply)
    conv.updated_at = when  # the store keeps it: lists are ordered by it
    Store().save(conv)
    return conv
