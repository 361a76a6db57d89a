"""JSON that Python's json reads but cannot hold (an integer of over 4,300 digits, 1e999, NaN,
nesting deeper than the stack): a document holding it is listed unreadable and costs only
itself, never a listing, a search or a usage report for everyone (QA 2, F1); the recovery
file, the model cache, config.toml and theme files survive it too."""

from __future__ import annotations

import json

import pytest
from documents import saved

from chinwag import jsonread, paths
from chinwag.cli import main

HUGE_INT = "9" * 5000


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_document(conv_id: str, text: str) -> None:
    (paths.conversations_dir() / f"{conv_id}.json").write_text(text, "utf-8")


def document_text(conv, **fields) -> str:
    """The saved document of ``conv`` with ``fields`` set to raw JSON text (top level)."""
    data = json.loads((paths.conversations_dir() / f"{conv.id}.json").read_text("utf-8"))
    text = json.dumps(data)
    return text[:-1] + "".join(f", {json.dumps(key)}: {value}" for key, value in fields.items()) + "}"


# -- F1: JSON that json.loads reads but we cannot -----------------------------------------------------


@pytest.mark.parametrize("value, reason", [
    (HUGE_INT, "a number of more than 4,300 digits"),
    ("-" + HUGE_INT, "a number of more than 4,300 digits"),
    ("1e999", "too large"),
    ("NaN", "NaN"),
    ("[-Infinity]", "Infinity"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
], ids=["huge-int", "huge-negative", "1e999", "nan", "infinity", "deep"])
def test_a_document_json_cannot_hold_is_listed_unreadable_and_the_others_still_list(capsys, value, reason):
    good = saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    write_document("20260101-000000-bad000", document_text(good, junk=value).replace(good.id, "20260101-000000-bad000"))
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    listed = {item["id"]: item for item in json.loads(out)}
    assert listed[good.id]["title"] == "Tell me about airships"
    assert reason in listed["20260101-000000-bad000"]["error"]
    code, out, _ = run(capsys, "list", "--search", "zeppelin")
    assert code == 0 and "Tell me about airships" in out
    assert run(capsys, "usage")[0] == 0


def test_outside_json_raises_only_json_problem():
    for text in (HUGE_INT, "1e999", "NaN", "[" * 50_000, b"\xff[]", "[1,]", ""):
        with pytest.raises(jsonread.JsonProblem):
            jsonread.loads(text)
    assert jsonread.loads('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}


def test_the_recovery_file_and_the_model_cache_survive_such_json(tmp_path):
    from chinwag import model_params, recovery

    recovery.recovery_file().parent.mkdir(parents=True, exist_ok=True)
    for text in (HUGE_INT, "[" * 100_000, '{"format": "chinwag.recovery", "draft": NaN}'):
        recovery.recovery_file().write_text(text, "utf-8")
        assert recovery.load() is None
        cache = tmp_path / "models.json"
        cache.write_text(text, "utf-8")
        assert model_params.load_learned(cache) == {}


@pytest.mark.parametrize("value", [HUGE_INT, "[" * 5000 + "]" * 5000], ids=["huge-int", "deep"])
def test_a_settings_or_theme_file_with_such_values_is_refused_with_a_warning(capsys, value):
    from chinwag.tui.themes import ThemeFileError, read_theme

    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"timeout = {value}\n", "utf-8")
    code, _, err = run(capsys, "list")
    assert code == 0 and "config.toml" in err and "default settings" in err
    theme = paths.config_dir() / "odd.toml"
    theme.write_text(f'name = "odd"\nprimary = {value}\n', "utf-8")
    with pytest.raises(ThemeFileError):
        read_theme(theme)
