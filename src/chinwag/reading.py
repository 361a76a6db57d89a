"""Reading a parsed conversation document: every field checked, older versions upgraded.

A document that is not ours at all (not an object, another ``format``, no ``id``, a ``version``
that is not a number) raises FormatError. Anything else that is wrong (a field of the wrong
type, a message without a role, a parent that names no message, parents in a cycle, a repeated
id) still opens, read-only, with a notice naming the file and the first bad field; the bad
values are replaced by harmless ones in memory and the file is never written. Notices name
fields and describe the kind of value found, never the value: a traceback or notice must not
print a conversation.

Version 1 had no message ids: it reads as one straight branch with ids derived from each
message (so two processes reading the same file agree), a reply marked ``superseded`` by
regenerate becoming a sibling of its replacement. Version 0 was version 1 without settings.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chinwag.conversation import (
    FORMAT,
    SUPERSEDED,
    VERSION,
    Conversation,
    FormatError,
    Message,
    Persona,
    now_iso,
)
from chinwag.dates import to_utc
from chinwag.model_settings import FIELDS as SETTINGS_FIELDS
from chinwag.model_settings import ModelSettings
from chinwag.sanitize import clean

UNKNOWN_ROLE = "unknown"  # shown in place of a role that is missing or not text; never sent
# The most tokens one message or reply can count: far above any model's window. A larger value
# is not a count (a hand edit, a damaged file); it would make `chinwag usage` report nonsense.
MAX_TOKENS = 10**9


def kind(value: Any) -> str:
    """The kind of a JSON value in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Problems:
    """The fields found wrong while reading, in the order met."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def wrong(self, where: str, expected: str, value: Any) -> None:
        self.found.append(f"{where} should be {expected}, not {kind(value)}")

    def note(self, text: str) -> None:
        self.found.append(text)

    def text(self, data: dict, key: str, where: str, default: str = "", nullable: bool = True) -> str:
        """``data[key]`` as text: missing (or null when ``nullable``) gives ``default``."""
        value = data.get(key)
        if isinstance(value, str):
            return value
        if value is not None or (key in data and not nullable):
            self.wrong(f"{where}.{key}" if where else key, "text", value)
        return default

    def optional_text(self, data: dict, key: str, where: str) -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        self.wrong(f"{where}.{key}", "text or null", value)
        return None

    def count(self, data: dict, key: str, where: str) -> int | None:
        """A token count: a whole number from 0 to MAX_TOKENS."""
        value = data.get(key)
        if value is None:
            return None
        if type(value) is int and 0 <= value <= MAX_TOKENS:
            return value
        expected = f"a whole number from 0 to {MAX_TOKENS:,}"
        if type(value) is int:
            self.note(f"{where}.{key} should be {expected}, not {'a negative' if value < 0 else 'a larger'} one")
        else:
            self.wrong(f"{where}.{key}", expected, value)
        return None

    def stamp(self, data: dict, key: str, where: str) -> str:
        """A date and time (ISO 8601, as chinwag writes them); missing or empty gives ""."""
        value = self.text(data, key, where)
        if value and to_utc(value) is None:
            self.note(f"{where + '.' if where else ''}{key} should be a date and time such as "
                      "2026-11-24T21:55:00Z, in years 1 to 9999 in UTC")
            return ""
        return value


USAGE_DETAILS = ("prompt_tokens_details", "completion_tokens_details")


def _usage(value: Any, where: str, problems: Problems) -> dict[str, Any] | None:
    """A reply's usage: every ``*_tokens`` field (at the top and in OpenAI's ``*_details``) a
    count (see Problems.count); anything wrong drops the whole usage (nothing is summed)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.wrong(where, "an object", value)
        return None
    for key in USAGE_DETAILS:
        details = value.get(key)
        if details is None:
            continue
        if not isinstance(details, dict):
            problems.wrong(f"{where}.{key}", "an object", details)
            return None
        if not _counts(details, f"{where}.{key}", problems):
            return None
    if not _counts(value, where, problems):
        return None
    if "estimated" in value and not isinstance(value["estimated"], bool):
        problems.wrong(f"{where}.estimated", "true or false", value["estimated"])
        return None
    return dict(value)


