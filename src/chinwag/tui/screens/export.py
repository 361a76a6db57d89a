"""Export dialog: choose a format and a path; the app writes the file (or, served, a download name)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from chinwag.conversation import Conversation
from chinwag.tui.widgets.key_bar import KeyBar

FORMAT_NAMES = {
    "md": "Markdown (.md)",
    "html": "HTML page (.html)",
    "txt": "Plain text (.txt)",
    "json": "JSON document (.json)",
}


class ExportScreen(ModalScreen[tuple[str, Path, bool] | None]):
    """Returns (format, path, include reasoning) or None."""

    CSS_PATH = Path(__file__).parent / "export.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "confirm", "Export", priority=True),
    ]

    def __init__(self, title: str, directory: Path, download: bool = False) -> None:
        super().__init__()
        self.conversation_title = title
        self.directory = directory
        self.download = download  # in a browser: a file name for the download, not a path here
        self.fmt = "md"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Export conversation", classes="title")
            yield OptionList(*[Option(name, id=fmt) for fmt, name in FORMAT_NAMES.items()], id="formats")
            from chinwag.export import safe_filename  # the exporters load when first used

            name = safe_filename(self.conversation_title, self.fmt)
            if self.download:
                yield Static("File name (Enter downloads it in your browser):", classes="label")
                yield Input(name, id="path")
            else:
                yield Static("Save to (Enter exports):", classes="label")
                yield Input(str(self.directory / name), id="path")
            yield Checkbox("Include the models' reasoning (thinking)", False, id="reasoning", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(OptionList).focus()

    @on(OptionList.OptionHighlighted)
    def format_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.fmt = event.option.id or "md"
        path_input = self.query_one("#path", Input)
        current = Path(path_input.value)
        path_input.value = str(current.with_suffix(f".{self.fmt}"))

    @on(OptionList.OptionSelected)
    def format_chosen(self) -> None:
        self.action_confirm()

    @on(Input.Submitted, "#path")
    def path_submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if not value:
            self.notify("Give a path to write to.", severity="error")
            return
        reasoning = self.query_one("#reasoning", Checkbox).value
        self.dismiss((self.fmt, Path(value).expanduser(), reasoning))

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_export(app, conversation: Conversation) -> None:
    """Ask for a format and a path, then write the export (from the chat or the history). In a
    browser (chinwag serve) the file is downloaded instead."""
    if not conversation.messages:
        app.notify("Nothing to export yet.", severity="warning")
        return
    served = bool(getattr(app, "served", False))

    def chosen(choice: tuple[str, Path, bool] | None) -> None:
        from chinwag import export
        from chinwag.tui.web import DOWNLOAD_TYPES

        if choice is None:
            return
        fmt, path, reasoning = choice
        if served:
            app.deliver_text_file(export.render(conversation, fmt, reasoning), path.name, DOWNLOAD_TYPES[fmt])
            app.notify(f"Downloading {path.name} in your browser.", title="Export", markup=False, timeout=8)
            return
        try:
            written = export.write(conversation, fmt, path, reasoning=reasoning)
        except (OSError, ValueError) as error:
            app.notify(f"Export failed: {error}", severity="error", markup=False)
            return
        app.notify(f"Exported to {written}", title="Export", markup=False, timeout=8)

    app.push_screen(ExportScreen(conversation.title, Path.cwd(), download=served), chosen)
