"""Message mode and the tree view, driven from the keyboard against the loopback server:
edit and resend, switching versions, regenerate, copy, fork, F6; and the cost of a key press
in a long conversation."""

from __future__ import annotations

import dataclasses

from documents import path_of
from tui_helpers import SIZE, chat, make_app, only_document, replying, saved_documents, screen_text, send, wait_for

from chinwag.conversation import ASSISTANT, USER, Conversation, Message
from chinwag.tui.messages import OpenConversation
from chinwag.tui.screens.code_blocks import CodeBlocksScreen
from chinwag.tui.screens.tree import ConversationTree, TreeScreen
from chinwag.tui.widgets.chat_log import ChatLog


def sent(server, n: int = -1) -> list[str]:
    return [m["content"] for m in server.chat_requests[n].body["messages"] if m["role"] != "system"]


def shown(app) -> list[str]:
    return [m.content for m in chat(app).log_view.messages]


async def exchange(pilot, server, text: str) -> None:
    count = len(server.chat_requests)
    await send(pilot, text)
    await wait_for(pilot, lambda: len(server.chat_requests) == count + 1 and not replying(pilot.app), f"reply to {text}")


async def select(pilot, index: int) -> ChatLog:
    """Message mode on the message at ``index`` of the chat (from the newest, by the keys)."""
    log = chat(pilot.app).log_view
    await pilot.press("ctrl+up")
    await wait_for(pilot, lambda: log.has_focus and log.selected is not None, "message mode")
    await pilot.press(*["up"] * (len(log.messages) - 1 - index))
    assert log.selected_index == index
    return log


async def start_edit(pilot, index: int):
    """Message mode on the message at ``index``, then ``e``: its text comes into the composer."""
    await select(pilot, index)
    await pilot.press("e")
    return chat(pilot.app).composer


async def test_edit_and_resend_keeps_both_branches_and_switching_changes_the_next_request(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "q1")
        await exchange(pilot, chat_server, "q2")
        composer = await start_edit(pilot, 0)
        assert composer.text == "q1" and composer.has_focus and "Editing" in str(composer.border_title)
        composer.text = "q1 edited"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 3 and not replying(app), "the edit's reply")
        assert sent(chat_server) == ["q1 edited"]  # nothing of the old branch goes out
        await wait_for(pilot, lambda: shown(app) == ["q1 edited", "You said: q1 edited"], "the new branch")
        assert "‹ 2/2 ›" in screen_text(app)
        document = only_document()
        assert [m["content"] for m in document["messages"]] == [
            "q1", "You said: q1", "q2", "You said: q2", "q1 edited", "You said: q1 edited"]
        # Walk back to the old branch: the next request follows it.
        log = await select(pilot, 0)
        await pilot.press("left")
        await wait_for(pilot, lambda: shown(app) == ["q1", "You said: q1", "q2", "You said: q2"], "the old branch")
        assert log.selected is app.chat.session.conversation.messages[0] and "‹ 1/2 ›" in screen_text(app)
        await wait_for(pilot, lambda: path_of(only_document())[-1]["content"] == "You said: q2",
                       "the choice saved (once the keys stop)")
        await pilot.press("left")  # already the first version: nothing changes
        await exchange(pilot, chat_server, "q3")
        assert sent(chat_server) == ["q1", "You said: q1", "q2", "You said: q2", "q3"]
        await select(pilot, 0)
        await pilot.press("right")
        await wait_for(pilot, lambda: shown(app)[0] == "q1 edited", "the edited branch again")
        await exchange(pilot, chat_server, "q2 on the edited branch")
        assert sent(chat_server) == ["q1 edited", "You said: q1 edited", "q2 on the edited branch"]


async def test_escape_cancels_an_edit_and_gives_the_draft_back(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "only question")
        composer = chat(app).composer
        composer.text = "half-written next question"
        await select(pilot, 0)
        await pilot.press("e")
        assert composer.text == "only question"
        await pilot.press("escape")
        assert composer.text == "half-written next question" and chat(app).editing is None
        await pilot.press("escape")  # idle, nothing to cancel: message mode on the newest
        assert chat(app).log_view.has_focus and chat(app).log_view.selected_index == 1
        await pilot.press("escape")
        assert composer.has_focus and chat(app).log_view.selected is None
    assert len(chat_server.chat_requests) == 1


