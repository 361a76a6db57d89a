"""A turn through the engine (no Textual): window, request body, saves, usage, failures."""

from __future__ import annotations

import asyncio
import json

from chinwag.model_settings import ModelSettings
from chinwag import client as api
from chinwag import paths
from chinwag.client import ChatClient
from chinwag.config import Settings
from chinwag.conversation import Conversation, Persona
from chinwag.personas import BUILTIN
from chinwag.providers import Resolved
from chinwag.conversation import start_conversation
from chinwag.session import ChatSession
from chinwag.store import Store
from chinwag.tokens import TokenCounter, select_window

SYSTEM = "You are terse."


def saved_document(session: ChatSession) -> dict:
    return json.loads((paths.conversations_dir() / f"{session.conversation.id}.json").read_text())


def make_session(server, budget: int = 8000) -> ChatSession:
    conversation = Conversation(model="gpt-4o-mini", persona=Persona("terse", SYSTEM), settings=ModelSettings(token_budget=budget))
    return ChatSession(conversation, Store(), ChatClient(server.base_url, None, timeout=5, max_retries=0))


async def turn(session: ChatSession, text: str) -> list:
    session.submit(text)
    message = session.conversation.add_assistant("", session.model)
    return [event async for event in session.reply(message)]


async def test_request_carries_system_prompt_and_the_window_that_fits(chat_server):
    session = make_session(chat_server, budget=200)
    for i in range(6):
        chat_server.reply(f"reply {i} " + "filler " * 20)
        await turn(session, f"question {i} " + "words " * 20)
    body = chat_server.chat_requests[-1].body
    # What the last request should have held: the newest messages before its reply that fit.
    counter = TokenCounter("gpt-4o-mini")
    window = select_window(counter, SYSTEM, session.candidates()[:-1], 200)
    expected = [{"role": "system", "content": SYSTEM}] + [
        {"role": m.role, "content": m.content} for m in window.sent
    ]
    assert body["messages"] == expected
    assert body["messages"][-1]["content"].startswith("question 5")
    assert counter.count_request(SYSTEM, window.sent) <= 200
    assert len(window.excluded) > 0  # older messages left out of the request...
    assert len(session.conversation.messages) == 12  # ...but never removed from the document


async def test_turn_saves_user_message_and_reply_with_usage(chat_server):
    chat_server.reply("fine thanks", usage={"prompt_tokens": 21, "completion_tokens": 3, "total_tokens": 24})
    session = make_session(chat_server)
    events = await turn(session, "how are you")
    assert [type(e) for e in events][-2:] == [api.Usage, api.Finished]
    saved = saved_document(session)
    assert [m["content"] for m in saved["messages"]] == ["how are you", "fine thanks"]
    assert saved["messages"][1]["usage"] == {"prompt_tokens": 21, "completion_tokens": 3}
    assert session.totals.prompt_tokens == 21 and session.totals.completion_tokens == 3
    assert session.totals.cost is not None and session.totals.cost > 0


async def test_no_usage_from_server_is_estimated_locally(chat_server):
    chat_server.reply("no usage here", usage=False)
    session = make_session(chat_server)
    await turn(session, "hello")
    usage = session.conversation.messages[-1].usage
    assert usage["estimated"] is True
    assert usage["completion_tokens"] == TokenCounter("gpt-4o-mini").count_text("no usage here")
    assert session.meter().last_estimated


async def test_failure_without_text_leaves_only_the_user_message(chat_server):
    chat_server.fail(401, "Incorrect API key provided: sk-abc***")
    session = make_session(chat_server)
    events = await turn(session, "hello?")
    assert isinstance(events[-1], api.Failed) and events[-1].kind == api.AUTH
    saved = saved_document(session)
    assert [m["role"] for m in saved["messages"]] == ["user"]
    assert session.candidates()[-1].role == "user"  # ready for ctrl+r


async def test_cut_off_keeps_partial_reply_marked(chat_server):
    chat_server.cut_off("a long story that will be cut right in the middle of it")
    session = make_session(chat_server)
    await turn(session, "tell me")
    reply = session.conversation.messages[-1]
    assert reply.finish_reason == "cut_off" and reply.content
    saved = saved_document(session)
    assert saved["messages"][-1]["finish_reason"] == "cut_off"


async def test_cancel_mid_stream_keeps_partial_reply(chat_server):
    chat_server.reply("slow " * 50, chunks=50, delay=0.05)
    session = make_session(chat_server)
    session.submit("go")
    message = session.conversation.add_assistant("", session.model)

    async def consume():
        async for _ in session.reply(message):
            pass

    task = asyncio.create_task(consume())
    while "slow slow" not in message.content:
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    saved = saved_document(session)
    assert saved["messages"][-1]["finish_reason"] == "interrupted"
    assert saved["messages"][-1]["content"].startswith("slow slow")


def test_new_conversation_takes_persona_settings():
    spec = BUILTIN["sassy"]
    resolved = Resolved("custom", "http://127.0.0.1:9/v1", None, "my-model")
    conversation = start_conversation(Settings(temperature=0.2, token_budget=4000), resolved, spec)
    assert conversation.persona.system_prompt == spec.system_prompt
    assert conversation.model == (spec.model or "my-model")
    assert conversation.settings.token_budget == (spec.token_budget or 4000)
