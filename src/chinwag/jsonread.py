"""Parsing JSON that came from outside (documents, the recovery file, caches) so that nothing
in it raises anything but JsonProblem.

``json.loads`` alone raises more than JSONDecodeError on valid-looking input: a plain
ValueError for an integer of more than 4,300 digits (CPython's limit on int conversion), and
RecursionError for arrays or objects nested a thousand deep. It also accepts what JSON does
not allow and we could never write back as JSON: ``NaN``, ``Infinity`` and numbers beyond a
float's range (``1e999`` reads as inf). All of these are "not JSON we can read" here.
"""

from __future__ import annotations

import math
import sys
from typing import Any

MAX_DIGITS = sys.get_int_max_str_digits() or 4300


class JsonProblem(ValueError):
    """The text is not JSON we can read; the message says why, for a person."""


class _OutOfRange(ValueError):
    pass


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _OutOfRange("a number too large for a floating-point value")
    return value


def _constant(name: str) -> float:
    raise _OutOfRange(f"{name}, which JSON does not allow")


def loads(text: str | bytes) -> Any:
    """The value of ``text``; JsonProblem ("not valid JSON: ...") for anything we cannot read."""
    import json  # (loaded with the first document: a new chat's first frame reads none)

    try:
        return json.loads(text, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"not valid JSON: line {exc.lineno} column {exc.colno}") from None
    except _OutOfRange as exc:
        raise JsonProblem(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise JsonProblem("not valid JSON: nested too deeply") from None
    except UnicodeDecodeError as exc:  # bytes given
        raise JsonProblem(f"not UTF-8 text (byte {exc.start})") from None
    except ValueError:  # CPython's int limit (the only other ValueError json.loads raises)
        raise JsonProblem(f"not valid JSON: a number of more than {MAX_DIGITS:,} digits") from None


def beyond_python(exc: BaseException) -> bool:
    """Whether ``exc`` is what ``json.loads`` raises on valid JSON it cannot hold (used where
    a library parses for us: the SDK reading a server's stream)."""
    return isinstance(exc, RecursionError) or (
        type(exc) is ValueError and "integer string conversion" in str(exc))