async def test_r_on_an_earlier_reply_adds_a_sibling_and_sends_what_came_before(chat_server):
    chat_server.reply("first answer")
    chat_server.reply("second answer")
    chat_server.reply("first answer, again")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "q1")
        await exchange(pilot, chat_server, "q2")
        await select(pilot, 1)
        await pilot.press("r")
        await wait_for(pilot, lambda: len(chat_server.chat_requests) == 3 and not replying(app), "the new reply")
        await wait_for(pilot, lambda: shown(app) == ["q1", "first answer, again"], "the new branch")
        assert sent(chat_server) == ["q1"]
        assert "‹ 2/2 ›" in screen_text(app)
    document = only_document()
    first, again = document["messages"][1], document["messages"][4]
    assert first["parent"] == again["parent"] == document["messages"][0]["id"]
    assert [m["content"] for m in path_of(document)] == ["q1", "first answer, again"]


async def test_y_copies_the_message_and_c_copies_the_chosen_code_block(chat_server):
    reply = "Two ways:\n\n```python\nprint('one')\n```\n\nor\n\n```bash\necho two\nls -la\n```\n"
    chat_server.reply(reply)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "show me")
        await select(pilot, 1)
        await pilot.press("y")
        assert app.clipboard == reply
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CodeBlocksScreen), "the list of blocks")
        listed = [str(app.screen.query_one("OptionList").get_option_at_index(i).prompt) for i in range(2)]
        assert listed[0].startswith(" 1  python · 1 line") and listed[1].startswith(" 2  bash · 2 lines")
        await pilot.press("2")
        await wait_for(pilot, lambda: not isinstance(app.screen, CodeBlocksScreen), "closed")
        assert app.clipboard == "echo two\nls -la\n"
        await select(pilot, 0)
        await pilot.press("c")  # the question has none: said, and no dialog
        assert not isinstance(app.screen, CodeBlocksScreen)


async def test_f_forks_a_new_conversation_up_to_the_message(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "q1")
        await exchange(pilot, chat_server, "q2")
        original = only_document()
        await select(pilot, 1)
        await pilot.press("f")
        await wait_for(pilot, lambda: chat(app).session.conversation.id != original["id"], "the fork opened")
        assert shown(app) == ["q1", "You said: q1"] and "(fork)" in chat(app).title
        await exchange(pilot, chat_server, "q2 in the fork")
        assert sent(chat_server) == ["q1", "You said: q1", "q2 in the fork"]
    documents = {d["id"]: d for d in saved_documents()}
    assert documents[original["id"]]["messages"] == original["messages"]  # the original is untouched
    fork = next(d for i, d in documents.items() if i != original["id"])
    assert fork["forked_from"]["conversation"] == original["id"]
    assert [m["content"] for m in fork["messages"]] == ["q1", "You said: q1", "q2 in the fork", "You said: q2 in the fork"]


def branched() -> Conversation:
    """q1 -> a1 -> q2 -> a2, and an edit of q1 with its reply (the current branch)."""
    conversation = Conversation(title="Branches")
    q1 = conversation.add(Message(USER, "q1"))
    conversation.add(Message(ASSISTANT, "a1", model="gpt-4o-mini"))
    conversation.add(Message(USER, "q2"))
    conversation.add(Message(ASSISTANT, "a2", model="gpt-4o-mini"))
    conversation.add(Message(USER, "q1 edited"), parent=None)
    conversation.add(Message(ASSISTANT, "a1 edited", model="gpt-4o"))
    assert q1.parent is None
    return conversation


