"""The API key reaches the server and nowhere else: not a document, index, export, log or message.

Only config.toml may hold a key the user typed into the settings, and then it is private (0600).
"""

from __future__ import annotations

import logging
import os
import stat
import uuid

import pytest
from test_crash_tui import chinwag, pty_missing
from test_hostile import export_via_tui, rendered_text
from textual.widgets import Input
from tui_helpers import SIZE, chat, make_app, only_document, replying, screen_text, send, wait_for

from chinwag import cli, logs, paths
from chinwag.export import FORMATS
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.settings import SettingsScreen


@pytest.fixture
def debug_log(restore_logging):
    """setup_logging(debug=True) for the test; logging is put back afterwards."""
    return logs.setup_logging(debug=True)

def files_holding(root, secret: str) -> list[str]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes())


def assert_log_written_without(log_path, secret: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_path.read_text("utf-8")
    assert log_path.parent == paths.log_dir()
    assert "DEBUG" in text and "/chat/completions" in text  # the session really was logged
    assert secret not in text


async def chat_with_failures_and_exports(pilot, app, server, key: str, exports) -> None:
    """A 401 whose message echoes the key, a retry, a second turn, every export, then quit."""
    server.fail(401, f"Incorrect API key provided: {key}. You can find your API key at ...")
    await send(pilot, "hello with a key")
    await wait_for(pilot, lambda: "API key" in screen_text(app), "the 401 notice")
    assert key not in screen_text(app) and key not in rendered_text(app)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: not replying(app) and "You said: hello with a key" in screen_text(app), "retry")
    await send(pilot, "second turn")
    await wait_for(pilot, lambda: not replying(app) and "You said: second turn" in screen_text(app), "reply 2")
    exports.mkdir()
    for fmt in FORMATS:
        await export_via_tui(pilot, app, fmt, exports / f"chat.{fmt}")
    await pilot.press("ctrl+q")


async def test_key_from_the_environment_is_used_and_never_written(chat_server, monkeypatch, isolated_dirs,
                                                                  debug_log):
    key = "sk-test-" + uuid.uuid4().hex
    monkeypatch.setenv("OPENAI_API_KEY", key)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await chat_with_failures_and_exports(pilot, app, chat_server, key, isolated_dirs / "exports")
    assert {r.headers.get("authorization") for r in chat_server.chat_requests} == {f"Bearer {key}"}
    assert len(only_document()["messages"]) == 4
    assert_log_written_without(debug_log, key)
    assert files_holding(isolated_dirs, key) == []


async def type_key_into_settings(pilot, app, key: str) -> Input:
    """F4, then type ``key`` into the API key box, as a person would."""
    await pilot.press("f4")
    await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
    field = app.screen.query_one("#field-api_key", Input)
    field.focus()
    await pilot.press(*key)
    return field


async def test_key_typed_into_settings_stays_in_the_private_config(chat_server, isolated_dirs, debug_log):
    key = "typed" + uuid.uuid4().hex  # no sk- prefix: no pattern would catch it by its shape
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        field = await type_key_into_settings(pilot, app, key)
        assert field.value == key
        assert key not in rendered_text(app)  # a password box
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "settings closed")
        await wait_for(pilot, lambda: paths.config_file().exists() and key in paths.config_file().read_text(),
                       "config.toml written")
        await chat_with_failures_and_exports(pilot, app, chat_server, key, isolated_dirs / "exports")
    assert {r.headers.get("authorization") for r in chat_server.chat_requests} == {f"Bearer {key}"}
    assert_log_written_without(debug_log, key)
    config = paths.config_file()
    assert files_holding(isolated_dirs, key) == [str(config.relative_to(isolated_dirs))]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


async def test_failure_messages_never_show_the_key(chat_server, monkeypatch):
    key = "sk-test-" + uuid.uuid4().hex
    monkeypatch.setenv("OPENAI_API_KEY", key)
    chat_server.fail(400, f"Bad request from key {key}")
    chat_server.mid_stream_error("partial", message=f"upstream rejected {key}")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await wait_for(pilot, lambda: "Bad request from key" in screen_text(app), "the 400 notice")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "upstream rejected" in screen_text(app), "the error frame notice")
        assert key not in screen_text(app) and key not in rendered_text(app)
        assert key not in str(chat(app).query_one("#status").render())
    assert key not in str(only_document())


# -- the --debug flag ---------------------------------------------------------------------


@pytest.mark.parametrize("flags, level", [(["--debug"], logging.DEBUG), ([], logging.INFO)])
def test_debug_flag_reaches_the_log(chat_server, launched, flags, level):
    assert cli.main([*flags, "--base-url", chat_server.base_url]) == 0
    assert len(launched) == 1
    assert logging.getLogger().level == level
    assert logging.getLogger("openai").level == (logging.DEBUG if flags else logging.WARNING)
    logging.getLogger("chinwag.test").info("written by the test")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "written by the test" in (paths.log_dir() / "chinwag.log").read_text("utf-8")


