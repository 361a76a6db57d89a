"""chinwag.client against the real loopback server: replies, usage, every failure kind, cancellation."""

from __future__ import annotations

import asyncio
import socket

import pytest

from chinwag import client as c
from chinwag.client import ChatClient, ClientError, Delta, Failed, Finished, Usage, to_api_messages
from chinwag.conversation import EVENT, Message, Persona

LIMIT = 15  # seconds: no test may hang
HELLO = [{"role": "user", "content": "Hello"}]
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
async def client(chat_server):
    chat = ChatClient(chat_server.base_url, KEY, timeout=10, max_retries=0)
    yield chat
    await chat.aclose()


async def collect(chat: ChatClient, messages=HELLO, model="chinwag-test", **options) -> list:
    async def run():
        return [event async for event in chat.stream(model, messages, **options)]

    return await asyncio.wait_for(run(), LIMIT)


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- replies ---------------------------------------------------------------------


async def test_streamed_reply_concatenates_to_the_scripted_text(chat_server, client):
    text = "The quick brown fox jumps over the lazy dog. Twice!"
    chat_server.reply(text, chunks=7)
    events = await collect(client)
    deltas = [e for e in events if isinstance(e, Delta)]
    assert len(deltas) == 7
    assert text_of(events) == text
    assert events[-1] == Finished("stop")


async def test_usage_event_carries_the_servers_counts(chat_server, client):
    chat_server.reply("Hi there", usage={"prompt_tokens": 21, "completion_tokens": 7})
    events = await collect(client)
    assert [e for e in events if isinstance(e, Usage)] == [Usage(21, 7, 28)]
    assert events[-1] == Finished("stop")


async def test_reply_without_usage_still_finishes(chat_server, client):
    chat_server.reply("No counts here", usage=False)
    events = await collect(client)
    assert not any(isinstance(e, Usage) for e in events)
    assert text_of(events) == "No counts here"
    assert events[-1] == Finished("stop")


async def test_finish_reason_is_passed_on(chat_server, client):
    chat_server.reply("Truncated by max_tokens", finish_reason="length")
    assert (await collect(client))[-1] == Finished("length")


async def test_null_content_and_empty_choices_are_skipped(chat_server, client):
    chat_server.null_content("Some words survive")
    events = await collect(client)
    assert text_of(events) == "Some words survive"
    assert all(e.text for e in events if isinstance(e, Delta))
    assert isinstance(events[-2], Usage) and events[-1] == Finished("stop")


async def test_request_body_is_what_a_chat_completions_server_expects(chat_server, client):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Weather?"},
    ]
    await collect(client, messages, model="gpt-4o-mini", temperature=0.3, max_tokens=99)
    [request] = chat_server.chat_requests
    body = request.body
    assert request.method == "POST"
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == messages
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 99
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_unset_options_are_left_out_and_no_key_sends_a_placeholder(chat_server):
    chat = ChatClient(chat_server.base_url, None, max_retries=0)
    try:
        events = await collect(chat)
    finally:
        await chat.aclose()
    assert text_of(events) == "You said: Hello"
    body = chat_server.chat_requests[0].body
    assert "temperature" not in body and "max_tokens" not in body
    assert chat_server.chat_requests[0].headers["authorization"] == f"Bearer {c.NO_KEY}"


# -- failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "code", "kind"),
    [
        (401, f"Incorrect API key provided: {KEY}", None, c.AUTH),
        (403, "Your key may not use this model.", None, c.AUTH),
        (404, "The model `chinwag-test` does not exist", None, c.NOT_FOUND),
        (400, "This model's maximum context length is 8192 tokens.", "context_length_exceeded", c.CONTEXT_LENGTH),
        (400, "This model's maximum context length is 4096 tokens. However, you requested 5000.", None,
         c.CONTEXT_LENGTH),
        (400, f"'temperature' must be at most 2 (key {KEY})", None, c.BAD_REQUEST),
        (422, "Unprocessable", None, c.BAD_REQUEST),
        (429, "Rate limit reached", None, c.RATE_LIMITED),
        (500, "The server had an error", None, c.SERVER),
        (503, "Overloaded", None, c.SERVER),
    ],
)
async def test_http_errors_become_one_failed_event(chat_server, client, status, message, code, kind):
    chat_server.fail(status, message, code=code)
    events = await collect(client)
    assert len(events) == 1
    [failed] = events
    assert isinstance(failed, Failed)
    assert (failed.kind, failed.status) == (kind, status)
    assert KEY not in failed.message
    assert failed.message.strip()


