"""`chinwag usage`: the documents' usage fields added up, priced, grouped; in agreement with the sidebar."""

from __future__ import annotations

import json
import time

import pytest

from chinwag import paths
from chinwag.cli import main
from chinwag.conversation import Conversation
from chinwag.session import ChatSession
from chinwag.store import Store
from chinwag.usage import read_usage


def reply(usage, when, **extra):
    return {"role": "assistant", "content": "answer", "created_at": when, "usage": usage, **extra}


def document(conv_id, provider, model, persona, messages):
    return {
        "format": "chinwag.conversation", "version": 1, "id": conv_id, "title": conv_id,
        "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T10:00:00Z",
        "provider": provider, "model": model, "persona": {"name": persona, "system_prompt": ""},
        "settings": {}, "messages": [{"role": "user", "content": "question", "created_at": "2026-03-01T10:00:00Z"},
                                     *messages],
    }


FIXTURE = [
    document("a", "openai", "gpt-4o-mini", "assistant", [
        reply({"prompt_tokens": 1000, "completion_tokens": 200}, "2026-03-01T10:00:00Z"),
        reply({"prompt_tokens": 2000, "completion_tokens": 300,
               "completion_tokens_details": {"reasoning_tokens": 100}}, "2026-03-02T03:00:00Z"),
        reply({"prompt_tokens": 500, "completion_tokens": 50}, "2026-03-02T03:10:00Z", superseded=True),
    ]),
    document("b", "openai", "gpt-4o", "tutor", [
        reply({"prompt_tokens": 100, "completion_tokens": 10, "estimated": True}, "2026-03-05T12:00:00Z"),
        reply({"prompt_tokens": 400, "completion_tokens": 40, "reasoning_tokens": 20}, "2026-03-09T12:00:00Z"),
    ]),
    document("c", "custom", "mystery-model", "assistant", [
        reply({"prompt_tokens": 70, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 30}},
              "2026-03-09T13:00:00Z"),
    ]),
    document("d", "ollama", "llama3.2", "assistant", [
        reply({"prompt_tokens": 90, "completion_tokens": 9, "cached_tokens": 50}, "2026-03-10T08:00:00Z"),
    ]),
    document("e", "openai", "gpt-4o-mini", "assistant", [  # junk a hand edit might leave: read-only, not counted
        reply("oops", "2026-03-10T09:00:00Z"),
        reply({"prompt_tokens": "12", "completion_tokens": -5}, "2026-03-10T09:00:00Z"),
        reply({"prompt_tokens": True, "completion_tokens": None}, "2026-03-10T09:00:00Z"),
    ]),
]
# Built-in prices per 1M tokens: gpt-4o-mini 0.15 in / 0.60 out, gpt-4o 2.50 / 10.00.
KNOWN_COST = ((1000 * 0.15 + 200 * 0.60) + (2000 * 0.15 + 300 * 0.60) + (500 * 0.15 + 50 * 0.60)
              + (100 * 2.50 + 10 * 10.0) + (400 * 2.50 + 40 * 10.0)) / 1e6


@pytest.fixture
def documents(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    folder = paths.conversations_dir()
    folder.mkdir(parents=True)
    for doc in FIXTURE:
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc), "utf-8")
    (folder / "broken.json").write_text('{"format": "chinwag.conversation", "usage": ', "utf-8")
    yield FIXTURE
    monkeypatch.undo()
    time.tzset()


def field_sum(docs, *path):
    """The test's own sum of one numeric usage field over every reply (every branch)."""
    total = 0
    for doc in docs:
        for message in doc["messages"]:
            value = message.get("usage")
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if type(value) is int and value >= 0:
                total += value
    return total


