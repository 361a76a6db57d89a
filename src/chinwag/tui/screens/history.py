"""History (F2): browse, search, resume, rename, delete and export saved conversations.

The list comes from the store's index; only the highlighted conversation is read, in a
thread worker, for the preview. Searching runs in a thread worker too, a moment after the
last keystroke, and a newer query stops the older one part-way.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from chinwag.conversation import EVENT, Conversation
from chinwag.export import ROLE_NAMES
from chinwag.sanitize import clean
from chinwag.store import TYPING_MAX_AGE, QueryError, Store, StoreError, Summary, reason_of
from chinwag.tui.screens.dialogs import Confirm, TextPrompt
from chinwag.tui.screens.export import open_export
from chinwag.tui.widgets.history_table import PAGE, HistoryTable, Row, local_time, one_line
from chinwag.tui.widgets.key_bar import KeyBar

SEARCH_DEBOUNCE = 0.1  # seconds after the last keystroke
PREVIEW_MESSAGES = 10
PREVIEW_CHARS = 1500  # of each message in the preview

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


class HistoryScreen(Screen[Conversation | None]):
    """Every saved conversation, newest first; returns the one to resume, or None."""

    DEFAULT_CSS = """
    HistoryScreen {
        #history-search { margin: 1 1 0 1; background: $boost; }
        #history-count { height: 1; padding: 0 2; color: $text-muted; text-style: italic; }
        #history-body { height: 1fr; }
        #history-preview-pane {
            width: 1fr;
            min-width: 32;
            height: 1fr;
            padding: 0 1;
            background: $panel;
            border-left: vkey $primary 30%;
            scrollbar-size-vertical: 1;
        }
        #history-preview { height: auto; }
    }
    """
    AUTO_FOCUS = "#history-search"
    TITLE = "History"
    BINDINGS = [
        Binding("escape,f2", "close", "Close the history", id="history.close"),
        Binding("down", "focus_table", "From the search to the list", show=False, id="history.to_list"),
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
        yield KeyBar()

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
        if event.state != WorkerState.ERROR:
            return
        reason = clean(reason_of(event.worker.error), one_line=True)
        if event.worker.group == "search" and self.is_attached:  # not "Searching…" for ever
            self.query_one("#history-count", Static).update(f"The search failed: {reason}")
        else:
            self.notify(f"History: {reason}", severity="error", markup=False)

    # -- keys and actions ----------------------------------------------------------

    @on(HistoryTable.TypeAhead)
    def type_ahead(self, event: HistoryTable.TypeAhead) -> None:
        search = self.search
        search.value += event.character
        search.cursor_position = len(search.value)
        search.focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def commands(self) -> list[SystemCommand]:
        """What the command palette offers here: acts on the highlighted conversation."""
        return [
            SystemCommand("Resume conversation", "Open the highlighted conversation in the chat", self.action_resume),
            SystemCommand("Rename conversation", "Give the highlighted conversation a new title", self.action_rename),
            SystemCommand("Delete conversation", "Remove the highlighted conversation (asks first)",
                          self.action_delete),
            SystemCommand("Export conversation", "Write the highlighted conversation as Markdown, HTML, text "
                          "or JSON", self.action_export),
            SystemCommand("Close history", "Back to the chat", self.action_close),
        ]

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

        self.app.push_screen(TextPrompt("Rename conversation", summary.title, "A title cannot be empty."), chosen)

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

        self.app.push_screen(Confirm("Delete conversation", question, "y or Enter deletes · n or Escape keeps it"), confirmed)

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
        open_export(self.app, conversation)
