"""The chat and the world around it: another process writing the same conversation, and a
draft that a failed save kept for the next start."""

from __future__ import annotations

from tui_helpers import SIZE, chat, make_app, screen_text, send, wait_for

from chinwag import recovery
from chinwag.conversation import Conversation, Message
from chinwag.session import ChatSession
from chinwag.store import Store


async def test_messages_another_window_saved_appear_in_this_one(chat_server):
    chat_server.reply("first answer")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first question")
        await wait_for(pilot, lambda: "first answer" in screen_text(app), "the reply")
        conv_id = chat(app).session.conversation.id
        # Another chinwag process opens the same file and adds an exchange.
        other = ChatSession(Store().load(conv_id), Store(), None)
        other.conversation.add_user("asked in the other window")
        other.conversation.add_assistant("answered in the other window")
        other.save()
        chat(app).look_for_others()  # what the screen does every few seconds
        await wait_for(pilot, lambda: "answered in the other window" in screen_text(app), "merged messages")
        assert any("another chinwag window" in str(n.message) for n in app._notifications)
        # This window carries on after them: the next request sends the merged exchange too.
        chat_server.reply("third answer")
        await send(pilot, "third question")
        await wait_for(pilot, lambda: "third answer" in screen_text(app), "the next reply")
    sent = [m["content"] for m in chat_server.chat_requests[-1].body["messages"] if m["role"] != "system"]
    assert sent[-3:] == ["asked in the other window", "answered in the other window", "third question"]


async def test_a_draft_kept_by_a_failed_save_is_offered_back(chat_server):
    conversation = Conversation(title="Unsaved talk")
    conversation.add(Message("user", "a question that never reached the disk"))
    recovery.save("the draft I was typing", conversation)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: chat(app).composer.text == "the draft I was typing", "the draft back")
        await wait_for(pilot, lambda: "never reached the disk" in screen_text(app), "its conversation")
        assert "could not save last time" in screen_text(app)
        assert chat(app).session.conversation.id == conversation.id
    assert Store().load(conversation.id).messages[0].content == "a question that never reached the disk"
    assert recovery.load() is None  # offered once: the file is gone now that all is saved
