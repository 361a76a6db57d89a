"""One message in the chat pane: a header line (who, status) and the body."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Markdown, Static

from chinwag import attachments
from chinwag.conversation import ASSISTANT, CUT_OFF, EVENT, FAILED, INTERRUPTED, REASONING, USER, Message
from chinwag.sanitize import clean
from chinwag.tui.widgets.thinking import ThinkingBlock

STATUS_WORDS = {
    INTERRUPTED: "stopped — partial reply kept",
    CUT_OFF: "cut off — partial reply kept",
    FAILED: "failed part-way — partial reply kept",
    "length": "stopped at the max tokens limit",
    "content_filter": "stopped by the provider's content filter",
}


class MessageView(Vertical):
    """Shows one Message. Content is never parsed as markup and control codes are removed."""

    status: reactive[str] = reactive("")
    excluded: reactive[bool] = reactive(False)

    def __init__(self, message: Message, **kwargs) -> None:
        super().__init__(classes=f"message -{message.role}", **kwargs)
        self.message = message
        self.header = Static("", markup=False, classes="header")
        self.body: Markdown | Static
        reasoning = message.extra.get(REASONING)
        # A saved reply's reasoning starts collapsed; a streaming one gets its block when it thinks.
        self.thinking: ThinkingBlock | None = ThinkingBlock(reasoning) if isinstance(reasoning, str) and reasoning else None
        if message.role == ASSISTANT:
            self.body = Markdown(clean(message.content), classes="body")
        else:
            self.body = Static(Text(clean(message.content)), markup=False, classes="body")

    def compose(self) -> ComposeResult:
        if self.message.role != EVENT:
            yield self.header
        if self.thinking is not None:
            yield self.thinking
        yield self.body

    def on_mount(self) -> None:
        self.status = STATUS_WORDS.get(self.message.finish_reason or "", "")
        self.refresh_header_text()

    def watch_status(self) -> None:
        self.refresh_header_text()

    def watch_excluded(self, excluded: bool) -> None:
        self.set_class(excluded, "-excluded")
        self.refresh_header_text()

    def refresh_header_text(self) -> None:
        who = {USER: "You", ASSISTANT: self.message.model or "Assistant"}.get(self.message.role, "")
        text = Text(who, style="bold")
        notes = []
        if self.excluded:
            notes.append("not sent: outside the context window")
        if self.status:
            notes.append(self.status)
        attached = attachments.of(self.message)
        if attached:
            notes.append("attached: " + ", ".join(a.label for a in attached))
        for note in notes:
            text.append(f"  · {note}", style="italic")
        self.header.update(text)

    def stream(self):
        """A MarkdownStream writing into the body (assistant messages)."""
        assert isinstance(self.body, Markdown)
        return Markdown.get_stream(self.body)

    async def thinking_stream(self):
        """A MarkdownStream into the thinking block, mounted open above the body if new."""
        if self.thinking is None:
            self.thinking = ThinkingBlock(collapsed=False)
            await self.mount(self.thinking, before=self.body)
        return self.thinking.stream()

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

    def __init__(self, text: str, kind: str = "info", **kwargs) -> None:
        super().__init__(Text(text), markup=False, classes=f"notice -{kind}", **kwargs)
        self.kind = kind

    def set_text(self, text: str) -> None:
        self.update(Text(text))
