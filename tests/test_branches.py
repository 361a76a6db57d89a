"""Branch operations of a ChatSession, over the wire: edit and resend, regenerate, switch,
fork and compare. Nothing is ever deleted or overwritten."""

from __future__ import annotations

import asyncio
import json

from documents import path_of

from chinwag import client as api
from chinwag import paths
from chinwag.client import ChatClient
from chinwag.conversation import ASSISTANT, Conversation, Persona
from chinwag.session import ChatSession
from chinwag.store import Store
from chinwag.usage import records

SYSTEM = "You are terse."


def make_session(server) -> ChatSession:
    conversation = Conversation(model="gpt-4o-mini", persona=Persona("terse", SYSTEM))
    return ChatSession(conversation, Store(), ChatClient(server.base_url, None, timeout=5, max_retries=0))


async def answer(session: ChatSession, message=None, **kwargs) -> list:
    reply = message or session.start_reply()
    return [event async for event in session.reply(reply, **kwargs)]


async def turn(session: ChatSession, text: str) -> list:
    session.submit(text)
    return await answer(session)


def sent(server, n: int = -1) -> list[str]:
    """The contents of request ``n`` (system prompt left out)."""
    return [m["content"] for m in server.chat_requests[n].body["messages"] if m["role"] != "system"]


def document(session: ChatSession) -> dict:
    return json.loads((paths.conversations_dir() / f"{session.conversation.id}.json").read_text("utf-8"))


def contents(messages) -> list[str]:
    return [m["content"] if isinstance(m, dict) else m.content for m in messages]


async def two_exchanges(server) -> ChatSession:
    session = make_session(server)
    await turn(session, "q1")
    await turn(session, "q2")
    return session


async def test_edit_and_resend_keeps_both_branches(chat_server):
    session = await two_exchanges(chat_server)
    q1 = session.conversation.messages[0]
    edited = session.edit(q1, "q1 edited")
    assert document(session)["current"] == edited.id  # saved before the request goes out
    await answer(session)
    assert sent(chat_server) == ["q1 edited"]
    saved = document(session)
    assert contents(saved["messages"]) == ["q1", "You said: q1", "q2", "You said: q2", "q1 edited", "You said: q1 edited"]
    assert contents(path_of(saved)) == ["q1 edited", "You said: q1 edited"]
    assert saved["messages"][4]["parent"] is None and saved["messages"][5]["parent"] == edited.id
    assert session.conversation.sibling_position(edited.id) == (2, 2)


async def test_editing_a_later_message_keeps_what_came_before_it(chat_server):
    session = await two_exchanges(chat_server)
    q2 = session.conversation.messages[2]
    session.edit(q2, "q2 edited")
    await answer(session)
    assert sent(chat_server) == ["q1", "You said: q1", "q2 edited"]
    assert contents(session.conversation.path) == ["q1", "You said: q1", "q2 edited", "You said: q2 edited"]


async def test_switching_siblings_changes_what_the_next_request_sends(chat_server):
    session = await two_exchanges(chat_server)
    q1 = session.conversation.messages[0]
    edited = session.edit(q1, "q1 edited")
    await answer(session)
    assert session.switch(edited, +1) is None  # already the last sibling
    assert session.switch(edited, -1) is q1
    assert contents(session.conversation.path) == ["q1", "You said: q1", "q2", "You said: q2"]
    assert document(session)["current"] == session.conversation.messages[3].id  # the choice is saved
    meter = session.meter()
    assert (meter.sent, meter.total) == (4, 4)
    await turn(session, "q3")
    assert sent(chat_server) == ["q1", "You said: q1", "q2", "You said: q2", "q3"]
    assert session.switch(q1, +1) is edited
    await turn(session, "q2 on the edited branch")
    assert sent(chat_server) == ["q1 edited", "You said: q1 edited", "q2 on the edited branch"]


async def test_regenerate_adds_a_sibling_reply(chat_server):
    session = make_session(chat_server)
    chat_server.reply("first answer")
    await turn(session, "question")
    chat_server.reply("second answer")
    old = session.prepare_regenerate()
    assert old is not None and old.content == "first answer"
    await answer(session)
    assert sent(chat_server) == ["question"]  # the old reply is not sent back
    saved = document(session)
    first, second = saved["messages"][1:]
    assert (first["content"], second["content"]) == ("first answer", "second answer")
    assert first["parent"] == second["parent"] == saved["messages"][0]["id"]
    assert contents(path_of(saved)) == ["question", "second answer"]
    assert "superseded" not in first


