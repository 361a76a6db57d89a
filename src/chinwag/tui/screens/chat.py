"""The chat screen: chat pane, composer, token-meter sidebar. Thin: the ChatSession decides."""

from __future__ import annotations

import math
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TextArea
from textual.worker import Worker, WorkerState

from chinwag import client as api
from chinwag.attachments import AttachError
from chinwag.conversation import ASSISTANT, Message
from chinwag.sanitize import clean, split_unfinished
from chinwag.retry import RetryPolicy
from chinwag.session import ChatSession, save_problem
from chinwag.store import StoreError
from chinwag.tui.screens.attach import AttachScreen
from chinwag.tui.widgets.attachment_bar import AttachmentBar
from chinwag.tui.widgets.chat_log import ChatLog
from chinwag.tui.widgets.composer import Composer
from chinwag.tui.widgets.message import STATUS_WORDS, MessageView
from chinwag.tui.widgets.token_meter import TokenMeter

DRAFT_DEBOUNCE = 0.15
FRAME = 1 / 20  # how often streamed text reaches the screen


class _Batched:
    """Streamed text held until the next frame, then written to a MarkdownStream."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.unsent = ""
        self.done = False

    def add(self, text: str) -> None:
        self.unsent += text

    async def flush(self, partial: bool = False) -> None:
        # An escape sequence split between deltas is held until it is complete.
        ready, self.unsent = split_unfinished(self.unsent) if partial else (self.unsent, "")
        if ready:
            await self.stream.write(clean(ready))

    async def close(self) -> None:
        await self.flush()
        await self.stream.stop()


class ChatScreen(Screen):
    """Talk to a model. The session holds the conversation; this screen shows it."""

    AUTO_FOCUS = "Composer"

    BINDINGS = [
        Binding("escape", "stop", "Stop reply"),
        Binding("ctrl+n", "new", "New chat"),
        Binding("ctrl+r", "regenerate", "Regenerate"),
        Binding("ctrl+y", "copy", "Copy reply", priority=True, show=False),
        Binding("ctrl+e", "export", "Export", priority=True, show=False),
        Binding("ctrl+b", "sidebar", "Sidebar", show=False),
        Binding("ctrl+o", "attach", "Attach a file to the next message", priority=True, show=False),
        Binding("ctrl+t", "thinking", "Show or hide the last reply's thinking", show=False),
        Binding("f3", "personas", "Persona"),
    ]

    def __init__(self, session: ChatSession, setup_problem: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.setup_problem = setup_problem
        self.reply_worker: Worker | None = None
        self._draft_timer = None
        self._countdown = None
        self.retry = RetryPolicy()

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield ChatLog(id="chat-log")
                yield Static("", id="status", markup=False)
                yield AttachmentBar(id="attachments")
                yield Composer(id="composer")
            yield TokenMeter(id="meter")
        yield Footer()

    @property
    def log_view(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    async def on_mount(self) -> None:
        self.composer.border_title = "Message (Enter send · ctrl+j newline · ctrl+o attach file)"
        # The first count loads the tokenizer: the app asks for the meter once that is done.
        await self.show_conversation(meter=False)

    async def show_conversation(self, meter: bool = True) -> None:
        conversation = self.session.conversation
        self.refresh_header()
        await self.log_view.show(conversation.path)
        await self.show_attachments()
        if conversation.read_only:
            await self.log_view.notice(conversation.read_only_reason, "warning")
        if self.setup_problem:
            await self.log_view.notice(
                f"{self.setup_problem}\nPress F4 to choose a provider or enter a base URL; F1 lists every key.",
                "warning",
            )
        if meter:
            self.update_meter()

    def refresh_header(self) -> None:
        conversation = self.session.conversation
        self.title = clean(conversation.title) or "New conversation"
        self.sub_title = clean(f"{conversation.persona.name} · {conversation.provider} · {conversation.model}")

    def set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    # -- the meter ---------------------------------------------------------------

    @on(TextArea.Changed, "#composer")
    def draft_changed(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE, self.update_meter)

    def update_meter(self) -> None:
        self._compute_meter(self.composer.text)

    @work(thread=True, exclusive=True, group="meter", exit_on_error=False)
    def _compute_meter(self, draft: str) -> None:
        # Counting a long draft (or loading the encoding the first time) stays off the event loop.
        meter = self.session.meter(draft)
        window = self.session.window()
        if self.app.is_running:
            try:
                self.app.call_from_thread(self._show_meter, meter, window.sent)
            except RuntimeError:  # the app closed while we counted
                pass

    def _show_meter(self, meter, sent: list[Message]) -> None:
        self.query_one(TokenMeter).meter = meter
        self.log_view.mark_window(sent)

    # -- sending and streaming -------------------------------------------------------

    @property
    def replying(self) -> bool:
        return self.reply_worker is not None and self.reply_worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    @on(Composer.Submitted)
    async def send(self, event: Composer.Submitted) -> None:
        command = event.text.strip()
        if command == "/file" or command.startswith("/file "):
            path = command.removeprefix("/file").strip()
            if len(path) >= 2 and path[0] == path[-1] and path[0] in "'\"":
                path = path[1:-1]
            self.composer.clear()
            if path:
                self.attach_file(path)
            else:
                self.action_attach()
            return
        if not command and not self.session.pending:
            return
        if self.replying:
            self.notify("A reply is still streaming: press Escape to stop it first.", severity="warning")
            return
        if self.session.conversation.read_only:
            self.notify("This conversation is read-only (the notice above says why).", severity="error")
            return
        self.cancel_countdown()
        self.retry.reset()
        self.log_view.clear_notices()
        try:
            message = self.session.submit(event.text)  # saved before anything goes out
        except (OSError, StoreError) as error:
            await self.log_view.notice(
                f"Could not save the conversation, so nothing was sent: {save_problem(error)}. "
                "Your message is still in the composer.",
                "error",
            )
            return
        self.composer.clear()
        await self.show_attachments()
        self.refresh_header()
        await self.log_view.add(message)
        self.log_view.anchor()
        await self.request_reply()

    async def request_reply(self) -> None:
        if self.setup_problem:
            await self.log_view.notice(f"Not sent: {self.setup_problem} (F4 opens settings)", "error")
            self.update_meter()
            return
        window = self.session.window()
        if not window.fits:
            await self.log_view.notice(f"Not sent: {window.reason}", "error")
            self.update_meter()
            return
        self.reply_worker = self.stream_reply()

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def stream_reply(self) -> None:
        conversation = self.session.conversation
        message = conversation.add_assistant("", self.session.model)
        view = await self.log_view.add(message)
        view.status = "replying…"
        self.set_status(f"Replying with {self.session.model}… (Escape stops)")
        self.update_meter()
        failure: api.Failed | None = None
        reply = _Batched(view.stream())
        thoughts: _Batched | None = None  # the thinking block, once reasoning arrives
        flushed = time.monotonic()
        save_error: Exception | None = None
        try:
            async for event in self.session.reply(message):
                if isinstance(event, api.Reasoning):
                    if thoughts is None:
                        thoughts = _Batched(await view.thinking_stream())
                    thoughts.add(event.text)
                elif isinstance(event, api.Delta):
                    if thoughts is not None and not thoughts.done:
                        await thoughts.flush()  # the reply starts: the thinking folds away
                        thoughts.done = True
                        view.fold_thinking()
                    reply.add(event.text)
                elif isinstance(event, api.Adjusted):
                    await self.log_view.notice(event.note, "info")
                elif isinstance(event, api.Failed):
                    failure = event
                # Batch: each Markdown update costs a layout, whatever its size.
                if time.monotonic() - flushed >= FRAME:
                    for batch in (thoughts, reply):
                        if batch is not None:
                            await batch.flush(partial=True)
                    flushed = time.monotonic()
        except (OSError, StoreError) as error:  # the reply arrived but the save at its end failed
            save_error = error
        finally:
            for batch in (thoughts, reply):
                if batch is not None:
                    await batch.close()
            await self._settle_view(view, message, failure)
        if save_error is not None:
            await self.log_view.notice(
                f"The reply arrived but was not saved: {save_problem(save_error)}. "
                "It stays on screen; chinwag saves again with your next message.",
                "error",
            )

    async def _settle_view(self, view: MessageView, message: Message, failure: api.Failed | None) -> None:
        if message not in self.session.conversation.messages:
            await view.remove()
        else:
            view.status = STATUS_WORDS.get(message.finish_reason or "", "")
        self.set_status("")
        self.refresh_header()
        self.update_meter()
        if failure is not None:
            await self.show_failure(failure)

    async def show_failure(self, failure: api.Failed) -> None:
        self.retry.retries = self.app.settings.retries
        wait = self.retry.next(failure)
        if wait is not None:
            await self.start_countdown(failure.message, wait)
            return
        hint = " Fix it with F4, then press ctrl+r." if failure.kind == api.AUTH else " Press ctrl+r to retry."
        if failure.kind == api.RATE_LIMITED and failure.retry_after:
            hint = f" The server asks to wait {failure.retry_after:.0f} s; press ctrl+r after that."
        await self.log_view.notice(failure.message + hint, "error")
        self.set_status("No reply (see above). ctrl+r retries.")

    # -- automatic retry countdown ------------------------------------------------------

    async def start_countdown(self, reason: str, wait: float) -> None:
        notice = await self.log_view.notice("", "warning")
        remaining = math.ceil(wait)

        def tick() -> None:
            nonlocal remaining
            if remaining <= 0:
                self.cancel_countdown()
                notice.set_text(f"{reason} Retrying now.")
                self.run_worker(self.request_reply(), exit_on_error=False)
                return
            notice.set_text(f"{reason} Retrying in {remaining} s (Escape cancels).")
            self.set_status(f"Retrying in {remaining} s…")
            remaining -= 1

        tick()
        self._countdown = self.set_interval(1.0, tick)

    def cancel_countdown(self) -> bool:
        if self._countdown is None:
            return False
        self._countdown.stop()
        self._countdown = None
        self.set_status("")
        return True

    # -- actions -------------------------------------------------------------------

    async def stop_reply(self) -> None:
        """Stop the streaming reply (the partial text is kept and saved)."""
        worker = self.reply_worker
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            worker.cancel()
            try:
                await worker.wait()
            except Exception:  # WorkerCancelled / WorkerFailed: the session saved already
                pass

    async def action_stop(self) -> None:
        if self.cancel_countdown():
            await self.log_view.notice("Automatic retry cancelled. Press ctrl+r to retry.", "info")
            return
        if self.replying:
            await self.stop_reply()
            self.notify("Reply stopped; the partial text is kept.")

    async def action_regenerate(self) -> None:
        if self.replying:
            self.notify("A reply is still streaming: press Escape to stop it first.", severity="warning")
            return
        self.cancel_countdown()
        self.retry.reset()
        if not self.session.can_regenerate():
            self.notify("Nothing to regenerate yet: send a message first.", severity="warning")
            return
        old = self.session.prepare_regenerate()
        if old is not None:
            view = self.log_view.view_for(old)
            if view is not None:  # the old reply stays in the document, a sibling of the new one
                await view.remove()
        self.log_view.clear_notices()
        await self.request_reply()

    def action_copy(self) -> None:
        last = self.session.conversation.last(ASSISTANT)
        if last is None or not last.content:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(last.content)
        if self.app.is_web:  # the browser decides: it allows it on localhost and https pages
            self.notify(f"Sent the last reply ({len(last.content):,} characters) to the browser's clipboard.")
        else:
            self.notify(f"Copied the last reply ({len(last.content):,} characters).")

    # -- attachments -------------------------------------------------------------------

    def action_attach(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.attach_file(path)

        self.app.push_screen(AttachScreen(Path.cwd()), chosen)

    @work(thread=True, group="attach", exit_on_error=False)
    def attach_file(self, path: str) -> None:
        """Read, store and count the file off the event loop (a large file takes a moment)."""
        session = self.session
        try:
            attachment = session.attach(path)
            tokens = session.attachment_tokens(attachment)
        except AttachError as error:
            self.app.call_from_thread(self.notify, str(error), title="Not attached", severity="error",
                                      markup=False, timeout=8)
            return
        self.app.call_from_thread(self.notify, f"Attached {attachment.label} ({tokens:,} tokens); it goes "
                                               "with your next message.", markup=False)
        self.app.call_from_thread(self.attachments_changed)

    async def attachments_changed(self) -> None:
        await self.show_attachments()
        self.update_meter()

    async def show_attachments(self) -> None:
        items = [(a.label, self.session.attachment_tokens(a)) for a in self.session.pending]
        await self.query_one(AttachmentBar).show(items)

    @on(AttachmentBar.Removed)
    async def remove_attachment(self, event: AttachmentBar.Removed) -> None:
        if 0 <= event.index < len(self.session.pending):
            removed = self.session.detach(event.index)
            self.notify(f"Removed {removed.label}.", markup=False)
            await self.attachments_changed()

    @on(Composer.EmptyBackspace)
    async def remove_last_attachment(self) -> None:
        if self.session.pending:
            await self.remove_attachment(AttachmentBar.Removed(len(self.session.pending) - 1))

    def action_thinking(self) -> None:
        for view in reversed(self.log_view.views()):
            if view.toggle_thinking():
                return
        self.notify("No reply here has a thinking block.", severity="warning")

    def action_sidebar(self) -> None:
        meter = self.query_one(TokenMeter)
        meter.display = not meter.display

    def action_export(self) -> None:
        self.app.action_export_conversation(self.session.conversation)

    async def action_new(self) -> None:
        await self.app.action_new_conversation()

    def action_personas(self) -> None:
        self.app.action_switch_persona()

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "reply":
            error = event.worker.error
            await self.log_view.notice(f"The reply failed unexpectedly: {clean(str(error)) or type(error).__name__}", "error")
            self.set_status("")