async def test_the_tree_shows_every_branch_and_enter_jumps_to_one(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        chat(app).post_message(OpenConversation(branched()))
        await wait_for(pilot, lambda: shown(app) == ["q1 edited", "a1 edited"], "opened")
        await pilot.press("f6")  # from the composer: the TextArea's own F6 must not win
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen), "the tree")
        tree = app.screen.query_one(ConversationTree)
        await wait_for(pilot, lambda: tree.cursor_node is tree.leaf_node, "the cursor on the current leaf")
        lines = [str(node.label) for node in tree.root.children]
        assert "q1 edited" in lines[0] and "‹ 2/2 ›" in lines[0] and "1 other version" in lines[0]
        assert "● " in lines[1] and "a1 edited" in lines[1]
        await pilot.press("home", "right")  # open the other version of the first message
        await wait_for(pilot, lambda: tree.root.children[0].children, "the other version")
        other = tree.root.children[0].children[0]
        assert "q1" in str(other.label) and "3 messages follow" in str(other.label)
        await pilot.press("down", "right")  # onto it, open its continuation
        await wait_for(pilot, lambda: len(other.children) == 3, "its continuation")
        await pilot.press("down", "down", "enter")  # q2 on the old branch
        await wait_for(pilot, lambda: not isinstance(app.screen, TreeScreen), "closed")
        await wait_for(pilot, lambda: shown(app) == ["q1", "a1", "q2", "a2"], "the old branch")
        log = chat(app).log_view
        assert log.has_focus and log.selected.content == "q2"
    assert path_of(only_document())[-1]["content"] == "a2"


async def test_message_mode_in_two_thousand_messages_mounts_only_near_the_screen(chat_server, monkeypatch):
    conversation = Conversation(title="long")
    for n in range(2000):
        conversation.add(Message(USER if n % 2 == 0 else ASSISTANT, f"message number {n}"))
    middle = conversation.messages[1000]
    conversation.add(Message(USER, "message number 1000, edited"), parent=middle.parent)
    conversation.select(middle.id)  # show the long branch again
    made = []
    original = ChatLog._make_view
    monkeypatch.setattr(ChatLog, "_make_view", lambda self, m: made.append(m) or original(self, m))
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        chat(app).post_message(OpenConversation(conversation))
        log = chat(app).log_view
        await wait_for(pilot, lambda: len(log.messages) == 2000 and log.views(), "opened")
        await pilot.press("ctrl+up")
        made.clear()
        for _ in range(40):
            await pilot.press("up")
        assert log.selected_index == 1959
        await wait_for(pilot, lambda: log.view_for(log.selected) is not None
                       and log.view_for(log.selected).region.overlaps(log.region), "the selection on screen")
        assert len(made) < 80, f"{len(made)} views made for 40 key presses"
        made.clear()
        await pilot.press("home")
        await wait_for(pilot, lambda: log.selected_index == 0 and log.view_for(log.selected) is not None
                       and log.view_for(log.selected).region.overlaps(log.region), "the first message")
        assert len(made) < 60 and len(log.query("MessageView")) < 80
        # A switch in the middle shows the other version where it is, mounting only around it.
        log.select(1000)
        await wait_for(pilot, lambda: log.view_for(middle) is not None, "message 1000 mounted")
        made.clear()
        await pilot.press("right")
        await wait_for(pilot, lambda: log.selected is not None and log.selected.content.endswith("edited"), "switched")
        assert len(log.messages) == 1001 and len(made) < 60
        await wait_for(pilot, lambda: log.view_for(log.selected).region.overlaps(log.region), "on screen")


async def test_a_click_on_a_message_selects_it(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "click me")
        log = chat(app).log_view
        first = log.view_for(log.messages[0])
        await pilot.click(first)
        await wait_for(pilot, lambda: log.has_focus and log.selected_index == 0, "selected by the click")
        await pilot.press("y")
        assert app.clipboard == "click me"


async def test_the_tree_of_two_thousand_messages_holds_one_screenful_and_folds_the_rest(chat_server):
    from chinwag.tui.screens.tree import CHUNK, Earlier

    conversation = Conversation(title="long")
    for n in range(2000):
        conversation.add(Message(USER if n % 2 == 0 else ASSISTANT, f"message number {n}"))
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        chat(app).post_message(OpenConversation(conversation))
        await wait_for(pilot, lambda: len(chat(app).log_view.messages) == 2000, "opened")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen), "the tree")
        tree = app.screen.query_one(ConversationTree)
        await wait_for(pilot, lambda: tree.cursor_node is tree.leaf_node, "the cursor on the newest")
        lines = tree.root.children
        assert len(lines) == CHUNK + (2000 - CHUNK) // CHUNK  # the last CHUNK, then folded groups
        assert "⋯ messages 1–100" in str(lines[0].label) and "message number 1999" in str(lines[-1].label)
        await pilot.press("home", "enter")  # Enter on a group opens it
        await wait_for(pilot, lambda: len(lines[0].children) == CHUNK, "the first hundred")
        assert isinstance(lines[0].data, Earlier) and isinstance(app.screen, TreeScreen)
        await pilot.press("down", "down", "enter")  # message 1: shows the branch with it selected
        await wait_for(pilot, lambda: not isinstance(app.screen, TreeScreen), "closed")
        log = chat(app).log_view
        await wait_for(pilot, lambda: log.selected is conversation.messages[1]
                       and log.view_for(log.selected) is not None, "message 1 selected")