async def test_a_failed_regenerate_shows_the_old_reply_again(chat_server):
    session = make_session(chat_server)
    chat_server.reply("the only answer")
    await turn(session, "question")
    chat_server.fail(500, "boom")
    session.prepare_regenerate()
    events = await answer(session)
    assert isinstance(events[-1], api.Failed)
    assert contents(session.conversation.path) == ["question", "the only answer"]
    assert contents(path_of(document(session))) == ["question", "the only answer"]


async def test_regenerating_an_earlier_reply_branches_there(chat_server):
    session = await two_exchanges(chat_server)
    first_reply = session.conversation.messages[1]
    chat_server.reply("another first answer")
    assert session.prepare_regenerate(first_reply) is first_reply
    await answer(session)
    assert sent(chat_server) == ["q1"]
    assert contents(session.conversation.path) == ["q1", "another first answer"]
    assert len(session.conversation.messages) == 5
    # A user message: a new reply to it, beside the ones it has.
    q1 = session.conversation.messages[0]
    assert session.prepare_regenerate(q1) is None
    await answer(session)
    assert [m.content for m in session.conversation.children(q1.id)] == [
        "You said: q1", "another first answer", "You said: q1"]


async def test_fork_writes_a_new_document_with_the_path_up_to_a_message(chat_server):
    session = await two_exchanges(chat_server)
    original = document(session)
    first_reply = session.conversation.messages[1]
    fork = session.fork(first_reply)
    assert fork.id != session.conversation.id
    saved = json.loads((paths.conversations_dir() / f"{fork.id}.json").read_text("utf-8"))
    assert contents(saved["messages"]) == ["q1", "You said: q1"]
    assert saved["current"] == first_reply.id and saved["title"].endswith("(fork)")
    assert saved["forked_from"] == {"conversation": session.conversation.id, "message": first_reply.id}
    assert saved["persona"]["system_prompt"] == SYSTEM
    assert document(session) == original  # the original is unchanged
    forked = ChatSession(Store().load(fork.id), Store(), session.client)
    await turn(forked, "q2 in the fork")
    assert sent(chat_server) == ["q1", "You said: q1", "q2 in the fork"]
    assert len(document(session)["messages"]) == 4


async def test_compare_streams_two_models_at_once_and_keeps_both(chat_server):
    session = make_session(chat_server)
    session.submit("which is better?")
    question = session.conversation.leaf
    chat_server.reply("answer one two three four five", chunks=5, delay=0.03)
    chat_server.reply("answer six seven eight nine ten", chunks=5, delay=0.03)
    replies = session.start_replies(["gpt-4o-mini", "gpt-4o"])
    order = []

    async def run(reply):
        async for event in session.reply(reply):
            order.append((reply.model, type(event).__name__))

    await asyncio.gather(*(run(r) for r in replies))
    requests = chat_server.chat_requests[-2:]
    assert sorted(r.body["model"] for r in requests) == ["gpt-4o", "gpt-4o-mini"]
    assert all(sent(chat_server, n) == ["which is better?"] for n in (-2, -1))
    # Both streamed at once: each had text before the other finished.
    first_finish = next(i for i, (_, kind) in enumerate(order) if kind == "Finished")
    assert {model for model, kind in order[:first_finish] if kind == "Delta"} == {"gpt-4o-mini", "gpt-4o"}
    saved = document(session)
    kept = [m for m in saved["messages"] if m["role"] == ASSISTANT]
    assert sorted(m["content"] for m in kept) == ["answer one two three four five", "answer six seven eight nine ten"]
    assert {m["model"] for m in kept} == {"gpt-4o-mini", "gpt-4o"}
    assert all(m["parent"] == question.id and m["usage"] for m in kept)
    # Picking one continues from it; the other stays as a sibling.
    chosen = replies[0]
    session.select(chosen)
    await turn(session, "go on")
    assert sent(chat_server) == ["which is better?", chosen.content, "go on"]
    assert len(session.conversation.children(question.id)) == 2


async def test_compare_failure_in_one_reply_leaves_the_other(chat_server):
    session = make_session(chat_server)
    session.submit("question")
    chat_server.fail(500, "down")
    chat_server.reply("fine", delay=0.05)
    replies = session.start_replies(["gpt-4o-mini", "gpt-4o"])
    outcomes = await asyncio.gather(*(answer(session, r) for r in replies))
    assert sorted(type(events[-1]).__name__ for events in outcomes) == ["Failed", "Finished"]
    kept = [m for m in document(session)["messages"] if m["role"] == ASSISTANT]
    assert contents(kept) == ["fine"]
    assert session.conversation.leaf.content in ("question", "fine")


