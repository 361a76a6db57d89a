"""Dates and counts from outside at the ends of what Python and SQLite can hold, in every time
zone: one document holding them costs only itself (listed unreadable, or opened read-only,
or counted on the nearest day there is), never a listing, a search or a usage report for
everyone (QA 2: F4, F8, F10; the property test covers F1's values too)."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from documents import saved
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_extreme_json import HUGE_INT, run, write_document

from chinwag import paths
from chinwag.dates import local_midnight_utc, parse_day
from chinwag.search import parse_query
from chinwag.session import _part
from chinwag.store import Store, reason_of
from chinwag.usage import read_usage

ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12")


@pytest.fixture
def zone(monkeypatch):
    """Set the local time zone for the rest of the test."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


# Any JSON value (and the values JSON cannot carry) in any field of a document.
EXTREMES = st.sampled_from([
    HUGE_INT, "1e999", "-1e999", "NaN", "Infinity", "1e-999", "-0", "0.5", "10" + "0" * 30, "-1",
    '"0001-01-01T00:00:00Z"', '"9999-12-31T23:59:59Z"', '"0001-01-01T00:00:00+14:00"',
    '"9999-12-31T23:59:59-12:00"', '"0000-01-01T00:00:00Z"', '"1-01-01"', '"\\ud800"', '""',
    "[" * 3000 + "]" * 3000, "[" * 900 + "]" * 900, '{"a": ' * 500 + "1" + "}" * 500,
])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
).map(json.dumps)
FIELDS = st.sampled_from([
    ("created_at",), ("updated_at",), ("title",), ("current",), ("settings",), ("persona",), ("edited",),
    ("junk",), ("messages", 1, "created_at"), ("messages", 1, "usage"), ("messages", 1, "usage", "prompt_tokens"),
    ("messages", 1, "usage", "completion_tokens"), ("messages", 1, "usage", "reasoning_tokens"),
    ("messages", 1, "usage", "cached_tokens"), ("messages", 1, "usage", "completion_tokens_details"),
    ("messages", 1, "tokens"), ("messages", 1, "parent"), ("messages", 1, "extra"), ("messages", 0, "content"),
])


def _put(data: dict, where: tuple, marker: str) -> None:
    for key in where[:-1]:
        data = data[key] if not isinstance(data, dict) or key in data else data.setdefault(key, {})
    data[where[-1]] = marker


@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(value=st.one_of(EXTREMES, JSON_VALUES), where=FIELDS, tz=st.sampled_from(ZONES))
def test_any_value_in_any_field_never_breaks_list_search_or_usage(capsys, zone, value, where, tz):
    zone(tz)
    folder = paths.conversations_dir()
    for old in folder.glob("*.json"):
        old.unlink()
    good = saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    data = json.loads((folder / f"{good.id}.json").read_text("utf-8"))
    data["id"] = "20260101-000000-odd000"
    data["messages"][1]["usage"] = {"prompt_tokens": 10, "completion_tokens": 3}
    _put(data, where, "\x00marker")
    write_document(data["id"], json.dumps(data).replace('"\\u0000marker"', value))
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0 and good.id in {item["id"] for item in json.loads(out)}
    code, out, _ = run(capsys, "list", "--json", "--search", "zeppelin after:0001 before:9999-12-31")
    assert code == 0 and good.id in {item["id"] for item in json.loads(out)}
    for by in ("day", "week", "month", "model"):
        code, out, _ = run(capsys, "usage", "--json", "--by", by, "--since", "0001")
        assert code == 0
        total = json.loads(out)["total"]
        assert total["reasoning_tokens"] <= total["completion_tokens"]
        assert total["cached_tokens"] <= total["prompt_tokens"]


# -- F4: dates at the ends of the range, in every time zone ------------------------------------------------


