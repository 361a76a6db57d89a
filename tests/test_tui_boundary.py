"""Outside text other than replies, on the chat screen and its dialogs: error bodies, model ids
(flags, /v1/models, documents), theme, persona and file names, config values. All of it is
shown as plain text: never an escape sequence on the terminal, never markup, never a crash on
a lone surrogate (ctrl+y, ctrl+e)."""

from __future__ import annotations

from test_faults import rendered_text
from test_hostile import assert_terminal_safe, export_via_tui
from textual.widgets import Input
from tui_helpers import SIZE, chat, make_app, replying, screen_text, send, wait_for

from chinwag import paths
from chinwag.config import load_settings
from chinwag.conversation import Conversation
from chinwag.store import Store
from chinwag.tui.messages import OpenConversation
from chinwag.tui.app import ChinwagApp
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.personas import PersonaScreen
from chinwag.tui.screens.settings import SettingsScreen

OSC52 = "\x1b]52;c;aGVsbG8=\x1b\\"
NASTY = f"bad {OSC52} clip \x1b]0;pwned\x07 title \x1b[2J\x9b2J cls [bold]markup[/] \ud800 end"


def toml_string(text: str) -> str:
    text = text.replace("\ud800", "")  # TOML cannot hold a lone surrogate at all
    unsafe = lambda c: ord(c) < 32 or 0x7f <= ord(c) <= 0x9f or c in '"\\'  # noqa: E731
    return '"' + "".join(f"\\u{ord(c):04x}" if unsafe(c) else c for c in text) + '"'


async def test_a_servers_error_body_and_the_retry_countdown_are_plain_text(chat_server):
    chat_server.fail(500, NASTY, times=2)
    app = make_app(chat_server, retries=1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "Retrying in" in screen_text(app), "the countdown")
        assert_terminal_safe(app)
        assert "pwned" not in rendered_text(app) and "aGVsbG8=" not in rendered_text(app)
        await wait_for(pilot, lambda: "Press ctrl+r" in screen_text(app), "the final failure", steps=600)
        assert_terminal_safe(app)
        assert "[bold]markup[/]" in screen_text(app)  # shown literally


async def test_a_model_id_from_a_flag_shows_plain_in_the_header_and_the_reply(chat_server):
    chat_server.reply("fine")
    app = make_app(chat_server, model=f"gpt{OSC52}-4o\ud800")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "hi")
        await wait_for(pilot, lambda: not replying(app) and "fine" in screen_text(app), "the reply")
        assert_terminal_safe(app)
        assert "aGVsbG8=" not in chat(app).sub_title


async def test_model_ids_from_the_server_are_offered_as_plain_text(chat_server):
    chat_server.models = [f"evil{OSC52}-model", "good-model"]
    app = make_app(chat_server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
        await wait_for(pilot, lambda: "models available" in str(app.screen.query_one("#model-note").render()),
                       "the model list")
        field = app.screen.query_one("#field-model", Input)
        field.focus()
        field.value = ""
        await pilot.press("e", "v")
        await wait_for(pilot, lambda: "evil-model" in rendered_text(app), "the suggestion")
        assert_terminal_safe(app)


async def test_a_hostile_document_resumes_copies_and_exports_without_a_crash(chat_server, tmp_path):
    conv = Conversation(model=f"m{OSC52}\ud800", title=f"title {NASTY}")
    conv.add_user(f"question {NASTY}")
    conv.add_assistant(f"answer {NASTY}", model=f"gpt{OSC52}")
    Store().save(conv)
    app = make_app(chat_server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.chat.post_message(OpenConversation(Store().load(conv.id)))
        await wait_for(pilot, lambda: "answer bad" in screen_text(app), "the resumed conversation")
        assert_terminal_safe(app)
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: "Copied" in rendered_text(app), "the copy")
        text = await export_via_tui(pilot, app, "md", tmp_path / "out.md")
        assert "answer bad" in text and "\x1b" not in text and "\ufffd" in text
        assert_terminal_safe(app)
    assert Store().load(conv.id).messages[1].content == f"answer {NASTY}"  # the document keeps it


async def test_theme_persona_and_config_names_show_plain(chat_server):
    paths.user_themes_dir().mkdir(parents=True)
    (paths.user_themes_dir() / "evil.toml").write_text(
        f'name = {toml_string("evil" + OSC52)}\nprimary = "#ff0000"\n', "utf-8")
    paths.personas_file().write_text(
        f'[personas.{toml_string("pirate" + OSC52)}]\ndescription = {toml_string("arr " + NASTY)}\n'
        'system_prompt = "x"\n', "utf-8")
    paths.config_file().write_text(f'temperature = {toml_string("hot " + NASTY)}\n', "utf-8")
    settings, warnings = load_settings()  # as chinwag's start does
    settings.base_url, settings.model = chat_server.base_url, "gpt-4o-mini"
    app = ChinwagApp(settings, warnings=warnings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "temperature" in rendered_text(app), "the config warning")
        assert "evil.toml skipped" in rendered_text(app)  # a theme name with escapes is refused
        assert_terminal_safe(app)
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, PersonaScreen), "personas")
        await wait_for(pilot, lambda: "pirate" in rendered_text(app), "the persona")
        assert_terminal_safe(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "back")


