"""Shared fixtures. Every test runs with its own XDG dirs and no API keys from the host."""

from __future__ import annotations

import pytest
from server import ChatServer

KEY_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TOGETHER_API_KEY", "CHINWAG_PROVIDER")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Point platformdirs at temp dirs and hide the host's keys."""
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        path = tmp_path / f"xdg-{name.lower()}"
        path.mkdir()
        monkeypatch.setenv(f"XDG_{name}_HOME", str(path))
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def close_indexes():
    """Each test's index files live in its own temp dirs: close them after it."""
    yield
    from chinwag.index import Index

    Index.close_all()


@pytest.fixture
def chat_server():
    """A running loopback Chat Completions server (see tests/server.py)."""
    with ChatServer() as server:
        yield server


@pytest.fixture
def restore_logging():
    """Put the root logger, chinwag's log handler and the noisy loggers back after the test."""
    import logging

    from chinwag import logs

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in logs.NOISY}
    secrets = set(logs._secrets)
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)
    logs._typed = ""
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    logs._handler = None
    logs._secrets.clear()
    logs._secrets.update(secrets)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def launched(monkeypatch, restore_logging):
    """Apps that `chinwag` built and would have run (ChinwagApp.run records instead of running)."""
    from chinwag.tui.app import ChinwagApp

    apps: list = []
    monkeypatch.setattr(ChinwagApp, "run", lambda self, *args, **kwargs: apps.append(self))
    return apps
