"""What a chat needs from the program around it: settings, provider, client, store, personas.

The app builds one ChatContext from the config and the flags, and a new one whenever the
settings change; the chat screen makes its sessions from it and applies a new one to the
session in progress. No Textual here: this is the seam the TUI's chat and its tests share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from chinwag.config import Settings
from chinwag.conversation import Conversation, start_conversation
from chinwag.meter import Totals
from chinwag.personas import PersonaSpec
from chinwag.providers import Resolved, resolve
from chinwag.store import Store

# The session and the client (and the tokenizer, pricing and saving behind them) load when the
# chat first needs them, once its first frame is drawn: a context is made before it.
if TYPE_CHECKING:
    from chinwag.client import ChatClient
    from chinwag.session import ChatSession


CONNECTION = ("provider", "model", "base_url")  # the settings that flags can also give


def make_client(resolved: Resolved, settings: Settings) -> ChatClient:
    from chinwag.client import ChatClient

    # No silent SDK retries: the chat retries with a visible countdown (settings.retries).
    return ChatClient(resolved.base_url, resolved.api_key, timeout=settings.timeout, max_retries=0)


@dataclass
class ChatContext:
    settings: Settings
    store: Store
    personas: dict[str, PersonaSpec]
    overrides: dict = field(default_factory=dict)  # --provider/--model/--base-url/--persona
    model_overrides: dict = field(default_factory=dict)  # [models."name"] from config.toml
    totals: Totals = field(default_factory=Totals)  # this run's spend, across conversations

    def __post_init__(self) -> None:
        self.overrides = {k: v for k, v in self.overrides.items() if v}
        self.flags = dict(self.overrides)  # as given on the command line (overrides may grow)
        self.resolved = resolve(self.settings, overrides=self.overrides)
        self._client: ChatClient | None = None
        self._others: dict[str, ChatClient] = {}  # clients of other providers (compare), made once

    @property
    def client(self) -> ChatClient:
        """The client of the provider in use (made when first asked for)."""
        if self._client is None:
            self._client = make_client(self.resolved, self.settings)
        return self._client

    # -- other providers (compare models) -------------------------------------------------

    def resolved_for(self, provider: str) -> Resolved:
        """How to reach ``provider``: the one in use as it is, another one as config.toml and
        the environment set it up (``missing`` says what it lacks)."""
        if provider == self.resolved.name:
            return self.resolved
        return resolve(self.settings, overrides={"provider": provider})

    def client_for(self, provider: str) -> ChatClient:
        """A client for ``provider`` (the context's own for the provider in use)."""
        if provider == self.resolved.name:
            return self.client
        client = self._others.get(provider)
        if client is None:
            client = self._others[provider] = make_client(self.resolved_for(provider), self.settings)
        return client

    async def aclose_client(self) -> None:
        """Close the client of the provider in use, if one was made."""
        if self._client is not None:
            await self._client.aclose()

    async def aclose_others(self) -> None:
        others, self._others = list(self._others.values()), {}
        for client in others:
            await client.aclose()

    @property
    def problem(self) -> str | None:
        """What must be set before a request can go out (a key, a base URL), or None."""
        return self.resolved.missing

    def persona(self, name: str | None = None) -> PersonaSpec:
        name = name or self.overrides.get("persona") or self.settings.persona
        return self.personas.get(name) or self.personas["assistant"]

    def new_conversation(self) -> Conversation:
        """A new, empty conversation with the provider, model and persona in force."""
        return start_conversation(self.settings, self.resolved, self.persona())

    def new_session(self, conversation: Conversation | None = None) -> ChatSession:
        from chinwag.session import ChatSession

        if conversation is not None and conversation.model and not self.resolved.model:
            # e.g. --resume with --base-url and no --model: the document names its model.
            self.overrides["model"] = conversation.model
            self.resolved = resolve(self.settings, overrides=self.overrides)
        opened = conversation is not None
        if conversation is None:
            conversation = self.new_conversation()
        session = ChatSession(
            conversation,
            self.store,
            self.client,
            prices=self.settings.prices,
            session_totals=self.totals,
            default_budget=self.settings.token_budget,
            model_overrides=self.model_overrides,
        )
        flag = self.flags.get("model")
        if opened and flag and flag != conversation.model and not conversation.read_only:
            session.set_model(flag)  # --model given with --resume: the flag wins for this run
        return session

    def with_settings(self, settings: Settings, changed: Iterable[str] | None = None) -> "ChatContext":
        """A context for new settings. The ``changed`` ones (all, when not said) are in force
        for this run, over the start-up flags and whichever provider config.toml alone picks
        (a model chosen in F4 for the provider a flag gave is that provider's); a flag for a
        setting left alone stays in force."""
        changed = set(changed) if changed is not None else set(CONNECTION)
        overrides = {k: v for k, v in self.overrides.items() if k not in changed}
        overrides.update({k: getattr(settings, k) for k in CONNECTION if k in changed})
        return dataclasses.replace(self, settings=settings, overrides=overrides)

    def apply_to(self, session: ChatSession) -> None:
        """Make ``session`` use this context: its client, provider, model and settings."""
        session.client = self.client
        session.prices = self.settings.prices
        session.default_budget = self.settings.token_budget
        conversation = session.conversation
        conversation.provider = self.resolved.name
        if self.resolved.model:
            session.set_model(self.resolved.model)
        conversation.settings = self.settings.model_settings.over(conversation.settings)

    def describe(self, session: ChatSession) -> str:
        return f"{self.resolved.name} · {session.model}"
