"""The files waiting to go with the next message, shown above the composer as chips."""

from __future__ import annotations

from rich.text import Text
from textual.containers import HorizontalGroup
from textual.message import Message
from textual.widgets import Static


class AttachmentChip(Static):
    """One attached file with its token count; a click removes it."""

    DEFAULT_CSS = """
    AttachmentChip {
        width: auto;
        height: 1;
        margin: 0 1 0 0;
        padding: 0 1;
        background: $boost;
        color: $accent;
        &:hover { background: $accent 30%; }
    }
    """

    def __init__(self, index: int, label: str, tokens: int) -> None:
        super().__init__(Text(f"📎 {label} · {tokens:,} tokens ✕"), markup=False)
        self.index = index
        self.tooltip = "Click to remove (or Backspace in an empty composer removes the last file)"

    def on_click(self) -> None:
        self.post_message(AttachmentBar.Removed(self.index))


class AttachmentBar(HorizontalGroup):
    """Chips for the attachments; hidden when there are none."""

    DEFAULT_CSS = """
    AttachmentBar {
        height: auto;
        padding: 0 1;
        display: none;
        &.-shown { display: block; }
    }
    """

    class Removed(Message):
        """The user asked to remove attachment ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    async def show(self, items: list[tuple[str, int]]) -> None:
        """Replace the chips with (label, tokens) pairs; labels are already clean."""
        await self.remove_children()
        await self.mount_all([AttachmentChip(i, label, tokens) for i, (label, tokens) in enumerate(items)])
        self.set_class(bool(items), "-shown")
