"""Help, persona switcher/editor and settings dialogs, driven as a user would."""

from __future__ import annotations

import io
import tomllib

from rich.console import Console
from textual.app import App
from textual.widgets import Input, OptionList, Select, Static

from chinwag import paths
from chinwag.config import Settings
from chinwag.personas import PersonaSpec
from chinwag.tui.screens.help import HelpScreen
from chinwag.tui.screens.personas import PersonaEditor, PersonaScreen
from chinwag.tui.screens.settings import SettingsScreen
from chinwag.tui.themes import load_themes

SIZE = (100, 32)
ROWS = [
    ("Chat", "Enter", "Send the message"),
    ("Chat", "Escape", "Stop the reply"),
    ("App", "F1", "Show the keys"),
    ("App", "ctrl+q", "Quit"),
    ("History", "Delete", "Delete the [bold]conversation[/]"),
]
PERSONAS = {
    spec.name: spec
    for spec in (
        PersonaSpec("assistant", "A helpful general assistant", "You are helpful."),
        PersonaSpec("sassy", "Answers, but would rather not", "You are sassy."),
        PersonaSpec("coder", "Concise engineer: code first", "You write code."),
        PersonaSpec("tutor", "Explains step by step", "You teach."),
    )
}
THEMES = ["chinwag-dark", "chinwag-light", "chinwag-amber"]


class Host(App):
    """Registers chinwag's themes and pushes one dialog, keeping what it returns."""

    def __init__(self, make_screen):
        super().__init__()
        self.make_screen = make_screen
        self.results = []

    def on_mount(self) -> None:
        for theme in load_themes()[0]:
            self.register_theme(theme)
        self.theme = "chinwag-dark"
        self.push_screen(self.make_screen(), self.results.append)


