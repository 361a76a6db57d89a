"""What the replies cost: the ``usage`` of every reply, read defensively, priced, added up.

Every branch counts (a regenerated reply was paid for too). A reply whose server sent no usage
carries ``"estimated": true`` (chinwag counted it): such figures are marked, never hidden. A model
with no known price is *unknown*, never $0; a provider that runs models locally (ollama) is free.

Documents are reduced to UsageRecords (per conversation: sums per quarter hour, model, provider,
persona) that the index keeps; reports add those up per day, week, month, model, persona or
provider. Nothing here reads files or imports the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from chinwag import pricing
from chinwag.conversation import ASSISTANT, EVENT, Conversation, Message
from chinwag.dates import to_utc, utc_text
from chinwag.reading import MAX_TOKENS

FREE_PROVIDERS = frozenset({"ollama"})  # models run on the user's machine: nothing is billed
UNKNOWN_PERSONA = "(unknown)"  # replies before the first recorded persona switch
GROUPINGS = ("day", "week", "month", "model", "persona", "provider")
BUCKET_MINUTES = 15  # every time zone's offset is a multiple of this: buckets fall in one local day


# -- one reply --------------------------------------------------------------------------


def _count(value: Any) -> int:
    """A token count, or 0 for anything that is not one (text, a negative, more than any reply
    can count: such a value is a damaged field, and summed it would swamp every report)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_TOKENS:
        return 0  # (NaN fails the comparison too)
    return int(value)


def _detail(usage: dict, nested: str, name: str) -> int:
    details = usage.get(nested)
    if isinstance(details, dict) and name in details:
        return _count(details.get(name))
    return _count(usage.get(name))


@dataclass(frozen=True)
class ReplyUsage:
    prompt: int
    completion: int  # includes the reasoning tokens, as the API bills them
    reasoning: int
    cached: int  # part of prompt, read from the provider's cache
    estimated: bool


def read_usage(usage: Any) -> ReplyUsage | None:
    """The numbers of a reply's ``usage`` (OpenAI's nested ``*_details`` or flattened fields),
    or None when it holds none. Anything not a count reads as 0."""
    if not isinstance(usage, dict):
        return None
    if not any(name in usage for name in ("prompt_tokens", "completion_tokens")):
        return None
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    return ReplyUsage(  # a part is never counted larger than its whole
        prompt=prompt,
        completion=completion,
        reasoning=min(completion, _detail(usage, "completion_tokens_details", "reasoning_tokens")),
        cached=min(prompt, _detail(usage, "prompt_tokens_details", "cached_tokens")),
        estimated=bool(usage.get("estimated")),
    )


def sum_usage(uses: Iterable[ReplyUsage]) -> ReplyUsage:
    """Several replies' usage added up (estimated if any was)."""
    uses = list(uses)
    return ReplyUsage(
        prompt=sum(u.prompt for u in uses),
        completion=sum(u.completion for u in uses),
        reasoning=sum(u.reasoning for u in uses),
        cached=sum(u.cached for u in uses),
        estimated=any(u.estimated for u in uses),
    )


PROVIDER = "provider"  # a reply's own field: the provider it came from (compared replies have one)


def provider_of(message, default: str) -> str:
    """The provider a reply came from: its own ``provider`` field, else the conversation's."""
    provider = message.extra.get(PROVIDER)
    return provider if isinstance(provider, str) and provider else default


def cost(model: str, provider: str, use: ReplyUsage, prices: dict | None = None) -> float | None:
    """USD for ``use``; 0 when the provider is local, None when the model's price is unknown."""
    return cost_of(model, provider, use.prompt, use.completion, use.cached, prices)


def cost_of(model: str, provider: str, prompt: int, completion: int, cached: int = 0,
            prices: dict | None = None) -> float | None:
    if provider in FREE_PROVIDERS:
        return 0.0
    return pricing.cost(model or "", prompt, completion, prices, cached_tokens=cached)


# -- one conversation, as the index keeps it -------------------------------------------------


@dataclass(frozen=True)
class UsageRecord:
    bucket: str  # UTC start of the quarter hour: "2026-11-24 21:45:00"
    model: str
    provider: str
    persona: str
    estimated: bool
    requests: int
    prompt: int
    completion: int
    reasoning: int
    cached: int


def _bucket(message: Message, fallback: str) -> str:
    when = to_utc(message.created_at) or to_utc(fallback)
    if when is None:
        return "1970-01-01 00:00:00"
    when = when.replace(minute=when.minute - when.minute % BUCKET_MINUTES, second=0, microsecond=0)
    return utc_text(when, " ", "")


