"""The conversation document in memory: Message, Conversation and their rules.

Format version 1 (see DESIGN.md). Fields we do not know are kept in ``extra`` and
written back unchanged. Nothing here touches files or the network.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from chinwag.model_settings import ModelSettings

FORMAT = "chinwag.conversation"
VERSION = 1

USER = "user"
ASSISTANT = "assistant"
EVENT = "event"  # not sent to the model: a persona switch and the like
CHAT_ROLES = (USER, ASSISTANT)

INTERRUPTED = "interrupted"  # finish_reason of a reply stopped by the user
CUT_OFF = "cut_off"  # finish_reason of a reply whose stream ended without one
FAILED = "failed"  # finish_reason of a reply that failed part-way
SUPERSEDED = "superseded"  # flag of a reply replaced by regenerate: kept, never sent again
REASONING = "reasoning"  # message field: a reply's reasoning text, saved apart, never sent back

TITLE_LENGTH = 60


class FormatError(ValueError):
    """The data is not a chinwag conversation document we can read."""


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(when: datetime | None = None) -> str:
    """A sortable, file-name-safe id such as ``20261124-215500-3f2a9c``."""
    when = when or datetime.now(timezone.utc)
    return f"{when:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


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


_MESSAGE_FIELDS = ("role", "content", "created_at", "tokens", "model", "finish_reason", "usage")


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

    @property
    def is_chat(self) -> bool:
        """True for messages that are sent to the model (user and assistant)."""
        return self.role in CHAT_ROLES

    @property
    def superseded(self) -> bool:
        return bool(self.extra.get(SUPERSEDED))

    @property
    def is_partial(self) -> bool:
        return self.finish_reason in (INTERRUPTED, CUT_OFF, FAILED)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
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
    def from_dict(cls, data: dict[str, Any]) -> "Message":
        if not isinstance(data, dict) or "role" not in data:
            raise FormatError("a message has no role")
        data = dict(data)
        values = {name: data.pop(name) for name in _MESSAGE_FIELDS if name in data}
        persona = data.pop("persona", None)
        content = values.get("content")
        values["content"] = "" if content is None else str(content)
        return cls(
            **values,
            persona=Persona.from_dict(persona) if isinstance(persona, dict) else None,
            extra=data,
        )


_TOP_FIELDS = (
    "format", "version", "id", "title", "created_at", "updated_at",
    "provider", "model", "persona", "settings", "messages",
)


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
    messages: list[Message] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Set when the file was written by a newer chinwag: we show it but never save it.
    read_only: bool = False
    read_only_reason: str = ""

    def __post_init__(self) -> None:
        if not self.updated_at:
            self.updated_at = self.created_at

    # -- rules ---------------------------------------------------------------

    def touch(self) -> None:
        self.updated_at = now_iso()

    def add(self, message: Message) -> Message:
        """Append a message; the first user message names the conversation."""
        self.messages.append(message)
        if message.role == USER and not self.title:
            self.title = title_from(message.content)
        self.touch()
        return message

    def add_user(self, text: str) -> Message:
        return self.add(Message(USER, text))

    def add_assistant(self, text: str = "", model: str | None = None) -> Message:
        return self.add(Message(ASSISTANT, text, model=model or self.model))

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
        return [m for m in self.messages if m.is_chat]

    def last(self, role: str) -> Message | None:
        for message in reversed(self.messages):
            if message.role == role:
                return message
        return None

    # -- document ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
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
            "messages": [m.to_dict() for m in self.messages],
        }
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: Any) -> "Conversation":
        """Build from a parsed document: migrate older versions, flag newer ones read-only."""
        if not isinstance(data, dict):
            raise FormatError("the document is not a JSON object")
        if data.get("format") != FORMAT:
            raise FormatError(f"not a chinwag conversation (format is {data.get('format')!r})")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise FormatError(f"the version {version!r} is not a number")
        read_only, reason = False, ""
        if version > VERSION:
            read_only = True
            reason = (
                f"written by a newer chinwag (format version {version}, this one reads {VERSION}); "
                "opened read-only"
            )
        else:
            data = migrate(data)
        if not isinstance(data.get("id"), str) or not data["id"]:
            raise FormatError("the document has no id")
        messages = data.get("messages", [])
        if not isinstance(messages, list):
            raise FormatError("messages is not a list")
        persona = data.get("persona")
        settings = data.get("settings")
        return cls(
            id=data["id"],
            title=str(data.get("title") or ""),
            created_at=str(data.get("created_at") or now_iso()),
            updated_at=str(data.get("updated_at") or ""),
            provider=str(data.get("provider") or "openai"),
            model=str(data.get("model") or ""),
            persona=Persona.from_dict(persona) if isinstance(persona, dict) else Persona("assistant", ""),
            settings=ModelSettings.from_dict(settings) if isinstance(settings, dict) else ModelSettings(),
            messages=[Message.from_dict(m) for m in messages],
            extra={k: v for k, v in data.items() if k not in _TOP_FIELDS},
            read_only=read_only,
            read_only_reason=reason,
        )


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older document up to VERSION in memory. Version 0 was a bare message list."""
    if data.get("version", VERSION) == 0:
        data = dict(data)
        data["version"] = VERSION
        data.setdefault("settings", {})
    return data
