"""The plain form every importer produces, and the tree repairs they share.

An export is read into ImportedConversation objects: chat messages only (user and
assistant), each with its source id and the source id of the message it follows, in an
order where a parent always comes before its children. Nothing here knows chinwag's
document; ``convert`` turns this form into one.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

USER = "user"
ASSISTANT = "assistant"

# A source id we keep as the message id: what real exports use (UUIDs, "client-created-root").
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}\Z")
REASONING_PIECES = 64  # hidden reasoning nodes carried down to one reply, at most
_LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc).timestamp()


@dataclass
class ImportedMessage:
    id: str  # the source's id when it is a sane one, else one derived from it
    parent: str | None  # the id of the chat message it follows; None for a root
    role: str  # USER or ASSISTANT
    text: str
    created_at: str | None = None  # ISO 8601, UTC, seconds ("2024-05-01T10:15:00Z")
    model: str | None = None
    finish_reason: str | None = None
    reasoning: str | None = None  # the reply's reasoning (ChatGPT thoughts, Claude thinking)


@dataclass
class ImportedConversation:
    source: str  # "chatgpt" or "claude"
    source_id: str  # the conversation's id in the export (or a digest of it when it has none)
    title: str
    created_at: str | None
    updated_at: str | None
    model: str | None  # the model the source names for the conversation, if any
    messages: list[ImportedMessage] = field(default_factory=list)  # parents before children
    current: str | None = None  # the leaf the source showed
    hidden: int = 0  # nodes left out: hidden, system, tool, reasoning, empty
    where: str = ""  # e.g. "conversations.json #3", for reports

    @property
    def branches(self) -> int:
        """How many leaves the tree has (1 for a straight conversation)."""
        parents = {m.parent for m in self.messages}
        return sum(1 for m in self.messages if m.id not in parents)


class BadConversation(ValueError):
    """This conversation cannot be imported; the message says why, for a person."""


# -- small readers for untrusted JSON ------------------------------------------


def text_or_none(value: Any, limit: int | None = None) -> str | None:
    if not isinstance(value, str):
        return None
    return value if limit is None else value[:limit]


def source_key(data: Any, *candidates: Any) -> str:
    """The export's id for a conversation (the first usable candidate), else a digest of it."""
    for value in candidates:
        if isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable():
            return value
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def one_line(text: str) -> str:
    """A file name or label for a ``[note: ...]``: one line, no closing bracket inside."""
    return " ".join(text.replace("]", ")").split())


def fenced(label: str, body: str, language: str = "") -> str:
    """``[label]`` then ``body`` as a fenced code block (a fence longer than any inside it)."""
    language = language if language.replace("-", "_").replace("+", "p").isidentifier() else ""
    fence = "```"
    while fence in body:
        fence += "`"
    return f"[{one_line(label)}]\n\n{fence}{language}\n{body}\n{fence}"


def iso_from_epoch(value: Any) -> str | None:
    """Unix seconds (int, float or Decimal) -> ISO 8601 UTC; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        seconds = float(value)
    except (OverflowError, ValueError):
        return None
    if not 0 <= seconds < _LATEST:  # also rejects NaN
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_from_text(value: Any) -> str | None:
    """An ISO 8601 timestamp (any offset, fractions) -> ISO 8601 UTC seconds; None if not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        return iso_from_epoch(when.timestamp())
    except (OverflowError, ValueError, OSError):
        return None


def message_id(raw: Any, salt: str, taken: set[str]) -> str:
    """The id to use for a source message: its own when sane and not taken, else a digest."""
    if isinstance(raw, str) and _SAFE_ID.match(raw) and raw not in taken:
        return raw
    n = 0
    while True:
        digest = hashlib.sha256(f"{salt}\0{raw!r}\0{n}".encode("utf-8", "replace")).hexdigest()
        candidate = f"x{digest[:23]}"
        if candidate not in taken:
            return candidate
        n += 1


# -- the tree --------------------------------------------------------------------


@dataclass
class RawNode:
    """A node as a source holds it: shown as a chat message or not (``message`` None)."""

    id: str
    parent: str | None
    message: ImportedMessage | None
    reasoning: str | None = None  # a hidden node's reasoning: it goes to the reply below it


