"""The app when it runs in a browser tab: twins for the keys a browser keeps, in footer and F1.

(test_web_server.py drives the same through a real served session; these pin the details.)
"""

from __future__ import annotations

import pytest
from textual.widgets import TextArea
from tui_helpers import SIZE, chat, make_app

from chinwag.tui.screens.help import HelpScreen
from chinwag.tui.web import ServedApp, browser_keys_text
from chinwag.tui.widgets.key_bar import KeyBar


@pytest.fixture
def served(monkeypatch):
    """As under textual-serve (whose web driver makes App.is_web true)."""
    monkeypatch.setattr(ServedApp, "served", property(lambda self: True))


def footer_keys(app) -> dict[str, str]:
    items, palette = app.screen.query_one(KeyBar).keys()
    return {key.action: key.display for key in [*(key for item in items for key in item.keys), palette]}


async def test_served_the_footer_and_help_show_the_twins_and_they_work(served):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = footer_keys(app)
        assert keys["new"] == "alt+n" and keys["quit"] == "alt+q"
        assert keys["regenerate"] == "^r"  # a key the browser lets through keeps its name
        await pilot.press("f1")
        rows = app.screen.rows if isinstance(app.screen, HelpScreen) else []
        shown = {key for _, key, _ in rows}
        assert "alt+n" in shown and "alt+q" in shown and "ctrl+n" not in shown and "ctrl+r" in shown
        await pilot.press("escape")
        first = chat(app).session.conversation
        await pilot.press("alt+n")
        await pilot.pause()
        assert chat(app).session.conversation is not first  # a new conversation, as ctrl+n does
        composer = chat(app).query_one(TextArea)
        composer.focus()
        composer.text = "keep this but not that"
        composer.move_cursor(composer.document.end)
        await pilot.press("alt+w")  # ctrl+w in the composer: delete the word before the cursor
        assert composer.text == "keep this but not "


async def test_in_a_terminal_the_twins_are_not_taken():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert footer_keys(app)["new"] == "^n"
        first = chat(app).session.conversation
        await pilot.press("alt+n")
        await pilot.pause()
        assert chat(app).session.conversation is first


def test_help_key_lists_are_translated_one_by_one():
    assert browser_keys_text("ctrl+n") == "alt+n"
    assert browser_keys_text("ctrl+j / shift+enter") == "ctrl+j / shift+enter"
    assert browser_keys_text("ctrl+tab / ctrl+w") == "alt+pagedown / alt+w"
