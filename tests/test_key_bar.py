"""The footer (KeyBar): the keys in force, on one line; a click presses one."""

from __future__ import annotations

from tui_helpers import SIZE, chat, make_app, send, wait_for

from chinwag.tui.widgets.key_bar import KeyBar


def shown(app) -> str:
    return app.screen.query_one(KeyBar).render().plain


async def after_a_reply(pilot, app) -> None:
    await send(pilot, "hi")
    await wait_for(pilot, lambda: not chat(app).replying, "the reply")


def where(app, text: str) -> int:
    """The column where ``text`` starts in the footer."""
    column = shown(app).index(text)
    assert column >= 0
    return column


async def test_the_chat_footer_lists_its_keys_and_the_palette_at_the_right():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "f1 Help" in shown(app), "the keys")
        line = shown(app)
        for part in ("⏎ Send", "esc Stop reply", "^n New chat", "^r Regenerate", "f3 Persona", "^q Quit", "f1 Help"):
            assert part in line
        assert line.rstrip().endswith("▏^p palette")
        assert len(line) == SIZE[0]


async def test_a_remapped_key_shows_under_its_new_name(chat_server):
    app = make_app(chat_server, keys={"chat.new": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "f9 New chat" in shown(app), "the remapped key")
        assert "^n New chat" not in shown(app)


async def test_clicking_a_key_does_what_the_key_does(chat_server):
    chat_server.reply("hello")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await after_a_reply(pilot, app)
        first = chat(app).session.conversation
        await pilot.click(KeyBar, offset=(where(app, "New chat"), 0))
        await wait_for(pilot, lambda: chat(app).session.conversation is not first, "a new conversation")
        await pilot.click(KeyBar, offset=(where(app, "f1 Help") + 1, 0))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help")


async def test_on_a_narrow_screen_keys_that_do_not_fit_are_left_out_whole():
    app = make_app()
    async with app.run_test(size=(72, 24)) as pilot:
        await wait_for(pilot, lambda: "⏎ Send" in shown(app), "the keys")
        line = shown(app)
        assert len(line) == 72
        assert line.rstrip().endswith("▏^p palette")
        assert "f4 Settings" not in line and "Sett" not in line  # no key cut in the middle
        assert "⏎ Send" in line


async def test_the_key_under_the_mouse_is_lit(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "New chat" in shown(app), "the keys")
        bar = app.screen.query_one(KeyBar)
        column = where(app, "New chat")
        before = bar.render().get_style_at_offset(app.console, column)
        await pilot.hover(KeyBar, offset=(column, 0))

        def lit():
            return bar.render().get_style_at_offset(app.console, column)

        await wait_for(pilot, lambda: lit().bgcolor != before.bgcolor, "the key lit")
        elsewhere = bar.render().get_style_at_offset(app.console, where(app, "Persona"))
        assert elsewhere.bgcolor == before.bgcolor


async def test_keys_of_one_group_stand_together_under_its_name(chat_server):
    chat_server.reply("first")
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await after_a_reply(pilot, app)
        await pilot.press("ctrl+up")
        await wait_for(pilot, lambda: chat(app).log_view.selected is not None, "message mode")
        await wait_for(pilot, lambda: "← → Versions" in shown(app), "the versions group")
