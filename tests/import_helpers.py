"""Export fixtures for the import tests: the hand-written samples and builders of odd ones."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "import"
CHATGPT = FIXTURES / "chatgpt.json"
CLAUDE = FIXTURES / "claude.json"

# Ids in the ChatGPT sample: the first message and its edit, and the leaves.
FIRST = "aaa21d4e-91b2-4c6f-b7a8-0f1e2d3c4b5a"
EDITED_FIRST = "aaa2c3f0-7e8d-4a1b-9c2d-3e4f5a6b7c8d"
REPLY_A = "c4d5e6f7-0a1b-4c2d-9e3f-405162738495"
REPLY_B = "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7"
EDITED_LEAF = "f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e"


def chatgpt_sample() -> list[dict[str, Any]]:
    return json.loads(CHATGPT.read_text(encoding="utf-8"))


def claude_sample() -> list[dict[str, Any]]:
    return json.loads(CLAUDE.read_text(encoding="utf-8"))


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def node(node_id: str, parent: str | None, role: str | None, text: str = "", children: list[str] | None = None,
         when: float | None = None, **message: Any) -> dict[str, Any]:
    """One ChatGPT mapping node (role None: no message, as the root has)."""
    body = None
    if role is not None:
        body = {
            "id": node_id,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": when,
            "content": {"content_type": "text", "parts": [text]},
            "weight": 1.0,
            "metadata": {},
            "recipient": "all",
        }
        body.update(message)
    return {"id": node_id, "message": body, "parent": parent, "children": children or []}


def chatgpt_conversation(nodes: list[dict[str, Any]], current: str | None = None, title: str = "Test",
                         conv_id: str = "conv-1", when: float = 1700000000.0) -> dict[str, Any]:
    return {
        "title": title, "create_time": when, "update_time": when + 100,
        "mapping": {n["id"]: n for n in nodes}, "current_node": current,
        "conversation_id": conv_id, "id": conv_id, "default_model_slug": "gpt-4o",
    }


def chain(*texts: str, start: float = 1700000000.0) -> list[dict[str, Any]]:
    """A root and alternating user/assistant messages m1, m2, ... in a straight line."""
    nodes = [node("root", None, None, children=["m1"] if texts else [])]
    for i, text in enumerate(texts, 1):
        role = "user" if i % 2 else "assistant"
        nodes.append(node(f"m{i}", "root" if i == 1 else f"m{i - 1}", role, text,
                          [f"m{i + 1}"] if i < len(texts) else [], when=start + i))
    return nodes


def deep_copy(data: Any) -> Any:
    return copy.deepcopy(data)