def screen_text(app: App) -> str:
    """The characters on the terminal, as a user sees them."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(),
                      record=True, force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def shown_options(screen) -> list[str]:
    options = screen.query_one(OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


def error_of(screen, field: str) -> str:
    error = screen.query_one(f"#error-{field}", Static)
    return str(error.content) if error.display else ""


# Help

async def test_help_shows_every_row_and_closes_on_escape():
    app = Host(lambda: HelpScreen(ROWS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Keys" in text
        for where, key, what in ROWS:
            assert key in text and what in text and where in text
        await pilot.press("escape")
        assert app.results == [None]
        assert not isinstance(app.screen, HelpScreen)


async def test_help_scrolls_to_the_last_of_many_rows():
    rows = [("Chat", f"key{i}", f"action number {i}") for i in range(80)]
    app = Host(lambda: HelpScreen(rows))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "action number 79" not in screen_text(app)
        await pilot.press("end")
        await pilot.pause()
        assert "action number 79" in screen_text(app)


async def test_help_closes_on_f1_and_q():
    for key in ("f1", "q"):
        app = Host(lambda: HelpScreen(ROWS))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(key)
            assert app.results == [None]


# Persona switcher

async def test_persona_filter_narrows_as_you_type_and_enter_chooses():
    app = Host(lambda: PersonaScreen(PERSONAS, "assistant"))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert shown_options(screen) == list(PERSONAS)
        await pilot.press("c", "o")
        assert shown_options(screen) == ["coder"]
        await pilot.press("backspace", "backspace", *"STEP")  # matches the description
        assert shown_options(screen) == ["tutor"]
        await pilot.press("enter")
        assert app.results == [PERSONAS["tutor"]]


async def test_persona_arrows_move_while_typing_and_escape_returns_none():
    app = Host(lambda: PersonaScreen(PERSONAS, "sassy"))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert screen.highlighted.name == "sassy"  # the current one starts highlighted
        await pilot.press("down")
        assert screen.highlighted.name == "coder"
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.results == [None]


async def test_persona_no_match_says_so():
    app = Host(lambda: PersonaScreen(PERSONAS, "assistant"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"zzz")
        assert shown_options(app.screen) == []
        assert "No persona matches 'zzz'" in screen_text(app)
        await pilot.press("enter")
        assert app.results == []  # nothing to choose, the dialog stays


async def test_ctrl_n_creates_a_persona_in_the_file_and_the_list():
    app = Host(lambda: PersonaScreen(PERSONAS, "assistant"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PersonaEditor)
        await pilot.press(*"pirate", "tab", *"Talks like a pirate")
        await pilot.press("tab", *"Arr. [b]Be[/b] a pirate.")
        await pilot.press("tab", "tab", *"0.9")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PersonaScreen)
        data = tomllib.loads(paths.personas_file().read_text())
        assert data["personas"]["pirate"] == {
            "description": "Talks like a pirate",
            "system_prompt": "Arr. [b]Be[/b] a pirate.",
            "temperature": 0.9,
        }
        assert "pirate" in shown_options(app.screen)
        assert app.screen.highlighted.name == "pirate"
        await pilot.press("enter")
        assert app.results[0].name == "pirate"
        assert app.results[0].temperature == 0.9


async def test_editor_shows_errors_next_to_fields_and_saves_nothing():
    app = Host(lambda: PersonaScreen(PERSONAS, "assistant"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n", *"coder", "tab", "tab", *"x", "tab", "tab", *"9", "ctrl+s")
        editor = app.screen
        assert isinstance(editor, PersonaEditor)
        assert "exists" in error_of(editor, "name")
        assert "between 0 and 2" in error_of(editor, "temperature")
        assert not paths.personas_file().exists()
        await pilot.press("escape")
        assert isinstance(app.screen, PersonaScreen)


async def test_ctrl_e_edits_the_highlighted_persona():
    app = Host(lambda: PersonaScreen(PERSONAS, "assistant"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "ctrl+e")
        editor = app.screen
        assert isinstance(editor, PersonaEditor)
        assert editor.query_one("#persona-name", Input).value == "sassy"
        editor.query_one("#persona-description", Input).focus()
        await pilot.press(*"Very sassy", "ctrl+s")
        assert isinstance(app.screen, PersonaScreen)
        assert tomllib.loads(paths.personas_file().read_text())["personas"]["sassy"][
            "description"] == "Very sassy"
        assert app.screen.highlighted.description == "Very sassy"


async def test_editor_reports_a_broken_personas_file_without_a_traceback():
    paths.personas_file().parent.mkdir(parents=True)
    paths.personas_file().write_text("personas = [\n")
    app = Host(lambda: PersonaEditor(None, set(PERSONAS)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"new", "tab", "tab", *"Hello", "ctrl+s")
        assert isinstance(app.screen, PersonaEditor)
        assert "Could not save" in str(app.screen.query_one("#form-status", Static).content)
        assert paths.personas_file().read_text() == "personas = [\n"


# Settings

def settings_host(load_models=None, settings=None):
    settings = settings or Settings(provider="openai", model="gpt-4o-mini")
    return Host(lambda: SettingsScreen(settings, THEMES, load_models))


async def test_settings_refuses_a_bad_temperature_then_saves():
    app = settings_host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#field-temperature", Input).focus()
        await pilot.press("9", "ctrl+s")
        assert app.results == []
        assert "between 0 and 2" in error_of(screen, "temperature")
        assert "between 0 and 2" in screen_text(app)

        await pilot.press("backspace", *"1.2")
        screen.query_one("#field-max_tokens", Input).focus()
        await pilot.press(*"2048", "ctrl+s")
        [saved] = app.results
        assert saved.temperature == 1.2
        assert saved.max_tokens == 2048
        assert saved.model == "gpt-4o-mini" and saved.provider == "openai"


async def test_settings_save_button_and_empty_key_means_none():
    app = settings_host(settings=Settings(provider="together", api_key="sk-old"))
    async with app.run_test(size=SIZE) as pilot:
        key = app.screen.query_one("#field-api_key", Input)
        assert key.password
        key.focus()
        await pilot.press("backspace")
        await pilot.click("#save")
        assert app.results[0].api_key is None
        assert app.results[0].provider == "together"


async def test_theme_preview_applies_and_escape_restores():
    app = settings_host()
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#field-theme", Select).focus()
        await pilot.press("enter", "down", "down", "enter")
        assert app.theme == "chinwag-amber"
        await pilot.press("escape")
        assert app.results == [None]
        assert app.theme == "chinwag-dark"


async def test_theme_choice_is_kept_on_save():
    app = settings_host()
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#field-theme", Select).focus()
        await pilot.press("enter", "down", "enter", "ctrl+s")
        assert app.results[0].theme == "chinwag-light"
        assert app.theme == "chinwag-light"


async def test_model_list_failure_falls_back_to_free_text():
    calls = []

    async def load_models(provider, base_url, api_key):
        calls.append((provider, base_url, api_key))
        raise ConnectionError("server said [/b] no")

    app = settings_host(load_models)
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [("openai", None, None)]
        assert "Could not list models (server said [/b] no)" in screen_text(app)
        model = app.screen.query_one("#field-model", Input)
        model.focus()
        await pilot.press("ctrl+shift+a", *"my-own-model", "ctrl+s")
        assert app.results[0].model == "my-own-model"


async def test_listed_models_complete_the_model_field():
    async def load_models(provider, base_url, api_key):
        return ["gpt-4o", "o3-mini", "gpt-4.1-nano"]

    app = settings_host(load_models, Settings(provider="openai"))
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert "3 models available" in screen_text(app)
        model = app.screen.query_one("#field-model", Input)
        model.focus()
        await pilot.press("o")
        await model.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("right", "ctrl+s")
        assert app.results[0].model == "o3-mini"


async def test_changing_provider_reloads_models_for_it():
    calls = []

    async def load_models(provider, base_url, api_key):
        calls.append(provider)
        return []

    app = settings_host(load_models)
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.workers.wait_for_complete()
        app.screen.query_one("#field-provider", Select).value = "ollama"
        await pilot.pause()
        await app.screen.workers.wait_for_complete()
        assert calls == ["openai", "ollama"]
        assert "not needed for ollama" in screen_text(app)


# Snapshots (chinwag-dark, fixed content)

def test_snapshot_help(snap_compare):
    assert snap_compare(Host(lambda: HelpScreen(ROWS)), terminal_size=SIZE)


def test_snapshot_persona_switcher(snap_compare):
    app = Host(lambda: PersonaScreen(PERSONAS, "sassy"))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_settings(snap_compare):
    async def load_models(provider, base_url, api_key):
        return ["gpt-4o", "gpt-4o-mini"]

    async def models_loaded(pilot):
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause()

    app = settings_host(load_models)
    assert snap_compare(app, terminal_size=SIZE, run_before=models_loaded)


def test_snapshot_rename_dialog(snap_compare):
    from chinwag.tui.screens.dialogs import TextPrompt

    app = Host(lambda: TextPrompt("Rename conversation", "Weather complaints", "A title cannot be empty."))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_confirm_dialog(snap_compare):
    from rich.text import Text

    from chinwag.tui.screens.dialogs import Confirm

    question = Text("Delete ")
    question.append("Weather complaints", style="bold")
    question.append("? Its file is removed for good.")
    app = Host(lambda: Confirm("Delete conversation", question, "y or Enter deletes · n or Escape keeps it"))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_export_dialog(snap_compare):
    from pathlib import Path

    from chinwag.tui.screens.export import ExportScreen

    app = Host(lambda: ExportScreen("Weather complaints", Path("/home/me/notes")))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_persona_editor(snap_compare):
    app = Host(lambda: PersonaEditor(PERSONAS["sassy"], PERSONAS))
    assert snap_compare(app, terminal_size=SIZE)


async def test_settings_never_show_a_password_in_the_base_url_and_keep_it_on_save():
    url = "http://user:pa55w0rd@127.0.0.1:8080/v1"
    app = settings_host(settings=Settings(provider="custom", base_url=url, model="m"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "pa55w0rd" not in screen_text(app) and "user:" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results[0].base_url == url  # unchanged: the password stays in the file


async def test_settings_take_a_new_password_typed_over_the_mask():
    app = settings_host(settings=Settings(provider="custom", base_url="http://u:old@h:1/v1", model="m"))
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#field-base_url", Input).value = "http://u:new@h:1/v1"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results[0].base_url == "http://u:new@h:1/v1"


async def test_settings_error_goes_once_the_field_is_corrected_and_reads_plainly():
    app = settings_host()
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#field-max_tokens", Input).value = "99999999"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = app.screen.query_one("#error-max_tokens", Static)
        assert "between 1 and 1,000,000" in str(error.render())
        app.screen.query_one("#field-max_tokens", Input).value = "800"
        await pilot.pause()
        assert str(error.render()) == ""
