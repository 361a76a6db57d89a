"""Reasoning models over the wire: per-model parameters, refused parameters retried and remembered,
reasoning text, reasoning and cached tokens, and a 200 that is not a stream."""

from __future__ import annotations

import asyncio
import json

import pytest
from server import ChatServer

from chinwag import client as api
from chinwag import export, model_params, paths
from chinwag.cli import main
from chinwag.client import ChatClient
from chinwag.conversation import Conversation, Persona
from chinwag.model_settings import ModelSettings
from chinwag.session import ChatSession
from chinwag.store import Store

LIMIT = 15
HELLO = [{"role": "user", "content": "Hello"}]
SYSTEM = "You are terse."
REASONERS = {"o3", "o4-mini", "gpt-5-mini", "my-reasoner"}

MAX_TOKENS_REFUSAL = ("Unsupported parameter: 'max_tokens' is not supported with this model. "
                      "Use 'max_completion_tokens' instead.")


@pytest.fixture
def server():
    with ChatServer(reasoning_models=REASONERS) as running:
        yield running


@pytest.fixture
async def client(server):
    chat = ChatClient(server.base_url, None, timeout=10, max_retries=0)
    yield chat
    await chat.aclose()


async def collect(chat, model, messages=HELLO, **options) -> list:
    async def run():
        return [event async for event in chat.stream(model, messages, **options)]

    return await asyncio.wait_for(run(), LIMIT)


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, api.Delta))


def thoughts_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, api.Reasoning))


def make_session(server, model: str, **settings) -> ChatSession:
    conversation = Conversation(model=model, persona=Persona("terse", SYSTEM),
                                settings=ModelSettings(token_budget=8000, **settings))
    return ChatSession(conversation, Store(), ChatClient(server.base_url, None, timeout=5, max_retries=0))


async def turn(session: ChatSession, text: str) -> list:
    session.submit(text)
    message = session.conversation.add_assistant("", session.model)
    return await asyncio.wait_for(_drain(session.reply(message)), LIMIT)


async def _drain(events) -> list:
    return [event async for event in events]


def saved_document(session: ChatSession) -> dict:
    return json.loads((paths.conversations_dir() / f"{session.conversation.id}.json").read_text())


# -- the server plays a reasoning model exactly as OpenAI answers ----------------------


async def test_server_refuses_max_tokens_and_temperature_as_openai_does(server):
    import httpx2

    async with httpx2.AsyncClient() as http:
        answer = await http.post(f"{server.base_url}/chat/completions",
                                 json={"model": "o3", "messages": HELLO, "max_tokens": 10})
        assert answer.status_code == 400
        assert answer.json()["error"] == {"message": MAX_TOKENS_REFUSAL, "type": "invalid_request_error",
                                          "param": "max_tokens", "code": "unsupported_parameter"}
        answer = await http.post(f"{server.base_url}/chat/completions",
                                 json={"model": "o3", "messages": HELLO, "temperature": 0.7})
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["message"] == ("Unsupported value: 'temperature' does not support 0.7 with this model. "
                                    "Only the default (1) value is supported.")
        assert (error["code"], error["param"]) == ("unsupported_value", "temperature")


# -- refused parameters: one retry each, told in one line -------------------------------


async def test_refused_max_tokens_is_sent_again_as_max_completion_tokens(server, client):
    events = await collect(client, "my-reasoner", max_tokens=99)
    adjusted = [e for e in events if isinstance(e, api.Adjusted)]
    assert [a.param for a in adjusted] == ["max_tokens"]
    assert "max_completion_tokens" in adjusted[0].note and "\n" not in adjusted[0].note
    assert adjusted[0].learned == {"token_param": "max_completion_tokens"}
    first, second = [r.body for r in server.chat_requests]
    assert first["max_tokens"] == 99 and "max_completion_tokens" not in first
    assert second["max_completion_tokens"] == 99 and "max_tokens" not in second
    assert text_of(events) == "You said: Hello"
    assert events[-1] == api.Finished("stop")


