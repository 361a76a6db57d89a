"""The chat screen: chat pane, composer, token-meter sidebar.

It owns the conversation on screen (a ChatSession): new, resume, persona switch and settings
changes happen here. The app tells it of changes made elsewhere with the Messages in
``chinwag.tui.messages``; the session (engine) decides everything that is not about showing.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Static, TextArea
from textual import message as textual_message
from textual.worker import Worker, WorkerState

from chinwag.attachments import AttachError
from chinwag.chat_context import ChatContext
from chinwag.conversation import ASSISTANT, Message
from chinwag.personas import PersonaSpec, load_personas
from chinwag.retry import RetryPolicy
from chinwag.sanitize import clean
from chinwag.store import StoreError, save_problem
from chinwag.tui.messages import (
    ContextChanged,
    ConversationDeleted,
    ConversationRenamed,
    OpenConversation,
    Recovered,
)
from chinwag.tui.screens.chat_branches import BranchActions
from chinwag.tui.screens.chat_compare import CompareActions
from chinwag.tui.stream import ScreenStream
from chinwag.tui.widgets.attachment_bar import AttachmentBar
from chinwag.tui.widgets.chat_log import ChatLog
from chinwag.tui.widgets.composer import Composer
from chinwag.tui.widgets.key_bar import KeyBar
from chinwag.tui.widgets.message import MessageView, Notice, status_of
from chinwag.tui.widgets.token_meter import TokenMeter

if TYPE_CHECKING:  # the session and the client load when the chat first needs them (after its first frame)
    from chinwag import client as api
    from chinwag.merge import Merged
    from chinwag.session import ChatSession, TooLong

DRAFT_DEBOUNCE = 0.15
LOOK_FOR_OTHERS = 3.0  # seconds between looks at whether another process saved this conversation
NARROW = 70  # below this width the sidebar hides itself
# Work that can wait for the first frame starts this long after it is drawn: Textual writes the
# frame from a thread, which a busy event loop (or a loading thread) keeps from the terminal.
AFTER_FIRST_FRAME = 0.05


class ChatScreen(BranchActions, CompareActions, Screen):
    """Talk to a model. The session holds the conversation; this screen shows it. Message mode
    and the tree view (acting on one message, switching branches) are in chat_branches, the
    comparison of models in chat_compare."""

    class Opened(textual_message.Message):
        """A conversation is on screen (the app loads the slow parts after a resume's first look)."""

        def __init__(self, model: str) -> None:
            super().__init__()
            self.model = model

    AUTO_FOCUS = "Composer"

    DEFAULT_CSS = """
    ChatScreen {
        /* Header and keys split off the top and bottom rows; the sidebar docks right between them. */
        & > Header { split: top; }
        & > KeyBar { split: bottom; }
        #meter { dock: right; }
        #status {
            height: auto;
            max-height: 2;
            padding: 0 1;
            color: $text-muted;
            text-style: italic;
        }
        #composer.-editing { border: round $warning; border-title-color: $warning; }
        #composer.-comparing { border: round $accent; border-title-color: $accent; }
    }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop reply", id="chat.stop"),
        Binding("ctrl+n", "new", "New chat", id="chat.new"),
        Binding("ctrl+r", "regenerate", "Regenerate", id="chat.regenerate"),
        Binding("ctrl+y", "copy", "Copy reply", priority=True, show=False, id="chat.copy"),
        Binding("ctrl+e", "export", "Export", priority=True, show=False, id="chat.export"),
        Binding("ctrl+b", "sidebar", "Sidebar", show=False, id="chat.sidebar"),
        Binding("ctrl+o", "attach", "Attach a file to the next message", priority=True, show=False,
                id="chat.attach"),
        Binding("ctrl+t", "thinking", "Show or hide the last reply's thinking", show=False, id="chat.thinking"),
        Binding("f3", "personas", "Persona", id="chat.persona"),
        Binding("ctrl+home", "scroll_top", "Chat: first message", show=False, id="chat.top"),
        Binding("ctrl+end", "scroll_bottom", "Chat: newest message", show=False, id="chat.bottom"),
        Binding("ctrl+up", "messages", "Select a message (message mode)", show=False, id="chat.messages"),
        # The composer (a TextArea) takes F6 and F7 for itself: these must come first.
        # Not in the footer (it is full at 120 columns): F1, the palette and the README list them.
        Binding("f6", "tree", "Tree", priority=True, show=False, id="chat.tree",
                tooltip="The conversation tree: every branch; Enter shows one"),
        Binding("f7", "compare", "Compare", priority=True, show=False, id="chat.compare",
                tooltip="Compare models: the next message goes to 2 or 3 models side by side"),
    ]

    def __init__(self, context: ChatContext, opening: str | None = None) -> None:
        """``opening``: a conversation is being read for this chat; say so until it arrives."""
        super().__init__()
        self.context = context
        self._session: ChatSession | None = None
        self.opening = opening
        self.reply_worker: Worker | None = None
        self.retry = RetryPolicy(context.settings.retries)
        self._draft_timer: Timer | None = None
        self._metered_draft = ""  # the composer's text the meter last counted
        self._countdown: Timer | None = None
        self._retry_notice: tuple[Notice, str] | None = None  # the countdown's notice and its reason
        self._sidebar_chosen: bool | None = None  # ctrl+b overrides the automatic choice

    @property
    def session(self) -> ChatSession:
        """The conversation on screen. A new chat's is made when first needed, after the first
        frame: the session brings the client, tokenizer, pricing and saving with it."""
        if self._session is None:
            self._session = self.context.new_session()
            self._session.on_merge = self._merged
        return self._session

    @session.setter
    def session(self, session: ChatSession) -> None:
        self._session = session
        session.on_merge = self._merged

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # No containers (each is styled, laid out and drawn at start): the chat column is the rest
        # of the screen once the header, the keys and the sidebar take their edges.
        yield Header()
        yield KeyBar()
        yield TokenMeter(id="meter")
        yield ChatLog(id="chat-log")
        yield Static("", id="status", markup=False)
        yield AttachmentBar(id="attachments")
        yield Composer(id="composer")

    @property
    def log_view(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    async def on_mount(self) -> None:
        self.set_interval(LOOK_FOR_OTHERS, self.look_for_others)
        self.composer.border_title = self.composer.title()
        self.log_view.branches = lambda message: self.session.conversation.sibling_position(message.id)
        self.refresh_header()
        if self.opening:
            await self.log_view.notice(f"Opening conversation {self.opening}…", "info")
            return
        # A new chat's first frame: the header, an empty chat and what is missing to send. Its
        # session (client, tokenizer, pricing, saving) is made once that frame is on the terminal,
        # or sooner when a key needs it; the first count is the app's, once the tokenizer is loaded.
        if self.context.problem:
            await self.show_problem()
        self.set_timer(AFTER_FIRST_FRAME, self._prepare_session)

    def _prepare_session(self) -> None:
        self.session  # noqa: B018 (made now, not at the first key)

    def on_resize(self) -> None:
        if self._sidebar_chosen is None:
            self.query_one(TokenMeter).display = self.size.width >= NARROW

    async def show_conversation(self, meter: bool = True) -> None:
        conversation = self.session.conversation
        self.refresh_header()
        await self.log_view.show(conversation.path)
        await self.show_attachments()
        if conversation.read_only:
            await self.log_view.notice(conversation.read_only_reason, "warning")
        if self.context.problem:
            await self.show_problem()
        # Counting (which may load the tokenizer) and the app's warm-up run in threads: start them
        # once the messages are painted, not while the screen is being laid out.
        self.call_after_refresh(self._opened, meter)

    async def show_problem(self) -> None:
        """What must be set before a request can go out (a key, a base URL), and where."""
        await self.log_view.notice(
            f"{self.context.problem}\nPress F4 to choose a provider or enter a base URL; F1 lists every key.",
            "warning",
        )

    def _opened(self, meter: bool) -> None:
        if meter:
            self.update_meter()
        self.post_message(self.Opened(self.session.model))

    def refresh_header(self) -> None:
        if self.opening:
            self.title, self.sub_title = "Opening…", ""
            return
        # Before a new chat's session exists, its conversation-to-be says the same.
        conversation = self.context.new_conversation() if self._session is None else self.session.conversation
        self.title = clean(conversation.title, one_line=True) or "New conversation"
        self.sub_title = clean(f"{conversation.persona.name} · {conversation.provider} · {conversation.model}",
                               one_line=True)

    def set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(clean(text))

    # -- what the app tells us -----------------------------------------------------

    async def open_session(self, session: ChatSession, note: str | None = None) -> None:
        """Show ``session`` instead of the one on screen (whose reply is stopped and saved)."""
        await self.stop_reply()
        await self.end_compare(show=False)
        self.flush_choice()
        self.cancel_countdown()
        self.retry.reset()
        self.session = session
        self.opening = None
        self.end_edit(restore=False)
        self.disarm()
        self.composer.clear()
        if self.log_view.has_focus or self.log_view.selected is not None:
            self.action_leave_messages()  # another conversation: the keys go to the composer again
        await self.show_conversation()
        if note:
            self.notify(note, markup=False)

    @on(OpenConversation)
    async def open_conversation(self, event: OpenConversation) -> None:
        if event.conversation is None:
            self.opening = None
            await self.show_conversation()
            await self.log_view.notice(event.problem, "error")
            return
        await self.open_session(
            self.context.new_session(event.conversation),
            f"Resumed: {clean(event.conversation.title)}" if event.announce else None,
        )

    @on(ContextChanged)
    async def context_changed(self, event: ContextChanged) -> None:
        old, self.context = self.context, event.context
        if not self.comparing:
            await old.aclose_others()
        self.retry.retries = event.context.settings.retries
        event.context.apply_to(self.session)
        self.refresh_header()
        self.update_meter()
        if event.context.problem:
            await self.log_view.notice(event.context.problem, "warning")
        else:
            self.log_view.clear_notices()
            self.notify(f"Using {clean(event.context.describe(self.session))}", markup=False)

    @on(Recovered)
    async def recovered(self, event: Recovered) -> None:
        """Offer back what a failed save kept last time: its conversation and the draft."""
        when = f" ({event.saved_at})" if event.saved_at else ""
        fresh = not self.session.conversation.messages and not self.opening
        if event.conversation is not None and fresh:
            await self.open_session(self.context.new_session(event.conversation))
        if event.draft and not self.composer.text:
            self.composer.text = event.draft
            where = "in the composer"
        else:
            where = "kept in the notice below" if event.draft else ""
        parts = ["chinwag could not save last time" + when + "."]
        if event.conversation is not None:
            parts.append("The conversation is saved now." if event.restored
                         else "The conversation still cannot be saved; it is kept for the next start.")
        if event.draft:
            parts.append(f"Your unsent draft is {where}.")
        await self.log_view.notice(" ".join(parts), "warning")
        if event.draft and where != "in the composer":
            await self.log_view.notice(event.draft, "info")

    # -- another process writing the same conversation --------------------------------

    def _merged(self, merged: Merged) -> None:
        """The session took in what another process saved (called from the session, which may
        be saving in a thread)."""
        if threading.get_ident() == self.app._thread_id:
            self.call_later(self._show_merged, merged)
        else:
            self.app.call_from_thread(self.call_later, self._show_merged, merged)

    async def _show_merged(self, merged: Merged) -> None:
        path = self.session.conversation.path
        if self.log_view.messages != path and not self.replying:
            await self.log_view.show(path)
        else:
            self.log_view.refresh_branches()  # another window may have added a version
        self.refresh_header()
        self.update_meter()
        if merged.messages:
            count = len(merged.messages)
            self.notify(f"{count} message{'s' if count != 1 else ''} from another chinwag window "
                        "joined this conversation.", markup=False)

    def look_for_others(self) -> None:
        """Take in what another process saved to this conversation (one stat when nothing did)."""
        if not self.opening and not self.replying and self.session.conversation.messages:
            self.session.refresh()

    @on(ConversationRenamed)
    def conversation_renamed(self, event: ConversationRenamed) -> None:
        # The open conversation keeps its new title: its next save must not write the old one back.
        if self.session.conversation.id == event.conv_id:
            self.session.conversation.title = event.title
            self.refresh_header()

    @on(ConversationDeleted)
    async def conversation_deleted(self, event: ConversationDeleted) -> None:
        # The open conversation was deleted: start afresh rather than write its file back.
        if self.session.conversation.id == event.conv_id:
            await self.action_new()

    # -- the meter ---------------------------------------------------------------

    @on(TextArea.Changed, "#composer")
    def draft_changed(self) -> None:
        if self.composer.text == self._metered_draft:
            return  # (clearing an empty composer, as opening a conversation does: nothing to count)
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE, self.update_meter)

    def update_meter(self) -> None:
        if not self.opening:
            self._metered_draft = self.composer.text
            self._compute_meter(self.session, self._metered_draft, self.editing)

    @work(thread=True, exclusive=True, group="meter", exit_on_error=False, description="count tokens")
    def _compute_meter(self, session: ChatSession, draft: str, editing: Message | None = None) -> None:
        # Counting a long draft (or loading the encoding the first time) stays off the event loop.
        meter = session.meter(draft, editing)
        sent = session.window().sent
        try:
            self.app.call_from_thread(self._show_meter, session, meter, sent)
        except RuntimeError:  # the app closed while we counted
            pass

    def _show_meter(self, session: ChatSession, meter, sent: list[Message]) -> None:
        if session is self.session and self.is_attached:
            self.query_one(TokenMeter).meter = meter
            self.log_view.mark_window(sent)

    # -- sending and streaming -------------------------------------------------------

    @property
    def replying(self) -> bool:
        if self.comparing:
            return True
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
        if self.opening:
            self.notify("The conversation is still opening: your draft stays here.", severity="warning")
            return
        if self.busy():
            return
        self.cancel_countdown()
        self.retry.reset()
        self.log_view.clear_notices()
        from chinwag.session import TooLong

        try:
            message, branched = self.submit_draft(event.text)  # saved before anything goes out
        except TooLong as refused:  # could never go out: not added, the draft and files stay
            await self.log_view.notice(too_long_notice(refused), "error")
            self.update_meter()
            return
        except (OSError, StoreError) as error:
            await self.log_view.notice(
                f"Could not save the conversation, so nothing was sent: {save_problem(error)}. "
                "Your message is still in the composer.",
                "error",
            )
            return
        self.composer.clear()
        await self.put_back()  # the draft an edit put aside
        await self.show_attachments()
        self.refresh_header()
        if branched:  # an edit: the new branch replaces what was shown from there on
            await self.log_view.show(self.session.conversation.path)
        else:
            await self.log_view.add(message)
        if self.armed:
            await self.start_compare(message)
        else:
            await self.request_reply()

    @on(Composer.PageChat)
    def page_chat(self, event: Composer.PageChat) -> None:
        if event.direction < 0:
            self.log_view.scroll_page_up(animate=False)
        else:
            self.log_view.scroll_page_down(animate=False)

    def refusal(self) -> str | None:
        """Why the next request cannot go out (no key, nothing fits), or None."""
        if self.context.problem:
            return f"Not sent: {self.context.problem} (F4 opens settings)"
        window = self.session.window()
        return None if window.fits else f"Not sent: {window.reason}"

    async def request_reply(self) -> None:
        problem = self.refusal()
        if problem is not None:
            await self.log_view.notice(problem, "error")
            self.update_meter()
            return
        self.reply_worker = self.stream_reply()

    @work(exclusive=True, group="reply", exit_on_error=False, description="stream a reply")
    async def stream_reply(self) -> None:
        from chinwag import client as api

        session = self.session
        message = session.conversation.add_assistant("", session.model)
        view = await self.log_view.add(message)
        view.status = "replying…"
        retry = f"automatic retry {self.retry.done}; " if self.retry.done else ""
        self.set_status(f"Replying with {session.model}… ({retry}Escape stops)")
        self.update_meter()
        reply = ScreenStream(self, view.body)
        thoughts: ScreenStream | None = None  # the thinking block, once reasoning arrives

        def follow(new: MessageView) -> None:
            """Scrolled away and back, the message has a new view: stream into that one."""
            nonlocal view
            view = new
            new.set_reactive(MessageView.status, "replying…")
            reply.retarget(new.body)
            if thoughts is not None and thoughts.body is not None and new.thinking is not None:
                new.thinking.collapsed = False
                thoughts.retarget(new.thinking.body)

        self.log_view.follow(message, follow)
        failure: api.Failed | None = None
        save_error: Exception | None = None
        try:
            async for event in session.reply(message):
                if isinstance(event, api.Delta):
                    if thoughts is not None and thoughts.body is not None:
                        thoughts.close()  # the reply starts: the thinking folds away
                        thoughts.body = None
                        view.fold_thinking()
                    reply.add(event.text)
                elif isinstance(event, api.Reasoning):
                    if thoughts is None:
                        thoughts = ScreenStream(self, await view.thinking_body())
                    if thoughts.body is not None:
                        thoughts.add(event.text)
                else:
                    reply.flush()  # the reply is ending: on screen now, before it is saved
                    if isinstance(event, api.Adjusted):
                        await self.log_view.notice(event.note, "info")
                    elif isinstance(event, api.Failed):
                        failure = event
        except (OSError, StoreError) as error:  # the reply arrived but the save at its end failed
            save_error = error
        finally:
            self.log_view.follow(message, None)
            for stream in (thoughts, reply):
                if stream is not None and stream.body is not None:
                    stream.close()
            await self._settle_view(session, view, message, failure)
        if save_error is not None:
            await self.log_view.notice(
                f"The reply arrived but was not saved: {save_problem(save_error)}. "
                "It stays on screen; chinwag saves again with your next message.",
                "error",
            )

    async def _settle_view(self, session: ChatSession, view: MessageView, message: Message,
                           failure: api.Failed | None) -> None:
        if message not in session.conversation.messages:
            await self.log_view.remove_message(message)
        else:
            view.status = status_of(message)
        if session is self.session and self.log_view.messages != session.conversation.path:
            await self.log_view.show(session.conversation.path)  # e.g. a failed regenerate: the old reply is back
        self.set_status("")
        self.refresh_header()
        self.update_meter()
        if failure is not None:
            await self.show_failure(failure)

    async def show_failure(self, failure: api.Failed) -> None:
        from chinwag import client as api

        wait = self.retry.next(failure)
        if wait is not None:
            await self.start_countdown(failure.message, wait)
            return
        hint = " Fix it with F4, then press ctrl+r." if failure.kind == api.AUTH else " Press ctrl+r to retry."
        if failure.kind == api.RATE_LIMITED and failure.retry_after:
            hint = f" The server asks to wait {failure.retry_after:.0f} s; press ctrl+r after that."
        done = self.retry.done
        retried = f" chinwag retried {done} time{'s' if done != 1 else ''} by itself." if done else ""
        await self.log_view.notice(sentence(failure.message) + retried + hint, "error")
        self.set_status("No reply (see above). ctrl+r retries.")

    # -- automatic retry countdown ------------------------------------------------------
    # The countdown is a notice below the chat while it runs. When the retry goes out the notice
    # goes (the status line says a retry is under way): the reply then streams where the notice
    # was, so the chat reads in order, and what the screen shows is what a resume shows
    # (notices are not part of the conversation). A retry that fails again counts down anew.

    async def start_countdown(self, reason: str, wait: float) -> None:
        notice = await self.log_view.notice("", "warning")
        reason = sentence(reason)
        self._retry_notice = (notice, reason)
        remaining = math.ceil(wait)

        def tick() -> None:
            nonlocal remaining
            if remaining <= 0:
                self._retry_notice = None
                self.cancel_countdown()
                notice.remove()
                self.set_status(f"Retrying now (automatic retry {self.retry.done})…")
                self.run_worker(self.request_reply(), exit_on_error=False)
                return
            notice.set_text(f"{reason} Retrying in {remaining} s (Escape cancels).")
            self.set_status(f"Retrying in {remaining} s…")
            remaining -= 1

        self._countdown = self.set_interval(1.0, tick)
        tick()  # after the timer is set: a wait of 0 s retries at once and stops it, never twice

    def cancel_countdown(self) -> bool:
        if self._countdown is None:
            return False
        self._countdown.stop()
        self._countdown = None
        self.set_status("")
        if self._retry_notice is not None:  # cancelled: the reason stays, the countdown goes
            notice, reason = self._retry_notice
            notice.set_text(reason)
            self._retry_notice = None
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
        await self.stop_compare()

    async def action_stop(self) -> None:
        if self.cancel_countdown():
            await self.log_view.notice("Automatic retry cancelled. Press ctrl+r to retry.", "info")
            return
        if self.replying:
            await self.stop_reply()
            self.notify("Reply stopped; the partial text is kept.")
            return
        if self.editing is not None:
            self.end_edit(restore=True)
            self.notify("Edit cancelled: the message is unchanged.")
            return
        if self.armed:
            self.disarm()
            self.notify("Compare cancelled: the next message goes to the current model only.")
            return
        if self.log_view.messages:
            self.action_messages()  # idle: Escape selects the newest message

    @on(ChatLog.Typed)
    def typed_in_messages(self, event: ChatLog.Typed) -> None:
        self.action_leave_messages()
        self.composer.insert(event.character)

    async def action_new(self) -> None:
        await self.open_session(self.context.new_session(), "New conversation.")

    async def action_regenerate(self) -> None:
        await self.regenerate()  # the last reply; the old one stays, a sibling of the new one

    def action_copy(self) -> None:
        last = self.session.conversation.last(ASSISTANT)
        if last is None or not last.content:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.copied(last.content, "the last reply")

    # -- attachments -------------------------------------------------------------------

    def action_attach(self) -> None:
        from chinwag.tui.screens.attach import AttachScreen  # (dialogs load when first opened)

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
        self.notify("No reply on screen has a thinking block.", severity="warning")

    def action_sidebar(self) -> None:
        meter = self.query_one(TokenMeter)
        meter.display = self._sidebar_chosen = not meter.display

    def action_export(self) -> None:
        from chinwag.tui.screens.export import open_export

        open_export(self.app, self.session.conversation)

    def action_scroll_top(self) -> None:
        self.log_view.action_scroll_home()

    def action_scroll_bottom(self) -> None:
        self.log_view.action_scroll_end()

    def action_personas(self) -> None:
        from chinwag.tui.screens.personas import PersonaScreen

        current = self.session.conversation.persona.name

        async def chosen(spec: PersonaSpec | None) -> None:
            self.context.personas, _ = load_personas()
            if spec is not None:
                await self.switch_persona(spec)

        self.app.push_screen(PersonaScreen(self.context.personas, current), chosen)

    async def switch_persona(self, spec: PersonaSpec) -> None:
        event = self.session.apply_persona(spec)
        try:
            self.session.save()
        except (OSError, StoreError) as error:
            self.notify(f"Persona switched, but not saved: {save_problem(error)}", severity="error", markup=False)
        if event is not None:
            await self.log_view.add(event)
        self.refresh_header()
        self.update_meter()
        self.notify(f"Persona {clean(spec.name)} applies to the next reply.", markup=False)

    def commands(self) -> list[SystemCommand]:
        """What the command palette offers on this screen."""
        # Each waiting file can be taken out from the keyboard, whatever the composer holds.
        # (Titles are read as markup: a file name is the user's text.)
        removals = [SystemCommand(f"Remove attachment: {escape(clean(a.label, one_line=True))}",
                                  "Take this file out of the next message",
                                  lambda i=i: self.post_message(AttachmentBar.Removed(i)))
                    for i, a in enumerate(self.session.pending)]
        return removals + [
            SystemCommand("Send message", "Send what is in the composer", self.composer.action_submit),
            SystemCommand("Stop reply", "Stop the streaming reply and keep what arrived", self.action_stop),
            SystemCommand("New conversation", "Start a new conversation", self.action_new),
            SystemCommand("Regenerate reply", "Ask again for the last reply (the old one is kept)",
                          self.action_regenerate),
            SystemCommand("Copy last reply", "Copy the last reply to the clipboard", self.action_copy),
            SystemCommand("Export conversation", "Write the conversation as Markdown, HTML, text or JSON",
                          self.action_export),
            SystemCommand("Toggle sidebar", "Show or hide the token meter", self.action_sidebar),
            SystemCommand("Attach file", "Add a text file (or an image, for models that see) to the next message",
                          self.action_attach),
            SystemCommand("Show or hide thinking", "Open or close the last reply's reasoning", self.action_thinking),
            SystemCommand("Switch persona", "Choose the persona for the next reply", self.action_personas),
            SystemCommand("First message", "Scroll the chat to its first message", self.action_scroll_top),
            SystemCommand("Newest message", "Scroll the chat to its newest message", self.action_scroll_bottom),
            SystemCommand("Message mode", "Select a message to edit, regenerate, switch versions, copy or fork",
                          self.action_messages),
            SystemCommand("Conversation tree", "Every branch of this conversation; Enter shows one",
                          self.action_tree),
            SystemCommand("Compare models", "Send the next message to 2 or 3 models (any providers) side by side",
                          self.action_compare),
        ]

    def on_descendant_focus(self, event) -> None:
        if event.widget is self.composer:  # back in the composer: message mode ends
            self.log_view.select(None)

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "reply":
            error = event.worker.error
            await self.log_view.notice(f"The reply failed unexpectedly: {clean(str(error)) or type(error).__name__}",
                                       "error")
            self.set_status("")


def too_long_notice(refused: TooLong) -> str:
    """Why a message was refused before it was added, and what would let it go out."""
    if refused.over_budget and refused.system > refused.budget:
        ways = ["raise the token budget (F4)", "switch to a persona with a shorter prompt (F3)"]
    else:
        if refused.over_window:
            ways = ["choose a model with a larger context window" + (" and raise the budget (F4)"
                                                                      if refused.over_budget else " (F4)")]
        else:
            ways = ["raise the token budget (F4)"]
        if refused.files:
            ways.append("remove an attachment (click its chip)")
        if refused.needed - refused.system - refused.files > refused.files:
            ways.append("shorten the text")
    ways = ", ".join(ways[:-1]) + " or " + ways[-1]
    return f"Not sent: {refused} Nothing was sent or saved: your message stays in the composer. To send it, {ways}."


def sentence(text: str) -> str:
    """``text`` ending as a sentence, so another can follow it."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…" else text + "."
