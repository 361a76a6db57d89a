"""One chat in progress: the conversation, its token counts, its store and its client.

The TUI drives a ChatSession and shows what it holds; the session knows nothing of Textual.
Data flow of a turn (DESIGN.md): submit() saves the user's message before any request;
reply() streams into an assistant message and saves it however the stream ends. Everything
follows the conversation's current path (root -> current leaf); branch operations (edit and
resend, regenerate, switch, fork, compare) add siblings and never overwrite anything.
"""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from chinwag import attachments as files
from chinwag import client as api
from chinwag import model_params, pricing, recovery
from chinwag.conversation import (
    ASSISTANT,
    CUT_OFF,
    EVENT,
    FAILED,
    INTERRUPTED,
    REASONING,
    USER,
    Conversation,
    Message,
    now_stamp,
    title_from,
)
from chinwag.merge import Merged
from chinwag.meter import Meter, Totals
from chinwag.personas import PersonaSpec
from chinwag.store import Store, StoreError, save_problem
from chinwag.tokens import REPLY_PRIMING, TokenCounter, Window, select_window
from chinwag.usage import cost as usage_cost
from chinwag.usage import cost_of, provider_of, read_usage, sum_usage

KEY_VARS = ("OPENAI_API_KEY", "TOGETHER_API_KEY")
FORK_SUFFIX = " (fork)"


