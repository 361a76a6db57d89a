"""The "Thinking" block above a reply: the model's reasoning text, dimmed and collapsible."""

from __future__ import annotations

from textual.widgets import Collapsible

from chinwag.sanitize import clean
from chinwag.tui.widgets.message_body import MessageBody

TITLE = "Thinking"


class ThinkingBlock(Collapsible):
    """Reasoning text (content, never markup) in a block that opens and closes (ctrl+t, click)."""

    DEFAULT_CSS = """
    ThinkingBlock {
        height: auto;
        margin: 0;
        padding: 0;
        border-top: none;
        background: transparent;
        &:focus-within { background-tint: $foreground 3%; }
        & > Contents {
            padding: 0 0 0 2;
            border-left: outer $panel-lighten-2;
        }
        & CollapsibleTitle {
            padding: 0;
            color: $text-muted;
            text-style: italic;
        }
        & MessageBody { color: $text-muted; }
    }
    """

    def __init__(self, text: str = "", collapsed: bool = True) -> None:
        self.body = MessageBody(clean(text), classes="thinking-text")
        super().__init__(self.body, title=TITLE, collapsed=collapsed, classes="thinking")
