"""A cache folder that cannot be used (a file where it should be; a read-only home does the same)
blocks nothing: the cache is derived, never the truth. Listing, searching, usage, exports and
chatting work, token counts stay exact, one warning says so, and no error blames a save."""

from __future__ import annotations

import shutil

import pytest
from documents import saved
from tui_helpers import SIZE, make_app, only_document, replying, screen_text, send, wait_for

from chinwag import paths
from chinwag.cli import main
from chinwag.index import Index
from chinwag.tokens import TokenCounter


@pytest.fixture
def unusable_cache():
    Index.close_all()
    shutil.rmtree(paths.cache_dir(), ignore_errors=True)
    paths.cache_dir().write_text("a file where the cache folder should be")
    return paths.cache_dir()


def test_the_command_line_works_without_its_cache(capsys, unusable_cache):
    old = saved("What is the weather like today?", "Grey, obviously.", "2026-01-02T10:00:00Z")
    new = saved("Write a haiku about tea", "Steam curls from the cup", "2026-03-04T12:00:00Z")
    for argv in (["list"], ["list", "--search", "haiku"], ["usage"], ["export", new.id]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (argv, err)
        warnings = [line for line in err.splitlines() if line.startswith("chinwag:")]
        assert len(warnings) == 1 and warnings[0].startswith("chinwag: warning: the cache folder")
        assert str(unusable_cache) in warnings[0] and "save" not in err
        if argv == ["list"]:
            assert [line.split()[0] for line in out.splitlines()[1:]] == [new.id, old.id]
            tokens = TokenCounter("gpt-4o-mini")
            expected = sum(3 + tokens.count_text(m.role) + tokens.count_text(m.content) for m in new.messages) + 3
            assert out.splitlines()[1].split()[5] == str(expected)  # exact, not estimated
        if argv[:2] == ["list", "--search"]:
            assert new.id in out and old.id not in out


def test_a_usable_cache_gives_no_warning(capsys):
    saved("hello", "hi", "2026-01-02T10:00:00Z")
    assert main(["list"]) == 0
    assert capsys.readouterr().err == ""


async def test_chatting_works_without_the_cache(chat_server, unusable_cache, launched):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello without a cache")
        await wait_for(pilot, lambda: not replying(app) and len(chat_server.chat_requests) == 1, "reply")
        await wait_for(pilot, lambda: "You said: hello without a cache" in screen_text(app), "reply on screen")
        assert "Could not save" not in screen_text(app)
    document = only_document()
    assert [m["content"] for m in document["messages"]] == ["hello without a cache", "You said: hello without a cache"]
    # Started as `chinwag` is, the app is told once why the cache is not used.
    assert main([]) == 0
    [app] = launched
    assert sum("cache folder" in warning for warning in app.startup_warnings) == 1
