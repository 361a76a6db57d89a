"""One conversation of a ChatGPT export -> ImportedConversation.

A ChatGPT conversation is a tree: ``mapping`` holds nodes by id, each with ``parent``,
``children`` and a ``message`` (``author.role``, ``create_time``, ``content`` with its
``content_type`` and ``parts``, ``metadata.model_slug``); ``current_node`` is the leaf shown.
Editing a message or regenerating a reply added a sibling node, so every branch is there.

Only what the ChatGPT page shows as chat is imported as messages: user and assistant
text. System and tool nodes, hidden ones (``weight`` 0, ``is_visually_hidden_from_conversation``,
custom instructions in ``user_editable_context``), reasoning (``thoughts``,
``reasoning_recap``), tool calls (a ``recipient`` other than ``all``) and empty nodes are
left out, and their children hang from the nearest message that is kept; a canvas the
reply wrote (``canmore.create_textdoc``) is kept, as a fenced block. The text of
``thoughts`` nodes becomes the reasoning of the reply they led to (kept apart, as a reasoning
model's is). Images and files are noted in the text (``[image: photo.png]``); nothing is
fetched.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from chinwag.importers.plain import (
    ASSISTANT,
    USER,
    BadConversation,
    ImportedConversation,
    ImportedMessage,
    RawNode,
    assemble,
    fenced,
    iso_from_epoch,
    message_id,
    one_line,
    source_key,
    text_or_none,
)

SOURCE = "chatgpt"
SHOWN_TYPES = ("text", "multimodal_text")
MODEL_LENGTH = 200
FINISH = {"stop": "stop", "max_tokens": "length", "interrupted": "interrupted"}
CANVAS = ("canmore.create_textdoc", "canmore.update_textdoc")


def looks_like(data: Any) -> bool:
    return isinstance(data, dict) and "mapping" in data


def parse(data: Any) -> ImportedConversation:
    if not isinstance(data, dict):
        raise BadConversation("not a JSON object")
    mapping = data.get("mapping")
    if not isinstance(mapping, dict):
        raise BadConversation("its mapping is not an object")
    source_id = source_key(data, data.get("id"), data.get("conversation_id"))
    default_model = text_or_none(data.get("default_model_slug"), MODEL_LENGTH)

    ids: dict[str, str] = {}  # mapping key -> message id
    taken: set[str] = set()
    for key in mapping:
        ids[key] = message_id(key, source_id, taken)
        taken.add(ids[key])
    listed_by = _listed_by(mapping)
    nodes = []
    for key, node in mapping.items():
        node = node if isinstance(node, dict) else {}
        parent = node.get("parent")
        if not isinstance(parent, str) or parent not in mapping:
            # no usable parent: a node that lists this one as a child is the next best thing
            parent = parent if parent is None and "parent" in node else listed_by.get(key)
        message = _message(node.get("message"), default_model)
        if message is not None:
            message.id = ids[key]
        reasoning = _thoughts(node.get("message")) if message is None else None
        nodes.append(RawNode(ids[key], ids.get(parent) if isinstance(parent, str) else None, message, reasoning))
    current = data.get("current_node")
    return assemble(
        SOURCE, source_id, text_or_none(data.get("title")), iso_from_epoch(data.get("create_time")),
        iso_from_epoch(data.get("update_time")), default_model, nodes,
        ids.get(current) if isinstance(current, str) else None,
    )


def _listed_by(mapping: dict[str, Any]) -> dict[str, str]:
    """Child id -> the first node that lists it among its children."""
    listed: dict[str, str] = {}
    for key, node in mapping.items():
        children = node.get("children") if isinstance(node, dict) else None
        for child in children if isinstance(children, list) else ():
            if isinstance(child, str) and child != key:
                listed.setdefault(child, key)
    return listed


def _message(message: Any, default_model: str | None) -> ImportedMessage | None:
    """The chat message a node shows, or None when the page would not show one."""
    if not isinstance(message, dict):
        return None
    author = message.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if role not in (USER, ASSISTANT):
        return None
    metadata = message.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    if metadata.get("is_visually_hidden_from_conversation") is True or metadata.get("is_user_system_message") is True:
        return None
    weight = message.get("weight")
    if isinstance(weight, (int, float, Decimal)) and not isinstance(weight, bool) and weight == 0:
        return None
    content = message.get("content")
    if not isinstance(content, dict):
        return None
    recipient = message.get("recipient")
    if role == ASSISTANT and recipient in CANVAS:
        text = _canvas(content, recipient)  # a document the reply wrote: shown as a card
    elif recipient not in (None, "all") or content.get("content_type") not in SHOWN_TYPES:
        return None  # a call to a tool (browser, python, ...), or not text
    else:
        text = _text(content, metadata)
    if not text.strip():
        return None
    model = None
    if role == ASSISTANT:
        model = (
            text_or_none(metadata.get("model_slug"), MODEL_LENGTH)
            or text_or_none(metadata.get("default_model_slug"), MODEL_LENGTH)
            or default_model
        )
    finish = metadata.get("finish_details")
    finish_reason = FINISH.get(text_or_none(finish.get("type")) or "") if isinstance(finish, dict) and role == ASSISTANT else None
    return ImportedMessage(
        id="",
        parent=None,
        role=role,
        text=text,
        created_at=iso_from_epoch(message.get("create_time")),
        model=model,
        finish_reason=finish_reason,
    )


def _canvas(content: dict[str, Any], recipient: str) -> str:
    """A canvas the reply created or rewrote, as a fenced block under its name; other edits
    are only noted (the export holds the patterns, not the result)."""
    try:
        spec = json.loads(text_or_none(content.get("text")) or "")
    except (ValueError, RecursionError):
        return ""
    if not isinstance(spec, dict):
        return ""
    if recipient == "canmore.create_textdoc":
        name = text_or_none(spec.get("name"), 300) or "canvas"
        kind = text_or_none(spec.get("type"), 60) or ""
        body = text_or_none(spec.get("content")) or ""
        if kind.startswith("code/"):
            return fenced(f"canvas: {name}", body, kind.removeprefix("code/"))
        return f"[canvas: {one_line(name)}]\n\n{body}" if body.strip() else ""
    updates = [u for u in spec.get("updates") or () if isinstance(u, dict)] if isinstance(spec.get("updates"), list) else []
    if len(updates) == 1 and updates[0].get("pattern") == ".*":
        body = text_or_none(updates[0].get("replacement")) or ""
        return f"[canvas rewritten]\n\n{body}" if body.strip() else ""
    return f"[canvas edited: {len(updates)} change{'s' if len(updates) != 1 else ''}]" if updates else ""


def _thoughts(message: Any) -> str | None:
    """The text of a reasoning node (``thoughts``): each thought's summary, then its content."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, dict) or content.get("content_type") != "thoughts":
        return None
    thoughts = content.get("thoughts")
    pieces = []
    for thought in thoughts if isinstance(thoughts, list) else ():
        if isinstance(thought, dict):
            summary = text_or_none(thought.get("summary")) or ""
            body = text_or_none(thought.get("content")) or ""
            pieces.append("\n\n".join(p for p in (summary.strip(), body.strip()) if p))
    return "\n\n".join(p for p in pieces if p) or None


