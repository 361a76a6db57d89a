"""The command line (list, export, personas, TUI launch options) and the redacting log."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import types

import pytest

from documents import saved

from chinwag import __version__, logs, paths
from chinwag.cli import main

# -- helpers -------------------------------------------------------------------



@pytest.fixture
def two_chats():
    old = saved("What is the weather like today?", "Grey, obviously.", "2026-01-02T10:00:00Z")
    new = saved("Write a haiku about tea", "Steam curls from the cup", "2026-03-04T12:00:00Z",
                model="gpt-4.1")
    return old, new


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- list ----------------------------------------------------------------------


def test_list_table_newest_first(capsys, two_chats):
    old, new = two_chats
    code, out, err = run_cli(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "MODEL", "MESSAGES", "TOKENS", "TITLE"]
    assert lines[1].startswith(new.id) and "Write a haiku about tea" in lines[1]
    assert lines[2].startswith(old.id) and "gpt-4o-mini" in lines[2]
    assert lines[1].index("Write a haiku") == lines[2].index("What is the weather")  # aligned


def test_list_json(capsys, two_chats):
    old, new = two_chats
    code, out, _ = run_cli(capsys, "list", "--json")
    items = json.loads(out)
    assert code == 0 and [item["id"] for item in items] == [new.id, old.id]
    first = items[0]
    for key in ("title", "created_at", "updated_at", "model", "persona", "messages", "tokens"):
        assert key in first
    assert first["messages"] == 2 and first["model"] == "gpt-4.1" and first["tokens"] > 0


def test_list_search_shows_snippet(capsys, two_chats):
    old, _ = two_chats
    code, out, _ = run_cli(capsys, "list", "--search", "OBVIOUSLY")
    assert code == 0
    assert old.id in out and "haiku" not in out and "obviously" in out.lower()
    items = json.loads(run_cli(capsys, "list", "--json", "--search", "obviously")[1])
    assert [item["id"] for item in items] == [old.id] and "obviously" in items[0]["snippet"].lower()


def test_list_shows_unreadable_files_with_reason(capsys, two_chats):
    broken = paths.conversations_dir() / "20260101-000000-abcdef.json"
    broken.write_text("{not json", encoding="utf-8")
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("20260101-000000-abcdef"))
    assert "unreadable" in row
    assert len(out.splitlines()) == 4


def test_list_empty(capsys):
    code, out, err = run_cli(capsys, "list")
    assert code == 0 and out == "" and "No conversations" in err
    assert json.loads(run_cli(capsys, "list", "--json")[1]) == []


def test_list_title_cannot_drive_the_terminal(capsys):
    saved("evil \x1b]52;c;aGVsbG8=\x07 title", "ok", "2026-01-01T00:00:00Z")
    out = run_cli(capsys, "list")[1]
    assert "\x1b" not in out and "\x07" not in out and "evil" in out


# -- export --------------------------------------------------------------------


def test_export_latest_to_stdout_as_markdown(capsys, two_chats):
    code, out, _ = run_cli(capsys, "export", "latest")
    assert code == 0 and "Write a haiku about tea" in out and "Steam curls from the cup" in out


def test_export_json_by_prefix(capsys, two_chats):
    old, _ = two_chats
    code, out, _ = run_cli(capsys, "export", old.id[:-2], "--format", "json")
    assert code == 0 and json.loads(out)["id"] == old.id


def test_export_to_file_infers_format_from_suffix(capsys, two_chats, tmp_path):
    target = tmp_path / "chat.html"
    code, out, err = run_cli(capsys, "export", "latest", "-o", str(target))
    assert code == 0 and out == ""
    assert err.strip() == str(target)
    assert "<html" in target.read_text(encoding="utf-8").lower()


def test_export_into_a_directory(capsys, two_chats, tmp_path):
    code, _, err = run_cli(capsys, "export", "latest", "-f", "txt", "-o", str(tmp_path))
    written = tmp_path / err.strip()
    assert code == 0 and written.parent == tmp_path and written.suffix == ".txt"
    assert "Steam curls" in written.read_text(encoding="utf-8")


def test_export_unknown_id_suggests(capsys, two_chats):
    code, out, err = run_cli(capsys, "export", "2026zzz")
    assert code == 1 and out == ""
    assert "no conversation" in err.lower() and "2026zzz" in err


def test_export_bad_format_is_a_usage_error(capsys, two_chats):
    with pytest.raises(SystemExit) as exited:
        main(["export", "latest", "--format", "pdf"])
    assert exited.value.code == 2


# -- personas and config warnings ----------------------------------------------


def test_personas_lists_builtins_and_file_with_warnings(capsys):
    path = paths.personas_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[personas.pirate]\ndescription = "Arr"\nsystem_prompt = "Arr."\n'
                    '[personas.broken]\ndescription = "no prompt"\n')
    code, out, err = run_cli(capsys, "personas")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert {"assistant", "sassy", "coder", "pirate"} <= set(rows)
    assert rows["sassy"].rstrip().endswith("built-in") and rows["pirate"].rstrip().endswith(str(path))
    assert "broken" not in rows and "'broken'" in err


def test_broken_config_warns_but_commands_work(capsys, two_chats):
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('model = "x"\ntemperature = = 1\n')
    for argv in (["list"], ["personas"], ["export", "latest"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 0 and out
        assert str(config) in err and "line 2" in err


# -- usage, version, launching the TUI -----------------------------------------


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip() == f"chinwag {__version__}"
    for argv in (["--help"], ["list", "--help"], ["export", "--help"], ["personas", "--help"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0 and "usage: chinwag" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["--provider", "groq"], ["--base-url", "localhost:1"], ["--resume", "x", "--continue"],
     ["--persona", "nobody"], ["frobnicate"]],
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "usage" in capsys.readouterr().err


@pytest.fixture
def fake_tui(monkeypatch):
    """Stand in for chinwag.tui.app (our own module) and record the options it gets."""
    calls = []
    module = types.ModuleType("chinwag.tui.app")
    module.run = lambda options: calls.append(options) or 0
    monkeypatch.setitem(sys.modules, "chinwag.tui.app", module)
    return calls


def test_no_command_launches_the_tui_with_options(fake_tui):
    assert main(["--provider", "ollama", "--model", "llama3.2", "--persona", "sassy",
                 "--continue", "--debug"]) == 0
    (options,) = fake_tui
    assert (options.provider, options.model, options.persona) == ("ollama", "llama3.2", "sassy")
    assert options.cont is True and options.resume is None and options.debug is True
    assert options.base_url is None and options.command is None


def test_resume_is_passed_as_given(fake_tui):
    assert main(["--resume", "latest", "--base-url", "http://127.0.0.1:9/v1"]) == 0
    assert fake_tui[0].resume == "latest" and fake_tui[0].cont is False
    assert fake_tui[0].base_url == "http://127.0.0.1:9/v1"


def test_python_dash_m_version():
    done = subprocess.run([sys.executable, "-m", "chinwag", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"chinwag {__version__}"


def test_engine_commands_do_not_load_textual():
    code = ("import sys; from chinwag.cli import main; main(['personas']); "
            "sys.exit('textual' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=os.environ.copy(), check=False)
    assert done.returncode == 0, done.stderr


# -- logging -------------------------------------------------------------------


def read_log(path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_debug_log_redacts_keys_from_sdk_loggers(monkeypatch, restore_logging):
    env_key = "sk-proj-ENVKEY0123456789abcdef"
    together_key = "0f9e8d7c6b5a49382716"  # no recognisable prefix: only the env value tells
    config_key = "local-server-secret-42"
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    monkeypatch.setenv("TOGETHER_API_KEY", together_key)
    logs.register_secret(config_key)
    path = logs.setup_logging(debug=True)
    assert path == paths.log_dir() / "chinwag.log"

    logging.getLogger("openai._base_client").debug("Request options: %s", {"headers": [
        ("Authorization", f"Bearer {env_key}")], "api_key": together_key})
    logging.getLogger("httpx2").debug("HTTP Request: POST %s", f"http://h/v1?key={config_key}")
    logging.getLogger("openai").debug("token %s", "Bearer abc.def-ghi")
    logging.getLogger("chinwag.client").info("sent with sk-unknownkey12345678")
    try:
        raise RuntimeError(f"failed with {env_key}")
    except RuntimeError:
        logging.getLogger("chinwag").exception("boom")

    text = read_log(path)
    for secret in (env_key, together_key, config_key, "abc.def-ghi", "sk-unknownkey12345678"):
        assert secret not in text
    assert "Request options" in text and "HTTP Request: POST" in text and "boom" in text
    assert text.count("[redacted]") >= 6


def test_default_level_is_info_and_sdk_debug_is_quiet(restore_logging):
    path = logs.setup_logging()
    logging.getLogger("openai._base_client").debug("sdk chatter")
    logging.getLogger("httpx2").info("HTTP Request: POST http://h/v1")
    logging.getLogger("chinwag.session").info("conversation saved")
    logging.getLogger("chinwag.session").debug("token details")
    text = read_log(path)
    assert "conversation saved" in text
    assert "sdk chatter" not in text and "HTTP Request" not in text and "token details" not in text
