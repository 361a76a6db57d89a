"""The streaming Chat Completions client: AsyncOpenAI chunks in, plain events out.

``ChatClient.stream`` never raises for API failures: it yields one ``Failed`` with words a
person understands and stops. ``Failed.message`` is display text, already through
``sanitize.clean``: whatever the server's error body, the model id or the base URL hold, it
shows as plain text. The API key never appears in a message.
"""

from __future__ import annotations

import os
import json
import re
import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Mapping, Union
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # the SDK takes over a second to import: load it when first needed
    import openai

    from chinwag.model_params import Family

from chinwag import jsonread
from chinwag.conversation import Message
from chinwag.reading import MAX_TOKENS
from chinwag.sanitize import clean, valid_unicode

from chinwag.failures import (  # noqa: F401 (the kinds of Failed, named here too: api.AUTH)
    AUTH,
    BAD_REQUEST,
    CONNECTION,
    CONTEXT_LENGTH,
    CUT_OFF,
    MALFORMED,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER,
    TIMEOUT,
    UNKNOWN,
)

NO_KEY = "not-needed"  # local servers want no key; the SDK insists on one

_CONTEXT_WORDS = re.compile(
    r"context[_ ]length|context window|maximum context|too many tokens|max_new_tokens", re.IGNORECASE
)


@dataclass
class Delta:
    text: str


@dataclass
class Reasoning:
    """Text of the model's reasoning (``reasoning_content`` or ``reasoning``): shown, saved, never sent back."""

    text: str


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    reasoning_tokens: int | None = None  # part of completion_tokens
    cached_tokens: int | None = None  # part of prompt_tokens, billed at the cached-input price


@dataclass
class Finished:
    finish_reason: str


@dataclass
class Failed:
    kind: str
    message: str  # for people: one line, cleaned (see __post_init__)
    retry_after: float | None = None
    status: int | None = None
    param: str | None = None  # the parameter a 400 refused as unsupported
    code: str | None = None

    def __post_init__(self) -> None:
        self.message = clean(self.message, one_line=True)


@dataclass
class Adjusted:
    """The server refused ``param``; the request was sent again without it (or with its replacement)."""

    param: str
    note: str  # one line for the user
    learned: dict  # Family fields to remember for this model (see model_params.remember)

    def __post_init__(self) -> None:
        self.note = clean(self.note, one_line=True)


Event = Union[Delta, Reasoning, Usage, Finished, Failed, Adjusted]


class ClientError(Exception):
    """Raised by ``list_models``; ``failure`` says what went wrong."""

    def __init__(self, failure: Failed) -> None:
        super().__init__(failure.message)
        self.failure = failure


def to_api_messages(system_prompt: str, messages: list[Message], system_role: str = "system",
                    content: Callable[[Message], Any] | None = None) -> list[dict]:
    """The request's messages: the system prompt (if any, under ``system_role``), then chat
    messages; events skipped. ``content`` gives a message's API content (text with its attached
    files, or content parts); by default its text. Reasoning is never sent back, nor a reply
    without text (``Message.is_sent``)."""
    out = [{"role": system_role, "content": system_prompt}] if system_prompt else []
    out.extend({"role": m.role, "content": content(m) if content else m.content} for m in messages if m.is_sent)
    return out