async def test_a_compared_reply_from_another_provider_is_priced_at_its_provider(chat_server):
    session = make_session(chat_server)  # the conversation's provider is openai
    session.submit("question")
    local, paid = session.start_replies(["gpt-4o", "gpt-4o"])
    local.extra["provider"] = "ollama"  # a local provider: nothing billed
    for reply in (local, paid):
        await answer(session, reply)
    assert document(session)["messages"][1]["provider"] == "ollama"
    billed = [m for m in session.conversation.messages if m.role == ASSISTANT]
    assert session.totals.cost > 0 and billed[0].usage["completion_tokens"] > 0
    reopened = ChatSession(Store().load(session.conversation.id), Store(), session.client)
    both_paid = Store().load(session.conversation.id)
    both_paid.messages[1].extra["provider"] = "openai"
    paid_twice = ChatSession(both_paid, Store(), session.client)
    assert 0 < reopened.totals.cost < paid_twice.totals.cost  # the ollama reply costs nothing
    assert sorted(r.provider for r in records(reopened.conversation)) == ["ollama", "openai"]  # chinwag usage


async def test_the_meter_of_an_edit_counts_what_comes_before_the_edited_message(chat_server):
    session = await two_exchanges(chat_server)
    q2 = session.conversation.messages[2]
    meter = session.meter("q2 edited", editing=q2)
    assert (meter.sent, meter.total) == (3, 3)  # q1, its reply and the edit; not q2 and its reply
    assert session.window("q2 edited", editing=q2).tokens < session.window("q2 edited").tokens
    q1 = session.conversation.messages[0]
    assert (session.meter("q1 edited", editing=q1).total) == 1


# -- persona switches on a new branch (QA 13) --------------------------------------------------

CODER = Persona("coder", "You write code.")
PIRATE = Persona("pirate", "Arr.")


def roles(messages) -> list[str]:
    return [m["role"] if isinstance(m, dict) else m.role for m in messages]


async def test_regenerate_after_a_persona_switch_keeps_the_switch_on_the_new_branch(chat_server):
    # Stop a reply, F3 -> coder, ctrl+r: the switch's parent is the replaced reply, so the new
    # reply (its sibling) left it on a dead branch; resume and exports lost it.
    session = make_session(chat_server)
    chat_server.reply("first answer")
    await turn(session, "question")
    old_reply = session.conversation.leaf
    switch = session.conversation.switch_persona(CODER)
    session.save()
    chat_server.reply("coded answer")
    assert session.prepare_regenerate() is old_reply
    await answer(session)
    assert chat_server.chat_requests[-1].body["messages"][0]["content"] == CODER.system_prompt
    saved = document(session)
    shown = path_of(saved)
    assert roles(shown) == ["user", "event", "assistant"]
    assert shown[1]["content"] == "Persona changed to coder" and shown[1]["persona"]["name"] == "coder"
    assert shown[1]["id"] != switch.id and shown[2]["content"] == "coded answer"
    # The old branch is as it was: the stopped reply, then the original switch under it.
    by_id = {m["id"]: m for m in saved["messages"]}
    assert by_id[switch.id]["parent"] == old_reply.id and len(saved["messages"]) == 5
    # Resumed, exported: the switch is there.
    resumed = Store().load(session.conversation.id)
    assert contents(resumed.path) == ["question", "Persona changed to coder", "coded answer"]
    from chinwag import export

    for fmt in ("md", "txt", "html"):
        assert "Persona changed to coder" in export.render(resumed, fmt)
    # The two replies are still versions of each other, and switching back shows the old
    # branch with its own switch.
    new_reply = resumed.leaf
    assert [m.content for m in resumed.siblings(new_reply.id)] == ["first answer", "coded answer"]
    assert resumed.sibling_position(new_reply.id) == (2, 2)
    assert resumed.siblings(shown[1]["id"]) == [resumed.get(shown[1]["id"])]  # events have no versions
    resumed.select(resumed.siblings(new_reply.id)[0].id)
    assert contents(resumed.path) == ["question", "first answer", "Persona changed to coder"]