async def test_auth_failure_says_which_setting_to_check(chat_server, client):
    chat_server.fail(401, "Incorrect API key provided")
    [failed] = await collect(client)
    assert "API key" in failed.message and "OPENAI_API_KEY" in failed.message


async def test_not_found_names_the_model(chat_server, client):
    chat_server.fail(404, "The model does not exist")
    [failed] = await collect(client, model="gpt-imaginary")
    assert "gpt-imaginary" in failed.message


async def test_other_bad_request_shows_the_servers_reason(chat_server, client):
    chat_server.fail(400, "'temperature' must be at most 2")
    [failed] = await collect(client)
    assert "'temperature' must be at most 2" in failed.message


@pytest.mark.parametrize(
    ("retry_after", "headers", "expected"),
    [(7, None, 7.0), (None, {"retry-after-ms": "1500"}, 1.5), (None, None, None)],
)
async def test_rate_limit_reports_how_long_to_wait(chat_server, client, retry_after, headers, expected):
    chat_server.fail(429, "Rate limit reached", retry_after=retry_after, headers=headers)
    [failed] = await collect(client)
    assert failed.kind == c.RATE_LIMITED
    assert failed.retry_after == expected
    if expected is not None:
        assert f"{expected:g} s" in failed.message


async def test_sdk_retries_a_passing_server_error(chat_server):
    chat_server.fail(503, "Overloaded", headers={"retry-after-ms": "10"}, times=2)
    chat_server.reply("Back again")
    chat = ChatClient(chat_server.base_url, None, max_retries=2)
    try:
        events = await collect(chat)
    finally:
        await chat.aclose()
    assert text_of(events) == "Back again"
    assert len(chat_server.chat_requests) == 3


async def test_connection_refused_names_the_server_without_credentials():
    url = f"http://someone:hunter2@127.0.0.1:{free_port()}/v1"
    chat = ChatClient(url, KEY, timeout=5, max_retries=0)
    try:
        [failed] = await collect(chat)
    finally:
        await chat.aclose()
    assert failed.kind == c.CONNECTION
    assert "127.0.0.1" in failed.message
    assert "hunter2" not in failed.message and KEY not in failed.message


async def test_a_server_that_never_answers_times_out(chat_server):
    chat_server.hang()
    chat = ChatClient(chat_server.base_url, None, timeout=0.5, max_retries=0)
    try:
        [failed] = await collect(chat)
    finally:
        await chat.aclose()
    assert failed.kind == c.TIMEOUT
    assert "0.5 s" in failed.message
    assert await asyncio.to_thread(chat_server.chat_requests[0].disconnected.wait, LIMIT)


@pytest.mark.parametrize("abrupt", [True, False], ids=["dropped", "ended"])
async def test_cut_off_stream_keeps_the_partial_text(chat_server, client, abrupt):
    chat_server.cut_off("one two three four five six", abrupt=abrupt)
    events = await collect(client)
    assert text_of(events) == "one two three "
    assert isinstance(events[-1], Failed) and events[-1].kind == c.CUT_OFF
    assert "partial text is kept" in events[-1].message
    assert not any(isinstance(e, Finished) for e in events)


async def test_malformed_chunk_keeps_the_partial_text(chat_server, client):
    chat_server.malformed("Before the garbage")
    events = await collect(client)
    assert text_of(events) == "Before the garbage"
    assert events[-1].kind == c.MALFORMED


@pytest.mark.parametrize(
    ("code", "kind"), [(None, c.SERVER), ("context_length_exceeded", c.CONTEXT_LENGTH)]
)
async def test_error_frame_mid_stream_keeps_the_partial_text(chat_server, client, code, kind):
    chat_server.mid_stream_error("Half a thought", message="Model crashed", code=code)
    events = await collect(client)
    assert text_of(events) == "Half a thought"
    assert isinstance(events[-1], Failed)
    assert events[-1].kind == kind
    assert "Model crashed" in events[-1].message


# -- cancellation ----------------------------------------------------------------


async def test_cancelling_the_consumer_closes_the_http_stream(chat_server, client):
    chat_server.reply("word " * 400, delay=0.02)
    first = asyncio.Event()
    received: list[str] = []

    async def consume():
        async for event in client.stream("chinwag-test", HELLO):
            if isinstance(event, Delta):
                received.append(event.text)
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), LIMIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, LIMIT)
    assert await asyncio.to_thread(chat_server.chat_requests[0].disconnected.wait, LIMIT)
    assert 0 < len(received) < 400


