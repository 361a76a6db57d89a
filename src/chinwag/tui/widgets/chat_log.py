"""The chat pane: the conversation's messages, mounted only near the viewport.

A conversation of thousands of messages would be thousands of widgets, and every layout walks
them all. The log keeps a window ``[lo, hi)`` of the messages mounted as MessageViews, with a
spacer above and below standing in for the rest at their measured (or, never seen yet,
estimated) heights, so the scrollbar tells roughly where you are. Scrolling near either end of
the window mounts the next batch; views far from the viewport are unmounted again; a jump (Home,
End, dragging the scrollbar) mounts the messages where it lands. The first visible message stays
put on screen while the window changes around it.

Notices (errors, hints, countdowns) are not part of the conversation: they sit below it.

Message mode: with the log focused, one message is selected (an index into ``messages``);
up/down move the selection, mounting the next message only when it is not mounted yet, so a key
costs what the screen shows. The keys that act on the selected message are bound here and run
on the screen (``screen.*`` actions), which owns the conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from textual import events
from textual.binding import Binding
from textual.message import Message as TextualMessage
from textual.containers import VerticalScroll
from textual.widget import Widget

from chinwag.conversation import EVENT, Message
from chinwag.tui.widgets.layout_once import LayoutOnce
from chinwag.tui.widgets.message import MessageView, Notice

VERSIONS = Binding.Group("Versions")

BATCH = 10  # messages mounted at a time while scrolling
MARGIN_SCREENS = 1.0  # mount more when the viewport comes this close to the window's edge
KEEP_SCREENS = 3  # views further than this from the viewport are unmounted...
MAX_MOUNTED = 60  # ...once more than this many are mounted
CHROME = 2  # header line and the margin above a message
MIN_WIDTH = 20


class Spacer(Widget):
    """Stands in for the messages that are not mounted."""

    DEFAULT_CSS = """
    Spacer {
        height: 0;
    }
    """

    lines = 0

    def set_height(self, height: int) -> None:
        height = max(0, int(height))
        if height != self.lines:
            self.lines = height
            self.styles.height = height


def estimate_height(message: Message, width: int) -> int:
    """Lines a message will take at ``width`` columns before it was ever shown: its source lines
    and their wrapping, plus its header and margin. Cheap (no parsing): it only has to be close
    enough for the scrollbar; a message's real height replaces it once it has been shown."""
    content = message.content
    body = content.count("\n") + 1 + len(content) // max(width, MIN_WIDTH)
    return body + (1 if message.role == EVENT else CHROME)