async def test_every_switch_after_the_replaced_reply_is_carried_in_order(chat_server):
    session = await two_exchanges(chat_server)
    first_reply = session.conversation.messages[1]
    session.conversation.switch_persona(PIRATE)
    session.submit("q3")  # after the first switch, more messages, then another switch
    await answer(session)
    session.conversation.switch_persona(CODER)
    session.prepare_regenerate(first_reply)  # an earlier reply: both switches followed it
    await answer(session)
    assert contents(session.conversation.path) == [
        "q1", "Persona changed to pirate", "Persona changed to coder", "You said: q1"]
    assert contents(path_of(document(session)))[1:3] == ["Persona changed to pirate", "Persona changed to coder"]
    assert chat_server.chat_requests[-1].body["messages"][0]["content"] == CODER.system_prompt
    assert len(session.conversation.siblings(session.conversation.leaf.id)) == 2
    # Regenerate the new reply again: the switches are already before it, nothing new is copied.
    count = len(session.conversation.messages)
    session.prepare_regenerate()
    await answer(session)
    assert len(session.conversation.messages) == count + 1
    assert [m.content for m in session.conversation.siblings(session.conversation.leaf.id)] == [
        "You said: q1", "You said: q1", "You said: q1"]


async def test_a_failed_regenerate_takes_the_copies_back_and_shows_the_old_branch(chat_server):
    session = make_session(chat_server)
    await turn(session, "question")
    session.conversation.switch_persona(CODER)
    before = [m.id for m in session.conversation.messages]
    chat_server.fail(500, "boom")
    session.prepare_regenerate()
    events = await answer(session)
    assert isinstance(events[-1], api.Failed)
    assert [m.id for m in session.conversation.messages] == before
    assert contents(session.conversation.path) == ["question", "You said: question", "Persona changed to coder"]
    assert contents(path_of(document(session))) == contents(session.conversation.path)
    # Regenerating a user message that fails puts the branch shown back too.
    chat_server.fail(500, "boom")
    session.prepare_regenerate(session.conversation.messages[0])
    await answer(session)
    assert [m.id for m in session.conversation.messages] == before
    assert contents(session.conversation.path)[-1] == "Persona changed to coder"


async def test_a_regenerate_that_never_started_leaves_no_copies(chat_server):
    # The chat refuses to send (no key, over the budget) after prepare_regenerate and shows the
    # old branch again: the copies made for it are not saved.
    session = make_session(chat_server)
    await turn(session, "question")
    session.conversation.switch_persona(CODER)
    session.save()
    before = document(session)
    leaf = session.conversation.current
    session.prepare_regenerate()
    session.conversation.current = leaf  # what the chat does when it cannot send
    session.save()
    assert roles(document(session)["messages"]) == roles(before["messages"])
    assert contents(session.conversation.path) == ["question", "You said: question", "Persona changed to coder"]


async def test_edit_and_resend_carries_the_switches_made_after_the_edited_message(chat_server):
    session = await two_exchanges(chat_server)
    q1, q2 = session.conversation.messages[0], session.conversation.messages[2]
    session.conversation.switch_persona(CODER)
    edited = session.edit(q1, "q1 edited")
    assert contents(path_of(document(session))) == ["Persona changed to coder", "q1 edited"]  # saved first
    await answer(session)
    assert chat_server.chat_requests[-1].body["messages"][0]["content"] == CODER.system_prompt
    assert contents(session.conversation.path) == ["Persona changed to coder", "q1 edited", "You said: q1 edited"]
    assert session.conversation.siblings(edited.id) == [q1, edited]
    # A later message: what precedes it is shared, the switch after it is carried.
    session.select(q1)
    edited2 = session.edit(q2, "q2 edited")
    assert contents(session.conversation.path) == [
        "q1", "You said: q1", "Persona changed to coder", "q2 edited"]
    assert session.conversation.siblings(edited2.id) == [q2, edited2]


async def test_an_edit_that_cannot_be_saved_takes_the_copies_back(chat_server):
    import os

    from chinwag.store import StoreError

    session = await two_exchanges(chat_server)
    session.conversation.switch_persona(CODER)
    session.save()
    before = ([m.id for m in session.conversation.messages], session.conversation.current)
    os.replace(paths.conversations_dir(), paths.data_dir() / "moved-away")
    paths.conversations_dir().write_text("in the way")
    try:
        session.edit(session.conversation.messages[0], "q1 edited")
    except StoreError:
        pass
    else:
        raise AssertionError("the edit was saved")
    assert ([m.id for m in session.conversation.messages], session.conversation.current) == before
