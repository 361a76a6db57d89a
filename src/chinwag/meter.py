"""What the token meter shows: the figures, added up (the counting is the session's).

Apart from the session so that the chat can draw its first frame, and the app keep its run's
totals, before the session's parts (tokenizer, client, store) are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass


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
