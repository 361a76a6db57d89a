"""Two copies of one conversation made one: messages by id, document fields field by field.

Two chinwag processes may hold the same conversation. Each message has a random id, so
merging is a union: a message only the other copy has is added (two identical texts sent
within the same second are two messages), nothing is dropped. A document field (title,
persona, model, provider, current, and each setting on its own) takes the other copy's
value only when the other copy edited it later (``Conversation.edited``), so a rename in
one window is not reverted by the other's next save.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from chinwag.conversation import MERGED_FIELDS, SETTING, Conversation, Message
from chinwag.model_settings import ModelSettings

_ABSENT = object()


@dataclass
class Merged:
    """What a merge took from the other copy (empty and false when nothing)."""

    messages: list[Message] = field(default_factory=list)  # in the other copy's order
    fields: list[str] = field(default_factory=list)  # from MERGED_FIELDS, or "settings.<key>"

    def __bool__(self) -> bool:
        return bool(self.messages or self.fields)

    def add(self, other: "Merged") -> "Merged":
        self.messages += [m for m in other.messages if m not in self.messages]
        self.fields += [f for f in other.fields if f not in self.fields]
        return self


def merge(ours: Conversation, theirs: Conversation) -> Merged:
    """Bring into ``ours`` the messages only ``theirs`` has and the fields it edited later."""
    merged = Merged()
    theirs_as_ours: list[Message] = []  # theirs, in their order, as our objects where we have them
    for message in theirs.messages:
        mine = ours.get(message.id)
        if mine is not None:
            for name, value in message.extra.items():
                mine.extra.setdefault(name, copy.deepcopy(value))
            theirs_as_ours.append(mine)
        elif message.id not in ours.removed:
            merged.messages.append(message)
            theirs_as_ours.append(message)
    if merged.messages:
        ours.messages[:] = _placed(ours.messages, theirs_as_ours, merged.messages)
        ours.forget_tree()
    mine, other = ours.field_values(), theirs.field_values()
    for name in sorted(mine.keys() | other.keys() | theirs.edited.keys()):
        stamp = theirs.edited.get(name, "")
        if stamp <= ours.edited.get(name, ""):
            continue
        if other.get(name, _ABSENT) != mine.get(name, _ABSENT):
            _take(ours, theirs, name)
            merged.fields.append(name)
        ours.edited[name] = stamp
    for name, value in theirs.extra.items():
        ours.extra.setdefault(name, copy.deepcopy(value))
    if theirs.updated_at > ours.updated_at:
        ours.updated_at = theirs.updated_at
    return merged


def _take(ours: Conversation, theirs: Conversation, name: str) -> None:
    """Give ``ours`` the other copy's value of one merged field (a setting may be absent)."""
    if name.startswith(SETTING):
        key, settings, other = name[len(SETTING) :], ours.settings.to_dict(), theirs.settings.to_dict()
        if key in other:
            settings[key] = copy.deepcopy(other[key])
        else:
            settings.pop(key, None)
        ours.settings = ModelSettings.from_dict(settings)
    elif name == "current":
        leaf = theirs.leaf
        ours.current = leaf.id if leaf is not None else None
    elif name in MERGED_FIELDS:
        setattr(ours, name, copy.deepcopy(getattr(theirs, name)))


def _placed(ours: list[Message], theirs: list[Message], new: list[Message]) -> list[Message]:
    """``ours`` with the ``new`` messages of ``theirs`` put in, keeping both orders: each new
    message goes right after the last message it followed in ``theirs`` (so before the
    messages only we hold, which were never saved: the other copy saved first)."""
    index = {id(m): i for i, m in enumerate(ours)}
    is_new = {id(m) for m in new}
    following: dict[int, list[Message]] = {}
    anchor = -1
    for message in theirs:
        if id(message) in is_new:
            following.setdefault(anchor, []).append(message)
        elif id(message) in index:
            anchor = max(anchor, index[id(message)])
    out = list(following.get(-1, []))
    for i, message in enumerate(ours):
        out.append(message)
        out += following.get(i, [])
    return out
