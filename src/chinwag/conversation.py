"""The conversation document in memory: Message, Conversation and their rules.

Format version 2 (README "Conversations on disk"): the messages form a tree. Every message
has a random ``id`` and the ``parent`` it follows; ``messages`` holds every node in creation
order and nothing is ever overwritten; ``current`` names the leaf the user sees, and
``path`` (root -> current) is what the chat shows and what is sent, counted and exported.
Fields we do not know are kept in ``extra`` and written back unchanged. Reading a parsed
document (checks, older versions) is in ``chinwag.reading``. Nothing here touches files
or the network.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from chinwag.model_settings import ModelSettings

FORMAT = "chinwag.conversation"
VERSION = 2

USER = "user"
ASSISTANT = "assistant"
EVENT = "event"  # not sent to the model: a persona switch and the like
CHAT_ROLES = (USER, ASSISTANT)

INTERRUPTED = "interrupted"  # finish_reason of a reply stopped by the user
CUT_OFF = "cut_off"  # finish_reason of a reply whose stream ended without one
FAILED = "failed"  # finish_reason of a reply that failed part-way
SUPERSEDED = "superseded"  # version 1's mark on a reply replaced by regenerate (now: a sibling)
REASONING = "reasoning"  # message field: a reply's reasoning text, saved apart, never sent back

TITLE_LENGTH = 60

# Document fields that two writers merge one by one, the newer edit winning (see ``edited``);
# each key of ``settings`` is merged on its own too, as "settings.<key>".
MERGED_FIELDS = ("title", "provider", "model", "persona", "current")
SETTING = "settings."


class FormatError(ValueError):
    """The data is not a chinwag conversation document we can read."""


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_stamp() -> str:
    """When a document field was edited: ISO 8601 to the microsecond, sortable as text."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id(when: datetime | None = None) -> str:
    """A sortable, file-name-safe conversation id such as ``20261124-215500-3f2a9c``."""
    when = when or datetime.now(timezone.utc)
    return f"{when:%Y%m%d-%H%M%S}-{os.urandom(3).hex()}"


def new_message_id() -> str:
    """A random message id: 64 bits, so two identical messages are never one."""
    return os.urandom(8).hex()


def title_from(text: str) -> str:
    """A one-line title from the first user message."""
    line = " ".join(text.split())
    if len(line) <= TITLE_LENGTH:
        return line or "New conversation"
    cut = line[:TITLE_LENGTH].rsplit(" ", 1)[0] or line[:TITLE_LENGTH]
    return cut + "…"


@dataclass
class Persona:
    name: str
    system_prompt: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "name": self.name, "system_prompt": self.system_prompt}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Persona":
        data = dict(data)
        return cls(
            name=str(data.pop("name", "assistant")),
            system_prompt=str(data.pop("system_prompt", "")),
            extra=data,
        )


@dataclass(eq=False)
class Message:
    role: str
    content: str
    created_at: str = field(default_factory=now_iso)
    tokens: int | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    # Persona switch events carry the new persona here.
    persona: Persona | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_message_id)
    parent: str | None = None  # the id of the message this one follows; None for a root

    @property
    def is_chat(self) -> bool:
        """True for messages that are sent to the model (user and assistant)."""
        return self.role in CHAT_ROLES

    @property
    def is_sent(self) -> bool:
        """True for chat messages a request carries: a reply without text (stopped while the
        model was still thinking) stays in the document but is never sent back, since servers
        refuse an empty assistant message."""
        return self.role == USER or (self.role == ASSISTANT and bool(self.content.strip()))

    @property
    def is_partial(self) -> bool:
        return self.finish_reason in (INTERRUPTED, CUT_OFF, FAILED)

    def copy(self) -> "Message":
        """An independent copy with the same id and parent."""
        return replace(
            self,
            usage=copy.deepcopy(self.usage),
            persona=copy.deepcopy(self.persona),
            extra=copy.deepcopy(self.extra),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "parent": self.parent}
        out.update((k, v) for k, v in self.extra.items() if k not in ("id", "parent"))
        out["role"] = self.role
        out["content"] = self.content
        out["created_at"] = self.created_at
        for name in ("tokens", "model", "finish_reason", "usage"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.persona is not None:
            out["persona"] = self.persona.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Any) -> "Message":
        """One message of a version 2 document; FormatError names the first bad field."""
        from chinwag.reading import read_message  # reading builds on this module

        return read_message(data)


_UNDER_CURRENT: Any = object()
_ABSENT: Any = object()  # add(): "under the current leaf", as opposed to None (a new root)


