"""Checking model settings typed by a person or read from a file, with messages a person
understands.

Shared by config (settings), model_settings (documents, personas) and the dialogs; it imports
neither of them, so none has to import another just to check a value.
"""

from __future__ import annotations

import math
from typing import Any

EFFORTS = ("none", "minimal", "low", "medium", "high")  # reasoning_effort levels (model_params sends them)

# name: (type, lowest, highest or None, lowest excluded)
NUMBERS: dict[str, tuple[type, float, float | None, bool]] = {
    "temperature": (float, 0, 2, False),
    "max_tokens": (int, 1, 1_000_000, False),
    "token_budget": (int, 256, 10_000_000, False),
    "timeout": (float, 0, None, True),
    "retries": (int, 0, 10, False),
}


def number(field_name: str, value: Any, kind: type, low: float, high: float | None,
           low_open: bool = False) -> Any:
    """Parse an int or float (a str from an input box too) and check its range."""
    what = "a whole number" if kind is int else "a number"
    if isinstance(value, bool):
        raise ValueError(f"{field_name} must be {what}")
    if isinstance(value, str):
        try:
            value = kind(value.strip())
        except ValueError:
            raise ValueError(f"{field_name} must be {what}, not {value!r}") from None
    elif kind is int and not isinstance(value, int):
        raise ValueError(f"{field_name} must be {what}, not {value!r}")
    elif kind is float and isinstance(value, (int, float)):
        value = float(value)
    elif not isinstance(value, kind):
        raise ValueError(f"{field_name} must be {what}, not {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{field_name} must be a finite number")
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        if high is None:
            raise ValueError(f"{field_name} must be greater than {_plain(low)}")
        raise ValueError(f"{field_name} must be between {_plain(low)} and {_plain(high)}")
    return value


def check_number(field_name: str, value: Any) -> Any:
    """``value`` typed and range-checked for one of the NUMBERS settings; ValueError says why."""
    kind, low, high, low_open = NUMBERS[field_name]
    return number(field_name, value, kind, low, high, low_open)


def check_setting(field_name: str, value: Any) -> Any:
    """A model setting (NUMBERS, reasoning_effort) typed and checked; ValueError says why.
    reasoning_effort: empty or "default" gives None (the model's default)."""
    if field_name in NUMBERS:
        return check_number(field_name, value)
    if field_name != "reasoning_effort":
        raise ValueError(f"unknown setting {field_name!r}")
    if not isinstance(value, str):
        raise ValueError(f"{field_name} must be text, not {value!r}")
    value = value.strip().lower()
    if value in ("", "default"):
        return None
    if value not in EFFORTS:
        raise ValueError(f"reasoning_effort must be one of {', '.join(EFFORTS)} (or empty for the "
                         f"model's default), not {value!r}")
    return value


def _plain(number: float) -> str:
    """1000000 as "1,000,000" (not "1e+06"), 0.5 as "0.5"."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"