def _counts(data: dict, where: str, problems: Problems) -> bool:
    """Every ``*_tokens`` field of ``data`` a count (or null); False at the first that is not."""
    return all(data[key] is None or problems.count(data, key, where) is not None
               for key in data if isinstance(key, str) and key.endswith("_tokens"))


def _persona(value: Any, where: str, problems: Problems) -> Persona | None:
    if not isinstance(value, dict):
        problems.wrong(where, "an object", value)
        return None
    data = dict(value)
    name = problems.text(data, "name", where, default="assistant")
    prompt = problems.text(data, "system_prompt", where)
    data.pop("name", None)
    data.pop("system_prompt", None)
    return Persona(name or "assistant", prompt, extra=data)


# Optional message fields that must be text when present: a reply's reasoning, the provider a
# compared reply came from.
MESSAGE_TEXTS = ("reasoning", "provider")


def _message(data: dict, where: str, problems: Problems) -> Message:
    """A message from an object; the caller checks ``id`` and ``parent`` across the document."""
    data = dict(data)
    if "role" not in data:
        problems.note(f"{where}.role is missing")
        role = UNKNOWN_ROLE
    else:
        role = problems.text(data, "role", where, default=UNKNOWN_ROLE, nullable=False) or UNKNOWN_ROLE
    content = data.get("content")
    if content is not None and not isinstance(content, str):
        problems.wrong(f"{where}.content", "text", content)
        content = None
    for key in MESSAGE_TEXTS:  # known optional text fields kept in extra
        if data.get(key) is not None and not isinstance(data[key], str):
            problems.wrong(f"{where}.{key}", "text", data.pop(key))
    persona = data.pop("persona", None)
    message = Message(
        id=data.pop("id", None),  # checked by _link
        parent=data.pop("parent", None),
        role=role,
        content=content or "",
        created_at=problems.stamp(data, "created_at", where),
        tokens=problems.count(data, "tokens", where),
        model=problems.optional_text(data, "model", where),
        finish_reason=problems.optional_text(data, "finish_reason", where),
        usage=_usage(data.get("usage"), f"{where}.usage", problems),
        persona=_persona(persona, f"{where}.persona", problems) if persona is not None else None,
    )
    for key in ("role", "content", "created_at", "tokens", "model", "finish_reason", "usage"):
        data.pop(key, None)
    message.extra = data
    return message


def _link(messages: list[Message], problems: Problems) -> None:
    """Make ids unique text and every parent a message before it in the tree, noting fixes."""
    seen: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message.id, str) or not message.id:
            problems.wrong(f"messages[{i}].id", "non-empty text", message.id)
            message.id = f"invalid-{i}"
        elif message.id in seen:
            problems.note(f"messages[{i}].id repeats an earlier message's id")
            message.id = f"{message.id}~{i}"
        seen.add(message.id)
    for i, message in enumerate(messages):
        if message.parent is not None and not isinstance(message.parent, str):
            problems.wrong(f"messages[{i}].parent", "text or null", message.parent)
            message.parent = None
        elif message.parent is not None and message.parent not in seen:
            problems.note(f"messages[{i}].parent names no message in the document")
            message.parent = None
        elif message.parent == message.id:
            problems.note(f"messages[{i}].parent is the message itself")
            message.parent = None
    by_id = {m.id: m for m in messages}
    done: set[str] = set()
    for i, message in enumerate(messages):  # follow each chain up; a repeat is a cycle
        chain: set[str] = set()
        walk: Message | None = message
        while walk is not None and walk.id not in done:
            if walk.id in chain:
                problems.note(f"messages[{messages.index(walk)}].parent makes a cycle")
                walk.parent = None
                break
            chain.add(walk.id)
            walk = by_id.get(walk.parent) if walk.parent is not None else None
        done |= chain


