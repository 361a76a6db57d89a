"""Snapshots of message mode, the tree view (F6) and compare (F7).

Update with `pytest tests/test_tui_branch_snapshots.py --snapshot-update` after a deliberate
change of look.
"""

from __future__ import annotations

from test_tui_snapshots import REPLY, meter_ready
from tui_helpers import send, wait_for

from chinwag.config import Settings
from chinwag.conversation import ASSISTANT, USER, Conversation, Message, Persona
from chinwag.model_settings import ModelSettings
from chinwag.tui.app import ChinwagApp

WHEN = "2026-11-24T21:55:00Z"


def branched_conversation() -> Conversation:
    """The weather chat with its second question edited (2/2) and that reply asked for twice."""
    conversation = Conversation(
        id="20261124-215500-3f2a9c", title="Weather complaints", created_at=WHEN, model="gpt-4o-mini",
        provider="custom", persona=Persona("sassy", "You are a fed up and sassy assistant."),
        settings=ModelSettings.defaults(),
    )

    def add(role: str, text: str, parent=None, model: str = "gpt-4o-mini", **where) -> Message:
        message = Message(role, text, created_at=WHEN, model=model if role == ASSISTANT else None,
                          finish_reason="stop" if role == ASSISTANT else None,
                          usage={"prompt_tokens": 40, "completion_tokens": 20} if role == ASSISTANT else None)
        return conversation.add(message, **({"parent": parent.id} if parent is not None else where))

    question = add(USER, "What is the weather like this week?", parent=None)
    reply = add(ASSISTANT, REPLY, question)
    add(USER, "And tomorrow?", reply)
    add(ASSISTANT, "Tomorrow? Same as today. Groundbreaking.", None)
    edited = add(USER, "And the weekend, for a picnic?", reply)
    add(ASSISTANT, "A picnic. In November. Bold.", edited)
    add(ASSISTANT, "Rain on Saturday, sun on Sunday: picnic on Sunday.", edited, model="gpt-4o")
    conversation.updated_at = WHEN
    return conversation


def snapshot_app() -> ChinwagApp:
    settings = Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini",
                        theme="chinwag-dark")
    return ChinwagApp(settings, conversation=branched_conversation())


def test_message_mode(snap_compare):
    """ctrl+up, then up twice: the edited question selected, its 2/2 and the keys in the footer."""

    async def selected(pilot) -> None:
        await meter_ready(pilot)
        await pilot.press("ctrl+up", "up")
        log = pilot.app.chat.log_view
        await wait_for(pilot, lambda: log.selected is not None and log.selected.role == USER, "selected")
        await meter_ready(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=selected)


def test_tree_view(snap_compare):
    """F6 with the other version of the edited question opened onto its continuation."""

    async def tree_open(pilot) -> None:
        from chinwag.tui.screens.tree import ConversationTree, TreeScreen

        await meter_ready(pilot)
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TreeScreen), "the tree")
        tree = pilot.app.screen.query_one(ConversationTree)
        await wait_for(pilot, lambda: tree.cursor_node is tree.leaf_node, "the cursor on the leaf")
        await pilot.press("up", "right", "right", "right")  # the edited question, its other version, open it
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.children, "opened")
        await pilot.pause(0.2)

    assert snap_compare(snapshot_app(), terminal_size=(120, 30), run_before=tree_open)


def test_compare_columns(snap_compare, chat_server):
    """Two models have answered side by side; the times are pinned (they vary run to run)."""
    from chinwag.tui.screens.compare_models import Target
    from chinwag.tui.widgets.compare import stats_text
    from chinwag.usage import cost, read_usage

    chat_server.reply("Grey, with a **chance** of more grey.\n\n- Monday: drizzle\n- Tuesday: rain",
                      model="gpt-4o-mini")
    chat_server.reply("Sunny spells between showers.\n\n```text\nMon 12°C  Tue 9°C\n```", model="gpt-4o")
    settings = Settings(provider="custom", base_url=chat_server.base_url, model="gpt-4o-mini",
                        theme="chinwag-dark", retries=0)
    app = ChinwagApp(settings)

    async def compared(pilot) -> None:
        chat = pilot.app.chat
        chat.composer.cursor_blink = False
        chat.arm([Target("custom", "gpt-4o-mini"), Target("custom", "gpt-4o")])
        await send(pilot, "What is the weather like this week?")
        await wait_for(pilot, lambda: chat.compare is not None and not chat.compare.view.streaming, "both answered")
        run = chat.compare
        for column, reply, first, total in zip(run.view.columns, run.replies, (0.31, 0.52), (0.84, 1.37)):
            use = read_usage(reply.usage)
            price = cost(reply.model, "custom", use)
            column.show_stats(stats_text(first, total, use.prompt, use.completion, use.estimated, price))
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 30), run_before=compared)