class TooLong(Exception):
    """A message that cannot go out at all: with the system prompt it needs more tokens than the
    token budget or the model's context window. Raised before it is added: nothing changed."""

    def __init__(self, needed: int, system: int, files: int, budget: int, window: int | None, model: str) -> None:
        self.needed = needed  # system prompt + the message + reply priming
        self.system = system  # of needed: the system prompt and reply priming
        self.files = files  # of needed: the attached files
        self.budget = budget
        self.window = window  # the model's context window, when known
        self.over_budget = needed > budget
        self.over_window = window is not None and needed > window
        limits = []
        if self.over_budget:
            limits.append(f"the {budget:,}-token budget")
        if self.over_window:
            limits.append(f"{model}'s {window:,}-token context window")
        if self.over_budget and system > budget:
            reason = f"The system prompt alone needs {system:,} tokens, over the {budget:,}-token budget."
        else:
            own = f"{needed - system:,} tokens"
            if files:
                own += f" ({files:,} of them for the attached files)"
            reason = (f"This message needs {own}; with the system prompt that is {needed:,}, "
                      f"over {' and '.join(limits)}.")
        super().__init__(reason)


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
    # Called with what a save or refresh merged in from another process (the TUI shows it).
    on_merge: Callable[[Merged], None] | None = None

    def __post_init__(self) -> None:
        self.counter = self._counter(self.conversation.model)
        self.totals = self._totals_from_document()
        self._branch: _NewBranch | None = None  # a regenerate under way: undone if its reply fails
        # Why the last message the user sent could not be saved (so it was not sent, and its text
        # stayed in the composer); None once one is saved. close() keeps that draft.
        self._unsaved_send: str | None = None

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

    def family(self, model: str | None = None) -> model_params.Family:
        """How to ask ``model`` (default: the conversation's): the families table, config
        overrides, what servers told us."""
        return model_params.family(model or self.model, self.model_overrides, model_params.load_learned())

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

    def check_fits(self, draft: Message) -> None:
        """Raise TooLong when ``draft`` (a new user message) could never be sent: with the system
        prompt and reply priming it is over the token budget, or over the model's context window
        where that is known. Older messages do not matter: they are left out to make room."""
        counter = self.counter
        system = counter.count_system(self.conversation.persona.system_prompt) + REPLY_PRIMING
        needed = system + counter.count_message(draft)
        attached = counter.count_attachments(draft) if files.of(draft) else 0
        window = pricing.lookup(self.model, self.prices).context_window
        if needed > self.budget or (window and needed > window):
            raise TooLong(needed, system, attached, self.budget, window or None, self.model)

    # -- counting ----------------------------------------------------------------

    def candidates(self) -> list[Message]:
        """Chat messages that may be sent: those on the current path."""
        return [m for m in self.conversation.path if m.is_chat]

    def window(self, draft: str = "", leave_out: Message | None = None, editing: Message | None = None) -> Window:
        """What the next request would send (with ``draft`` and the pending files as the new message);
        ``editing``: the draft is an edit of that message, so what came before it is sent."""
        messages = [m for m in self._before(editing) if m is not leave_out]
        if draft or self.pending:
            messages = [*messages, self._draft(draft, self.pending)]
        return self._select(messages)

    def _before(self, editing: Message | None) -> list[Message]:
        """The chat messages a new message follows: the current path, or what precedes ``editing``."""
        if editing is None:
            return self.candidates()
        path = self.conversation.path_to(editing.parent) if editing.parent is not None else []
        return [m for m in path if m.is_chat]

    def context_of(self, reply: Message) -> Window:
        """What the request for ``reply`` sends: the path up to its parent, as far as it fits."""
        path = self.conversation.path_to(reply.parent) if reply.parent is not None else []
        return self._select([m for m in path if m.is_chat])

    def _select(self, messages: list[Message]) -> Window:
        # What a request carries (a reply without text is not sent), so the meter counts that.
        sent = [m for m in messages if m.is_sent]
        return select_window(self.counter, self.conversation.persona.system_prompt, sent, self.budget)

    def meter(self, draft: str = "", editing: Message | None = None) -> Meter:
        window = self.window(draft, editing=editing)
        info = pricing.lookup(self.model, self.prices)
        last = self._last_reply()
        usage = (last.usage or {}) if last else {}
        attached = sum(self.attachment_tokens(a) for a in self.pending)
        draft_tokens = (self.counter.count_text(draft) if draft else 0) + attached
        return Meter(
            request_tokens=window.tokens,
            budget=self.budget,
            sent=len(window.sent),
            total=sum(m.is_sent for m in self._before(editing)) + (1 if draft or self.pending else 0),
            draft_tokens=draft_tokens,
            attachment_tokens=attached,
            last_reasoning=_part(usage, "reasoning_tokens", "reasoning"),
            last_cached=_part(usage, "cached_tokens", "cached"),
            context_window=info.context_window,
            exact=self.counter.exact,
            fits=window.fits,
            last_prompt=usage.get("prompt_tokens") if last else None,
            last_completion=usage.get("completion_tokens") if last else None,
            last_estimated=bool(usage.get("estimated")),
            conversation=self.totals,
            session=self.session_totals,
            cost_of_next=cost_of(self.model, self.conversation.provider, window.tokens, 0, 0, self.prices),
        )

    def _last_reply(self) -> Message | None:
        for message in reversed(self.conversation.path):
            if message.role == ASSISTANT and message.usage:
                return message
        return None

    def _totals_from_document(self) -> Totals:
        """What every reply in the document cost, on every branch: that was all paid for.
        Costs are linear in tokens, so replies are summed per model (and provider: a compared
        reply may name its own) and priced once each."""
        by_model: dict[tuple[str, str], list] = {}
        for message in self.conversation.messages:
            if message.role == ASSISTANT and message.usage:
                use = read_usage(message.usage)
                if use is not None:
                    key = (message.model or self.model, provider_of(message, self.conversation.provider))
                    by_model.setdefault(key, []).append(use)
        totals = Totals()
        for (model, provider), uses in by_model.items():
            summed = sum_usage(uses)
            cost = usage_cost(model, provider, summed, self.prices)
            totals.add(summed.prompt, summed.completion, cost, summed.estimated)
        return totals

    def _add_usage(self, totals: Totals, message: Message) -> None:
        # The same reading and pricing as `chinwag usage` and F5, so the figures agree.
        use = read_usage(message.usage)
        if use is None:
            return
        provider = provider_of(message, self.conversation.provider)  # a compared reply may name its own
        cost = usage_cost(message.model or self.model, provider, use, self.prices)
        totals.add(use.prompt, use.completion, cost, use.estimated)

    # -- saving ------------------------------------------------------------------

    def save(self) -> Merged:
        """Save (merging what another process saved); raises StoreError when it cannot."""
        if self.conversation.read_only:
            return Merged()
        self._drop_unused_copies()
        return self._merged(self.store.save(self.conversation))

    def refresh(self) -> Merged:
        """Take in what another process saved to this conversation, without writing."""
        return self._merged(self.store.refresh(self.conversation))

    def _merged(self, merged: Merged) -> Merged:
        if merged:
            for message in merged.messages:
                if message.role == ASSISTANT and message.usage:
                    self._add_usage(self.totals, message)
            if "model" in merged.fields:
                self.counter = self._counter(self.conversation.model)
            if self.on_merge is not None:
                self.on_merge(merged)
        return merged

    # -- a turn ------------------------------------------------------------------

    def submit(self, text: str) -> Message:
        """Add the user's message (with the pending attachments) under the current leaf and save
        it before anything goes out.

        What another process saved is taken in first, so the message follows what it added
        (``on_merge`` tells the TUI). When the save fails the message is taken back out,
        StoreError is raised and the attachments stay pending: the caller keeps the draft.
        A message that could never be sent (check_fits) raises TooLong before it is added."""
        self.refresh()
        draft = self._draft(text, self.pending)
        self.check_fits(draft)
        message = self._add_and_save(draft)
        self.pending = []
        return message

    def edit(self, message: Message, text: str) -> Message:
        """Edit and resend: a new user message (with the pending attachments) beside ``message``
        (same parent), saved and made current; ``message`` and everything after it stay as
        another branch. Then start_reply(). Raises StoreError and TooLong like submit()."""
        if message.role != USER:
            raise ValueError("Only your own messages can be edited and resent.")
        self.refresh()
        draft = self._draft(text, self.pending)
        self.check_fits(draft)
        self._drop_unused_copies()
        conversation = self.conversation
        before = (conversation.current, dict(conversation.edited))
        path = conversation.path
        # Persona switches made on the old branch from there on apply to the new one: carried over.
        copies = self._carry(path[path.index(message):] if message in path else [], message.parent)
        try:
            edited = self._add_and_save(draft, parent=copies[-1].id if copies else message.parent)
        except (OSError, StoreError):
            self._take_back(copies)
            conversation.current = before[0]
            conversation.edited.clear()
            conversation.edited.update(before[1])
            raise
        self.pending = []
        return edited

    def _carry(self, tail: list[Message], parent: str | None) -> list[Message]:
        """Copies of the events in ``tail`` (what a new branch replaces of the path: a persona
        switch made after the replaced reply), one under the other from ``parent``, so the new
        branch's transcript, exports and resumes show the switch its reply was made under. The
        old branch keeps the originals. Returns the copies (the last one is current)."""
        copies = []
        for event in tail:
            if event.role == EVENT:
                twin = Message(EVENT, event.content, created_at=event.created_at,
                               persona=copy.deepcopy(event.persona), extra=copy.deepcopy(event.extra))
                copies.append(self.conversation.add(twin, parent))
                parent = twin.id
        return copies

    def _take_back(self, copies: list[Message]) -> None:
        """Remove copies that nothing followed after all (never saved)."""
        conversation = self.conversation
        for twin in reversed(copies):
            if twin in conversation.messages and not conversation.children(twin.id):
                conversation.remove(twin)
                conversation.removed.discard(twin.id)

    def _drop_unused_copies(self) -> None:
        """Copies carried for a regenerate whose reply never started (it was refused, or the user
        went elsewhere) are taken back before anything is saved."""
        branch = self._branch
        if branch is None or not branch.copies:
            return
        last = branch.copies[-1]
        if self.conversation.current != last.id and not self.conversation.children(last.id):
            self._take_back(branch.copies)
            self._branch = None

    def _add_and_save(self, message: Message, **where) -> Message:
        conversation = self.conversation
        before = (conversation.title, conversation.current, dict(conversation.edited))
        conversation.add(message, **where)
        self.counter.count_message(message)
        try:
            self.save()
        except (OSError, StoreError) as error:
            # Not saved, so not sent: take it back out; the caller keeps the draft.
            conversation.remove(message)
            conversation.removed.discard(message.id)
            conversation.title, conversation.current = before[0], before[1]
            conversation.edited.clear()
            conversation.edited.update(before[2])
            self._unsaved_send = save_problem(error)
            raise
        self._unsaved_send = None
        return message

    def start_reply(self, model: str | None = None, parent: Message | None = None) -> Message:
        """An empty reply from ``model`` (default: the conversation's) under ``parent`` (default:
        the current leaf), made current; stream into it with reply()."""
        message = Message(ASSISTANT, "", model=model or self.model)
        if parent is None:
            return self.conversation.add(message)
        return self.conversation.add(message, parent.id)

    def start_replies(self, models: Sequence[str], parent: Message | None = None) -> list[Message]:
        """Compare: one empty reply per model, siblings under ``parent`` (default: the current
        leaf, normally the user's message). Stream each with reply(), concurrently if you like;
        every one is kept. The last is current until select() picks one."""
        parent = parent or self.conversation.leaf
        return [self.start_reply(model, parent) for model in models]

    def can_regenerate(self) -> bool:
        return any(m.role == USER for m in self.candidates())

    def prepare_regenerate(self, message: Message | None = None) -> Message | None:
        """Make way for a new reply beside ``message`` (default: the last reply on the path),
        or, for a user message, a new reply to it. The old reply stays, as a sibling. Returns
        the reply set aside (None when there was none); then start_reply() and reply()."""
        conversation = self.conversation
        if message is None:
            candidates = self.candidates()
            message = candidates[-1] if candidates else None
            if message is None or message.role != ASSISTANT:
                return None
        self._drop_unused_copies()
        leaf = conversation.leaf
        if message.role == ASSISTANT:
            parent = conversation.get(message.parent)
            under, replaced = (parent.id if parent is not None else None), message
        else:
            under, replaced = message.id, None
        # Persona switches made after it on the path apply to the new reply: carried over.
        path = conversation.path
        copies = self._carry(path[path.index(message) + 1:] if message in path else [], under)
        conversation.current = copies[-1].id if copies else under
        self._branch = _NewBranch(leaf.id if leaf is not None else None, under, copies)
        return replaced

    async def reply(self, message: Message, client: api.ChatClient | None = None) -> AsyncIterator[api.Event]:
        """Stream a reply into ``message`` (an assistant message already added), yielding events.

        The request holds the path up to ``message``'s parent (not the current path: several
        replies may stream at once), sent to ``message.model`` through ``client`` (default: the
        session's). However the stream ends (finished, failed, cancelled) the message is saved;
        a reply that produced no text and failed is taken back out, so the user's message is
        what remains (and a reply set aside by regenerate is shown again).
        """
        window = self.context_of(message)
        model = message.model or self.model
        family = self.family(model)
        request = api.to_api_messages(
            self.conversation.persona.system_prompt, window.sent, family.system_role,
            content=lambda m: files.api_content(m, self.attachment_store, family.vision),
        )
        settings = self.conversation.settings
        options = family.options(settings.temperature, settings.max_tokens, settings.reasoning_effort)
        finished = False
        try:
            async for event in (client or self.client).stream(model, request, family=family, **options):
                if isinstance(event, api.Delta):
                    message.content += event.text
                elif isinstance(event, api.Reasoning):
                    message.extra[REASONING] = message.extra.get(REASONING, "") + event.text
                elif isinstance(event, api.Adjusted):
                    self._remember(model, event)
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

    def _remember(self, model: str, event: api.Adjusted) -> None:
        if not event.learned:
            return
        try:
            model_params.remember(model, event.learned)
        except OSError:
            pass  # a cache we cannot write: the next request asks again and adjusts again

    def _settle(self, message: Message, window: Window) -> None:
        conversation = self.conversation
        branch, self._branch = self._branch, None
        if not message.content and not message.extra.get(REASONING) and message.finish_reason != "stop":
            if message in conversation.messages:
                conversation.remove(message)
            if branch is not None and message.parent == branch.reply_parent:
                # The regenerate failed: its carried copies go, the branch shown before is back.
                self._take_back(branch.copies)
                if conversation.current == branch.under and conversation.get(branch.leaf) is not None:
                    conversation.current = branch.leaf
            self.save()
            return
        if message.usage is None:
            counter = self.counter if message.model in (None, self.model) else self._counter(message.model)
            completion = counter.count_text(message.content + message.extra.get(REASONING, ""))
            message.usage = {"prompt_tokens": window.tokens, "completion_tokens": completion, "estimated": True}
        self.counter.count_message(message)
        self._add_usage(self.totals, message)
        self._add_usage(self.session_totals, message)
        if conversation.current == message.id:  # finishing re-asserts the branch this window shows
            conversation.edited["current"] = now_stamp()
        conversation.touch()
        self.save()

    # -- branches ------------------------------------------------------------------

    def select(self, message: Message) -> Message:
        """Show the branch through ``message`` (down to its newest leaf) and save that choice;
        the next request sends this path. Returns the new leaf."""
        leaf = self.conversation.select(message.id)
        self.save()
        return leaf

    def switch(self, message: Message, step: int) -> Message | None:
        """Move from ``message`` to the sibling ``step`` places on (-1 previous, +1 next) and
        show its branch; returns that sibling, or None at either end."""
        siblings = self.conversation.siblings(message.id)
        index = next(i for i, m in enumerate(siblings) if m.id == message.id) + step
        if step == 0 or not 0 <= index < len(siblings):
            return None
        self.select(siblings[index])
        return siblings[index]

    def fork(self, message: Message) -> Conversation:
        """A new conversation holding the path up to ``message`` (same ids, persona, model and
        settings), saved; this one is unchanged. Open it with a new ChatSession."""
        source = self.conversation
        fork = Conversation(
            title=(source.title or title_from(message.content)) + FORK_SUFFIX,
            provider=source.provider,
            model=source.model,
            persona=copy.deepcopy(source.persona),
            settings=source.settings,
            messages=[m.copy() for m in source.path_to(message.id)],
            extra={"forked_from": {"conversation": source.id, "message": message.id}},
        )
        fork.current = message.id
        self.store.save(fork)
        return fork

    def close(self, draft: str = "") -> str | None:
        """Save on the way out. When that fails, or when ``draft`` is what the user tried to send
        and could not be saved (a new conversation has nothing else to save, so the save here
        does nothing), keep the draft (and the conversation, when it holds messages) in the
        recovery file, offered back on the next start, and return the problem in words; if even
        the recovery file cannot be written, the problem says that too."""
        try:
            self.save()
        except (OSError, StoreError) as error:
            problem: str | None = save_problem(error)
        else:
            problem = self._unsaved_send if draft.strip() else None
        if problem is None:
            return None
        unsaved = self.conversation if any(m.is_chat for m in self.conversation.messages) else None
        try:
            where = recovery.save(draft, unsaved)
        except OSError as again:
            return f"{problem}; the draft could not be kept either ({save_problem(again)})"
        kept = "your draft and the conversation are" if unsaved is not None else "your draft is"
        return f"{problem}; {kept} kept in {where}"


@dataclass
class _NewBranch:
    """A regenerate under way: what to put back if its reply fails."""

    leaf: str | None  # the leaf shown before
    under: str | None  # where the new branch starts (the replaced reply's parent)
    copies: list[Message]  # persona switches carried onto it (see ChatSession._carry)

    @property
    def reply_parent(self) -> str | None:
        return self.copies[-1].id if self.copies else self.under


def usage_record(event: api.Usage) -> dict:
    """The usage as the document keeps it: reasoning and cached tokens only where reported."""
    usage = {"prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens}
    if event.reasoning_tokens is not None:
        usage["reasoning_tokens"] = event.reasoning_tokens
    if event.cached_tokens is not None:
        usage["cached_tokens"] = event.cached_tokens
    return usage


def _part(usage: dict, field: str, name: str) -> int | None:
    """A reply's reasoning or cached tokens as reports count them (never more than the
    completion or prompt they are part of); None when the reply has no such field."""
    use = read_usage(usage)
    return getattr(use, name) if use is not None and usage.get(field) is not None else None