async def test_both_refusals_in_turn_end_in_a_reply(server, client):
    events = await collect(client, "my-reasoner", temperature=0.7, max_tokens=50)
    assert [e.param for e in events if isinstance(e, api.Adjusted)] == ["max_tokens", "temperature"]
    last = server.chat_requests[-1].body
    assert "temperature" not in last and last["max_completion_tokens"] == 50
    assert len(server.chat_requests) == 3
    assert events[-1] == api.Finished("stop")


async def test_a_parameter_is_given_up_once_only(server, client):
    # A server that keeps refusing the same thing: one retry, then the failure is shown.
    server.fail(400, MAX_TOKENS_REFUSAL, code="unsupported_parameter", times=2)
    events = await collect(client, "gpt-4o-mini", max_tokens=10)
    assert len(server.chat_requests) == 2
    assert isinstance(events[-1], api.Failed) and events[-1].kind == api.BAD_REQUEST
    # One that refuses each of the pair in turn: each is given up once, then the failure shows.
    server.fail(400, MAX_TOKENS_REFUSAL, code="unsupported_parameter")
    server.fail(400, "Unsupported parameter: 'max_completion_tokens' is not supported with this model.",
                code="unsupported_parameter", times=3)
    events = await collect(client, "gpt-4o-mini", max_tokens=10)
    assert len(server.chat_requests) == 2 + 3
    assert isinstance(events[-1], api.Failed)
    assert [e.param for e in events if isinstance(e, api.Adjusted)] == ["max_tokens", "max_completion_tokens"]


async def test_reasoning_effort_refused_by_an_ordinary_model_is_dropped(server, client):
    events = await collect(client, "gpt-4o-mini", reasoning_effort="high")
    assert [e.param for e in events if isinstance(e, api.Adjusted)] == ["reasoning_effort"]
    assert "reasoning_effort" not in server.chat_requests[-1].body
    assert text_of(events) == "You said: Hello"


async def test_other_400s_are_not_retried(server, client):
    server.fail(400, "'messages' must not be empty")
    events = await collect(client, "chinwag-test", max_tokens=10)
    assert len(server.chat_requests) == 1
    assert isinstance(events[-1], api.Failed) and not any(isinstance(e, api.Adjusted) for e in events)


# -- reasoning text and usage details --------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_streams_apart_from_the_reply(server, client, field):
    server.reply("Paris.", reasoning="The capital of France is Paris.", reasoning_field=field)
    events = await collect(client, "chinwag-test")
    assert thoughts_of(events) == "The capital of France is Paris."
    assert text_of(events) == "Paris."
    first_delta = next(i for i, e in enumerate(events) if isinstance(e, api.Delta))
    assert all(isinstance(e, api.Reasoning) for e in events[:first_delta])


async def test_usage_carries_reasoning_and_cached_tokens(server, client):
    server.reply("Hi", usage={"prompt_tokens": 2000, "completion_tokens": 300,
                              "completion_tokens_details": {"reasoning_tokens": 256},
                              "prompt_tokens_details": {"cached_tokens": 1536}})
    events = await collect(client, "o3")
    [usage] = [e for e in events if isinstance(e, api.Usage)]
    assert (usage.reasoning_tokens, usage.cached_tokens) == (256, 1536)


async def test_a_200_that_is_not_a_stream_is_a_normal_reply(server, client):
    server.plain_json("The whole answer at once.", reasoning="Short thought.",
                      usage={"prompt_tokens": 12, "completion_tokens": 9})
    events = await collect(client, "chinwag-test")
    assert text_of(events) == "The whole answer at once."
    assert thoughts_of(events) == "Short thought."
    assert [e for e in events if isinstance(e, api.Usage)] == [api.Usage(12, 9, 21)]
    assert events[-1] == api.Finished("stop")


# -- the session: parameters per model, remembered refusals, the document ---------------------


async def test_known_reasoning_model_is_asked_right_the_first_time(server):
    session = make_session(server, "o3", temperature=0.7, max_tokens=1024, reasoning_effort="high")
    events = await turn(session, "What is 2+2?")
    assert not any(isinstance(e, api.Adjusted) for e in events)
    [request] = server.chat_requests
    body = request.body
    assert body["max_completion_tokens"] == 1024 and "max_tokens" not in body
    assert "temperature" not in body
    assert body["reasoning_effort"] == "high"
    assert body["messages"][0] == {"role": "developer", "content": SYSTEM}


