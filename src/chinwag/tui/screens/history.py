"""History (F2): browse, search, resume, rename, delete and export saved conversations.

The list comes from the store's index; only the highlighted conversation is read, in a
thread worker, for the preview. Searching runs in a thread worker too, a moment after the
last keystroke, and a newer query stops the older one part-way.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Key
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import Worker, WorkerState, get_current_worker

from chinwag.conversation import EVENT, Conversation
from chinwag.export import ROLE_NAMES
from chinwag.sanitize import clean
from chinwag.store import TYPING_MAX_AGE, Hit, QueryError, Store, StoreError, Summary

CSS = Path(__file__).parent / "history.tcss"
SEARCH_DEBOUNCE = 0.1  # seconds after the last keystroke
PREVIEW_MESSAGES = 10
PREVIEW_CHARS = 1500  # of each message in the preview
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
    except (TypeError, ValueError):
        return clean(str(stamp or "?"))


def one_line(text: str, width: int) -> str:
    line = " ".join(clean(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


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


def preview_of(conv: Conversation) -> Text:
    """Title, metadata and the last few messages as role-labelled plain text."""
    text = Text()
    text.append(one_line(conv.title or "Untitled", 200) + "\n", style="bold")
    meta = f"{local_time(conv.updated_at)} · {conv.persona.name} · {conv.provider} · {conv.model or 'unknown model'}"
    text.append(one_line(meta, 200) + "\n", style="dim")
    text.append(f"{len(conv.chat_messages):,} messages · {one_line(conv.id, 80)}\n", style="dim")
    if conv.read_only:
        text.append(one_line(conv.read_only_reason, 300) + "\n", style="italic")
    path = conv.path
    shown = path[-PREVIEW_MESSAGES:]
    if len(path) > len(shown):
        text.append(f"\n… {len(path) - len(shown):,} earlier messages\n", style="dim")
    for message in shown:
        if message.role == EVENT:
            text.append(f"\n— {one_line(message.content, 200)} —\n", style="italic")
            continue
        body = clean(message.content.strip())
        if len(body) > PREVIEW_CHARS:
            body = body[:PREVIEW_CHARS] + "…"
        text.append(f"\n{ROLE_NAMES.get(message.role, clean(message.role).capitalize())}:\n", style="bold")
        text.append(body + "\n")
    return text


def unreadable_preview(summary: Summary) -> Text:
    text = Text()
    text.append("Unreadable conversation file\n", style="bold")
    text.append(f"{one_line(summary.id, 120)}.json\n\n", style="dim")
    text.append(clean(summary.error or "unknown reason") + "\n\n")
    text.append("chinwag leaves this file untouched: it cannot be opened, renamed, deleted or exported here.",
                style="italic")
    return text


class HistoryTable(DataTable):
    """The conversation list, added a page at a time as the cursor or the view nears its end
    (DataTable measures every cell it is given: ten thousand rows at once would freeze the
    screen for seconds). Its keys act on the highlighted row; other letters start a search."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Resume"),
        Binding("r", "screen.rename", "Rename"),
        Binding("d", "screen.delete", "Delete"),
        Binding("e", "screen.export", "Export"),
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


