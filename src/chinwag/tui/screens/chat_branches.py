"""Message mode and the conversation tree: what the chat screen does with one chosen message.

``ctrl+up`` from the composer (or ``Escape`` when nothing is going on) selects the newest
message; the chat log moves the selection and binds the keys below to these actions:
``e`` edit and resend (a user message comes into the composer; Enter sends it as a new branch),
``r`` regenerate (a sibling reply), ``←``/``→`` the message's other versions, ``y`` copy it,
``c`` copy one of its code blocks, ``f`` fork a new conversation up to it. ``F6`` shows the
whole tree. The session (engine) does the branch work; this shows it.
"""

from __future__ import annotations


from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.timer import Timer

from chinwag import attachments
from chinwag.conversation import ASSISTANT, USER, Message
from chinwag.sanitize import clean
from chinwag.store import StoreError, save_problem
from chinwag.tui.markdown_blocks import code_blocks
from chinwag.tui.widgets.composer import key_name

if TYPE_CHECKING:  # the tree loads when first opened (a faster start)
    from chinwag.tui.screens.tree import Place

SAVE_CHOICE = 0.5  # seconds after the last ←/→ before the branch shown is saved


class BranchActions:
    """Mixed into ChatScreen (which holds ``session``, ``log_view``, ``composer``...)."""

    editing: Message | None = None  # the user message being edited in the composer
    _before_edit: tuple[str, list] | None = None  # the draft and files the edit put aside
    _put_back: tuple[str, list] | None = None  # ...given back once the edit is sent
    _save_choice: Timer | None = None  # a pending save of the branch shown

    # -- entering and leaving ----------------------------------------------------------------

    def action_messages(self) -> None:
        if self.compare is not None:
            self.compare.view.focus_first()
            return
        log = self.log_view
        if log.selected is None and not log.select_newest():
            self.notify("No messages yet: message mode starts once there is one.", severity="warning")
            return
        self.set_focus(log)  # now: keys typed right after go to the log, not the composer

    def action_leave_messages(self) -> None:
        self.log_view.select(None)
        self.set_focus(self.composer)

    def selected_message(self) -> Message | None:
        return self.log_view.selected

    def busy(self, changes: bool = True) -> bool:
        """True (and says why) when a reply streams, or when ``changes`` and the conversation
        is read-only."""
        if self.replying:
            self.notify("A reply is still streaming: press Escape to stop it first.", severity="warning")
            return True
        if self.compare is not None:
            self.notify("Pick one of the compared replies first (its number), or Escape keeps them all.",
                        severity="warning")
            return True
        if changes and self.session.conversation.read_only:
            self.notify("This conversation is read-only (the notice above says why).", severity="error")
            return True
        return False

    # -- e: edit and resend ----------------------------------------------------------------------

    async def action_edit_message(self) -> None:
        message = self.selected_message()
        if message is None or self.busy():
            return
        if message.role != USER:
            self.notify("Only your own messages can be edited; r asks for another reply.", severity="warning")
            return
        editing = self.editing
        if editing is not None and editing is not message and (
                self.composer.text != editing.content or self.session.pending != attachments.of(editing)):
            # Starting another edit would throw this one's changes away: the user finishes it first.
            self.notify("You are editing another message: send it (Enter) or cancel it (Escape in the "
                        "composer) before editing this one.", severity="warning")
            self.set_focus(self.composer)
            return
        if editing is None:
            self._before_edit = (self.composer.text, list(self.session.pending))
        self.editing = message
        self.session.pending = attachments.of(message)
        self.composer.text = message.content
        self.composer.move_cursor(self.composer.document.end)
        self.refresh_composer_title()
        await self.show_attachments()
        self.set_focus(self.composer)
        self.update_meter()  # the next request: what came before the message, and the edit

    def refresh_composer_title(self) -> None:
        """The composer's title says what Enter will do: send, send an edit, send to compare."""
        parts = []
        composer = self.composer
        send = " / ".join(key_name(k) for k in composer.keys_of("composer.send"))
        if self.editing is not None:
            parts.append(f"Editing your message: {send} sends it as a new branch")
        if self.armed:
            provider = self.context.resolved.name
            names = ", ".join(f"{n} {t.model}" + (f" ({t.provider})" if t.provider != provider else "")
                              for n, t in enumerate(self.armed, 1))
            parts.append(f"Compare {names}: {send} sends to each")
        # Model names are content, never markup: a Text.
        composer.border_title = Text(clean(" · ".join(parts) + " (Escape cancels)")) if parts else composer.title()
        composer.set_class(self.editing is not None, "-editing")
        composer.set_class(bool(self.armed), "-comparing")

    def end_edit(self, restore: bool) -> tuple[str, list] | None:
        """Leave editing; ``restore`` puts the draft and files from before the edit back now.
        Returns them (None when there was no edit)."""
        before, self._before_edit = self._before_edit, None
        was_editing, self.editing = self.editing is not None, None
        self.refresh_composer_title()
        if was_editing:  # (no edit, nothing to count again: opening a conversation ends none)
            self.update_meter()
        if restore and before is not None:
            self.composer.text, self.session.pending = before[0], list(before[1])
            self.call_later(self.show_attachments)
        return before

    def submit_draft(self, text: str) -> tuple[Message, bool]:
        """Save the draft as the next message, or as the edited version of ``editing`` (then
        the draft from before the edit comes back once the composer is cleared: put_back()).
        Returns the message and whether the path on screen changed beyond appending it."""
        editing = self.editing
        if editing is not None and self.session.conversation.get(editing.id) is editing:
            message = self.session.edit(editing, text)
            self._put_back = self.end_edit(restore=False)
            return message, True
        if editing is not None:  # no longer in this conversation
            self.end_edit(restore=False)
        return self.session.submit(text), False

    async def put_back(self) -> None:
        before, self._put_back = self._put_back, None
        if before is not None and (before[0] or before[1]):
            self.composer.text, self.session.pending = before[0], list(before[1])
            await self.show_attachments()

    # -- r: regenerate -----------------------------------------------------------------------

    async def action_regenerate_message(self) -> None:
        message = self.selected_message()
        if message is not None:
            await self.regenerate(message)

    async def regenerate(self, message: Message | None = None) -> None:
        """A new reply beside ``message`` (a reply), or to it (a user message); default: the
        last reply. The old reply stays, a sibling of the new one."""
        if self.busy():
            return
        self.cancel_countdown()
        self.retry.reset()
        session = self.session
        if message is None and not session.can_regenerate():
            self.notify("Nothing to regenerate yet: send a message first.", severity="warning")
            return
        if message is not None and message.role not in (USER, ASSISTANT):
            self.notify("Only a reply or your own message can be answered again.", severity="warning")
            return
        before = session.conversation.current
        old = session.prepare_regenerate(message)
        problem = self.refusal()
        log = self.log_view
        if problem is not None:  # nothing goes out: the conversation stays as it was
            session.conversation.current = before
            log.clear_notices()
            await log.notice(problem, "error")
            return
        path = session.conversation.path
        if old is not None and log.messages and log.messages[-1] is old and len(log.messages) == len(path) + 1:
            await log.remove_message(old)  # the common case (ctrl+r): no need to show it all again
        elif log.messages != path:
            await log.show(path)
        log.clear_notices()
        log.select(None)
        self.set_focus(self.composer)
        await self.request_reply()

    # -- ← →: other versions -------------------------------------------------------------------

    async def action_switch_branch(self, step: int) -> None:
        message = self.selected_message()
        if message is None or self.busy(changes=False):
            return
        siblings = self.session.conversation.siblings(message.id)
        position, count = self.session.conversation.sibling_position(message.id)
        if count == 1:
            self.notify("This message has no other versions (e edits a message of yours, r asks again).")
            return
        index = position - 1 + step
        if not 0 <= index < count:
            self.notify(f"This is the {'first' if step < 0 else 'last'} version ({position}/{count}).")
            return
        sibling = siblings[index]
        # The next request follows this branch. Saving the choice writes the whole document:
        # done once the keys stop (a send, a fork or quitting saves it anyway).
        self.session.conversation.select(sibling.id)
        if self._save_choice is not None:
            self._save_choice.stop()
        self._save_choice = self.set_timer(SAVE_CHOICE, partial(self.save_choice, self.session))
        log = self.log_view
        view = log.view_for(message)
        row = int(view.virtual_region.y - log.scroll_y) if view is not None else 0
        await log.show(self.session.conversation.path, select=sibling, row=max(0, row))
        self.refresh_header()
        self.update_meter()

    def save_choice(self, session) -> None:
        self._save_choice = None
        try:
            session.save()
        except (OSError, StoreError) as error:
            self.notify(f"The branch shown was not saved: {save_problem(error)}", severity="error", markup=False)

    def flush_choice(self) -> None:
        """Save a branch choice still waiting (another conversation is about to be shown)."""
        if self._save_choice is not None:
            self._save_choice.stop()
            self.save_choice(self.session)

    # -- y, c: copy ------------------------------------------------------------------------------

    def copied(self, text: str, what: str) -> None:
        text = clean(text)  # what the screen shows: no escapes, no lone surrogates
        self.app.copy_to_clipboard(text)
        size = f"{len(text):,} characters"
        if self.app.is_web:  # the browser decides: it allows it on localhost and https pages
            self.notify(f"Sent {what} ({size}) to the browser's clipboard.", markup=False)
        else:
            self.notify(f"Copied {what} ({size}).", markup=False)

    def action_copy_message(self) -> None:
        message = self.selected_message()
        if message is None:
            return
        if not message.content:
            self.notify("This message is empty: nothing to copy.", severity="warning")
            return
        self.copied(message.content, "the message")

    def action_copy_code(self) -> None:
        message = self.selected_message()
        if message is None:
            return
        blocks = code_blocks(message.content)
        if not blocks:
            self.notify("This message has no code blocks (y copies the whole message).", severity="warning")
            return

        from chinwag.tui.screens.code_blocks import CodeBlocksScreen

        def chosen(index: int | None) -> None:
            if index is not None:
                block = blocks[index]
                self.copied(block.code, f"code block {index + 1} ({clean(block.language) or 'code'})")

        self.app.push_screen(CodeBlocksScreen(blocks), chosen)

    # -- f: fork -----------------------------------------------------------------------------------

    async def action_fork_message(self) -> None:
        message = self.selected_message()
        if message is None or self.busy(changes=False):
            return
        try:
            fork = self.session.fork(message)
        except (OSError, StoreError) as error:
            self.notify(f"Could not fork: {save_problem(error)}", severity="error", markup=False)
            return
        await self.open_session(self.context.new_session(fork),
                                f"Forked into a new conversation: {clean(fork.title)}. "
                                "The original is unchanged (F2 lists both).")

    # -- F6: the tree ------------------------------------------------------------------------------

    def action_tree(self) -> None:
        if self.opening or self.busy(changes=False):
            return
        if not self.session.conversation.messages:
            self.notify("No messages yet: the tree grows as you talk.", severity="warning")
            return

        from chinwag.tui.screens.tree import TreeScreen

        async def chosen(place: Place | None) -> None:
            if place is not None:
                await self.jump_to(place)

        self.app.push_screen(TreeScreen(self.session.conversation), chosen)

    async def jump_to(self, place: Place) -> None:
        """Show the branch ending at ``place.leaf`` with ``place.message`` selected."""
        conversation = self.session.conversation
        if conversation.get(place.leaf.id) is not place.leaf:  # gone meanwhile (another window)
            return
        if conversation.leaf is not place.leaf:
            if self.busy(changes=False):
                return
            try:
                self.session.select(place.leaf)
            except (OSError, StoreError) as error:
                self.notify(f"Shown, but the choice was not saved: {save_problem(error)}", severity="error",
                            markup=False)
        await self.log_view.show(conversation.path, select=place.message)
        self.log_view.focus()
        self.refresh_header()
        self.update_meter()