def records(conv: Conversation) -> list[UsageRecord]:
    """Every reply's usage in ``conv`` (all branches), summed per bucket, model and persona."""
    switches = [m for m in conv.messages if m.role == EVENT and m.persona is not None]
    persona = UNKNOWN_PERSONA if switches else conv.persona.name
    sums: dict[tuple, list[int]] = {}
    for message in conv.messages:
        if message.role == EVENT and message.persona is not None:
            persona = message.persona.name
            continue
        if message.role != ASSISTANT:
            continue
        use = read_usage(message.usage)
        if use is None:
            continue
        key = (_bucket(message, conv.created_at), message.model or conv.model, provider_of(message, conv.provider),
               persona, use.estimated)
        total = sums.setdefault(key, [0, 0, 0, 0, 0])
        for i, value in enumerate((1, use.prompt, use.completion, use.reasoning, use.cached)):
            total[i] += value
    return [UsageRecord(*key, *values) for key, values in sums.items()]


# -- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRow:
    """Records of many conversations added up per local day (what the index answers)."""

    day: date
    model: str
    provider: str
    persona: str
    estimated: bool
    requests: int
    prompt: int
    completion: int
    reasoning: int
    cached: int


@dataclass
class Figures:
    requests: int = 0
    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    cached: int = 0
    cost: float = 0.0  # of the requests whose price is known
    unpriced: int = 0  # requests whose model has no known price
    estimated: int = 0  # requests whose usage chinwag counted itself

    def add(self, row: UsageRow, prices: dict | None = None) -> None:
        self.requests += row.requests
        self.prompt += row.prompt
        self.completion += row.completion
        self.reasoning += row.reasoning
        self.cached += row.cached
        if row.estimated:
            self.estimated += row.requests
        spent = cost_of(row.model, row.provider, row.prompt, row.completion, row.cached, prices)
        if spent is None:
            self.unpriced += row.requests
        else:
            self.cost += spent

    def merge(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def tokens(self) -> int:
        return self.prompt + self.completion

    @property
    def known_cost(self) -> float | None:
        """The cost of the priced requests; None when no request has a known price."""
        return None if self.requests and self.unpriced == self.requests else self.cost

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "reasoning_tokens": self.reasoning,
            "cached_tokens": self.cached,
            "total_tokens": self.tokens,
            "cost": None if self.known_cost is None else round(self.cost, 10),
            "cost_complete": self.unpriced == 0,
            "unpriced_requests": self.unpriced,
            "estimated": self.estimated > 0,
            "estimated_requests": self.estimated,
        }


def format_cost(figures: Figures) -> str:
    """``$1.23``, ``~$1.23`` (some usage estimated), ``$1.23 + unknown``, or ``unknown``."""
    if figures.known_cost is None:
        return "unknown"
    text = pricing.format_cost(figures.cost)
    if figures.estimated:
        text = "~" + text
    if figures.unpriced:
        text += " + unknown"
    return text


def group_key(row: UsageRow, by: str) -> str:
    if by == "day":
        return row.day.isoformat()
    if by == "week":
        year, week, _ = row.day.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{row.day:%Y-%m}"
    if by in ("model", "persona", "provider"):
        return getattr(row, by) or "(none)"
    raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")


def grouped(rows: Iterable[UsageRow], by: str, prices: dict | None = None) -> dict[str, Figures]:
    """Figures per group; dates in order, names by cost then tokens (largest first)."""
    groups: dict[str, Figures] = {}
    for row in rows:
        groups.setdefault(group_key(row, by), Figures()).add(row, prices)
    if by in ("day", "week", "month"):
        return dict(sorted(groups.items()))
    return dict(sorted(groups.items(), key=lambda item: (-item[1].cost, -item[1].tokens, item[0])))


def total(groups: Iterable[Figures]) -> Figures:
    out = Figures()
    for figures in groups:
        out.merge(figures)
    return out


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def periods(rows: Iterable[UsageRow], today: date, prices: dict | None = None) -> dict[str, Figures]:
    """Totals for today, this week (from Monday), this month and all time."""
    starts = {"today": today, "week": week_start(today), "month": today.replace(day=1)}
    out = {name: Figures() for name in (*starts, "all")}
    for row in rows:
        out["all"].add(row, prices)
        for name, start in starts.items():
            if start <= row.day <= today:
                out[name].add(row, prices)
    return out
