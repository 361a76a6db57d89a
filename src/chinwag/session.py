"""One chat in progress: the conversation, its token counts, its store and its client.

The TUI drives a ChatSession and shows what it holds; the session knows nothing of Textual.
Data flow of a turn (DESIGN.md): submit() saves the user's message before any request;
reply() streams into an assistant message and saves it however the stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import os

from chinwag import attachments as files
from chinwag import client as api
from chinwag import model_params, pricing
from chinwag.conversation import (
    ASSISTANT,
    CUT_OFF,
    FAILED,
    INTERRUPTED,
    SUPERSEDED,
    REASONING,
    USER,
    Conversation,
    Message,
)
from chinwag.personas import PersonaSpec
from chinwag.store import Store, StoreError
from chinwag.tokens import TokenCounter, Window, select_window

KEY_VARS = ("OPENAI_API_KEY", "TOGETHER_API_KEY")


def save_problem(error: Exception) -> str:
    """A failed save in words: what went wrong and where, never a repr."""
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{where}"
    return str(error)


@dataclass
class Totals:
    """Tokens and cost the API reported, added up."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = 0.0
    estimated: bool = False

    def add(self, prompt: int, completion: int, cost: float | None, estimated: bool) -> None:
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.cost = None if cost is None or self.cost is None else self.cost + cost
        self.estimated = self.estimated or estimated


@dataclass
class Meter:
    """Everything the token-meter sidebar shows."""

    request_tokens: int
    budget: int
    sent: int
    total: int
    draft_tokens: int
    context_window: int | None
    exact: bool
    fits: bool
    last_prompt: int | None
    last_completion: int | None
    last_estimated: bool
    conversation: Totals
    session: Totals
    cost_of_next: float | None = None
    last_reasoning: int | None = None  # of last_completion
    last_cached: int | None = None  # of last_prompt
    attachment_tokens: int = 0  # of draft_tokens: the files waiting to be sent