async def test_reasoning_effort_is_sent_only_to_models_that_take_it(server):
    session = make_session(server, "gpt-4o-mini", temperature=0.5, reasoning_effort="high")
    await turn(session, "hi")
    [request] = server.chat_requests
    assert "reasoning_effort" not in request.body and request.body["temperature"] == 0.5
    assert request.body["messages"][0]["role"] == "system"


async def test_refusals_are_remembered_for_the_model_in_the_cache_dir(server):
    session = make_session(server, "my-reasoner", temperature=0.7, max_tokens=200)
    events = await turn(session, "first")
    assert len([e for e in events if isinstance(e, api.Adjusted)]) == 2
    memory = json.loads((paths.cache_dir() / "model-params.json").read_text())
    assert memory["models"]["my-reasoner"] == {"max_tokens_param": "max_completion_tokens", "temperature": False}
    # The next turn, and a session started afresh (another run of chinwag), ask right at once.
    before = len(server.chat_requests)
    await turn(session, "second")
    fresh = make_session(server, "my-reasoner", temperature=0.7, max_tokens=200)
    await turn(fresh, "third")
    later = [r.body for r in server.chat_requests[before:]]
    assert len(later) == 2
    assert all("temperature" not in b and b["max_completion_tokens"] == 200 for b in later)


async def test_a_refused_stream_options_is_remembered_for_the_model(server):
    # Older vLLM and Azure refuse stream_options: dropped once, said once, remembered for the
    # model in model-params.json, never sent to it again (this run or the next).
    server.refused_params["gpt-4o"] = {"stream_options"}
    session = make_session(server, "gpt-4o")
    events = await turn(session, "first")
    assert [e.param for e in events if isinstance(e, api.Adjusted)] == ["stream_options"]
    assert events[-1] == api.Finished("stop")
    memory = json.loads((paths.cache_dir() / "model-params.json").read_text())
    assert memory["models"]["gpt-4o"] == {"unsent": ["stream_options"]}
    before = len(server.chat_requests)
    for chat_session in (session, make_session(server, "gpt-4o")):
        events = await turn(chat_session, "again")
        assert not any(isinstance(e, api.Adjusted) for e in events) and events[-1] == api.Finished("stop")
    later = [r.body for r in server.chat_requests[before:]]
    assert len(later) == 2 and not any("stream_options" in body for body in later)


@pytest.mark.parametrize("params", [["top_p"], ["seed", "top_p"]])
async def test_any_other_refused_parameter_is_learned_and_left_out(server, client, params):
    server.refused_params["gpt-4o"] = set(params)
    events = await collect(client, "gpt-4o", family=model_params.Family(), **{p: 1 for p in params})
    adjusted = [e for e in events if isinstance(e, api.Adjusted)]
    assert sorted(a.param for a in adjusted) == params and events[-1] == api.Finished("stop")
    for event in adjusted:  # what the session does with each
        model_params.remember("gpt-4o", event.learned)
    family = model_params.family("gpt-4o", learned=model_params.load_learned())
    assert family.unsent == tuple(params)
    before = len(server.chat_requests)
    events = await collect(client, "gpt-4o", family=family, **{p: 1 for p in params})
    assert len(server.chat_requests) == before + 1 and events[-1] == api.Finished("stop")
    assert not any(p in server.chat_requests[-1].body for p in params)


async def test_a_server_that_refuses_stream_options_still_gives_an_estimated_usage(server):
    server.refused_params["gpt-4o"] = {"stream_options"}
    session = make_session(server, "gpt-4o")
    for text in ("first", "second"):
        events = await turn(session, text)
        assert events[-1] == api.Finished("stop")
        usage = session.conversation.leaf.usage
        assert usage["estimated"] is True and usage["completion_tokens"] > 0 and usage["prompt_tokens"] > 0
    assert len(server.chat_requests) == 3  # one refusal, then never again
    assert "stream_options" not in server.chat_requests[-1].body
    assert session.meter().last_estimated