# -- small things a user hits ------------------------------------------------------------------


async def test_on_a_tiny_terminal_the_composer_stays_usable(chat_server):
    chat_server.reply("small")
    app = make_app(chat_server)
    async with app.run_test(size=(20, 10)) as pilot:
        composer = chat(app).composer
        await pilot.pause()
        assert composer.region.width >= 16 and composer.region.height >= 3
        assert composer.region.bottom <= 10 - 1  # above the footer, on screen
        assert not chat(app).query_one("TokenMeter").display  # the sidebar gave way
        await pilot.press(*"hi", "enter")
        await wait_for(pilot, lambda: not replying(app) and "small" in screen_text(app), "the reply")
        await pilot.press("ctrl+b")  # asked for, the sidebar still comes back
        assert chat(app).query_one("TokenMeter").display
    async with make_app(chat_server).run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert pilot.app.chat.query_one("TokenMeter").region.width > 0  # wide: the sidebar is there


async def test_settings_openai_with_a_typed_base_url_needs_no_openai_key(chat_server):
    chat_server.reply("no key needed")
    app = ChinwagApp(load_settings()[0])  # no key anywhere: the app opens asking for one
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "No API key" in screen_text(app), "the missing-key notice")
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), "settings")
        app.screen.query_one("#field-provider").value = "openai"
        app.screen.query_one("#field-base_url", Input).value = chat_server.base_url
        app.screen.query_one("#field-model", Input).value = "gpt-4o-mini"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "settings saved")
        await send(pilot, "hello")
        await wait_for(pilot, lambda: not replying(app) and "no key needed" in screen_text(app), "the reply")
    assert chat_server.chat_requests[0].body["model"] == "gpt-4o-mini"


async def test_a_theme_from_the_palette_changes_only_its_line_of_a_hand_edited_config(chat_server):
    from test_fileio import USER_FILE

    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text(USER_FILE, "utf-8")
    settings, warnings = load_settings()
    settings.base_url = chat_server.base_url
    app = ChinwagApp(settings, warnings=warnings)
    async with app.run_test(size=SIZE) as pilot:
        edited = USER_FILE.replace('model = "gpt-4o"', 'model = "gpt-4.1"')  # by hand, while it runs
        paths.config_file().write_text(edited, "utf-8")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Theme: chinwag-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "chinwag-light" in paths.config_file().read_text("utf-8"), "config saved")
    expected = edited.replace("future_flag = true\n", 'future_flag = true\ntheme = "chinwag-light"\n')
    assert paths.config_file().read_text("utf-8") == expected  # comments, bad entries, [prices] kept