class ChatLog(LayoutOnce, VerticalScroll):
    """Shows a list of messages; follows the bottom while new text arrives unless scrolled up."""

    DEFAULT_CSS = """
    ChatLog {
        height: 1fr;
        padding: 0 1;
        background: $background;
        scrollbar-size-vertical: 1;
        &:focus { background-tint: $foreground 3%; }
    }
    """

    can_focus = True

    BINDINGS = [
        Binding("up", "select(-1)", "Previous message", show=False, id="message.up"),
        Binding("down", "select(1)", "Next message", show=False, id="message.down"),
        Binding("home", "select_end(0)", "First message", show=False, id="message.first"),
        Binding("end", "select_end(1)", "Newest message", show=False, id="message.newest"),
        Binding("e", "screen.edit_message", "Edit", id="message.edit",
                tooltip="Edit your message in the composer; Enter sends it as a new branch from there"),
        Binding("r", "screen.regenerate_message", "Regenerate", id="message.regenerate",
                tooltip="Ask again: a new reply beside this one (to this one, for your message)"),
        Binding("left", "screen.switch_branch(-1)", "Previous version", key_display="←", group=VERSIONS,
                id="message.previous_version", tooltip="Show the previous version of this message (2/3 → 1/3)"),
        Binding("right", "screen.switch_branch(1)", "Next version", key_display="→", group=VERSIONS,
                id="message.next_version", tooltip="Show the next version of this message (1/3 → 2/3)"),
        Binding("y", "screen.copy_message", "Copy", id="message.copy", tooltip="Copy the whole message"),
        Binding("c", "screen.copy_code", "Code block", id="message.copy_code",
                tooltip="List the message's code blocks by number and language; copy the one chosen"),
        Binding("f", "screen.fork_message", "Fork", id="message.fork",
                tooltip="A new conversation holding everything up to this message (this one is unchanged)"),
        Binding("escape", "screen.leave_messages", "Composer", id="message.leave",
                tooltip="Leave message mode: back to the composer"),
    ]

    class Typed(TextualMessage):
        """A character no key of message mode takes was typed: it belongs in the composer."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.messages: list[Message] = []
        self.selected_index: int | None = None  # message mode: the selected message
        # (position, count) among a message's siblings, for "2/3" in its header; set by the screen.
        self.branches: Callable[[Message], tuple[int, int]] | None = None
        self.lo = self.hi = 0
        self._views: dict[Message, MessageView] = {}
        self._followers: dict[Message, Callable[[MessageView], None]] = {}  # see follow()
        self._heights: dict[Message, int] = {}  # measured (or estimated) at self._width
        self._width = 0
        self._top = Spacer()
        self._bottom = Spacer()
        self._unsent: set[Message] = set()  # chat messages outside the context window
        self._view_height = 0
        self._pending = False  # a window update is scheduled
        self._lock = asyncio.Lock()  # one change of the mounted window at a time

    def compose(self):
        yield self._top
        yield self._bottom

    def on_mount(self) -> None:
        self.anchor()

    # -- what is shown ----------------------------------------------------------------

    def views(self) -> list[MessageView]:
        """The mounted message views, top to bottom."""
        return [self._views[m] for m in self.messages[self.lo : self.hi] if m in self._views]

    def view_for(self, message: Message) -> MessageView | None:
        return self._views.get(message)

    @property
    def _viewport(self) -> int:
        """Lines the log shows (kept from its last resize: asking the layout costs a lookup)."""
        return max(self._view_height or self.app.size.height, 5)

    def _content_width(self) -> int:
        width = self.scrollable_content_region.width or self.app.size.width - 40
        return max(width - 3, MIN_WIDTH)  # a message's border and padding

    def height_of(self, message: Message) -> int:
        height = self._heights.get(message)
        if height is None:
            height = self._heights[message] = estimate_height(message, self._width or self._content_width())
        return height

    def _span(self, lo: int, hi: int) -> int:
        heights, width = self._heights, self._width or self._content_width()
        total = 0
        for message in self.messages[lo:hi]:
            height = heights.get(message)
            if height is None:
                height = heights[message] = estimate_height(message, width)
            total += height
        return total

    def _make_view(self, message: Message) -> MessageView:
        view = MessageView(message, excluded=message in self._unsent, branch=self._branch(message))
        view.set_class(message is self.selected, "-selected")
        self._views[message] = view
        follower = self._followers.get(message)
        if follower is not None:  # a streaming message mounted again: its text goes on in this view
            follower(view)
        return view

    def follow(self, message: Message, follower: Callable[[MessageView], None] | None) -> None:
        """Call ``follower`` with every view made for ``message`` from now on (None: stop). A view
        is made afresh when its message scrolls back into the window; one that is streaming must
        go on in the new view, which starts with the message's text so far."""
        if follower is None:
            self._followers.pop(message, None)
        else:
            self._followers[message] = follower

    def _branch(self, message: Message) -> tuple[int, int] | None:
        if self.branches is None or message.role == EVENT:
            return None
        try:
            return self.branches(message)
        except (KeyError, StopIteration):  # not in the conversation (any more)
            return None

    def refresh_branches(self) -> None:
        """Show the sibling counts again (of the mounted views: another window may have added one)."""
        for message, view in self._views.items():
            view.branch = self._branch(message)

    async def show(self, messages: Iterable[Message], select: Message | None = None, row: int = 0) -> None:
        """Replace everything with these messages. The newest come into view; or, with
        ``select``, that message is selected and shown ``row`` lines below the top (a sibling
        switch keeps the message where it was on screen)."""
        async with self._lock:
            messages = list(messages)
            index = next((i for i, m in enumerate(messages) if m is select), None) if select else None
            if index is None:
                await self._show(messages)
                return
            await self._replace(messages)
            self.selected_index = index
            self.release_anchor()
            await self._jump_to(index, offset=-row)

    async def _replace(self, messages: list[Message]) -> None:
        await self.remove_children([*self._views.values(), *self.query_children(Notice)])
        self._views.clear()
        self._heights.clear()
        self.messages = messages
        self.selected_index = None

    async def _show(self, messages: list[Message]) -> None:
        await self._replace(messages)
        n = len(self.messages)
        # One screenful first (what the user sees soonest); the next batch above is mounted
        # once that is painted, by the window's own look at the scroll position.
        lo, need = n, self._viewport
        while lo > 0 and need > 0:
            lo -= 1
            need -= self.height_of(self.messages[lo])
        self.lo, self.hi = lo, n
        self._top.set_height(self._span(0, lo))
        self._bottom.set_height(0)
        await self.mount_all([self._make_view(m) for m in self.messages[lo:n]], before=self._bottom)
        self.anchor()

    async def add(self, message: Message) -> MessageView:
        """Append a message (the newest): the log goes to the bottom to show it."""
        async with self._lock:
            return await self._add(message)

    async def _add(self, message: Message) -> MessageView:
        if self.hi < len(self.messages):  # scrolled far up: show the end instead
            await self._show(self.messages)
        self.messages.append(message)
        self.hi = len(self.messages)
        view = self._make_view(message)
        await self.mount(view, before=self._bottom)
        self.anchor()
        return view

    async def remove_message(self, message: Message) -> None:
        """Take a message out of the log (a reply that never produced text)."""
        async with self._lock:
            await self._remove_message(message)

    async def _remove_message(self, message: Message) -> None:
        if message not in self.messages:
            return
        index = self.messages.index(message)
        self.messages.pop(index)
        self._heights.pop(message, None)
        view = self._views.pop(message, None)
        if index < self.lo:
            self.lo -= 1
            self.hi -= 1
        elif index < self.hi:
            self.hi -= 1
        if self.selected_index is not None:
            if self.selected_index == index:
                self.selected_index = None
            elif self.selected_index > index:
                self.selected_index -= 1
        if view is not None:
            await view.remove()
        self._sync_spacers()

    async def notice(self, text: str, kind: str = "info") -> Notice:
        notice = Notice(text, kind)
        await self.mount(notice)
        return notice

    def clear_notices(self) -> None:
        for notice in self.query_children(Notice):
            notice.remove()

    def mark_window(self, sent: Iterable[Message]) -> None:
        """Dim the chat messages that will not be sent with the next request."""
        sent_now = set(sent)
        self._unsent = {m for m in self.messages if m.is_chat and m not in sent_now}
        for message, view in self._views.items():
            view.excluded = message in self._unsent

    # -- message mode ----------------------------------------------------------------------

    @property
    def selected(self) -> Message | None:
        index = self.selected_index
        return self.messages[index] if index is not None and index < len(self.messages) else None

    def select(self, index: int | None, scroll: bool = True) -> None:
        """Select the message at ``index`` (None: none) and, with ``scroll``, bring it into view."""
        old = self.selected
        if old is not None and (view := self._views.get(old)) is not None:
            view.remove_class("-selected")
        if index is None or not self.messages:
            self.selected_index = None
            return
        index = max(0, min(index, len(self.messages) - 1))
        self.selected_index = index
        view = self._views.get(self.messages[index])
        if view is not None:
            view.add_class("-selected")
            if scroll:
                self.call_after_refresh(self._bring_into_view, view)
        elif scroll:  # not mounted: mount a window around it (the view gets the class there)
            self.release_anchor()
            self._jump(index)

    def _bring_into_view(self, view: MessageView) -> None:
        if view.is_attached:
            self.scroll_to_widget(view, animate=False, immediate=True)

    def select_newest(self) -> bool:
        """Enter message mode on the newest message (False when there is none)."""
        index = self._step(len(self.messages), -1)
        self.select(index)
        return index is not None

    def select_visible(self) -> None:
        """Select the lowest message on screen (focus came by Tab or a click): mounted views only."""
        top, bottom = self.scroll_y, self.scroll_y + self._viewport
        for index in range(self.hi - 1, self.lo - 1, -1):
            message = self.messages[index]
            view = self._views.get(message)
            if view is None or message.role == EVENT:
                continue
            region = view.virtual_region
            if region.y < bottom and region.bottom > top:
                self.select(index)
                return
        self.select_newest()

    def _step(self, start: int, step: int) -> int | None:
        """The next message from ``start`` in direction ``step`` that is not an event."""
        index = start + step
        while 0 <= index < len(self.messages):
            if self.messages[index].role != EVENT:
                return index
            index += step
        return None

    def action_select(self, step: int) -> None:
        if self.selected_index is None:
            self.select_visible()
            return
        index = self._step(self.selected_index, step)
        if index is not None:
            self.select(index)
        elif step > 0:
            self.scroll_end(animate=False)  # the end of the newest (a long reply) comes into view
        else:
            self.scroll_home(animate=False)

    def action_select_end(self, newest: int) -> None:
        if newest:
            self.select(self._step(len(self.messages), -1), scroll=False)
            self.action_scroll_end()
        else:
            self.select(self._step(-1, 1), scroll=False)
            self.action_scroll_home()

    def on_key(self, event: events.Key) -> None:
        # Typing in message mode (entered by mistake, or left on) is not lost: what no key here
        # takes goes to the composer, which gets the focus back.
        if event.is_printable and event.character and event.key not in self.screen.active_bindings:
            event.stop()
            event.prevent_default()
            self.post_message(self.Typed(event.character))

    def on_focus(self) -> None:
        if self.selected is None and self.messages:
            self.select_visible()

    def on_click(self, event) -> None:
        """A click on a message selects it (and focuses the log: message mode)."""
        widget = event.widget
        while widget is not None and widget is not self and not isinstance(widget, MessageView):
            widget = widget.parent
        if isinstance(widget, MessageView) and widget.message.role != EVENT and widget.message in self._views:
            index = self.lo + self.messages[self.lo : self.hi].index(widget.message)
            self.select(index, scroll=False)

    # -- scrolling -----------------------------------------------------------------------

    def scroll_to_message(self, message: Message) -> None:
        """Bring ``message`` into view, mounting it (and its neighbours) if need be."""
        index = self.messages.index(message)
        self.release_anchor()
        self._jump(index)

    def action_scroll_home(self) -> None:
        if self.messages and self.lo > 0:
            self.release_anchor()
            self._jump(0)
        else:
            super().action_scroll_home()

    def action_scroll_end(self) -> None:
        if self.messages and self.hi < len(self.messages):
            self._jump(len(self.messages) - 1)
        else:
            super().action_scroll_end()

    def _jump(self, index: int) -> None:
        async def jump() -> None:
            async with self._lock:
                await self._jump_to(index)

        self.run_worker(jump(), group="chat-log-window", exclusive=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._needs_change():  # (while a reply streams at the bottom, it does not)
            self._schedule()

    def _needs_change(self) -> bool:
        """Whether the mounted window must grow, shrink or move for the current scroll position
        (arithmetic on known heights only: this runs on every scroll step)."""
        if not self.messages:
            return False
        viewport = self._viewport
        margin = int(viewport * MARGIN_SCREENS)
        y0, y1 = self.scroll_y, self.scroll_y + viewport
        m0 = self._top.lines
        m1 = m0 + self._span(self.lo, self.hi)
        return (
            self.lo == self.hi or y1 < m0 - margin or y0 > m1 + margin
            or (y0 < m0 + margin and self.lo > 0)
            or (y1 > m1 - margin and self.hi < len(self.messages))
            or self.hi - self.lo > MAX_MOUNTED
        )

    def on_resize(self) -> None:
        self._view_height = self.scrollable_content_region.height
        if self._content_width() != self._width:
            self._heights.clear()
        self._schedule()

    def _schedule(self) -> None:
        """Look at the window once the screen has been laid out (in a task of its own: the
        change may wait for another refresh)."""
        if not self._pending and self.messages:
            self._pending = True
            self.call_after_refresh(
                lambda: self.run_worker(self._update_window(), group="chat-log-adjust", exit_on_error=False,
                                        description="chat window")
            )

    def _measure(self) -> None:
        """Remember the heights of the mounted views (they are exact once laid out)."""
        width = self._content_width()
        if width != self._width:
            self._heights.clear()
            self._width = width
        for message, view in self._views.items():
            if view.size.height:
                self._heights[message] = view.outer_size.height + view.styles.margin.top

    def _sync_spacers(self) -> None:
        self._top.set_height(self._span(0, self.lo))
        self._bottom.set_height(self._span(self.hi, len(self.messages)))

    async def _update_window(self) -> None:
        self._pending = False
        if not self.messages or not self.is_attached:
            return
        if self._lock.locked():  # another change is under way: look again after it
            self._schedule()
            return
        async with self._lock:
            await self._adjust()

    def _first_visible(self) -> MessageView | None:
        top = self.scroll_y
        for view in self.views():
            if view.virtual_region.bottom > top:
                return view
        return None

    async def _adjust(self) -> None:
        viewport = self._viewport
        margin = int(viewport * MARGIN_SCREENS)
        y0, y1 = self.scroll_y, self.scroll_y + viewport
        m0 = self._top.lines  # the window's extent, from known heights: no layout lookups
        m1 = m0 + self._span(self.lo, self.hi)
        n = len(self.messages)
        if self.lo == self.hi or y1 < m0 - margin or y0 > m1 + margin:
            if y0 >= self.max_scroll_y - 1:  # dragged to the very end: the newest, exactly
                await self._jump_to(n - 1)
            elif y0 <= 0:
                await self._jump_to(0)
            else:
                index = self._index_at(y0)
                await self._jump_to(index, offset=y0 - self._span(0, index))
            return
        grow_up = y0 < m0 + margin and self.lo > 0
        grow_down = y1 > m1 - margin and self.hi < n
        if not (grow_up or grow_down):
            if self.hi - self.lo > MAX_MOUNTED:
                self._measure()
                await self._trim(y0, y1)
            return
        anchor = self._first_visible()
        offset = anchor.virtual_region.y - y0 if anchor is not None else 0
        if grow_up:
            lo = max(0, self.lo - BATCH)
            await self.mount_all([self._make_view(m) for m in self.messages[lo : self.lo]], after=self._top)
            self.lo = lo
        if grow_down:
            hi = min(n, self.hi + BATCH)
            await self.mount_all([self._make_view(m) for m in self.messages[self.hi : hi]], before=self._bottom)
            self.hi = hi
        self._sync_spacers()
        if anchor is not None and not (self.is_anchored and not self._anchor_released):
            await self._after_refresh(lambda: self._restore(anchor, offset))
        self._schedule()

    def _restore(self, anchor: MessageView, offset: int) -> None:
        """Put ``anchor`` back where it was on screen after the window changed around it."""
        if anchor.is_attached:
            shift = self._settle_heights()
            self._place(anchor.virtual_region.y + shift - offset)

    def _settle_heights(self) -> int:
        """Measure the mounted views and size the spacers to match; returns how far that moves
        everything below the top spacer (the layout has not seen it yet)."""
        before = self._top.lines
        self._measure()
        self._sync_spacers()
        return self._top.lines - before

    def _place(self, y: float) -> None:
        """Scroll to ``y`` as the next layout will have it (spacers just changed: the current
        layout's limits would clamp it)."""
        y = max(0.0, y)
        self.set_reactive(VerticalScroll.scroll_y, y)
        self.set_reactive(VerticalScroll.scroll_target_y, y)
        self.refresh(layout=True)

    async def _after_refresh(self, callback) -> None:
        """Run ``callback`` once the screen has laid out what changed, and wait for it (the
        caller holds the window lock meanwhile, so nothing looks at stale positions)."""
        done = asyncio.Event()

        def run() -> None:
            try:
                callback()
            finally:
                done.set()

        self.call_after_refresh(run)
        self.refresh(layout=True)  # make sure a refresh comes
        try:
            await asyncio.wait_for(done.wait(), timeout=1.0)
        except asyncio.TimeoutError:  # the screen went away meanwhile
            pass

    async def _trim(self, y0: float, y1: float) -> None:
        """Unmount views far from the viewport; their measured heights go to the spacers."""
        keep = KEEP_SCREENS * self._viewport
        drop = []
        while self.hi - self.lo > BATCH:
            view = self._views.get(self.messages[self.lo])
            if view is None or view.virtual_region.bottom >= y0 - keep:
                break
            drop.append(self._views.pop(self.messages[self.lo]))
            self.lo += 1
        while self.hi - self.lo > BATCH:
            view = self._views.get(self.messages[self.hi - 1])
            if view is None or view.virtual_region.y <= y1 + keep:
                break
            drop.append(self._views.pop(self.messages[self.hi - 1]))
            self.hi -= 1
        if drop:
            self._sync_spacers()
            await self.remove_children(drop)

    def _index_at(self, y: float) -> int:
        """The message at virtual line ``y`` (by measured or estimated heights)."""
        total = 0
        for index, message in enumerate(self.messages):
            total += self.height_of(message)
            if total > y:
                return index
        return max(0, len(self.messages) - 1)

    async def _jump_to(self, index: int, offset: float = 0) -> None:
        """Mount a window around message ``index`` and scroll so it shows ``offset`` lines down."""
        self._measure()
        n = len(self.messages)
        need = 2 * self._viewport
        lo, hi = index, index
        while hi < n and (hi - index < BATCH or need > 0):
            need -= self.height_of(self.messages[hi])
            hi += 1
        lo = max(0, index - BATCH)
        old = list(self._views.values())
        self._views = {}
        await self.remove_children(old)
        self.lo, self.hi = lo, hi
        self._sync_spacers()
        await self.mount_all([self._make_view(m) for m in self.messages[lo:hi]], before=self._bottom)
        target = self._views[self.messages[index]]
        at_end = hi == n and index == n - 1
        at_start = index == 0 and offset <= 0
        def settle() -> None:
            shift = self._settle_heights()
            if self._span(0, n) <= self._viewport:
                # It all fits: it sits at the bottom as any short chat does. (Left released, the
                # anchor's offset for the shorter content shown before would stay and push the
                # rest below the screen.)
                self.anchor()
            elif at_end:
                self.scroll_end(animate=False, immediate=True)
            elif at_start:
                self.scroll_home(animate=False, immediate=True)
            else:
                slot = target.virtual_region.y + shift - target.styles.margin.top
                self._place(slot + offset)

        # Hold the window (the caller's lock) until the scroll lands: a look at the old position
        # meanwhile would jump straight back.
        await self._after_refresh(settle)
        self._schedule()
