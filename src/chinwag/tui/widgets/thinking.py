"""The "Thinking" block above a reply: the model's reasoning text, dimmed and collapsible."""

from __future__ import annotations

from textual.widgets import Collapsible, Markdown

from chinwag.sanitize import clean

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
        & Markdown {
            margin: 0;
            padding: 0;
            background: transparent;
            color: $text-muted;
        }
    }
    """

    def __init__(self, text: str = "", collapsed: bool = True) -> None:
        self.text_view = Markdown(clean(text), classes="thinking-text")
        super().__init__(self.text_view, title=TITLE, collapsed=collapsed, classes="thinking")

    def stream(self):
        """A MarkdownStream that appends to the reasoning text as it arrives."""
        return Markdown.get_stream(self.text_view)
