"""Model prices (USD per 1M tokens) and context windows, with config overrides.

A dated id (``gpt-4o-2024-08-06``) matches its base model; the longest match wins. Only
date/version suffixes match (``-2024-08-06``, ``-0613``, ``-preview``, ``-latest``), so a
different model such as ``o3-pro`` is unknown rather than priced as ``o3``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ModelInfo:
    input_per_m: float | None
    output_per_m: float | None
    context_window: int | None
    cached_input_per_m: float | None = None  # prompt tokens served from the provider's cache


CHECKED = "2026-11-25"  # the date the table below was last checked against published prices

# model id: (input $/1M, cached input $/1M or None, output $/1M, context window or None)
# OpenAI: the model pages and pricing page on developers.openai.com as quoted by current
# price trackers (checked on CHECKED); cached input is 10% of input for the gpt-5 family,
# 25% for gpt-4.1, o3 and o4-mini, 50% for gpt-4o, o1 and o3-mini.
# Together: the serverless model catalog (docs.together.ai), as listed on CHECKED.
PRICES: dict[str, tuple[float, float | None, float, int | None]] = {
    # OpenAI
    "gpt-5.5": (5.00, 0.50, 30.00, None),
    "gpt-5.4": (2.50, 0.25, 15.00, None),
    "gpt-5.4-mini": (0.75, 0.075, 4.50, None),
    "gpt-5.4-nano": (0.20, 0.02, 1.25, None),
    "gpt-5.2": (1.75, 0.175, 14.00, 400_000),
    "gpt-5.1": (1.25, 0.125, 10.00, 400_000),
    "gpt-5": (1.25, 0.125, 10.00, 400_000),
    "gpt-5-mini": (0.25, 0.025, 2.00, 400_000),
    "gpt-5-nano": (0.05, 0.005, 0.40, 400_000),
    "gpt-4.1": (2.00, 0.50, 8.00, 1_047_576),
    "gpt-4.1-mini": (0.40, 0.10, 1.60, 1_047_576),
    "gpt-4.1-nano": (0.10, 0.025, 0.40, 1_047_576),
    "gpt-4o": (2.50, 1.25, 10.00, 128_000),
    "gpt-4o-mini": (0.15, 0.075, 0.60, 128_000),
    "o1": (15.00, 7.50, 60.00, 200_000),
    "o3": (2.00, 0.50, 8.00, 200_000),
    "o3-pro": (20.00, None, 80.00, 200_000),
    "o3-mini": (1.10, 0.55, 4.40, 200_000),
    "o4-mini": (1.10, 0.275, 4.40, 200_000),
    "gpt-4-turbo": (10.00, None, 30.00, 128_000),
    "gpt-4": (30.00, None, 60.00, 8_192),
    "gpt-4-32k": (60.00, None, 120.00, 32_768),
    "gpt-3.5-turbo": (0.50, None, 1.50, 16_385),
    # Together
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": (0.88, None, 0.88, 131_072),
    "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free": (0.0, None, 0.0, 131_072),
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo": (0.18, None, 0.18, 131_072),
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8": (0.27, None, 0.85, 524_288),
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": (0.18, None, 0.59, 327_680),
    "deepseek-ai/DeepSeek-R1": (3.00, None, 7.00, 163_840),
    "deepseek-ai/DeepSeek-V3": (1.25, None, 1.25, 131_072),
    "deepseek-ai/DeepSeek-V3.1": (0.60, None, 1.70, 131_072),
    "openai/gpt-oss-120b": (0.15, None, 0.60, 131_072),
    "openai/gpt-oss-20b": (0.05, None, 0.20, 131_072),
    "moonshotai/Kimi-K2-Instruct": (1.00, None, 3.00, 131_072),
    "Qwen/Qwen3-235B-A22B-Instruct-2507-tput": (0.20, None, 0.60, 262_144),
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8": (2.00, None, 2.00, 262_144),
    "Qwen/Qwen2.5-72B-Instruct-Turbo": (1.20, None, 1.20, 32_768),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (0.60, None, 0.60, 32_768),
}

_VERSION_WORDS = {"preview", "latest"}
UNKNOWN = ModelInfo(None, None, None)


def _is_version_suffix(rest: str) -> bool:
    if not rest:
        return True
    if not rest.startswith("-"):
        return False
    return all(part.isdigit() or part in _VERSION_WORDS for part in rest[1:].split("-"))


def _match(model: str, names: Iterable[str]) -> str | None:
    """The longest name in ``names`` that ``model`` is, or is a dated version of."""
    wanted = model.strip().casefold()
    best = None
    for name in names:
        key = name.casefold()
        if wanted.startswith(key) and _is_version_suffix(wanted[len(key):]):
            if best is None or len(name) > len(best):
                best = name
    return best


def _number(value: object, kind: type) -> float | int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return kind(value)
    return None


@lru_cache(maxsize=256)
def _from_table(model: str) -> ModelInfo:
    found = _match(model, PRICES)
    if not found:
        return UNKNOWN
    price_in, cached, price_out, window = PRICES[found]
    return ModelInfo(price_in, price_out, window, cached)


def lookup(model: str, overrides: dict | None = None) -> ModelInfo:
    """Price and context window of ``model``; fields from ``overrides`` win over the table."""
    info = _from_table(model)
    if not overrides:
        return info
    name = _match(model, overrides or {})
    if name is None or not isinstance(overrides[name], dict):
        return info
    over = overrides[name]
    values = {
        "input_per_m": _number(over.get("input"), float),
        "output_per_m": _number(over.get("output"), float),
        "context_window": _number(over.get("context_window"), int),
        "cached_input_per_m": _number(over.get("cached_input"), float),
    }
    return ModelInfo(**{k: getattr(info, k) if v is None else v for k, v in values.items()})


def cost(model: str, prompt_tokens: int, completion_tokens: int, overrides: dict | None = None,
         cached_tokens: int = 0) -> float | None:
    """USD for one request, or None when the price is unknown (never 0 for unknown).

    ``cached_tokens`` (part of ``prompt_tokens``) are billed at the cached-input price where the
    table (or an override's ``cached_input``) has one, else as ordinary input. Reasoning tokens
    are part of ``completion_tokens`` and billed as output."""
    info = lookup(model, overrides)
    if info.input_per_m is None or info.output_per_m is None:
        return None
    cached = min(max(cached_tokens, 0), prompt_tokens) if info.cached_input_per_m is not None else 0
    fresh = prompt_tokens - cached
    return (fresh * info.input_per_m + cached * (info.cached_input_per_m or 0.0)
            + completion_tokens * info.output_per_m) / 1_000_000


def format_cost(value: float | None) -> str:
    """``$0.0012``; ``$1.23`` from a dollar up; ``<$0.0001`` for tiny sums; ``unknown`` for None."""
    if value is None:
        return "unknown"
    if value == 0:
        return "$0.00"
    if value < 0.0001:
        return "<$0.0001"
    if value < 1:
        return f"${value:.4f}"
    return f"${value:,.2f}"