class HistoryScreen(Screen[Conversation | None]):
    """Every saved conversation, newest first; returns the one to resume, or None."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#history-search"
    TITLE = "History"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("f2", "close", "Close", show=False),
        Binding("down", "focus_table", "To the list", show=False),
    ]
    HELP_ROWS: list[tuple[str, str, str]] = [
        ("History", "type", "Search titles and messages (letters typed on the list go there too)"),
        ("History", "search", '"a phrase", model:NAME, persona:NAME, after:2026-03-01, before:2026-04'),
        ("History", "↓ / tab", "From the search to the list"),
        ("History", "Enter", "Resume the highlighted conversation"),
        ("History", "r", "Rename it (on the list)"),
        ("History", "d", "Delete it, after confirming (on the list)"),
        ("History", "e", "Export it: Markdown, HTML, text or JSON (on the list)"),
        ("History", "escape / F2", "Close the history"),
    ]

    class Renamed(Message):
        """A conversation was renamed here (the chat may hold it open)."""

        def __init__(self, conversation: Conversation) -> None:
            super().__init__()
            self.conversation = conversation

    class Deleted(Message):
        """A conversation file was deleted here (the chat may hold it open)."""

        def __init__(self, conv_id: str) -> None:
            super().__init__()
            self.conv_id = conv_id

    def __init__(self, store: Store, current_id: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.current_id = current_id
        # Previews and exports read through a second Store: loading a file records its stamp,
        # and the app's store must keep the stamp of the open chat's last save for merging.
        self.reader = Store(store.root)
        self.listing: list[Summary] | None = None  # the full list, newest first
        self._debounce: Timer | None = None

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder='Search: words, "a phrase", model: persona: after:DATE before:DATE  (↓ list · Enter resumes)',
                    id="history-search", select_on_focus=False)
        yield Static("Loading…", id="history-count", markup=False)
        with Horizontal(id="history-body"):
            yield HistoryTable(id="history-table")
            with VerticalScroll(id="history-preview-pane"):
                yield Static("", id="history-preview", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load_rows("")

    @property
    def table(self) -> HistoryTable:
        return self.query_one(HistoryTable)

    @property
    def search(self) -> Input:
        return self.query_one("#history-search", Input)

    @property
    def highlighted(self) -> Summary | None:
        return self.table.highlighted

    # -- listing and searching ---------------------------------------------------

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def load_rows(self, query: str, keep: str | None = None) -> None:
        """The full list (empty query) or the matches, then shown on the table."""
        worker = get_current_worker()
        rows: list[Row]
        if not query.strip():
            rows = [(summary, None) for summary in self.reader.list()]
        else:
            try:
                hits = self.reader.iter_search(query, stop=lambda: worker.is_cancelled, max_age=TYPING_MAX_AGE)
                rows = [(hit.summary, hit) for hit in hits]
            except QueryError as error:
                self.app.call_from_thread(self._show_problem, query, str(error))
                return
            for _, hit in rows[:PAGE]:  # the first page's snippets, made here rather than on screen
                _ = hit.snippet
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_rows, query, rows, keep)

    def _show_rows(self, query: str, rows: list[Row], keep: str | None) -> None:
        if not self.is_attached:
            return
        if not query.strip():
            self.listing = [summary for summary, _ in rows]
        if query.strip() != self.search.value.strip():
            return  # the user typed on: a newer search is on its way
        self.fill(rows, query, keep)

    def _show_problem(self, query: str, problem: str) -> None:
        if self.is_attached and query.strip() == self.search.value.strip():
            self.query_one("#history-count", Static).update(problem)

    def fill(self, rows: list[Row], query: str, keep: str | None = None) -> None:
        """Show ``rows``; a new search highlights its first match, the full list the row last on."""
        current = self.highlighted
        searching = bool(query.strip())
        if keep is None and not searching and current is not None:
            keep = current.id
        self.table.show(rows, searching, keep)
        self.show_count(query)
        if not rows:
            self.query_one("#history-preview", Static).update(
                Text("No conversation matches." if searching else "No saved conversations yet.", style="italic")
            )

    def show_count(self, query: str | None = None) -> None:
        query = self.search.value if query is None else query
        total = len(self.listing) if self.listing is not None else None
        shown = len(self.table.entries)
        if not query.strip():
            line = f"{shown:,} conversation{'s' if shown != 1 else ''}"
        elif total is None:
            line = f"{shown:,} conversations match"
        else:
            line = f"{shown:,} of {total:,} conversations"
        self.query_one("#history-count", Static).update(line)

    @on(Input.Changed, "#history-search")
    def query_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(SEARCH_DEBOUNCE, self.run_search)

    def run_search(self) -> None:
        self._debounce = None
        query = self.search.value
        if not query.strip() and self.listing is not None:
            self.workers.cancel_group(self, "search")
            self.fill([(summary, None) for summary in self.listing], query)
            return
        if query.strip():
            self.query_one("#history-count", Static).update("Searching…")
        self.load_rows(query)

    def reload(self, keep: str | None = None) -> None:
        self.load_rows(self.search.value, keep)

    # -- preview -----------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#history-table")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_preview(self.table.by_id.get(event.row_key.value or ""))

    def show_preview(self, summary: Summary | None) -> None:
        if summary is None:
            return
        if summary.error is not None:
            self.workers.cancel_group(self, "preview")
            self.query_one("#history-preview", Static).update(unreadable_preview(summary))
        else:
            self.load_preview(summary.id)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def load_preview(self, conv_id: str) -> None:
        try:
            text = preview_of(self.reader.load(conv_id))
        except StoreError as error:
            text = Text(f"Cannot show this conversation: {clean(str(error))}", style="italic")
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._set_preview, conv_id, text)

    def _set_preview(self, conv_id: str, text: Text) -> None:
        current = self.highlighted if self.is_attached else None
        if current is not None and current.id == conv_id:
            self.query_one("#history-preview", Static).update(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(f"History: {event.worker.error}", severity="error", markup=False)

    # -- keys and actions ----------------------------------------------------------

    @on(HistoryTable.TypeAhead)
    def type_ahead(self, event: HistoryTable.TypeAhead) -> None:
        search = self.search
        search.value += event.character
        search.cursor_position = len(search.value)
        search.focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def usable(self, doing: str) -> Summary | None:
        """The highlighted conversation, or None (with a message) when there is none to act on."""
        summary = self.highlighted
        if summary is None:
            self.notify("No conversation is selected.", severity="warning")
            return None
        if summary.error is not None:
            self.notify(f"Cannot {doing} {summary.id}.json: {summary.error}. The file is left untouched.",
                        severity="warning", markup=False)
            return None
        return summary

    @on(DataTable.RowSelected, "#history-table")
    @on(Input.Submitted, "#history-search")
    def action_resume(self) -> None:
        summary = self.usable("open")
        if summary is None:
            return
        try:
            conversation = self.store.load(summary.id)
        except StoreError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.dismiss(conversation)

    def action_rename(self) -> None:
        summary = self.usable("rename")
        if summary is None:
            return
        if summary.read_only:
            self.notify("This conversation is read-only (open it to see why).", severity="warning")
            return

        def chosen(title: str | None) -> None:
            if title is None:
                return
            try:
                conversation = self.store.rename(summary.id, title)
            except (StoreError, ValueError) as error:
                self.notify(f"Not renamed: {error}", severity="error", markup=False)
                return
            self.post_message(self.Renamed(conversation))
            self.notify(f"Renamed to {clean(conversation.title)}", markup=False)
            self.reload(keep=summary.id)

        self.app.push_screen(HistoryRename(summary.title), chosen)

    def action_delete(self) -> None:
        summary = self.usable("delete")
        if summary is None:
            return
        question = Text("Delete ")
        question.append(one_line(summary.title or "Untitled", 80), style="bold")
        question.append("? Its file is removed for good.")
        if summary.id == self.current_id:
            question.append("\n\nThis is the conversation open in the chat.", style="bold")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete(summary)

        self.app.push_screen(HistoryConfirm(question), confirmed)

    def delete(self, summary: Summary) -> None:
        try:
            self.store.delete(summary.id)
        except StoreError as error:
            self.notify(f"Not deleted: {error}", severity="error", markup=False)
            return
        self.post_message(self.Deleted(summary.id))
        self.notify(f"Deleted {summary.title or summary.id}", markup=False)
        if self.listing is not None:
            self.listing = [s for s in self.listing if s.id != summary.id]
        self.table.remove(summary.id)
        self.show_count()
        self.call_after_refresh(lambda: self.show_preview(self.highlighted))

    def action_export(self) -> None:
        summary = self.usable("export")
        if summary is None:
            return
        try:
            conversation = self.reader.load(summary.id)
        except StoreError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.app.action_export_conversation(conversation)


class HistoryRename(ModalScreen[str | None]):
    """A new title for a conversation; Enter saves, Escape cancels."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#rename-title"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.old_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Rename conversation"
            yield Input(clean(self.old_title), id="rename-title")
            yield Static("", id="rename-error", markup=False)
            yield Static("Enter saves · Escape cancels", classes="hint", markup=False)
        yield Footer()

    @on(Input.Submitted, "#rename-title")
    def save(self, event: Input.Submitted) -> None:
        event.stop()
        title = " ".join(event.value.split())
        if not title:
            self.query_one("#rename-error", Static).update("A title cannot be empty.")
            return
        self.dismiss(title)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HistoryConfirm(ModalScreen[bool]):
    """A yes/no question: y or Enter confirms, n or Escape cancels."""

    CSS_PATH = CSS
    BINDINGS = [
        Binding("y", "answer(True)", "Yes, delete"),
        Binding("enter", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Delete conversation"
            yield Static(self.question, id="confirm-question")
            yield Static("y or Enter deletes · n or Escape keeps it", classes="hint", markup=False)
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
