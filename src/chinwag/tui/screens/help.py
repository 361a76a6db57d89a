"""The "Keys" help screen: every binding, grouped by where it works."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HINT = "↑ ↓ PgUp PgDn scroll · Esc, F1 or q closes"


def keys_table(rows: list[tuple[str, str, str]]) -> Table:
    """A table of (where, key, what), one section per where, in first-seen order."""
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column("Where", no_wrap=True, style="italic")
    table.add_column("Key", no_wrap=True, style="bold")
    table.add_column("What it does", ratio=1)
    order = list(dict.fromkeys(where for where, _, _ in rows))
    ordered = sorted(rows, key=lambda row: order.index(row[0]))
    for index, (where, group) in enumerate(groupby(ordered, key=lambda row: row[0])):
        if index:
            table.add_row()
        for position, (_, key, what) in enumerate(group):
            table.add_row(Text(where if position == 0 else ""), Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    """Shows the key bindings; Esc, F1 or q close it."""

    CSS_PATH = Path(__file__).parent / "modals.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("f1", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Keys"
            with VerticalScroll(id="help-scroll"):
                yield Static(keys_table(self.rows), id="help-table")
            yield Static(HINT, id="hint", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