@dataclass
class ChatSession:
    conversation: Conversation
    store: Store
    client: api.ChatClient
    prices: dict = field(default_factory=dict)
    session_totals: Totals = field(default_factory=Totals)
    default_budget: int = 8000
    model_overrides: dict = field(default_factory=dict)  # [models."name"] from config.toml
    attachment_store: files.AttachmentStore = field(default_factory=files.AttachmentStore)
    pending: list[files.Attachment] = field(default_factory=list)  # attached, not sent yet

    def __post_init__(self) -> None:
        self.counter = self._counter(self.conversation.model)
        self.totals = self._totals_from_document()

    def _counter(self, model: str) -> TokenCounter:
        counter = TokenCounter(model)
        counter.attachment_store = self.attachment_store
        return counter

    # -- settings of this conversation ---------------------------------------------

    @property
    def budget(self) -> int:
        return self.conversation.settings.token_budget or self.default_budget

    @property
    def model(self) -> str:
        return self.conversation.model

    def set_model(self, model: str) -> None:
        if model and model != self.conversation.model:
            self.conversation.model = model
            self.counter = self._counter(model)

    def apply_persona(self, spec: PersonaSpec) -> Message | None:
        """Switch persona for the next reply; its model settings apply too. Returns the event."""
        event = self.conversation.switch_persona(spec.to_persona())
        self.conversation.settings = spec.settings.over(self.conversation.settings)
        if spec.model:
            self.set_model(spec.model)
        return event

    def family(self) -> model_params.Family:
        """How to ask the model: the families table, config overrides, what servers told us."""
        return model_params.family(self.model, self.model_overrides, model_params.load_learned())

    # -- attachments ---------------------------------------------------------------

    def attach(self, path: str) -> files.Attachment:
        """Read a file for the next message and store it (once, by sha256). Raises AttachError."""
        secrets = [os.environ.get(var, "") for var in KEY_VARS] + [self.client.api_key]
        attachment, data = files.read_file(path, vision=self.family().vision, secrets=secrets)
        try:
            self.attachment_store.put(attachment, data)
        except OSError as error:
            raise files.AttachError(f"Could not store {attachment.label}: {save_problem(error)}") from None
        self.pending.append(attachment)
        return attachment

    def detach(self, index: int = -1) -> files.Attachment | None:
        return self.pending.pop(index) if self.pending else None

    def attachment_tokens(self, attachment: files.Attachment) -> int:
        """Tokens one attachment adds to its message."""
        return self.counter.count_attachments(self._draft("", [attachment]))

    def _draft(self, text: str, attached: list[files.Attachment]) -> Message:
        extra = {files.FIELD: [a.to_dict() for a in attached]} if attached else {}
        return Message(USER, text, extra=extra)

    # -- counting ----------------------------------------------------------------

    def candidates(self) -> list[Message]:
        """Chat messages that may be sent: superseded replies stay saved but are never sent."""
        return [m for m in self.conversation.messages if m.is_chat and not m.superseded]

    def window(self, draft: str = "", leave_out: Message | None = None) -> Window:
        messages = [m for m in self.candidates() if m is not leave_out]
        if draft or self.pending:
            messages = [*messages, self._draft(draft, self.pending)]
        return select_window(self.counter, self.conversation.persona.system_prompt, messages, self.budget)

    def meter(self, draft: str = "") -> Meter:
        window = self.window(draft)
        info = pricing.lookup(self.model, self.prices)
        last = self._last_reply()
        usage = (last.usage or {}) if last else {}
        attached = sum(self.attachment_tokens(a) for a in self.pending)
        draft_tokens = (self.counter.count_text(draft) if draft else 0) + attached
        return Meter(
            request_tokens=window.tokens,
            budget=self.budget,
            sent=len(window.sent),
            total=len(self.candidates()) + (1 if draft or self.pending else 0),
            draft_tokens=draft_tokens,
            attachment_tokens=attached,
            last_reasoning=usage.get("reasoning_tokens") if last else None,
            last_cached=usage.get("cached_tokens") if last else None,
            context_window=info.context_window,
            exact=self.counter.exact,
            fits=window.fits,
            last_prompt=usage.get("prompt_tokens") if last else None,
            last_completion=usage.get("completion_tokens") if last else None,
            last_estimated=bool(usage.get("estimated")),
            conversation=self.totals,
            session=self.session_totals,
            cost_of_next=pricing.cost(self.model, window.tokens, 0, self.prices),
        )

    def _last_reply(self) -> Message | None:
        for message in reversed(self.conversation.messages):
            if message.role == ASSISTANT and message.usage:
                return message
        return None

    def _totals_from_document(self) -> Totals:
        totals = Totals()
        for message in self.conversation.messages:
            if message.role == ASSISTANT and message.usage:
                self._add_usage(totals, message)
        return totals

    def _add_usage(self, totals: Totals, message: Message) -> None:
        usage = message.usage or {}
        prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        cached = usage.get("cached_tokens")
        cached = cached if isinstance(cached, int) and not isinstance(cached, bool) else 0
        cost = pricing.cost(message.model or self.model, prompt, completion, self.prices, cached_tokens=cached)
        totals.add(prompt, completion, cost, bool(usage.get("estimated")))

    # -- a turn ------------------------------------------------------------------

    def save(self) -> None:
        if not self.conversation.read_only:
            self.store.save(self.conversation)

    def submit(self, text: str) -> Message:
        """Add the user's message (with the pending attachments) and save it before anything goes
        out. The attachments stay pending if the save fails."""
        title = self.conversation.title
        message = self.conversation.add(self._draft(text, self.pending))
        self.counter.count_message(message)
        try:
            self.save()
        except (OSError, StoreError):
            # Not saved, so not sent: take it back out; the caller keeps the draft.
            self.conversation.messages.remove(message)
            self.conversation.title = title
            raise
        self.pending = []
        return message

    def can_regenerate(self) -> bool:
        return any(m.role == USER for m in self.candidates())

    def prepare_regenerate(self) -> Message | None:
        """Set the last reply aside (kept, marked superseded) so a new one can be asked for."""
        candidates = self.candidates()
        if candidates and candidates[-1].role == ASSISTANT:
            old = candidates[-1]
            old.extra[SUPERSEDED] = True
            self.conversation.touch()
            return old
        return None

    async def reply(self, message: Message) -> AsyncIterator[api.Event]:
        """Stream a reply into ``message`` (an assistant message already added), yielding events.

        However the stream ends (finished, failed, cancelled) the message is saved; a reply that
        produced no text and failed is removed again, so the user's message is what remains.
        """
        window = self.window(leave_out=message)
        family = self.family()
        request = api.to_api_messages(
            self.conversation.persona.system_prompt, window.sent, family.system_role,
            content=lambda m: files.api_content(m, self.attachment_store, family.vision),
        )
        settings = self.conversation.settings
        options = family.options(settings.temperature, settings.max_tokens, settings.reasoning_effort)
        finished = False
        try:
            async for event in self.client.stream(self.model, request, family=family, **options):
                if isinstance(event, api.Delta):
                    message.content += event.text
                elif isinstance(event, api.Reasoning):
                    message.extra[REASONING] = message.extra.get(REASONING, "") + event.text
                elif isinstance(event, api.Adjusted):
                    self._remember(event)
                elif isinstance(event, api.Usage):
                    message.usage = usage_record(event)
                elif isinstance(event, api.Finished):
                    message.finish_reason = event.finish_reason
                    finished = True
                elif isinstance(event, api.Failed):
                    message.finish_reason = CUT_OFF if event.kind == api.CUT_OFF else FAILED
                yield event
        finally:
            if not finished and message.finish_reason is None:
                message.finish_reason = INTERRUPTED
            self._settle(message, window)

    def _remember(self, event: api.Adjusted) -> None:
        if not event.learned:
            return
        try:
            model_params.remember(self.model, event.learned)
        except OSError:
            pass  # a cache we cannot write: the next request asks again and adjusts again

    def _settle(self, message: Message, window: Window) -> None:
        if not message.content and not message.extra.get(REASONING) and message.finish_reason != "stop":
            self.conversation.messages.remove(message)
            self.conversation.touch()
            self.save()
            return
        if message.usage is None:
            completion = self.counter.count_text(message.content + message.extra.get(REASONING, ""))
            message.usage = {"prompt_tokens": window.tokens, "completion_tokens": completion, "estimated": True}
        self.counter.count_message(message)
        self._add_usage(self.totals, message)
        self._add_usage(self.session_totals, message)
        self.conversation.touch()
        self.save()


def usage_record(event: api.Usage) -> dict:
    """The usage as the document keeps it: reasoning and cached tokens only where reported."""
    usage = {"prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens}
    if event.reasoning_tokens is not None:
        usage["reasoning_tokens"] = event.reasoning_tokens
    if event.cached_tokens is not None:
        usage["cached_tokens"] = event.cached_tokens
    return usage


def start_conversation(settings, resolved, persona: PersonaSpec) -> Conversation:
    """A new, empty conversation with the provider, model and persona in force."""
    return Conversation(
        provider=resolved.name,
        model=persona.model or resolved.model or "gpt-4o-mini",
        persona=persona.to_persona(),
        settings=persona.settings.over(settings.model_settings),
    )