@dataclass(eq=False)
class Conversation:
    id: str = field(default_factory=new_id)
    title: str = ""
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    provider: str = "openai"
    model: str = "gpt-4o-mini"
    persona: Persona = field(default_factory=lambda: Persona("assistant", ""))
    settings: ModelSettings = field(default_factory=ModelSettings)
    messages: list[Message] = field(default_factory=list)  # every node, in creation order
    extra: dict[str, Any] = field(default_factory=dict)
    current: str | None = None  # the id of the leaf shown; None or unknown: the last message
    # When each merged field was last edited (now_stamp()): assignments keep it up to date,
    # the store stamps what was changed in place (e.g. ``persona.name = ...``).
    edited: dict[str, str] = field(default_factory=dict)
    # Set when the file was written by a newer chinwag or holds a field of the wrong type:
    # we show it but never save it. ``problems`` lists every field that was wrong.
    read_only: bool = False
    read_only_reason: str = ""
    problems: list[str] = field(default_factory=list)
    source_version: int = VERSION  # the format version the document was read from

    def __post_init__(self) -> None:
        if not self.updated_at:
            self.updated_at = self.created_at
        self._tree_key: tuple = ()
        self._path: tuple[tuple, list[Message]] = ((), [])
        self._order_cache: tuple[tuple, dict[str, int]] = ((), {})
        self._by_id: dict[str, Message] = {}
        self._children: dict[str | None, list[Message]] = {}
        self.removed: set[str] = set()  # ids taken back out (a failed empty reply): never merged back
        self._tracking = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_tracking") and (name in MERGED_FIELDS or name == "settings"):
            before = self.field_values()
            object.__setattr__(self, name, value)
            self.stamp_changes(before)
        else:
            object.__setattr__(self, name, value)

    def field_values(self) -> dict[str, Any]:
        """The fields two writers merge one by one, as plain data (settings key by key)."""
        leaf = self.leaf
        values: dict[str, Any] = {
            "title": self.title,
            "provider": self.provider,
            "model": self.model,
            "persona": self.persona.to_dict(),
            "current": leaf.id if leaf is not None else None,
        }
        values.update((SETTING + key, value) for key, value in self.settings.to_dict().items())
        return values

    def stamp_changes(self, before: dict[str, Any], since: dict[str, str] | None = None) -> None:
        """Stamp now every field whose value differs from ``before`` (unless stamped after ``since``)."""
        now, stamp = self.field_values(), now_stamp()
        for name in now.keys() | before.keys():
            if now.get(name, _ABSENT) != before.get(name, _ABSENT):
                if since is None or self.edited.get(name, "") <= since.get(name, ""):
                    self.edited[name] = stamp

    # -- the tree ------------------------------------------------------------

    def _tree(self) -> tuple[dict[str, Message], dict[str | None, list[Message]]]:
        """Messages by id and children by parent id, rebuilt only when ``messages`` changed."""
        messages = self.messages
        key = (len(messages), id(messages[0]) if messages else 0, id(messages[-1]) if messages else 0)
        if key != self._tree_key:
            by_id: dict[str, Message] = {}
            children: dict[str | None, list[Message]] = {}
            for message in messages:
                by_id.setdefault(message.id, message)
                children.setdefault(message.parent, []).append(message)
            self._by_id, self._children, self._tree_key = by_id, children, key
        return self._by_id, self._children

    def forget_tree(self) -> None:
        """Call after changing ``messages`` other than by add/remove (a merge does)."""
        self._tree_key = ()
        self._path = ((), [])

    def get(self, message_id: str | None) -> Message | None:
        if message_id is None:
            return None
        return self._tree()[0].get(message_id)

    def children(self, message_id: str | None) -> list[Message]:
        """The messages that follow ``message_id`` (the roots for None), oldest first."""
        return list(self._tree()[1].get(message_id, ()))

    def siblings(self, message_id: str) -> list[Message]:
        """The versions of a message, itself included, oldest first: the chat messages that
        follow the same chat message (or start the conversation), directly or after events. A
        new branch starts with copies of the persona switches it carries over (regenerate after
        a switch), so its reply follows an event, yet is a version of the reply it replaces.
        An event has no versions: [itself]."""
        message = self.get(message_id)
        if message is None:
            raise KeyError(message_id)
        if not message.is_chat:
            return [message]
        by_id, children = self._tree()
        anchor = by_id.get(message.parent) if message.parent is not None else None
        up: set[str] = set()
        while anchor is not None and not anchor.is_chat and anchor.id not in up:  # up past events
            up.add(anchor.id)
            anchor = by_id.get(anchor.parent) if anchor.parent is not None else None
        found: list[Message] = []
        down: set[str] = set()
        waiting = list(children.get(anchor.id if anchor is not None else None, ()))
        while waiting:  # down past events
            node = waiting.pop()
            if node.is_chat:
                found.append(node)
            elif node.id not in down:
                down.add(node.id)
                waiting.extend(children.get(node.id, ()))
        if down:  # from several lists: back into creation order
            order = self._order()
            found.sort(key=lambda m: order.get(m.id, 0))
        elif len(found) > 1:
            found.reverse()  # popped from the end of one list
        return found

    def _order(self) -> dict[str, int]:
        """Each message's place in ``messages`` (creation order), made again when they change."""
        key = self._tree_key
        if self._order_cache[0] != key or not key:
            self._order_cache = (key, {m.id: i for i, m in enumerate(self.messages)})
        return self._order_cache[1]

    def sibling_position(self, message_id: str) -> tuple[int, int]:
        """(1-based position among its siblings, how many there are): ``2/3`` on screen."""
        siblings = self.siblings(message_id)
        return next(i for i, m in enumerate(siblings, 1) if m.id == message_id), len(siblings)

    @property
    def leaf(self) -> Message | None:
        """The message the current path ends at."""
        return self.get(self.current) or (self.messages[-1] if self.messages else None)

    @property
    def path(self) -> list[Message]:
        """Root -> current leaf, events included: what the chat shows and what is sent.
        Walked again only when the tree or the leaf changed (a fresh list each time)."""
        leaf = self.leaf
        if leaf is None:
            return []
        self._tree()
        key = (self._tree_key, id(leaf))
        if key != self._path[0]:
            self._path = (key, self.path_to(leaf.id))
        return list(self._path[1])

    def path_to(self, message_id: str) -> list[Message]:
        """Root -> the message ``message_id``."""
        by_id = self._tree()[0]
        out: list[Message] = []
        seen: set[str] = set()
        message = by_id.get(message_id)
        while message is not None and message.id not in seen:
            seen.add(message.id)
            out.append(message)
            message = by_id.get(message.parent) if message.parent is not None else None
        out.reverse()
        return out

    def newest_leaf(self, message_id: str) -> Message:
        """The most recently created message under ``message_id`` (itself when it has none)."""
        message = self.get(message_id)
        if message is None:
            raise KeyError(message_id)
        inside, newest = {message.id}, message
        for candidate in self.messages[self.messages.index(message) + 1 :]:
            if candidate.parent in inside:
                inside.add(candidate.id)
                newest = candidate
        return newest

    def select(self, message_id: str) -> Message:
        """Show the branch through ``message_id``, down to its newest leaf; returns that leaf."""
        leaf = self.newest_leaf(message_id)
        self.current = leaf.id
        return leaf

    # -- rules ---------------------------------------------------------------

    def touch(self) -> None:
        self.updated_at = now_iso()

    def add(self, message: Message, parent: str | None = _UNDER_CURRENT) -> Message:
        """Add ``message`` under ``parent`` (default: the current leaf; None: a new root) and
        make it current. The first user message names the conversation."""
        if parent is _UNDER_CURRENT:
            leaf = self.leaf
            parent = leaf.id if leaf is not None else None
        elif parent is not None and self.get(parent) is None:
            raise KeyError(f"no message {parent!r} in this conversation")
        while self.get(message.id) is not None or message.id in self.removed:
            message.id = new_message_id()
        message.parent = parent
        before = self.field_values()
        self.messages.append(message)
        object.__setattr__(self, "current", message.id)
        if message.role == USER and not self.title:
            object.__setattr__(self, "title", title_from(message.content))
        self.stamp_changes(before)
        self.touch()
        return message

    def add_user(self, text: str, parent: str | None = _UNDER_CURRENT) -> Message:
        return self.add(Message(USER, text), parent)

    def add_assistant(self, text: str = "", model: str | None = None, parent: str | None = _UNDER_CURRENT) -> Message:
        return self.add(Message(ASSISTANT, text, model=model or self.model), parent)

    def remove(self, message: Message) -> None:
        """Take back a message that has no children (a reply that failed before any text)."""
        if self.children(message.id):
            raise ValueError("only a message nothing follows can be taken back")
        self.messages.remove(message)
        self.removed.add(message.id)
        if self.current == message.id:
            self.current = message.parent
        self.touch()

    def switch_persona(self, persona: Persona) -> Message | None:
        """Make ``persona`` apply to the next reply; record the switch in the transcript."""
        if persona.name == self.persona.name and persona.system_prompt == self.persona.system_prompt:
            return None
        self.persona = persona
        return self.add(
            Message(EVENT, f"Persona changed to {persona.name}", persona=persona, extra={"kind": "persona"})
        )

    def rename(self, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise ValueError("A title cannot be empty.")
        self.title = title
        self.touch()

    @property
    def chat_messages(self) -> list[Message]:
        """The user and assistant messages on the current path."""
        return [m for m in self.path if m.is_chat]

    def last(self, role: str) -> Message | None:
        """The newest message of ``role`` on the current path."""
        for message in reversed(self.path):
            if message.role == role:
                return message
        return None

    # -- document ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        leaf = self.leaf
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "provider": self.provider,
            "model": self.model,
            "persona": self.persona.to_dict(),
            "settings": self.settings.to_dict(),
            "current": leaf.id if leaf is not None else None,
        }
        if self.edited:
            out["edited"] = dict(self.edited)
        out["messages"] = [m.to_dict() for m in self.messages]
        out.update({k: v for k, v in self.extra.items() if k not in out and k != "edited"})
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str = "the document") -> "Conversation":
        """Build from a parsed document (see ``chinwag.reading.read_conversation``)."""
        from chinwag.reading import read_conversation  # reading builds on this module

        return read_conversation(data, source)


def start_conversation(settings, resolved, persona) -> Conversation:
    """A new, empty conversation with the provider, model and persona in force."""
    return Conversation(
        provider=resolved.name,
        model=persona.model or resolved.model or "gpt-4o-mini",
        persona=persona.to_persona(),
        settings=persona.settings.over(settings.model_settings),
    )
