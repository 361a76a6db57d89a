"""Messages the app sends to the chat screen: how it tells of changes made elsewhere.

The app routes screens and holds the settings; the chat screen owns its conversation. When the
settings change, or a conversation is chosen, renamed or deleted in the history, the app posts
one of these to the chat screen, which decides what it means for the chat on screen.
"""

from __future__ import annotations

from textual.message import Message

from chinwag.chat_context import ChatContext
from chinwag.conversation import Conversation


class ContextChanged(Message):
    """New settings are in force (provider, model, key, sampling); apply them to the chat."""

    def __init__(self, context: ChatContext) -> None:
        super().__init__()
        self.context = context


class OpenConversation(Message):
    """Show this saved conversation and carry on in it (None: the reference could not be read,
    ``problem`` says why)."""

    def __init__(self, conversation: Conversation | None, problem: str = "", announce: bool = True) -> None:
        super().__init__()
        self.conversation = conversation
        self.problem = problem
        self.announce = announce  # say "Resumed: ..." (not for the one named at start-up)


class ConversationRenamed(Message):
    def __init__(self, conv_id: str, title: str) -> None:
        super().__init__()
        self.conv_id = conv_id
        self.title = title


class ConversationDeleted(Message):
    def __init__(self, conv_id: str) -> None:
        super().__init__()
        self.conv_id = conv_id


class Recovered(Message):
    """At start-up: a draft (and maybe its conversation) that a failed save kept last time."""

    def __init__(self, draft: str, saved_at: str, conversation: Conversation | None, restored: bool) -> None:
        super().__init__()
        self.draft = draft
        self.saved_at = saved_at
        self.conversation = conversation
        self.restored = restored  # the conversation is saved back in the store now
