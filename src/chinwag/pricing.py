"""Model prices (USD per 1M tokens) and context windows, with config overrides.

A dated id (``gpt-4o-2024-08-06``) matches its base model; the longest match wins. Only
date/version suffixes match (``-2024-08-06``, ``-0613``, ``-preview``, ``-latest``), so a
different model such as ``o3-pro`` is unknown rather than priced as ``o3``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    input_per_m: float | None
    output_per_m: float | None
    context_window: int | None


# model id: (input $/1M, output $/1M, context window)
PRICES: dict[str, tuple[float, float, int]] = {
    # OpenAI
    "gpt-5": (1.25, 10.00, 400_000),
    "gpt-5-mini": (0.25, 2.00, 400_000),
    "gpt-5-nano": (0.05, 0.40, 400_000),
    "gpt-4.1": (2.00, 8.00, 1_047_576),
    "gpt-4.1-mini": (0.40, 1.60, 1_047_576),
    "gpt-4.1-nano": (0.10, 0.40, 1_047_576),
    "gpt-4o": (2.50, 10.00, 128_000),
    "gpt-4o-mini": (0.15, 0.60, 128_000),
    "o1": (15.00, 60.00, 200_000),
    "o3": (2.00, 8.00, 200_000),
    "o3-mini": (1.10, 4.40, 200_000),
    "o4-mini": (1.10, 4.40, 200_000),
    "gpt-4-turbo": (10.00, 30.00, 128_000),
    "gpt-4": (30.00, 60.00, 8_192),
    "gpt-4-32k": (60.00, 120.00, 32_768),
    "gpt-3.5-turbo": (0.50, 1.50, 16_385),
    # Together
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": (0.88, 0.88, 131_072),
    "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free": (0.0, 0.0, 131_072),
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo": (0.18, 0.18, 131_072),
    "Qwen/Qwen2.5-72B-Instruct-Turbo": (1.20, 1.20, 32_768),
    "deepseek-ai/DeepSeek-V3": (1.25, 1.25, 131_072),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (0.60, 0.60, 32_768),
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


def lookup(model: str, overrides: dict | None = None) -> ModelInfo:
    """Price and context window of ``model``; fields from ``overrides`` win over the table."""
    found = _match(model, PRICES)
    info = ModelInfo(*PRICES[found]) if found else UNKNOWN
    name = _match(model, overrides or {})
    if name is None or not isinstance(overrides[name], dict):
        return info
    over = overrides[name]
    values = {
        "input_per_m": _number(over.get("input"), float),
        "output_per_m": _number(over.get("output"), float),
        "context_window": _number(over.get("context_window"), int),
    }
    return ModelInfo(**{k: getattr(info, k) if v is None else v for k, v in values.items()})


def cost(model: str, prompt_tokens: int, completion_tokens: int, overrides: dict | None = None) -> float | None:
    """USD for one request, or None when the price is unknown (never 0 for unknown)."""
    info = lookup(model, overrides)
    if info.input_per_m is None or info.output_per_m is None:
        return None
    return (prompt_tokens * info.input_per_m + completion_tokens * info.output_per_m) / 1_000_000


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