async def test_a_version_chosen_just_before_a_new_chat_is_saved(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        chat(app).post_message(OpenConversation(branched()))
        await wait_for(pilot, lambda: shown(app) == ["q1 edited", "a1 edited"], "opened")
        await select(pilot, 0)
        await pilot.press("left", "ctrl+n")  # at once: the save of the choice must not wait and be lost
        await wait_for(pilot, lambda: not chat(app).session.conversation.messages, "a new chat")
    assert path_of(only_document())[-1]["content"] == "a2"


async def test_r_that_cannot_send_shows_the_old_reply_again(chat_server):
    app = make_app(chat_server, token_budget=60)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "short")
        conversation = chat(app).session.conversation
        conversation.settings = dataclasses.replace(conversation.settings, token_budget=5)  # nothing fits now
        await select(pilot, 1)
        await pilot.press("r")
        await wait_for(pilot, lambda: "Not sent" in screen_text(app), "refused")
        assert shown(app) == ["short", "You said: short"] and len(chat_server.chat_requests) == 1


async def test_back_to_a_longer_version_shows_all_of_its_branch(chat_server):
    # The edited branch is short (it sits at the bottom of the chat); going back to the first
    # version brings the longer branch, every message of it on screen, none pushed below it.
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        for text in ("m1", "m2", "m3"):
            await exchange(pilot, chat_server, text)
        (await start_edit(pilot, 0)).text = "m1 edited"
        await pilot.press("enter")
        await wait_for(pilot, lambda: shown(app) == ["m1 edited", "You said: m1 edited"] and not replying(app),
                       "the edited branch")
        log = await select(pilot, 0)
        await pilot.press("left")
        await wait_for(pilot, lambda: len(shown(app)) == 6, "the first branch")
        await pilot.pause(0.3)
        inside = [v.message.content for v in log.views() if log.region.contains_region(v.region)]
        assert inside == ["m1", "You said: m1", "m2", "You said: m2", "m3", "You said: m3"]
        await pilot.press("down", "down")  # message mode reaches them too
        assert log.selected.content == "m2"


async def test_a_new_chat_from_message_mode_types_into_the_composer(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "q1")
        await select(pilot, 0)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: shown(app) == [], "the new chat")
        await pilot.press("h", "i")
        assert chat(app).composer.has_focus and chat(app).composer.text == "hi"
        assert chat(app).log_view.selected is None


async def test_editing_another_message_keeps_the_changes_of_the_first_edit(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "q1")
        await exchange(pilot, chat_server, "q2")
        composer = await start_edit(pilot, 0)
        composer.text = "q1 changed"
        await select(pilot, 2)
        await pilot.press("e")  # refused: the change would be lost
        assert composer.text == "q1 changed" and chat(app).editing.content == "q1"
        assert any("editing another message" in n.message for n in app._notifications)
        await pilot.press("escape")  # cancel the first edit: now the second can start
        await select(pilot, 2)
        await pilot.press("e")
        assert composer.text == "q2" and chat(app).editing.content == "q2"


async def test_typing_in_message_mode_goes_to_the_composer(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await exchange(pilot, chat_server, "q1")
        log = await select(pilot, 0)
        await pilot.press("h", "e", "l", "l", "o")  # h is no key of message mode: back to writing
        composer = chat(app).composer
        assert composer.has_focus and composer.text == "hello" and log.selected is None
        assert chat(app).editing is None  # the e went into the text, it edited nothing
