"""The chat pane: a scrolling column of messages that follows the bottom while streaming."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import VerticalScroll

from chinwag.conversation import Message
from chinwag.tui.widgets.message import MessageView, Notice


class ChatLog(VerticalScroll):
    """Holds MessageViews and Notices. Anchored to the bottom unless the user scrolls up."""

    can_focus = True

    def on_mount(self) -> None:
        self.anchor()

    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def view_for(self, message: Message) -> MessageView | None:
        for view in self.views():
            if view.message is message:
                return view
        return None

    async def show(self, messages: Iterable[Message]) -> None:
        """Replace everything with these messages."""
        await self.remove_children()
        await self.mount_all([MessageView(m) for m in messages])
        self.anchor()

    async def add(self, message: Message) -> MessageView:
        view = MessageView(message)
        await self.mount(view)
        return view

    async def notice(self, text: str, kind: str = "info") -> Notice:
        notice = Notice(text, kind)
        await self.mount(notice)
        return notice

    def mark_window(self, sent: Iterable[Message]) -> None:
        """Dim the chat messages that will not be sent with the next request."""
        sent_ids = {id(m) for m in sent}
        for view in self.views():
            if view.message.is_chat:
                view.excluded = id(view.message) not in sent_ids

    def clear_notices(self) -> None:
        for notice in self.query_children(Notice):
            notice.remove()
