"""Keys: every binding has an id; [keys] in config.toml moves one to other keys, F1 shows it."""

from __future__ import annotations

from tui_helpers import SIZE, chat, make_app, screen_text, send, wait_for

from chinwag.config import load_settings
from chinwag.paths import config_file
from chinwag.tui.keys import binding_ids, help_rows


def test_every_binding_has_an_id_and_a_description():
    ids = binding_ids()
    assert {"chat.stop", "chat.new", "chat.regenerate", "app.history", "app.quit", "history.rename"} <= set(ids)
    assert all(binding.description for binding in ids.values())


def test_keys_table_in_config_is_read_and_bad_entries_are_reported(tmp_path):
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keys]\n"chat.new" = "f9"\n"chat.stop" = 3\n"app.help" = " f1 , ctrl+h "\n')
    settings, warnings = load_settings()
    assert settings.keys == {"chat.new": "f9", "app.help": "f1,ctrl+h"}
    assert any("keys.chat.stop" in warning for warning in warnings)


def test_help_shows_the_keys_in_force():
    rows = help_rows({"chat.new": "f9"})
    assert ("Chat", "f9", "New chat") in rows
    assert ("Chat", "ctrl+n", "New chat") not in rows


async def test_a_remapped_key_does_the_job_and_the_old_one_no_longer_does(chat_server):
    chat_server.reply("hello back")
    app = make_app(chat_server, keys={"chat.new": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "hello back" in screen_text(app), "the reply")
        first = chat(app).session.conversation.id
        await pilot.press("ctrl+n")
        await pilot.pause(0.1)
        assert chat(app).session.conversation.id == first  # ctrl+n is free for the terminal now
        await pilot.press("f9")
        await wait_for(pilot, lambda: chat(app).session.conversation.id != first, "a new conversation")


async def test_unknown_binding_ids_are_named_at_start(chat_server):
    app = make_app(chat_server, keys={"chat.nonsense": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        messages = [str(n.message) for n in app._notifications]
        assert any("chat.nonsense" in m and "unknown" in m for m in messages)


async def test_a_theme_name_with_markup_shows_literally_in_the_palette_and_is_saved(chat_server):
    from textual.command import CommandPalette

    from chinwag import paths

    themes = paths.user_themes_dir()
    themes.mkdir(parents=True)
    (themes / "crash.toml").write_text('name = "x[/bold]crash"\nprimary = "#0000ff"\ndark = true\n')
    app = make_app(chat_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"crash")
        await wait_for(pilot, lambda: "x[/bold]crash" in app.screen.query_one("CommandList").render_line(0).text
                       if app.screen.query("CommandList") and app.screen.query_one("CommandList").option_count
                       else False, "the theme listed, literally")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "x[/bold]crash", "the theme applied")
    assert 'theme = "x[/bold]crash"' in paths.config_file().read_text()


async def test_the_palette_offers_no_theme_picker_that_would_not_save(chat_server):
    app = make_app(chat_server)
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Theme: chinwag-light" in titles


async def test_moving_send_off_enter_makes_enter_a_newline(chat_server):
    chat_server.reply("got it")
    app = make_app(chat_server, keys={"composer.send": "ctrl+s", "composer.newline": "enter"})
    async with app.run_test(size=SIZE) as pilot:
        composer = chat(app).composer
        composer.focus()
        await pilot.press(*"line A", "enter", *"line B")
        assert composer.text == "line A\nline B" and chat_server.chat_requests == []
        assert "ctrl+s send" in str(composer.border_title) and "Enter newline" in str(composer.border_title)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "got it" in screen_text(app), "sent with ctrl+s")
    assert chat_server.chat_requests[0].body["messages"][-1]["content"] == "line A\nline B"


def test_the_readme_lists_every_binding_id():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [binding_id for binding_id in binding_ids() if f"`{binding_id}`" not in readme]
    assert missing == []