async def test_closing_the_event_stream_early_closes_the_http_stream(chat_server, client):
    chat_server.reply("word " * 400, delay=0.02)
    events = client.stream("chinwag-test", HELLO)
    assert isinstance(await asyncio.wait_for(anext(events), LIMIT), Delta)
    await asyncio.wait_for(events.aclose(), LIMIT)
    assert await asyncio.to_thread(chat_server.chat_requests[0].disconnected.wait, LIMIT)


# -- models and messages ---------------------------------------------------------


async def test_list_models_returns_the_servers_ids_sorted(chat_server, client):
    chat_server.models = ["zeta-1", "alpha-2"]
    assert await asyncio.wait_for(client.list_models(), LIMIT) == ["alpha-2", "zeta-1"]


async def test_list_models_failure_raises_client_error():
    chat = ChatClient(f"http://127.0.0.1:{free_port()}/v1", None, timeout=5, max_retries=0)
    try:
        with pytest.raises(ClientError) as caught:
            await asyncio.wait_for(chat.list_models(), LIMIT)
    finally:
        await chat.aclose()
    assert caught.value.failure.kind == c.CONNECTION


def test_to_api_messages_puts_the_system_prompt_first_and_skips_events():
    messages = [
        Message("user", "Hi", tokens=5, model="x"),
        Message(EVENT, "Persona changed to pirate", persona=Persona("pirate", "Arr")),
        Message("assistant", "Hello!", finish_reason="stop"),
    ]
    assert to_api_messages("Be brief.", messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]
    assert to_api_messages("", messages)[0] == {"role": "user", "content": "Hi"}


# -- failure text is display text ----------------------------------------------------------

NASTY = "bad \x1b]52;c;aGVsbG8=\x1b\\ clip \x1b]0;pwned\x07 title \x1b[2J\x9b2J cls \ud800 end"


def assert_plain(text: str) -> None:
    assert not any(ch in text for ch in "\x1b\x07\x9b\x9d\ud800"), repr(text)
    assert "aGVsbG8=" not in text and "pwned" not in text


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
async def test_a_servers_error_body_reaches_the_message_only_as_plain_text(chat_server, client, status):
    chat_server.fail(status, NASTY, retry_after=1 if status == 429 else None)
    (failure,) = await collect(client, model="gpt\x1b]0;evil-model\x07-4o")
    assert isinstance(failure, Failed)
    assert_plain(failure.message)
    assert "bad" in failure.message and "cls" in failure.message and "end" in failure.message


async def test_an_error_frame_mid_stream_reaches_the_message_only_as_plain_text(chat_server, client):
    chat_server.mid_stream_error("partial", message=NASTY)
    failure = (await collect(client))[-1]
    assert isinstance(failure, Failed) and "end" in failure.message
    assert_plain(failure.message)


async def test_a_url_with_credentials_never_shows_them():
    chat = ChatClient(f"http://alice:s3cr3t-pw@127.0.0.1:{free_port()}/v1", None, timeout=5, max_retries=0)
    try:
        (failure,) = await collect(chat)
    finally:
        await chat.aclose()
    assert failure.kind == c.CONNECTION and "127.0.0.1" in failure.message
    assert "s3cr3t-pw" not in failure.message and "alice" not in failure.message


async def test_a_lone_surrogate_in_a_document_never_breaks_a_request(chat_server, client):
    chat_server.reply("ok")
    events = await collect(client, messages=[{"role": "user", "content": "from JSON \ud800 here"}],
                           model="chinwag-test\udcff")
    assert events[-1] == Finished("stop")
    body = chat_server.chat_requests[0].body
    assert body["messages"][0]["content"] == "from JSON \ufffd here" and body["model"] == "chinwag-test\ufffd"


@pytest.mark.parametrize("frame", ['{"n": ' + "9" * 5000 + "}", "[" * 100_000 + "]" * 100_000],
                         ids=["huge-number", "deep"])
async def test_a_frame_json_cannot_hold_keeps_the_partial_text(chat_server, client, frame):
    chat_server.unreadable_json("Before the odd frame", frame)
    events = await collect(client)
    assert text_of(events) == "Before the odd frame"
    assert events[-1].kind == c.MALFORMED
