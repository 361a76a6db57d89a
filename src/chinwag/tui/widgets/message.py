"""One message in the chat pane: a header line (who, status) and the body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from chinwag import attachments
from chinwag.conversation import ASSISTANT, CUT_OFF, EVENT, FAILED, INTERRUPTED, REASONING, USER, Message
from chinwag.sanitize import clean
from chinwag.tui.widgets.layout_once import LayoutOnce
from chinwag.tui.widgets.message_body import MessageBody

if TYPE_CHECKING:
    from chinwag.tui.widgets.thinking import ThinkingBlock


def thinking_block(reasoning: str = "", collapsed: bool = True) -> ThinkingBlock:
    """A reply's thinking (Textual's Collapsible loads with the first reply that has some)."""
    from chinwag.tui.widgets.thinking import ThinkingBlock

    return ThinkingBlock(reasoning, collapsed=collapsed)

STATUS_WORDS = {
    INTERRUPTED: "stopped — partial reply kept",
    CUT_OFF: "cut off — partial reply kept",
    FAILED: "failed part-way — partial reply kept",
    "length": "stopped at the max tokens limit",
    "content_filter": "stopped by the provider's content filter",
}


def status_of(message: Message) -> str:
    return STATUS_WORDS.get(message.finish_reason or "", "") if isinstance(message.finish_reason, str) else ""


class MessageView(LayoutOnce, Vertical):
    """Shows one Message. Content is never parsed as markup and control codes are removed."""

    DEFAULT_CSS = """
    MessageView {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        & > .header { color: $text-muted; height: auto; }
        & > .body { height: auto; }
        &.-user {
            border-left: thick $accent;
            background: $boost;
            & > .header { color: $accent; }
        }
        &.-assistant {
            border-left: thick $primary;
            & > .header { color: $primary; }
        }
        &.-event {
            border-top: dashed $secondary;
            margin: 1 4 0 4;
            color: $secondary;
            text-align: center;
            text-style: italic;
        }
        &.-excluded { opacity: 55%; }
        &.-selected {
            border-left: thick $warning;
            background: $warning 12%;
            & > .header { color: $warning; }
        }
    }
    """

    status: reactive[str] = reactive("")
    excluded: reactive[bool] = reactive(False)
    branch: reactive[tuple[int, int] | None] = reactive(None)  # (position, count) among siblings

    def __init__(self, message: Message, excluded: bool = False, branch: tuple[int, int] | None = None,
                 **kwargs) -> None:
        super().__init__(classes=f"-{message.role}" if message.role in (USER, ASSISTANT, EVENT) else "", **kwargs)
        self.message = message
        self.header = Static("", markup=False, classes="header")
        reasoning = message.extra.get(REASONING)
        # A saved reply's reasoning starts collapsed; a streaming one gets its block when it thinks.
        self.thinking: ThinkingBlock | None = (
            thinking_block(reasoning) if isinstance(reasoning, str) and reasoning else None
        )
        self.body: MessageBody | Static
        if message.role == EVENT:
            self.body = Static(Text(clean(message.content)), markup=False, classes="body")
        else:
            self.body = MessageBody(clean(message.content), markdown=message.role == ASSISTANT, classes="body")
        self.set_reactive(MessageView.status, status_of(message))
        self.set_reactive(MessageView.excluded, excluded)
        self.set_reactive(MessageView.branch, branch)

    def compose(self) -> ComposeResult:
        if self.message.role != EVENT:
            yield self.header
        if self.thinking is not None:
            yield self.thinking
        yield self.body

    def on_mount(self) -> None:
        self.set_class(self.excluded, "-excluded")
        self.refresh_header_text()

    def watch_status(self) -> None:
        self.refresh_header_text()

    def watch_excluded(self, excluded: bool) -> None:
        self.set_class(excluded, "-excluded")
        self.refresh_header_text()

    def watch_branch(self) -> None:
        self.refresh_header_text()

    def refresh_header_text(self) -> None:
        who = {USER: "You", ASSISTANT: clean(self.message.model, one_line=True) or "Assistant"}.get(
            self.message.role, "")
        text = Text(who, style="bold")
        if self.branch is not None and self.branch[1] > 1:
            text.append(f"  ‹ {self.branch[0]}/{self.branch[1]} ›", style="bold")
        notes = []
        if self.excluded:
            notes.append("not sent: outside the context window")
        if self.status:
            notes.append(self.status)
        attached = attachments.of(self.message)
        if attached:
            notes.append("attached: " + ", ".join(clean(a.label) for a in attached))
        for note in notes:
            text.append(f"  · {note}", style="italic")
        self.header.update(text)

    async def thinking_body(self) -> MessageBody:
        """The body of the thinking block (mounted open above the reply if new), for streaming."""
        if self.thinking is None:
            self.thinking = thinking_block(collapsed=False)
            await self.mount(self.thinking, before=self.body)
        return self.thinking.body

    def fold_thinking(self) -> None:
        if self.thinking is not None:
            self.thinking.collapsed = True

    def toggle_thinking(self) -> bool:
        """Open or close the thinking block; False when there is none."""
        if self.thinking is None:
            return False
        self.thinking.collapsed = not self.thinking.collapsed
        return True


class Notice(Static):
    """A line in the chat pane that is not part of the conversation: errors, hints, countdowns."""

    DEFAULT_CSS = """
    Notice {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        &.-error { color: $error; border-left: thick $error; background: $error 10%; }
        &.-warning { color: $warning; border-left: thick $warning; background: $warning 10%; }
        &.-info { color: $text-muted; }
    }
    """

    def __init__(self, text: str, kind: str = "info", **kwargs) -> None:
        super().__init__(Text(clean(text)), markup=False, classes=f"-{kind}", **kwargs)
        self.kind = kind

    def set_text(self, text: str) -> None:
        self.update(Text(clean(text)))
