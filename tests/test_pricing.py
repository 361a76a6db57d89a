"""Prices and context windows: table, dated ids, overrides, unknown models."""

from __future__ import annotations

import pytest

from chinwag.pricing import ModelInfo, cost, format_cost, lookup


@pytest.mark.parametrize(
    "model, expected",
    [
        ("gpt-4o", ModelInfo(2.50, 10.00, 128_000, 1.25)),
        ("gpt-4o-2024-08-06", ModelInfo(2.50, 10.00, 128_000, 1.25)),
        ("gpt-4o-mini-2024-07-18", ModelInfo(0.15, 0.60, 128_000, 0.075)),
        ("gpt-4.1-nano", ModelInfo(0.10, 0.40, 1_047_576, 0.025)),
        ("gpt-4-turbo-2024-04-09", ModelInfo(10.00, 30.00, 128_000)),
        ("gpt-4-0613", ModelInfo(30.00, 60.00, 8_192)),
        ("gpt-3.5-turbo-0125", ModelInfo(0.50, 1.50, 16_385)),
        ("o3-mini", ModelInfo(1.10, 4.40, 200_000, 0.55)),
        ("o3", ModelInfo(2.00, 8.00, 200_000, 0.50)),
        ("o3-2025-04-16", ModelInfo(2.00, 8.00, 200_000, 0.50)),
        ("o4-mini", ModelInfo(1.10, 4.40, 200_000, 0.275)),
        ("gpt-4.1", ModelInfo(2.00, 8.00, 1_047_576, 0.50)),
        ("gpt-5", ModelInfo(1.25, 10.00, 400_000, 0.125)),
        ("gpt-5-mini-2025-08-07", ModelInfo(0.25, 2.00, 400_000, 0.025)),
        ("gpt-5-nano", ModelInfo(0.05, 0.40, 400_000, 0.005)),
        ("deepseek-ai/DeepSeek-R1", ModelInfo(3.00, 7.00, 163_840)),
        ("openai/gpt-oss-120b", ModelInfo(0.15, 0.60, 131_072)),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", ModelInfo(0.88, 0.88, 131_072)),
        ("deepseek-ai/DeepSeek-V3", ModelInfo(1.25, 1.25, 131_072)),
    ],
)
def test_lookup(model, expected):
    assert lookup(model) == expected


def test_longest_prefix_wins():
    assert lookup("gpt-4o-mini").input_per_m == 0.15
    assert lookup("gpt-4.1-mini-2025-04-14").input_per_m == 0.40
    assert lookup("meta-llama/Llama-3.3-70B-Instruct-Turbo-Free").input_per_m == 0.0


@pytest.mark.parametrize("model", ["o3-deep-research", "gpt-4.5-preview", "llama3.2", "", "gpt-4o-audio-preview"])
def test_other_models_are_unknown_not_mispriced(model):
    info = lookup(model)
    assert info == ModelInfo(None, None, None)
    assert cost(model, 1000, 1000) is None
    assert format_cost(cost(model, 1000, 1000)) == "unknown"


def test_cost():
    assert cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost("gpt-4o", 1000, 500) == pytest.approx(0.0075)
    assert format_cost(cost("gpt-4o", 1000, 500)) == "$0.0075"


def test_free_model_costs_zero_not_unknown():
    value = cost("meta-llama/Llama-3.3-70B-Instruct-Turbo-Free", 5000, 5000)
    assert value == 0.0
    assert format_cost(value) == "$0.00"


def test_overrides_win_over_the_table():
    overrides = {"gpt-4o": {"input": 1.0, "output": 2.0, "context_window": 1000, "cached_input": 0.1}}
    assert lookup("gpt-4o", overrides) == ModelInfo(1.0, 2.0, 1000, 0.1)
    assert lookup("gpt-4o-2024-08-06", overrides) == ModelInfo(1.0, 2.0, 1000, 0.1)
    assert lookup("gpt-4o-mini", overrides) == ModelInfo(0.15, 0.60, 128_000, 0.075)
    assert cost("gpt-4o", 1_000_000, 1_000_000, overrides) == pytest.approx(3.0)


def test_override_prices_an_unknown_model_and_keeps_missing_fields():
    assert lookup("llama3.2", {"llama3.2": {"input": 0, "output": 0}}) == ModelInfo(0.0, 0.0, None)
    assert cost("llama3.2", 10, 10, {"llama3.2": {"input": 0, "output": 0}}) == 0.0
    assert lookup("gpt-4o", {"gpt-4o": {"context_window": 64_000}}) == ModelInfo(2.50, 10.00, 64_000, 1.25)
    assert lookup("gpt-4o", {"gpt-4o": {"input": "cheap"}}).input_per_m == 2.50


@pytest.mark.parametrize(
    "value, text",
    [(None, "unknown"), (0.0, "$0.00"), (0.0012, "$0.0012"), (0.00001, "<$0.0001"), (0.5, "$0.5000"), (1234.5, "$1,234.50")],
)
def test_format_cost(value, text):
    assert format_cost(value) == text


def test_cached_prompt_tokens_cost_the_cached_input_price():
    # o4-mini: 1.10 input, 0.275 cached, 4.40 output per 1M.
    full = cost("o4-mini", 1_000_000, 0)
    half_cached = cost("o4-mini", 1_000_000, 0, cached_tokens=500_000)
    assert full == pytest.approx(1.10)
    assert half_cached == pytest.approx(0.55 + 0.1375)
    assert cost("o4-mini", 1000, 1000, cached_tokens=5000) == cost("o4-mini", 1000, 1000, cached_tokens=1000)


def test_cached_tokens_without_a_cached_price_cost_full_input():
    assert cost("gpt-4-turbo", 1000, 0, cached_tokens=1000) == cost("gpt-4-turbo", 1000, 0)
    assert cost("deepseek-ai/DeepSeek-R1", 1000, 0, cached_tokens=400) == pytest.approx(0.003)


def test_override_cached_price_applies_to_an_unknown_model():
    overrides = {"my-model": {"input": 1.0, "output": 2.0, "cached_input": 0.5}}
    assert cost("my-model", 1_000_000, 0, overrides, cached_tokens=1_000_000) == pytest.approx(0.5)
