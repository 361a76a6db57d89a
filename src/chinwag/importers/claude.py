"""One conversation of a Claude export -> ImportedConversation.

A Claude conversation has ``uuid``, ``name``, ``created_at``, ``updated_at`` and
``chat_messages``: each with ``uuid``, ``sender`` (``human`` or ``assistant``), ``text``
and/or ``content`` blocks (``text``, ``thinking``, ``tool_use``, ``tool_result``),
``created_at``, ``attachments`` (with their ``extracted_content``), ``files``, and in newer
exports ``parent_message_uuid``, which makes the list a tree (an edit or a retry is a
sibling). Without parent ids the list is one straight conversation in its order.

Kept: the text blocks, artifacts the reply wrote (as fenced code), the text of attached
documents, and a note for each file; thinking blocks become the reply's reasoning (kept
apart, as a reasoning model's is). Left out: tool calls and their results.
"""

from __future__ import annotations

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
    iso_from_text,
    message_id,
    one_line,
    source_key,
    text_or_none,
)

SOURCE = "claude"
ROOT = "00000000-0000-4000-8000-000000000000"  # the parent of a first message
ROLES = {"human": USER, "user": USER, "assistant": ASSISTANT}


def looks_like(data: Any) -> bool:
    return isinstance(data, dict) and "chat_messages" in data


def parse(data: Any) -> ImportedConversation:
    if not isinstance(data, dict):
        raise BadConversation("not a JSON object")
    items = data.get("chat_messages")
    if not isinstance(items, list):
        raise BadConversation("its chat_messages is not a list")
    source_id = source_key(data, data.get("uuid"))
    model = text_or_none(data.get("model"), 200)

    items = [item if isinstance(item, dict) else {} for item in items]
    taken: set[str] = set()
    node_ids = []
    ids: dict[str, str] = {}  # uuid -> message id (the first message with a uuid wins it)
    for index, item in enumerate(items):
        raw = item.get("uuid")
        node_id = message_id(raw if isinstance(raw, str) else f"#{index}", source_id, taken)
        taken.add(node_id)
        node_ids.append(node_id)
        if isinstance(raw, str):
            ids.setdefault(raw, node_id)
    nodes = []
    for index, item in enumerate(items):
        if "parent_message_uuid" in item:
            parent = item["parent_message_uuid"]
            parent_id = ids.get(parent) if isinstance(parent, str) and parent != ROOT else None
        else:  # older exports: the list is the conversation, in order
            parent_id = node_ids[index - 1] if index else None
        message = _message(item, model)
        if message is not None:
            message.id = node_ids[index]
        nodes.append(RawNode(node_ids[index], parent_id, message))
    current = text_or_none(data.get("current_leaf_message_uuid"))
    return assemble(
        SOURCE, source_id, text_or_none(data.get("name")), iso_from_text(data.get("created_at")),
        iso_from_text(data.get("updated_at")), model, nodes, ids.get(current) if current else None,
    )


def _message(item: dict[str, Any], model: str | None) -> ImportedMessage | None:
    role = ROLES.get(text_or_none(item.get("sender")) or "")
    if role is None:
        return None
    text = _text(item)
    if not text.strip():
        return None
    return ImportedMessage(
        id="",
        parent=None,
        role=role,
        text=text,
        created_at=iso_from_text(item.get("created_at")),
        model=model if role == ASSISTANT else None,
        reasoning=_thinking(item) if role == ASSISTANT else None,
    )


def _thinking(item: dict[str, Any]) -> str | None:
    blocks = item.get("content")
    pieces = [
        text_or_none(block.get("thinking")) or ""
        for block in (blocks if isinstance(blocks, list) else ())
        if isinstance(block, dict) and block.get("type") == "thinking"
    ]
    return "\n\n".join(p.strip() for p in pieces if p.strip()) or None


def _text(item: dict[str, Any]) -> str:
    pieces = []
    blocks = item.get("content")
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            pieces.append(text_or_none(block.get("text")) or "")
        elif kind == "tool_use" and block.get("name") == "artifacts":
            pieces.append(_artifact(block.get("input")))
    text = "\n\n".join(piece for piece in pieces if piece.strip())
    if not text.strip():
        text = text_or_none(item.get("text")) or ""
    notes = []
    for attachment in _dicts(item.get("attachments")):
        name = one_line(text_or_none(attachment.get("file_name"), 300) or "attachment")
        body = text_or_none(attachment.get("extracted_content")) or ""
        notes.append(f"[attachment: {name}]" + (f"\n\n{body}" if body.strip() else ""))
    for name in ("files", "files_v2"):
        for file in _dicts(item.get(name)):
            label = text_or_none(file.get("file_name"), 300)
            if label and f"[file: {one_line(label)}]" not in notes:
                notes.append(f"[file: {one_line(label)}]")
    return "\n\n".join(piece for piece in (text, *notes) if piece)


def _artifact(spec: Any) -> str:
    """An artifact the reply created, as a fenced block under its title."""
    if not isinstance(spec, dict):
        return ""
    title = text_or_none(spec.get("title"), 300) or "artifact"
    body = text_or_none(spec.get("content"))
    if body is None:
        return f"[artifact: {one_line(title)} (changed)]"
    return fenced(f"artifact: {title}", body, text_or_none(spec.get("language"), 40) or "")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