def build_tree(nodes: list[RawNode], current: str | None) -> tuple[list[ImportedMessage], str | None, int]:
    """(chat messages in creation order, parents first; the current leaf; how many nodes were
    left out). The source's parent pointers are the truth: a parent that is missing makes a
    root, a cycle is cut where it closes, and a hidden node's children hang from its nearest
    shown ancestor; the reasoning of hidden nodes between a reply and that ancestor becomes
    the reply's. The current leaf is the current node, or its nearest shown ancestor when it
    is hidden: the source showed root -> current node, never what lies below it (a hidden
    current node's shown "children" are a continuation it did not show). No current node, or
    none shown above it, means the newest leaf."""
    by_id = {node.id: node for node in nodes}
    parent: dict[str, str | None] = {}
    for node in nodes:
        claimed = node.parent
        parent[node.id] = claimed if claimed in by_id and claimed != node.id else None
    _cut_cycles(parent)

    # hidden node -> (its nearest shown ancestor, the reasoning on the hidden stretch down to it)
    above: dict[str, tuple[str | None, tuple[str, ...]]] = {}

    def shown_ancestor(node_id: str | None) -> tuple[str | None, tuple[str, ...]]:
        """The nearest ancestor-or-self that is a chat message, and the reasoning of the hidden
        nodes passed on the way (iterative: trees can be deep)."""
        path = []
        while node_id is not None and node_id not in above and by_id[node_id].message is None:
            path.append(node_id)
            node_id = parent[node_id]
        if node_id is None or by_id[node_id].message is not None:
            found: tuple[str | None, tuple[str, ...]] = (node_id, ())
        else:
            found = above[node_id]
        for step in reversed(path):  # top down, so reasoning reads in order
            thought = by_id[step].reasoning
            if thought and len(found[1]) < REASONING_PIECES:
                found = (found[0], found[1] + (thought,))
            above[step] = found
        return found

    children: dict[str | None, list[str]] = {}
    for node in nodes:
        if node.message is not None:
            up, thoughts = shown_ancestor(parent[node.id])
            node.message.parent = up
            if thoughts and node.message.role == ASSISTANT:
                node.message.reasoning = "\n\n".join(t for t in (*thoughts, node.message.reasoning) if t)
            children.setdefault(up, []).append(node.id)

    ordered = _creation_order(children, by_id)
    leaf = _current_leaf(shown_ancestor(current)[0] if current in by_id else None, ordered, children)
    return ordered, leaf, len(nodes) - len(ordered)


def assemble(source: str, source_id: str, title: str | None, created: str | None, updated: str | None,
             model: str | None, nodes: list[RawNode], current: str | None) -> ImportedConversation:
    """The conversation from its fields and its nodes as the source holds them."""
    messages, leaf, hidden = build_tree(nodes, current)
    created = created or min((m.created_at for m in messages if m.created_at), default=None)
    return ImportedConversation(source, source_id, title or "", created, updated or created, model,
                                messages, leaf, hidden)


def _cut_cycles(parent: dict[str, str | None]) -> None:
    """Make the node where a parent chain loops back into itself a root."""
    state: dict[str, int] = {}  # 1: on the chain being walked, 2: known to reach a root
    for start in parent:
        chain = []
        node = start
        while node is not None and node not in state:
            state[node] = 1
            chain.append(node)
            node = parent[node]
        if node is not None and state[node] == 1:  # came back to the chain: cut its last link
            parent[chain[-1]] = None
        for step in chain:
            state[step] = 2


def _creation_order(children: dict[str | None, list[str]], by_id: dict[str, RawNode]) -> list[ImportedMessage]:
    """Parents first; among the messages whose parent is out, the earliest (then source order)."""
    rank = {node_id: i for i, node_id in enumerate(by_id)}
    heap: list[tuple[str, int, str]] = []
    inherited: dict[str, str] = {}

    def push(node_id: str, above: str) -> None:
        when = by_id[node_id].message.created_at or above  # type: ignore[union-attr]
        inherited[node_id] = when
        heapq.heappush(heap, (when, rank[node_id], node_id))

    for root in children.get(None, []):
        push(root, "")
    ordered = []
    while heap:
        _, _, node_id = heapq.heappop(heap)
        ordered.append(by_id[node_id].message)
        for child in children.get(node_id, []):
            push(child, inherited[node_id])
    return ordered  # type: ignore[return-value]


def _current_leaf(shown: str | None, ordered: list[ImportedMessage], children: dict[str | None, list[str]]) -> str | None:
    """``shown`` (the end of the branch the source showed), else the newest leaf."""
    if not ordered:
        return None
    if shown is None:
        return next(m.id for m in reversed(ordered) if m.id not in children)
    return shown
