"""The conversation list of the history screen: rows added a page at a time."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.events import Key
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from chinwag.graphemes import shorten
from chinwag.sanitize import clean
from chinwag.store import Hit, Summary

TITLE_WIDTH = 30
MATCH_WIDTH = 40
TABLE_KEYS = ("r", "d", "e")
PAGE = 200  # rows added to the table at a time
PAGE_MARGIN = 20  # add the next page when the cursor comes this close to the last row
BOTTOM_CHUNK = 1000  # rows added per turn of the event loop on the way to the oldest

Row = tuple[Summary, Hit | None]  # a conversation and, when searching, the hit (its snippet is made when shown)

def local_time(stamp: str) -> str:
    """An ISO UTC stamp as local "2026-11-24 21:57"."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError, OverflowError, OSError):  # (year 1 has no local time west of UTC)
        return clean(str(stamp or "?"))


def one_line(text: str, width: int) -> str:
    return shorten(" ".join(clean(text).split()), width)


def row_cells(summary: Summary, snippet: str | None, searching: bool) -> list[Text]:
    """Title, [match,] updated, persona, model, messages, tokens — all plain Text, never markup."""
    if summary.error is not None:
        title = Text(f"unreadable: {one_line(summary.id, 40)}", style="italic")
        numbers = [Text(""), Text("")]
    else:
        title = Text(one_line(summary.title or "Untitled", TITLE_WIDTH))
        if summary.read_only:
            title.append(" read-only", style="italic")
        numbers = [Text(f"{summary.messages:,}", justify="right"), Text(f"{summary.tokens:,}", justify="right")]
    cells = [title]
    if searching:
        cells.append(Text(one_line(snippet or "", MATCH_WIDTH), style="italic"))
    cells += [
        Text(local_time(summary.updated_at)),
        Text(one_line(summary.persona, 12)),
        Text(one_line(summary.model, 18)),
        *numbers,
    ]
    return cells


class HistoryTable(DataTable):
    """The conversation list, added a page at a time as the cursor or the view nears its end
    (DataTable measures every cell it is given: ten thousand rows at once would freeze the
    screen for seconds). Its keys act on the highlighted row; other letters start a search."""

    DEFAULT_CSS = """
    HistoryTable {
        width: 2fr;
        height: 1fr;
        background: $background;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Resume the highlighted conversation", id="history.resume"),
        Binding("r", "screen.rename", "Rename it", id="history.rename"),
        Binding("d", "screen.delete", "Delete it, after confirming", id="history.delete"),
        Binding("e", "screen.export", "Export it: Markdown, HTML, text or JSON", id="history.export"),
    ]

    class TypeAhead(Message):
        """A printable key pressed on the list: it belongs in the search."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.entries: list[Row] = []  # every row to show, newest first
        self.by_id: dict[str, Summary] = {}
        self.searching = False

    @property
    def highlighted(self) -> Summary | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return self.by_id.get(key.value or "")

    def show(self, rows: list[Row], searching: bool, keep: str | None = None) -> None:
        """Replace the rows (and the columns: a search adds "Match"); keep ``keep`` highlighted."""
        self.entries, self.by_id = [], {}  # clear() scrolls to the top: nothing to add meanwhile
        self.clear(columns=True)
        self.add_column("Title", key="title")
        if searching:
            self.add_column("Match", key="match")
        self.add_column("Last change", key="updated")
        self.add_column("Persona", key="persona")
        self.add_column("Model", key="model")
        self.add_column(Text("Msgs", justify="right"), key="messages")
        self.add_column(Text("Tokens", justify="right"), key="tokens")
        self.entries, self.searching = list(rows), searching
        self.by_id = {summary.id: summary for summary, _ in self.entries}
        ids = [summary.id for summary, _ in self.entries]
        index = ids.index(keep) if keep in self.by_id else 0
        self.load_more(max(PAGE, index + 1))
        if index:
            self.move_cursor(row=index)

    def load_more(self, count: int = PAGE) -> None:
        for summary, hit in self.entries[self.row_count : self.row_count + count]:
            self.add_row(*row_cells(summary, hit.snippet if hit else None, self.searching), key=summary.id)

    def remove(self, conv_id: str) -> None:
        self.entries = [row for row in self.entries if row[0].id != conv_id]
        if self.by_id.pop(conv_id, None) is not None and conv_id in self.rows:
            self.remove_row(conv_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.row_count - PAGE_MARGIN:
            self.load_more()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y - self.size.height and self.row_count < len(self.entries):
            self.load_more()

    def action_scroll_bottom(self) -> None:
        self._to_bottom(self.entries)

    def _to_bottom(self, entries: list[Row]) -> None:
        """Add the remaining rows a chunk per turn of the event loop (keys still work), then go
        to the oldest; stop if the rows were replaced meanwhile."""
        if entries is not self.entries:
            return
        if self.row_count < len(entries):
            self.load_more(BOTTOM_CHUNK)
            self.set_timer(0.001, lambda: self._to_bottom(entries))
            return
        super().action_scroll_bottom()

    def on_key(self, event: Key) -> None:
        if event.is_printable and event.character and event.key not in TABLE_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.TypeAhead(event.character))