@pytest.mark.skipif(pty_missing, reason="needs a POSIX pseudo-terminal (os.openpty)")
def test_real_program_with_debug_logs_everything_but_the_key(chat_server, isolated_dirs):
    key = "sk-test-" + uuid.uuid4().hex
    with chinwag(chat_server, "--debug", env={"OPENAI_API_KEY": key}) as term:
        term.ready()
        term.type("hello from a terminal\r")
        term.wait_for(lambda: any(r.usage for r in chat_server.chat_requests), "the reply")
        term.wait_for(lambda: b"You said: hello" in term.output, "the reply on screen")
        assert term.quit() == 0
    assert chat_server.chat_requests[0].headers["authorization"] == f"Bearer {key}"
    log = (paths.log_dir() / "chinwag.log").read_text("utf-8")
    assert "DEBUG" in log and "/chat/completions" in log
    assert files_holding(isolated_dirs, key) == []


# -- what the log may hold ---------------------------------------------------------------------


async def test_a_key_typed_into_settings_and_cancelled_never_reaches_the_log(chat_server, isolated_dirs,
                                                                             debug_log):
    key = "typed" + uuid.uuid4().hex  # no recognisable shape: only knowing it redacts it
    # A server (or a proxy) that echoes the key in a response header: httpcore2 dumps headers.
    chat_server.echo_key_header = "x-echo-key"
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await type_key_into_settings(pilot, app, key)
        app.screen.query_one("#field-model", Input).focus()  # leaving the box lists the models
        await wait_for(pilot, lambda: any(r.headers.get("authorization") == f"Bearer {key}"
                                          for r in chat_server.requests), "the models request")
        await wait_for(pilot, lambda: "models available" in str(app.screen.query_one("#model-note").render()),
                       "the models list")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "settings cancelled")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = debug_log.read_text("utf-8")
    assert "x-echo-key" in text  # the header dump really was logged ...
    assert key not in text  # ... without the key
    assert files_holding(isolated_dirs, key) == []
    assert not paths.config_file().exists()


def test_the_log_is_private_even_when_it_existed_and_after_rotation(restore_logging):
    path = paths.log_dir() / "chinwag.log"
    path.parent.mkdir(parents=True)
    path.write_text("old line\n")
    os.chmod(path, 0o644)
    older = path.with_name("chinwag.log.3")  # rotated by an older chinwag, which made them 0644
    older.write_text("an older line\n")
    os.chmod(older, 0o644)
    logs.setup_logging()
    assert stat.S_IMODE(older.stat().st_mode) == 0o600
    logging.getLogger("chinwag.test").warning("a line")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logs._handler.doRollover()
    logging.getLogger("chinwag.test").warning("after rotation")
    for rotated in path.parent.glob("chinwag.log*"):
        assert stat.S_IMODE(rotated.stat().st_mode) == 0o600, rotated.name


def test_credentials_in_urls_are_redacted_in_every_logger_and_handler(restore_logging):
    import io

    path = logs.setup_logging(debug=True)
    own = io.StringIO()  # a handler a library might add for itself, outside chinwag's file
    library = logging.getLogger("some.library")
    library.addHandler(logging.StreamHandler(own))
    library.propagate = False
    try:
        logs.register_url("https://bob:pa55-w0rd@llm.example/v1")
        library.warning("connecting to %s", "https://bob:pa55-w0rd@llm.example/v1/chat")
        logging.getLogger("httpx2").info("HTTP Request: POST https://alice:hunter2@proxy.example/v1")
        logging.getLogger("httpcore2.http11").debug("password pa55-w0rd in a header dump (b'pa55-w0rd')")
    finally:
        library.propagate = True
        library.handlers.clear()
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text("utf-8") + own.getvalue()
    assert "hunter2" not in text and "pa55-w0rd" not in text and "alice" not in text and "bob" not in text
    assert "proxy.example" in text and "llm.example" in text


@pytest.mark.skipif(pty_missing, reason="needs a POSIX pseudo-terminal (os.openpty)")
def test_a_base_url_with_a_password_stays_out_of_the_log(chat_server, isolated_dirs):
    url = chat_server.base_url.replace("http://", "http://user:s3cr3t-pass@")
    with chinwag(chat_server, "--debug", "--base-url", url) as term:
        term.ready()
        term.type("hello\r")
        term.wait_for(lambda: any(r.usage for r in chat_server.chat_requests), "the reply")
        assert term.quit() == 0
    log = (paths.log_dir() / "chinwag.log").read_text("utf-8")
    assert "/chat/completions" in log
    assert files_holding(isolated_dirs, "s3cr3t-pass") == []


def test_a_key_is_redacted_while_it_is_being_typed(restore_logging):
    path = logs.setup_logging(debug=True)
    logs.typing_secret("half-typed-key-42")
    logging.getLogger("anything").debug("the box holds half-typed-key-42")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "half-typed-key-42" not in path.read_text("utf-8")
