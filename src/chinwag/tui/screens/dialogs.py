"""Small reusable dialogs: ask for a line of text, ask yes or no. Each carries its own styles."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from chinwag.sanitize import clean
from chinwag.tui.widgets.key_bar import KeyBar

DIALOG_CSS = """
    align: center middle;
    background: $background 60%;
    #dialog {
        width: 64;
        max-width: 95%;
        height: auto;
        padding: 1 2;
        background: $surface;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
    }
    .hint { color: $text-muted; margin-top: 1; }
"""


class TextPrompt(ModalScreen[str | None]):
    """One line of text (e.g. a new title): Enter returns it, Escape returns None.
    Blank text is refused with a message; whitespace runs become single spaces."""

    DEFAULT_CSS = f"""
    TextPrompt {{
        {DIALOG_CSS}
        Input {{ background: $boost; }}
        #prompt-error {{ height: auto; color: $error; }}
    }}
    """
    AUTO_FOCUS = "Input"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="dialog.save"),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, value: str = "", empty_error: str = "This cannot be empty.") -> None:
        super().__init__()
        self.dialog_title = title
        self.value = value
        self.empty_error = empty_error

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = self.dialog_title
            yield Input(clean(self.value), id="prompt-input")
            yield Static("", id="prompt-error", markup=False)
            yield Static("Enter or ctrl+s saves · Escape cancels", classes="hint", markup=False)
        yield KeyBar()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        value = " ".join(self.query_one("#prompt-input", Input).value.split())
        if not value:
            self.query_one("#prompt-error", Static).update(self.empty_error)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes/no question: y or Enter confirms, n or Escape cancels."""

    DEFAULT_CSS = f"""
    Confirm {{
        {DIALOG_CSS}
        #confirm-question {{ height: auto; }}
    }}
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("enter", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", id="dialog.no"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(self, title: str, question: Text, hint: str = "y or Enter confirms · n or Escape cancels") -> None:
        super().__init__()
        self.dialog_title = title
        self.question = question
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = self.dialog_title
            yield Static(self.question, id="confirm-question")
            yield Static(self.hint, classes="hint", markup=False)
        yield KeyBar()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