def test_a_hand_edited_unsent_list_is_checked():
    learned = {"ok": {"unsent": ["seed", "top_p"]}, "bad": {"unsent": "seed"}, "worse": {"unsent": ["a b"]}}
    path = paths.cache_dir() / "model-params.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"models": learned}))
    assert model_params.load_learned() == {"ok": {"unsent": ("seed", "top_p")}}
    family = model_params.family("ok", learned=model_params.load_learned())
    assert family.options(0.2, 10, None) == {"temperature": 0.2, "max_tokens": 10}
    overrides, warnings = model_params.parse_overrides({"m": {"unsent": ["stream_options"]}, "n": {"unsent": 3}})
    assert overrides == {"m": {"unsent": ("stream_options",)}} and len(warnings) == 1


async def test_a_broken_memory_file_is_forgotten_not_fatal(server):
    (paths.cache_dir()).mkdir(parents=True, exist_ok=True)
    (paths.cache_dir() / "model-params.json").write_text("{not json")
    session = make_session(server, "my-reasoner", max_tokens=10)
    events = await turn(session, "hi")
    assert events[-1] == api.Finished("stop")
    assert json.loads((paths.cache_dir() / "model-params.json").read_text())["models"]["my-reasoner"]


async def test_reasoning_is_saved_apart_and_never_sent_back(server):
    session = make_session(server, "o4-mini")
    await turn(session, "one two three")
    reply = session.conversation.messages[-1]
    document = saved_document(session)
    saved_reply = document["messages"][-1]
    assert saved_reply["content"] == "You said: one two three"
    assert saved_reply["reasoning"] == "The user wrote 3 words. I should repeat them back."
    assert saved_reply["usage"]["reasoning_tokens"] == 10
    assert "cached_tokens" in saved_reply["usage"]
    assert reply.extra["reasoning"] == saved_reply["reasoning"]
    await turn(session, "again")
    sent = json.dumps(server.chat_requests[-1].body["messages"])
    assert "I should repeat" not in sent
    assert {"role": "assistant", "content": "You said: one two three"} in server.chat_requests[-1].body["messages"]


async def stop_while_thinking(server):
    """A session on o3 whose first reply is stopped at its first reasoning event."""
    session = make_session(server, "o3")
    session.submit("hi")
    message = session.conversation.add_assistant("", session.model)
    stream = session.reply(message)
    async for event in stream:
        if isinstance(event, api.Reasoning):
            break
    await stream.aclose()
    return session, message


async def test_reasoning_of_a_stopped_reply_is_kept(server):
    server.reply("never seen", reasoning="thinking " * 40, delay=0.02)
    session, _ = await stop_while_thinking(server)
    saved_reply = saved_document(session)["messages"][-1]
    assert saved_reply["finish_reason"] == "interrupted"
    assert saved_reply["reasoning"].startswith("thinking")


@pytest.mark.parametrize("content", ["", "  \n"])
async def test_a_reply_stopped_before_any_text_is_kept_but_never_sent_back(server, content):
    # Stopped while the model was thinking: the reply is kept (with its reasoning), but servers
    # refuse {"role": "assistant", "content": ""}, so no request carries it.
    server.reply(content or "never seen", reasoning="thinking " * 40, delay=0.02)
    session, message = await stop_while_thinking(server)
    message.content = content  # what the document holds (text that is only blank: the same)
    assert saved_document(session)["messages"][-1]["role"] == "assistant"
    window = session.window("and now?")
    assert message not in window.sent and window.fits
    assert session.meter("and now?").sent == session.meter("and now?").total == 2
    await turn(session, "and now?")
    sent = server.chat_requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["developer", "user", "user"]
    assert all(m["content"].strip() for m in sent)
    assert [m["role"] for m in saved_document(session)["messages"]] == ["user", "assistant", "user", "assistant"]


