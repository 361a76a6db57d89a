"""Snapshots of the chat screen in a dark and a light theme (pytest-textual-snapshot).

Update with `pytest tests/test_tui_snapshots.py --snapshot-update` after a deliberate change
of look; the dark one is the screenshot in the README.
"""

from __future__ import annotations

import pytest
from tui_helpers import wait_for

from chinwag.model_settings import ModelSettings
from chinwag.config import Settings
from chinwag.conversation import ASSISTANT, USER, Conversation, Message, Persona
from chinwag.tui.app import ChinwagApp
from chinwag.tui.widgets.token_meter import TokenMeter

REPLY = """Sure. Here is the weather **in a table**, since you asked so nicely:

| Day | Sky | High |
|-----|-----|------|
| Mon | sun | 21 °C |
| Tue | rain | 14 °C |

```python
def forecast(day: str) -> str:
    return "probably rain"
```

- bring an umbrella
- or don't, see if I care
"""


def fixed_conversation() -> Conversation:
    conversation = Conversation(
        id="20261124-215500-3f2a9c",
        title="Weather complaints",
        created_at="2026-11-24T21:55:00Z",
        model="gpt-4o-mini",
        provider="custom",
        persona=Persona("sassy", "You are a fed up and sassy assistant who hates answering questions."),
        settings=ModelSettings.defaults(),
    )
    for message in [
        Message(USER, "What is the weather like this week?", created_at="2026-11-24T21:55:03Z"),
        Message(
            ASSISTANT, REPLY, created_at="2026-11-24T21:55:05Z", model="gpt-4o-mini", finish_reason="stop",
            usage={"prompt_tokens": 38, "completion_tokens": 96},
        ),
        Message(USER, "And [bold]tomorrow[/bold]?", created_at="2026-11-24T21:56:00Z"),
        Message(
            ASSISTANT, "Tomorrow? Same as toda", created_at="2026-11-24T21:56:02Z", model="gpt-4o-mini",
            finish_reason="interrupted", usage={"prompt_tokens": 150, "completion_tokens": 6, "estimated": True},
        ),
    ]:
        conversation.add(message)  # each follows the one before: one branch
    conversation.updated_at = conversation.created_at
    return conversation


def snapshot_app(theme: str) -> ChinwagApp:
    settings = Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini", theme=theme)
    return ChinwagApp(settings, conversation=fixed_conversation())


async def meter_ready(pilot) -> None:
    """Wait for the meter, then until the screen stops changing (Markdown mounts its blocks late)."""
    pilot.app.chat.composer.cursor_blink = False  # a blinking cursor is not part of the look
    meter = pilot.app.screen.query_one(TokenMeter)
    await wait_for(pilot, lambda: meter.meter is not None, "meter")
    previous = None
    for _ in range(40):
        await pilot.pause(0.05)
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current


@pytest.mark.parametrize("theme", ["chinwag-dark", "chinwag-light"])
def test_chat_screen(snap_compare, theme):
    assert snap_compare(snapshot_app(theme), terminal_size=(120, 40), run_before=meter_ready)


def thinking_conversation() -> Conversation:
    conversation = fixed_conversation()
    conversation.model = "o3"
    reply = Message(
        ASSISTANT, "**4.** Two and two make four, in every base that has a 4 in it.",
        created_at="2026-11-24T21:57:05Z", model="o3", finish_reason="stop",
        usage={"prompt_tokens": 180, "completion_tokens": 140, "reasoning_tokens": 120, "cached_tokens": 128},
        extra={"reasoning": "The user asks for 2+2. That is 4.\n\nCheck: 2+2 = 4 in base 10; in base 3 it is 11, "
                            "so mention bases only in passing."},
    )
    conversation.messages = []
    conversation.add(Message(USER, "What is 2+2?", created_at="2026-11-24T21:57:00Z"))
    conversation.add(reply)
    conversation.updated_at = conversation.created_at
    return conversation


async def thinking_open(pilot) -> None:
    await meter_ready(pilot)
    await pilot.press("ctrl+t")
    await meter_ready(pilot)


def test_reply_with_a_thinking_block(snap_compare):
    settings = Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="o3", theme="chinwag-dark")
    app = ChinwagApp(settings, conversation=thinking_conversation())
    assert snap_compare(app, terminal_size=(120, 30), run_before=thinking_open)


def test_history_screen(snap_compare, monkeypatch):
    """F2 over three saved conversations, the newest highlighted with its preview."""
    import time

    from chinwag.store import Store

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    store = Store()
    for number, (title, question, answer) in enumerate([
        ("Weather complaints", "What is the weather like this week?", "Grey. Obviously."),
        ("Tea haiku", "Write a haiku about tea", "Steam curls from the cup"),
        ("Regex help", "How do I match a date?", "Use `\\d{4}-\\d{2}-\\d{2}`, then check the calendar."),
    ]):
        when = f"2026-11-2{number + 1}T10:00:00Z"
        conversation = Conversation(id=f"2026112{number + 1}-100000-00000{number}", title=title, created_at=when,
                                    model="gpt-4o-mini", provider="custom")
        conversation.add(Message(USER, question, created_at=when))
        conversation.add(Message(ASSISTANT, answer, created_at=when, model="gpt-4o-mini", finish_reason="stop"))
        conversation.updated_at = when
        store.save(conversation)

    async def history_ready(pilot) -> None:
        from chinwag.tui.screens.history import HistoryScreen

        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen), "history")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.table.row_count == 3, "the rows")
        await wait_for(pilot, lambda: "Steam" in str(screen.query_one("#history-preview").render())
                       or "Use" in str(screen.query_one("#history-preview").render()), "the preview")
        screen.search.cursor_blink = False
        await pilot.pause(0.2)

    try:
        app = ChinwagApp(Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini"))
        assert snap_compare(app, terminal_size=(120, 30), run_before=history_ready)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
