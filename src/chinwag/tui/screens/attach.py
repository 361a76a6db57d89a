"""Attach dialog (ctrl+o): type a path, or pick a file in the folder tree; the chat attaches it."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Static

from chinwag.sanitize import clean
from chinwag.tui.widgets.key_bar import KeyBar


class SafeDirectoryTree(DirectoryTree):
    """File names are content: escape sequences in them never reach the terminal."""

    def process_label(self, label) -> Text:
        return super().process_label(" ".join(clean(label).split()) if isinstance(label, str) else label)


class AttachScreen(ModalScreen[str | None]):
    """Returns the path to attach, or None."""

    DEFAULT_CSS = """
    AttachScreen {
        align: center middle;
        background: $background 60%;
        & #dialog {
            width: 80;
            height: 80%;
            border: round $primary;
            background: $surface;
            padding: 1 2;
        }
        & .title { text-style: bold; color: $primary; }
        & .hint { color: $text-muted; margin-bottom: 1; }
        & #path { margin-bottom: 1; }
        & DirectoryTree { height: 1fr; background: $surface; }
    }
    """
    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Attach a file", classes="title", markup=False)
            yield Static("Text files go into your next message; images only to models that can see them. "
                         "Type a path and press Enter, or pick a file below (tab).", classes="hint", markup=False)
            yield Input(placeholder="path/to/file (~ works)", id="path")
            yield SafeDirectoryTree(self.directory, id="tree")
        yield KeyBar()

    @on(Input.Submitted, "#path")
    def path_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.dismiss(value)

    @on(DirectoryTree.FileSelected)
    def file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))

    def action_cancel(self) -> None:
        self.dismiss(None)