@pytest.mark.parametrize("usage, counted", [
    ({"prompt_tokens": 10**30, "completion_tokens": 5}, True),  # not counts: chinwag counts itself
    ({"prompt_tokens": 5, "completion_tokens": -3}, True),
    ({"prompt_tokens": 5, "completion_tokens": 2, "completion_tokens_details": {"reasoning_tokens": 10**20}}, False),
])
async def test_a_servers_nonsense_usage_is_never_saved(server, usage, counted):
    # Saved as it came, it would make the document read-only (and every report absurd).
    server.reply("fine", usage=usage)
    session = make_session(server, "gpt-4o-mini")
    await turn(session, "hi")
    saved_usage = saved_document(session)["messages"][-1]["usage"]
    assert all(0 <= v < 10**9 for v in saved_usage.values() if type(v) is int)
    assert saved_usage.get("estimated", False) is counted and "reasoning_tokens" not in saved_usage
    assert not Store().load(session.conversation.id).read_only


async def test_cost_uses_the_cached_input_price(server):
    server.reply("ok", usage={"prompt_tokens": 1_000_000, "completion_tokens": 0,
                              "prompt_tokens_details": {"cached_tokens": 1_000_000}})
    session = make_session(server, "o4-mini")
    await turn(session, "hi")
    assert session.totals.cost == pytest.approx(0.275)  # o4-mini cached input, not 1.10
    meter = session.meter()
    assert meter.last_cached == 1_000_000 and meter.last_reasoning is None


async def test_a_non_stream_answer_is_saved_as_a_finished_reply(server):
    server.plain_json("Complete.", usage={"prompt_tokens": 5, "completion_tokens": 1})
    session = make_session(server, "chinwag-test")
    await turn(session, "hi")
    saved_reply = saved_document(session)["messages"][-1]
    assert (saved_reply["content"], saved_reply["finish_reason"]) == ("Complete.", "stop")


def test_config_overrides_the_families_table():
    overrides, warnings = model_params.parse_overrides({
        "local-thinker": {"max_tokens_param": "max_completion_tokens", "temperature": False,
                          "reasoning_effort": ["low", "high"], "system_role": "developer", "vision": True},
        "o3": {"temperature": True},
        "broken": {"max_tokens_param": "tokens"},
        "odd": "not a table",
    })
    assert len(warnings) == 2 and all("ignored" in w for w in warnings)
    family = model_params.family("local-thinker-q4", overrides)
    assert family == model_params.Family("max_completion_tokens", False, ("low", "high"), "developer", True)
    assert family.options(0.7, 100, "medium") == {"max_completion_tokens": 100}
    assert model_params.family("o3", overrides).temperature is True
    assert model_params.family("o3-2025-04-16").token_param == "max_completion_tokens"
    assert model_params.family("gpt-5.1").efforts[0] == "none"
    assert model_params.family("o30-lookalike") == model_params.Family()


# -- exports leave reasoning out unless asked -------------------------------------------------


async def test_exports_hold_reasoning_only_when_asked(server, capsys):
    server.reply("The answer is 4.", reasoning="Two plus two: SECRET-THOUGHT.")
    session = make_session(server, "o3")
    await turn(session, "2+2?")
    for fmt in ("md", "txt", "html", "json"):
        assert "SECRET-THOUGHT" not in export.render(session.conversation, fmt)
        assert "SECRET-THOUGHT" in export.render(session.conversation, fmt, reasoning=True)
    assert main(["export", session.conversation.id]) == 0
    assert "SECRET-THOUGHT" not in capsys.readouterr().out
    assert main(["export", session.conversation.id, "--reasoning", "-f", "md"]) == 0
    out = capsys.readouterr().out
    assert "**Thinking**" in out and "> Two plus two: SECRET-THOUGHT." in out
    assert out.index("SECRET-THOUGHT") < out.index("The answer is 4.")


def test_reasoning_effort_setting_is_checked_where_it_is_typed():
    from chinwag.config import validate

    assert validate("reasoning_effort", " High ") == "high"
    assert validate("reasoning_effort", "") is None
    assert validate("reasoning_effort", "default") is None
    with pytest.raises(ValueError, match="none, minimal, low, medium, high"):
        validate("reasoning_effort", "extreme")
    settings = ModelSettings.from_dict({"reasoning_effort": "minimal", "token_budget": 9000})
    assert settings.reasoning_effort == "minimal" and settings.to_dict()["reasoning_effort"] == "minimal"