def upgrade_v1(messages: list[Any]) -> tuple[list[Any], str | None]:
    """Give version-1 messages ids and parents: one straight branch, superseded replies as
    siblings of their replacement. Returns the messages and the id of the branch's leaf."""
    out: list[Any] = []
    occurrences: dict[str, int] = {}
    parent: str | None = None
    for item in messages:
        if not isinstance(item, dict):
            out.append(item)
            continue
        item = dict(item)
        key = "\x00".join(str(item.get(name)) for name in ("role", "created_at", "content"))
        n = occurrences[key] = occurrences.get(key, -1) + 1
        item["id"] = "v1-" + hashlib.sha256(f"{key}\x00{n}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
        item["parent"] = parent
        if item.pop(SUPERSEDED, False) is not True:
            parent = item["id"]
        out.append(item)
    return out, parent


def read_message(data: Any) -> Message:
    """One version-2 message; FormatError names the first bad field."""
    problems = Problems()
    if not isinstance(data, dict):
        raise FormatError(f"a message should be an object, not {kind(data)}")
    message = _message(data, "message", problems)
    if not isinstance(message.id, str) or not message.id:
        problems.wrong("message.id", "non-empty text", message.id)
    if message.parent is not None and not isinstance(message.parent, str):
        problems.wrong("message.parent", "text or null", message.parent)
    if problems.found:
        raise FormatError(problems.found[0])
    return message


def read_conversation(data: Any, source: str = "the document") -> Conversation:
    """Build a Conversation from a parsed document (see the module's docstring)."""
    if not isinstance(data, dict):
        raise FormatError("the document is not a JSON object")
    if data.get("format") != FORMAT:
        raise FormatError(f"not a chinwag conversation (format is {clean(str(data.get('format')))[:40]!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise FormatError(f"the version should be a whole number, not {kind(version)}")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise FormatError("the document has no id")
    problems = Problems()
    raw_messages = data.get("messages", [])
    if not isinstance(raw_messages, list):
        problems.wrong("messages", "a list", raw_messages)
        raw_messages = []
    current = data.get("current")
    if version < 2:
        raw_messages, current = upgrade_v1(raw_messages)
    messages: list[Message] = []
    for i, item in enumerate(raw_messages):
        if isinstance(item, dict):
            messages.append(_message(item, f"messages[{i}]", problems))
        else:
            problems.wrong(f"messages[{i}]", "an object", item)
    _link(messages, problems)
    if current is not None and not isinstance(current, str):
        problems.wrong("current", "text or null", current)
        current = None
    conv = Conversation(
        id=data["id"],
        title=problems.text(data, "title", ""),
        created_at=problems.stamp(data, "created_at", "") or now_iso(),
        updated_at=problems.stamp(data, "updated_at", ""),
        provider=problems.text(data, "provider", "", default="openai") or "openai",
        model=problems.text(data, "model", ""),
        persona=_document_persona(data, problems),
        settings=_settings(data.get("settings"), problems),
        messages=messages,
        extra={k: v for k, v in data.items() if k not in _TOP_FIELDS},
        current=current,
        edited=_edited(data.get("edited"), problems),
        source_version=version,
    )
    if version > VERSION:
        conv.read_only = True
        conv.read_only_reason = (
            f"{clean(source)} was written by a newer chinwag (format version {version}, this one "
            f"reads {VERSION}); opened read-only"
        )
    elif problems.found:
        more = len(problems.found) - 1
        conv.read_only = True
        conv.problems = problems.found
        conv.read_only_reason = (
            f"{clean(source)}: {problems.found[0]}{f' (and {more} more)' if more else ''}; "
            "opened read-only, the file is left as it is"
        )
    return conv


_TOP_FIELDS = (
    "format", "version", "id", "title", "created_at", "updated_at", "provider", "model",
    "persona", "settings", "current", "edited", "messages",
)


def _document_persona(data: dict, problems: Problems) -> Persona:
    value = data.get("persona")
    if value is None:
        return Persona("assistant", "")
    return _persona(value, "persona", problems) or Persona("assistant", "")


def _settings(value: Any, problems: Problems) -> ModelSettings:
    from chinwag.config import validate

    if value is None:
        return ModelSettings()
    if not isinstance(value, dict):
        problems.wrong("settings", "an object", value)
        return ModelSettings()
    settings = dict(value)
    for name in SETTINGS_FIELDS:
        if settings.get(name) is None:
            continue
        try:
            validate(name, settings[name])
        except ValueError as error:  # "<name> must be ..., not <the value>": the value left out
            problems.note(f"settings.{str(error).split(', not ')[0]}")
            del settings[name]
    return ModelSettings.from_dict(settings)


def _edited(value: Any, problems: Problems) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.wrong("edited", "an object of times", value)
        return {}
    if not all(isinstance(v, str) and to_utc(v) is not None for v in value.values()):
        problems.note("edited should hold only times such as 2026-11-24T21:56:40.123456Z")
        return {}
    return dict(value)