def _text(content: dict[str, Any], metadata: dict[str, Any]) -> str:
    parts = content.get("parts")
    if not isinstance(parts, list):
        text = content.get("text")
        parts = [text] if isinstance(text, str) else []
    files = _attachments(metadata)
    pieces = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict):
            note = _note(part, files)
            if note:
                pieces.append(note)
    pieces += [f"[file: {name}]" for name in files.values()]  # those no part pointed at
    return "\n\n".join(piece for piece in pieces if piece)


def _attachments(metadata: dict[str, Any]) -> dict[str, str]:
    """Uploaded file id -> its name, from the message's metadata."""
    found: dict[str, str] = {}
    attachments = metadata.get("attachments")
    for item in attachments if isinstance(attachments, list) else ():
        if isinstance(item, dict):
            name = text_or_none(item.get("name"), 300) or text_or_none(item.get("id"), 300)
            if name:
                found[text_or_none(item.get("id"), 300) or name] = one_line(name)
    return found


def _note(part: dict[str, Any], files: dict[str, str]) -> str:
    kind = text_or_none(part.get("content_type"), 100) or "attachment"
    if kind == "audio_transcription":
        return text_or_none(part.get("text")) or ""
    if kind == "image_asset_pointer":
        pointer = text_or_none(part.get("asset_pointer"), 300) or ""
        file_id = pointer.rpartition("://")[2] or pointer
        name = files.pop(file_id, None) or file_id or "image"
        return f"[image: {one_line(name)}]"
    if kind in ("audio_asset_pointer", "real_time_user_audio_video_asset_pointer"):
        return "[audio]"
    return f"[{one_line(kind.removesuffix('_asset_pointer'))}]"