@pytest.mark.parametrize("tz", ZONES)
def test_usage_counts_replies_dated_at_either_end_in_every_zone(capsys, zone, tz):
    zone(tz)
    for when in ("0001-01-01T00:00:00Z", "0001-01-01T23:59:59Z", "9999-12-31T00:00:00Z", "9999-12-31T23:59:59Z"):
        conv = saved(f"dated {when}", "reply", when)
        data = json.loads((paths.conversations_dir() / f"{conv.id}.json").read_text("utf-8"))
        for message in data["messages"]:
            message["created_at"] = when
        data["messages"][1]["usage"] = {"prompt_tokens": 10, "completion_tokens": 3}
        write_document(conv.id, json.dumps(data))
    for by in ("day", "week", "month", "model", "provider"):
        code, out, err = run(capsys, "usage", "--json", "--by", by)
        assert code == 0, err
        assert json.loads(out)["total"]["requests"] == 4
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0 and len(json.loads(out)) == 4
    rows = Store().usage()
    assert {row.day for row in rows} <= {date(1, 1, 1), date(1, 1, 2), date(9999, 12, 30), date(9999, 12, 31)}


def test_a_date_outside_years_1_to_9999_in_utc_opens_read_only_naming_the_field():
    good = saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    data = json.loads((paths.conversations_dir() / f"{good.id}.json").read_text("utf-8"))
    data["messages"][1]["created_at"] = "0001-01-01T00:00:00+05:00"  # year 0 in UTC
    write_document(good.id, json.dumps(data))
    conv = Store().load(good.id)
    assert conv.read_only and "messages[1].created_at" in conv.read_only_reason


# -- F8: typed days at the ends of the range ----------------------------------------------------------------


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.dates(), second=st.dates(), tz=st.sampled_from(ZONES))
def test_every_day_has_a_midnight_stamp_in_order(zone, first, second, tz):
    zone(tz)
    low, high = sorted((first, second))
    a, b = local_midnight_utc(low), local_midnight_utc(high)
    assert len(a) == len(b) == 20 and a.endswith("Z") and a <= b


@pytest.mark.parametrize("tz", ZONES)
def test_filters_and_since_at_the_ends_of_the_range(capsys, zone, tz):
    zone(tz)
    saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    for text in ("0001", "0001-01-01", "9999", "9999-12-31"):
        parse_day(text)
        assert parse_query(f"after:{text} before:{text}").after is not None
    code, out, _ = run(capsys, "list", "--search", "zeppelin after:0001")
    assert code == 0 and "Tell me about airships" in out
    code, out, err = run(capsys, "list", "--search", "zeppelin before:0001")
    assert code == 0 and "Tell me about airships" not in out
    for since in ("0001", "0001-01-01", "9999-12-31"):
        code, _, err = run(capsys, "usage", "--since", since)
        assert code == 0 and "Traceback" not in err


# -- F10: a part never larger than its whole ------------------------------------------------------------------


def test_reasoning_tokens_are_clamped_to_the_completion_as_cached_are_to_the_prompt(capsys):
    raw = {"prompt_tokens": 10, "cached_tokens": 1000, "completion_tokens": 3, "reasoning_tokens": 5000}
    use = read_usage(raw)
    assert (use.prompt, use.cached, use.completion, use.reasoning) == (10, 10, 3, 3)
    nested = {"prompt_tokens": 10, "completion_tokens": 3,
              "completion_tokens_details": {"reasoning_tokens": 5000}}
    assert read_usage(nested).reasoning == 3
    assert (_part(raw, "reasoning_tokens", "reasoning"), _part(raw, "cached_tokens", "cached")) == (3, 10)
    conv = saved("Think hard", "Done", "2026-01-02T10:00:00Z")
    data = json.loads((paths.conversations_dir() / f"{conv.id}.json").read_text("utf-8"))
    data["messages"][1]["usage"] = raw
    write_document(conv.id, json.dumps(data))
    code, out, _ = run(capsys, "usage", "--json")
    total = json.loads(out)["total"]
    assert code == 0 and total["reasoning_tokens"] == 3 and total["cached_tokens"] == 10


def test_an_unexpected_error_is_never_shown_in_pythons_words():
    assert "TypeError" not in reason_of(TypeError("fromisoformat: argument must be str"))
    assert "fromisoformat" not in reason_of(TypeError("fromisoformat: argument must be str"))