def usage_json(capsys, *args):
    assert main(["usage", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_totals_equal_the_sums_over_the_documents(capsys, documents):
    total = usage_json(capsys)["total"]
    assert total["prompt_tokens"] == field_sum(documents, "prompt_tokens") == 4160
    assert total["completion_tokens"] == field_sum(documents, "completion_tokens") == 616
    assert total["reasoning_tokens"] == (field_sum(documents, "completion_tokens_details", "reasoning_tokens")
                                         + field_sum(documents, "reasoning_tokens")) == 120
    assert total["cached_tokens"] == (field_sum(documents, "prompt_tokens_details", "cached_tokens")
                                      + field_sum(documents, "cached_tokens")) == 80
    assert total["requests"] == 7  # every reply with a usage object of the right shape, every branch
    assert total["cost"] == pytest.approx(KNOWN_COST)
    assert total["cost_complete"] is False and total["unpriced_requests"] == 1  # mystery-model
    assert total["estimated"] is True and total["estimated_requests"] == 1


def test_grouped_by_model_provider_and_persona(capsys, documents):
    by_model = {g["model"]: g for g in usage_json(capsys, "--by", "model")["groups"]}
    assert by_model["mystery-model"]["cost"] is None  # unknown, never $0
    assert by_model["llama3.2"]["cost"] == 0 and by_model["llama3.2"]["cost_complete"]  # local: free
    assert by_model["gpt-4o"]["estimated_requests"] == 1
    assert by_model["gpt-4o-mini"]["requests"] == 3  # the replaced (superseded) reply counts too
    by_provider = {g["provider"]: g["requests"] for g in usage_json(capsys, "--by", "provider")["groups"]}
    assert by_provider == {"openai": 5, "custom": 1, "ollama": 1}
    by_persona = {g["persona"]: g["requests"] for g in usage_json(capsys, "--by", "persona")["groups"]}
    assert by_persona == {"assistant": 5, "tutor": 2}


def test_days_are_local_days_and_since_is_a_local_day(capsys, documents):
    days = {g["day"]: g["requests"] for g in usage_json(capsys, "--by", "day")["groups"]}
    # 2026-03-02T03:00Z is the evening of 1 March in New York.
    assert days == {"2026-03-01": 3, "2026-03-05": 1, "2026-03-09": 2, "2026-03-10": 1}
    since = usage_json(capsys, "--since", "2026-03-09", "--by", "week")
    assert since["since"] == "2026-03-09" and since["total"]["requests"] == 3
    assert [g["week"] for g in since["groups"]] == ["2026-W11"]
    months = usage_json(capsys, "--by", "month")["groups"]
    assert [(g["month"], g["requests"]) for g in months] == [("2026-03", 7)]


def test_text_table_marks_estimates_and_unknown_prices(capsys, documents):
    assert main(["usage"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["MODEL", "REQUESTS", "PROMPT", "CACHED", "COMPLETION", "REASONING", "COST"]
    mystery = next(line for line in lines if line.startswith("mystery-model"))
    assert mystery.endswith("unknown")
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert "~4,160" in total and total.endswith("+ unknown")
    assert "no price for mystery-model" in out and "estimated" not in lines[0]


def test_bad_since_is_a_usage_error(capsys, documents):
    assert main(["usage", "--since", "last tuesday"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_no_usage_yet(capsys):
    assert main(["usage"]) == 0
    assert "No usage recorded yet." in capsys.readouterr().err
    assert usage_json(capsys)["total"]["requests"] == 0


def test_the_sidebar_totals_agree_with_usage(capsys, documents):
    store = Store()
    prompt = completion = 0
    cost = 0.0
    for doc in documents:
        session = ChatSession(store.load(doc["id"]), store, client=None)
        prompt += session.totals.prompt_tokens
        completion += session.totals.completion_tokens
        if doc["id"] == "c":
            assert session.totals.cost is None  # the sidebar says unknown too
        else:
            cost += session.totals.cost
    total = usage_json(capsys)["total"]
    assert (total["prompt_tokens"], total["completion_tokens"]) == (prompt, completion)
    assert total["cost"] == pytest.approx(cost)


def test_a_save_updates_the_usage_at_once(capsys, documents):
    store = Store()
    assert usage_json(capsys)["total"]["requests"] == 7
    conv: Conversation = store.load("b")
    conv.add_assistant("more").usage = {"prompt_tokens": 1, "completion_tokens": 2}
    store.save(conv)
    total = usage_json(capsys)["total"]
    assert (total["requests"], total["prompt_tokens"]) == (8, 4161)


@pytest.mark.parametrize(("usage", "expected"), [
    ({"prompt_tokens": 10, "completion_tokens": 5}, (10, 5, 0, 0, False)),
    ({"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 4},
      "completion_tokens_details": {"reasoning_tokens": 3}}, (10, 5, 3, 4, False)),
    ({"prompt_tokens": 10, "completion_tokens": 5, "cached_tokens": 99, "reasoning_tokens": 2}, (10, 5, 2, 10, False)),
    ({"prompt_tokens": 1e3, "completion_tokens": float("nan"), "estimated": 1}, (1000, 0, 0, 0, True)),
    ({"completion_tokens": 5, "prompt_tokens_details": None}, (0, 5, 0, 0, False)),
])
def test_read_usage_takes_both_shapes_defensively(usage, expected):
    use = read_usage(usage)
    assert (use.prompt, use.completion, use.reasoning, use.cached, use.estimated) == expected


@pytest.mark.parametrize("usage", [None, "12", [], {"total_tokens": 5}])
def test_read_usage_of_no_usage(usage):
    assert read_usage(usage) is None
