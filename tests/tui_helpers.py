"""Helpers for driving the chinwag app with Textual's pilot against the loopback server."""

from __future__ import annotations

import json
from collections.abc import Callable

from chinwag import paths
from chinwag.config import Settings
from chinwag.tui.app import ChinwagApp
from chinwag.tui.screens.chat import ChatScreen

SIZE = (110, 36)


def make_app(server=None, **settings) -> ChinwagApp:
    """An app talking to ``server`` (custom provider), or with no provider at all."""
    if server is not None:
        settings.setdefault("provider", "custom")
        settings.setdefault("base_url", server.base_url)
        settings.setdefault("model", "gpt-4o-mini")
        settings.setdefault("retries", 0)
        settings.setdefault("timeout", 5.0)
    return ChinwagApp(Settings(**settings))


async def wait_for(pilot, condition: Callable[[], object], what: str = "condition", steps: int = 400) -> None:
    """Let the app run until ``condition()`` holds (bounded; not a timing assertion)."""
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"gave up waiting for {what}")


def chat(app: ChinwagApp) -> ChatScreen:
    return app.chat


async def send(pilot, text: str) -> None:
    composer = chat(pilot.app).composer
    composer.focus()
    composer.text = text
    await pilot.press("enter")


def saved_documents() -> list[dict]:
    folder = paths.conversations_dir()
    if not folder.exists():
        return []
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json")) if p.name != "index.json"]


def only_document() -> dict:
    documents = saved_documents()
    assert len(documents) == 1, documents
    return documents[0]


def screen_text(app: ChinwagApp) -> str:
    """All text in the chat pane, as a person would read it."""
    from chinwag.tui.widgets.message import MessageView, Notice

    log = chat(app).log_view
    parts = []
    for child in log.children:
        if isinstance(child, MessageView):
            parts.append(str(child.header.render()))
            body = child.body
            parts.append(body.source if hasattr(body, "source") else str(body.render()))
        elif isinstance(child, Notice):
            parts.append(str(child.render()))
    return "\n".join(parts)


def replying(app: ChinwagApp) -> bool:
    return chat(app).replying