class ChatClient:
    """An OpenAI-compatible chat endpoint."""

    def __init__(self, base_url: str | None, api_key: str | None, timeout: float = 60, max_retries: int = 2):
        self._key = api_key or ""
        self._timeout = timeout
        self._base_url = base_url
        self._max_retries = max_retries

    @cached_property
    def _openai(self) -> "openai.AsyncOpenAI":
        import openai

        return openai.AsyncOpenAI(
            base_url=self._base_url, api_key=self._key or NO_KEY, timeout=self._timeout, max_retries=self._max_retries
        )

    @property
    def api_key(self) -> str:
        """The key in use ("" for none): to keep it out of what is sent or saved, never to show."""
        return self._key

    @property
    def base_url(self) -> str:
        """The endpoint, without any user:password part."""
        return display_url(self._base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1")

    async def stream(self, model: str, messages: list[dict], family: "Family | None" = None,
                     **options: Any) -> AsyncIterator[Event]:
        """Stream one reply as Reasoning/Delta/Usage events, ending with Finished or Failed.

        ``options`` are request parameters (temperature, max_tokens, max_completion_tokens,
        reasoning_effort...; None means not sent). A 400 that names one of them as unsupported is
        answered by one more request without it (or with its replacement), announced by an
        Adjusted event; each parameter is given up at most once. ``family`` is what the request
        was built from (see model_params)."""
        from chinwag import model_params

        options = {"stream_options": {"include_usage": True},
                   **{k: v for k, v in options.items() if v is not None}}
        if family is not None:  # what the server refused before for this model is not sent again
            options = family.without_unsent(options)
        refused: set[str] = set()
        while True:
            retry = None
            events = self._stream_once(model, messages, options)
            try:
                async for event in events:
                    if isinstance(event, Failed) and event.param and event.param not in refused:
                        retry = model_params.adjust(event.param, options, messages, family, event.code)
                        if retry is not None:
                            break
                    yield event
            finally:
                await events.aclose()
            if retry is None:
                return
            refused.add(retry.param)
            options, messages = retry.options, retry.messages
            yield Adjusted(retry.param, retry.note, retry.learned)

    async def _stream_once(self, model: str, messages: list[dict], options: dict[str, Any]) -> AsyncIterator[Event]:
        finish_reason: str | None = None
        started = False
        kept = False  # some text arrived: a failure from here on leaves a partial reply
        try:
            response = await self._openai.chat.completions.create(  # no lone surrogate can reach the wire
                model=valid_unicode(model), messages=valid_unicode(messages), stream=True, **options
            )
            async with response:
                if _is_plain_json(response.response.headers.get("content-type", "")):
                    # Some proxies answer a stream request with one chat.completion body.
                    async for event in self._plain_reply(await response.response.aread()):
                        yield event
                    return
                async for chunk in response:
                    started = True
                    for choice in chunk.choices or []:
                        if choice.index != 0:
                            continue
                        delta = choice.delta
                        if delta is not None:
                            thought = _reasoning_of(delta)
                            if thought:
                                kept = True
                                yield Reasoning(thought)
                            if delta.content:
                                kept = True
                                yield Delta(delta.content)
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
                    if chunk.usage is not None and (usage := usage_event(chunk.usage.model_dump())) is not None:
                        yield usage
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Failed event
            failure = self._failure(exc, model, started, kept)
            if failure is None:
                raise
            yield failure
            return
        if finish_reason is None:
            yield Failed(CUT_OFF, "The reply was cut off: the stream ended before the model finished."
                                  + _kept(kept))
        else:
            yield Finished(finish_reason)

    async def _plain_reply(self, raw: bytes) -> AsyncIterator[Event]:
        """Events from a whole chat.completion JSON body (a 200 that is not a stream)."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            yield Failed(MALFORMED, "The server answered with a body that is neither a stream nor valid JSON. "
                                    "No reply text arrived.")
            return
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            detail = data["error"].get("message")
            yield Failed(SERVER, "The server reported an error instead of a reply: "
                                 f"{self._redact(str(detail or 'no details'))}")
            return
        choices = data.get("choices") if isinstance(data, dict) else None
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
        message = choice.get("message") if choice else None
        if not isinstance(message, dict):
            yield Failed(MALFORMED, "The server answered with JSON that holds no reply (no choices). "
                                    "No reply text arrived.")
            return
        thought = _reasoning_of(message)
        if thought:
            yield Reasoning(thought)
        if isinstance(message.get("content"), str) and message["content"]:
            yield Delta(message["content"])
        if isinstance(data.get("usage"), dict) and (usage := usage_event(data["usage"])) is not None:
            yield usage
        reason = choice.get("finish_reason")
        yield Finished(reason if isinstance(reason, str) and reason else "stop")

    async def list_models(self) -> list[str]:
        """Model ids the server offers, sorted. Raises ClientError."""
        try:
            return sorted([model.id async for model in self._openai.models.list()])
        except Exception as exc:  # noqa: BLE001
            failure = self._failure(exc, "", started=False)
            if failure is None:
                raise
            raise ClientError(failure) from None

    async def aclose(self) -> None:
        if "_openai" in self.__dict__:  # never created: nothing to close
            await self._openai.close()

    # -- failures --------------------------------------------------------------

    def _failure(self, exc: Exception, model: str, started: bool, kept: bool = False) -> Failed | None:
        """The Failed event for ``exc``; None for exceptions that are not API failures.
        ``started``: the stream had begun; ``kept``: some reply text had arrived."""
        import openai

        if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) or jsonread.beyond_python(exc):
            return Failed(MALFORMED, "The server sent a part of the reply that could not be read "
                                     "(not valid JSON)." + _kept(kept))
        if isinstance(exc, openai.APIStatusError):
            return self._status_failure(exc, model)
        if isinstance(exc, openai.APITimeoutError):
            return Failed(TIMEOUT, f"The server at {self.base_url} did not answer within {self._timeout:g} s. "
                                   "Try again, or raise the timeout in the settings.")
        if isinstance(exc, openai.APIConnectionError):
            if started:
                return Failed(CUT_OFF, "The reply was cut off: the connection dropped before the model "
                                       "finished." + _kept(kept))
            return Failed(CONNECTION, f"Could not reach the server at {self.base_url}. "
                                      "Is it running, and is the base URL right?")
        if isinstance(exc, openai.APIError):  # an {"error": ...} frame in the stream
            detail = self._detail(exc)
            kind = CONTEXT_LENGTH if self._is_context_length(exc) else SERVER
            when = "part-way through the reply" if kept else "instead of a reply"
            return Failed(kind, f"The server reported an error {when}: {detail}" + _kept(kept))
        if isinstance(exc, openai.OpenAIError):
            return Failed(UNKNOWN, f"The request failed: {self._redact(str(exc))}")
        return None

    def _status_failure(self, exc: openai.APIStatusError, model: str) -> Failed:
        import openai

        status = exc.status_code
        detail = self._detail(exc)
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return Failed(AUTH, f"The server rejected the API key (HTTP {status}). Check the key in "
                                "OPENAI_API_KEY (or your provider's key variable, or api_key in the config "
                                "file) and that it may use this model.", status=status)
        if isinstance(exc, openai.NotFoundError):
            return Failed(NOT_FOUND, f"Unknown model '{model}' (HTTP 404 from {self.base_url}): pick another "
                                     f"model, or check the base URL. Server said: {detail}", status=status)
        if isinstance(exc, openai.RateLimitError):
            wait = retry_after(exc.response.headers)
            when = f"try again in {wait:g} s" if wait is not None else "wait a moment and try again"
            return Failed(RATE_LIMITED, f"Rate limited by the server: {when}. Server said: {detail}",
                          retry_after=wait, status=status)
        if status in (400, 413) and self._is_context_length(exc):
            return Failed(CONTEXT_LENGTH, "The conversation is too long for the model's context window. "
                                          "Lower the token budget, start a new conversation, or pick a model "
                                          f"with a larger window. Server said: {detail}", status=status)
        if status >= 500:
            return Failed(SERVER, f"The server had a problem (HTTP {status}); try again in a moment. "
                                  f"Server said: {detail}", status=status)
        if 400 <= status < 500:
            from chinwag.model_params import rejected_param

            param = rejected_param(exc.code, exc.param, exc.message) if status == 400 else None
            return Failed(BAD_REQUEST, f"The server refused the request (HTTP {status}): {detail}",
                          status=status, param=param, code=exc.code)
        return Failed(UNKNOWN, f"Unexpected answer from the server (HTTP {status}): {detail}", status=status)

    @staticmethod
    def _is_context_length(exc: openai.APIError) -> bool:
        return exc.code == "context_length_exceeded" or bool(_CONTEXT_WORDS.search(exc.message or ""))

    def _detail(self, exc: openai.APIError) -> str:
        body = exc.body if isinstance(exc.body, dict) else {}
        text = body.get("message") if isinstance(body.get("message"), str) else exc.message
        # Cleaned before redaction too: an escape sequence inside the key must not hide it.
        return self._redact(clean(self._redact(text or "no details"), one_line=True))

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if len(self._key) >= 4 else text


def _is_plain_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.endswith("+json") and kind.startswith("application/"))


def _reasoning_of(part: Any) -> str | None:
    """Reasoning text of a delta or message: ``reasoning_content`` (DeepSeek, llama.cpp, older
    vLLM), else ``reasoning`` (OpenRouter, newer vLLM); never both (some servers send both)."""
    for name in ("reasoning_content", "reasoning"):
        value = part.get(name) if isinstance(part, dict) else getattr(part, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS else None


def usage_event(usage: Mapping[str, Any]) -> Usage | None:
    """A Usage from a usage object: reasoning and cached tokens from their details, where given
    (``prompt_cache_hit_tokens`` is DeepSeek's name for cached tokens). None when the prompt or
    completion count is there but is not a count (a server's nonsense): chinwag then counts."""
    if any(usage.get(name) is not None and _count(usage.get(name)) is None
           for name in ("prompt_tokens", "completion_tokens")):
        return None
    completion_details = usage.get("completion_tokens_details")
    prompt_details = usage.get("prompt_tokens_details")
    reasoning = _count(completion_details.get("reasoning_tokens")) if isinstance(completion_details, dict) else None
    cached = _count(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else None
    if cached is None:
        cached = _count(usage.get("prompt_cache_hit_tokens"))
    return Usage(_count(usage.get("prompt_tokens")) or 0, _count(usage.get("completion_tokens")) or 0,
                 _count(usage.get("total_tokens")) or 0, reasoning, cached)


def display_url(url: str) -> str:
    """A URL to show: no user:password part, no control characters."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # not a URL we can take apart: drop anything before an @
        url = url.rsplit("@", 1)[-1]
    return clean(url, one_line=True).rstrip("/")


def _kept(kept: bool) -> str:
    return " The partial text is kept." if kept else " No reply text arrived."


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
    import email.utils  # (an HTTP date is rare: its parser loads only then, not at every start)

    parsed = email.utils.parsedate_tz(headers.get("retry-after") or "")
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())
