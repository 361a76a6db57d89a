"""A message that could never be sent (alone over the token budget or the model's context window)
is refused by the engine before it is added: nothing is saved, nothing goes out, the attachments
stay pending, and the refusal says how many tokens it needs against which limit."""

from __future__ import annotations

import json

import pytest

from chinwag import paths
from chinwag.client import ChatClient
from chinwag.conversation import Conversation, Persona
from chinwag.model_settings import ModelSettings
from chinwag.session import ChatSession, TooLong
from chinwag.store import Store

SYSTEM = "You are terse."


def make_session(server, budget: int = 8000, prices: dict | None = None) -> ChatSession:
    conversation = Conversation(model="gpt-4o-mini", persona=Persona("terse", SYSTEM),
                                settings=ModelSettings(token_budget=budget))
    return ChatSession(conversation, Store(), ChatClient(server.base_url, None, timeout=5, max_retries=0),
                       prices=prices or {})


async def turn(session: ChatSession, text: str) -> None:
    session.submit(text)
    [_ async for _ in session.reply(session.start_reply())]


def saved(session: ChatSession) -> list[str] | None:
    file = paths.conversations_dir() / f"{session.conversation.id}.json"
    if not file.exists():
        return None
    return [m["content"] for m in json.loads(file.read_text("utf-8"))["messages"]]


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


async def test_an_attachment_over_the_budget_is_refused_before_it_is_added(chat_server, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(words(20_000))
    session = make_session(chat_server)
    await turn(session, "hello")
    attachment = session.attach(str(big))
    with pytest.raises(TooLong) as refused:
        session.submit("summarise this")
    assert refused.value.over_budget and refused.value.budget == 8000
    assert refused.value.files > 20_000 and refused.value.needed > refused.value.files
    assert "over the 8,000-token budget" in str(refused.value) and "attached files" in str(refused.value)
    assert [m.content for m in session.conversation.path] == ["hello", "You said: hello"]
    assert saved(session) == ["hello", "You said: hello"]
    assert session.pending == [attachment]  # still attached, for a shorter message or a bigger budget
    assert len(chat_server.chat_requests) == 1
    # With the budget raised, the same message goes out with its file.
    session.conversation.settings = ModelSettings(token_budget=200_000)
    chat_server.reply("read it")
    await turn(session, "summarise this")
    assert saved(session)[-2:] == ["summarise this", "read it"] and session.pending == []
    assert "word19999" in chat_server.chat_requests[-1].body["messages"][-1]["content"]


async def test_a_long_text_is_refused_and_the_exact_fit_goes_out(chat_server):
    session = make_session(chat_server, budget=100)
    with pytest.raises(TooLong) as refused:
        session.submit(words(200))
    assert refused.value.files == 0 and "attached" not in str(refused.value)
    assert session.conversation.messages == [] and saved(session) is None
    # The limit is the budget itself: one token more is refused, a message filling it exactly is sent.
    room = 100 - refused.value.system - 3 - session.counter.count_text("user")  # 3 per message, the role
    text = " ".join(["a"] * room)
    assert session.counter.count_text(text) == room
    with pytest.raises(TooLong):
        session.submit(text + " a")
    await turn(session, text)
    assert chat_server.chat_requests[-1].body["messages"][-1]["content"] == text
    assert session.context_of(session.conversation.leaf).tokens == 100


async def test_over_the_models_context_window_is_refused_even_within_the_budget(chat_server):
    prices = {"gpt-4o-mini": {"input": 0.15, "output": 0.6, "context_window": 500}}
    session = make_session(chat_server, budget=100_000, prices=prices)
    with pytest.raises(TooLong) as refused:
        session.submit(words(600))
    assert refused.value.over_window and not refused.value.over_budget and refused.value.window == 500
    assert str(refused.value).endswith("over gpt-4o-mini's 500-token context window.")
    assert session.conversation.messages == [] and chat_server.chat_requests == []
    # Over both: both are named (a bigger budget alone would not let it go).
    session.conversation.settings = ModelSettings(token_budget=100)
    with pytest.raises(TooLong) as refused:
        session.submit(words(600))
    assert "over the 100-token budget and gpt-4o-mini's 500-token context window." in str(refused.value)


async def test_an_edit_over_the_budget_leaves_the_conversation_as_it_was(chat_server):
    session = make_session(chat_server, budget=300)
    await turn(session, "q1")
    before = saved(session)
    current = session.conversation.current
    with pytest.raises(TooLong):
        session.edit(session.conversation.messages[0], words(400))
    assert saved(session) == before and session.conversation.current == current
    assert len(session.conversation.messages) == 2 and len(chat_server.chat_requests) == 1


async def test_a_system_prompt_over_the_budget_is_named_as_the_cause(chat_server):
    session = make_session(chat_server, budget=50)
    session.conversation.persona = Persona("long", words(100))
    with pytest.raises(TooLong) as refused:
        session.submit("hi")
    assert str(refused.value).startswith("The system prompt alone needs")
    assert session.conversation.messages == []
