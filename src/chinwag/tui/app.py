"""The chinwag Textual app: wires settings, personas, themes, the store and the client to screens."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from chinwag import config, export
from chinwag.client import ChatClient
from chinwag.logs import register_secret
from chinwag.model_params import parse_overrides
from chinwag.paths import config_file
from chinwag.conversation import Conversation
from chinwag.personas import PersonaSpec, load_personas
from chinwag.providers import Resolved, resolve
from chinwag.sanitize import clean
from chinwag.session import ChatSession, Totals, start_conversation
from chinwag.store import Store
from chinwag.tui.screens.chat import ChatScreen
from chinwag.tui.screens.export import ExportScreen
from chinwag.tui.screens.help import HelpScreen
from chinwag.tui.screens.personas import PersonaScreen
from chinwag.tui.screens.settings import SettingsScreen
from chinwag.tui.themes import load_themes
from chinwag.tui.web import DOWNLOAD_TYPES, ServedApp, browser_keys_text

DEFAULT_THEME = "chinwag-dark"


class ChinwagApp(ServedApp):
    """Full-screen chat with OpenAI-compatible APIs."""

    TITLE = "chinwag"
    CSS_PATH = Path(__file__).parent / "app.tcss"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "history", "History"),
        Binding("f4", "settings", "Settings"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        settings: config.Settings,
        *,
        store: Store | None = None,
        conversation: Conversation | None = None,
        overrides: dict | None = None,
        warnings: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.settings = settings
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}
        self.store = store or Store()
        self.startup_warnings = list(warnings)
        self.personas, persona_warnings = load_personas()
        self.startup_warnings += persona_warnings
        self.model_overrides, model_warnings = parse_overrides(settings.extra.get("models"), str(config_file()))
        self.startup_warnings += model_warnings
        self.session_totals = Totals()
        self.resolved = self._resolve()
        self.client = self._make_client()
        self.initial_conversation = conversation

    # -- wiring ----------------------------------------------------------------------

    def _resolve(self) -> Resolved:
        return resolve(self.settings, overrides=self.overrides)

    def _make_client(self) -> ChatClient:
        # No silent SDK retries: the chat screen retries with a visible countdown (settings.retries).
        return ChatClient(self.resolved.base_url, self.resolved.api_key, timeout=self.settings.timeout, max_retries=0)

    def persona_spec(self, name: str | None = None) -> PersonaSpec:
        name = name or self.overrides.get("persona") or self.settings.persona
        return self.personas.get(name) or self.personas["assistant"]

    def new_session(self, conversation: Conversation | None = None) -> ChatSession:
        if conversation is None:
            conversation = start_conversation(self.settings, self.resolved, self.persona_spec())
        return ChatSession(
            conversation,
            self.store,
            self.client,
            prices=self.settings.prices,
            session_totals=self.session_totals,
            default_budget=self.settings.token_budget,
            model_overrides=self.model_overrides,
        )

    @property
    def chat(self) -> ChatScreen:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ChatScreen):
                return screen
        raise LookupError("no chat screen")

    def on_mount(self) -> None:
        themes, theme_warnings = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.startup_warnings += theme_warnings
        self.theme = self.settings.theme if self.settings.theme in self.available_themes else DEFAULT_THEME
        self.push_screen(ChatScreen(self.new_session(self.initial_conversation), self.resolved.missing))
        for warning in self.startup_warnings:
            self.notify(warning, title="Configuration", severity="warning", markup=False, timeout=10)

    def on_ready(self) -> None:
        # After the first frame: slow loads would otherwise hold the GIL while we paint.
        self.warm_up()

    @work(thread=True, exit_on_error=False)
    def warm_up(self) -> None:
        """Load the tokenizer and the OpenAI SDK off the start-up path (together over a second)."""
        from chinwag.tokens import warm_up

        warm_up(self.chat.session.model)
        self.call_from_thread(self.chat.update_meter)
        import openai  # noqa: F401 - imported for its side effect: the first request starts at once

    # -- actions ---------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = self.chat
        commands = [
            ("Send message", "Send what is in the composer", lambda: chat.composer.action_submit()),
            ("Stop reply", "Stop the streaming reply and keep what arrived", chat.action_stop),
            ("New conversation", "Start a new conversation", self.action_new_conversation),
            ("Regenerate reply", "Ask again for the last reply (the old one is kept)", chat.action_regenerate),
            ("Copy last reply", "Copy the last reply to the clipboard", chat.action_copy),
            ("Export conversation", "Write the conversation as Markdown, HTML, text or JSON", chat.action_export),
            ("Toggle sidebar", "Show or hide the token meter", chat.action_sidebar),
            ("Attach file", "Add a text file (or an image, for models that see) to the next message",
             chat.action_attach),
            ("Show or hide thinking", "Open or close the last reply's reasoning", chat.action_thinking),
            ("Switch persona", "Choose the persona for the next reply", self.action_switch_persona),
            ("Settings", "Provider, model, temperature, budget and theme", self.action_settings),
            ("History", "Browse, search and resume saved conversations", self.action_history),
            ("Keys", "Every key and what it does", self.action_help),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
        for name in sorted(self.available_themes):
            yield SystemCommand(f"Theme: {name}", "Switch to this theme (saved)", lambda n=name: self.apply_theme(n))

    def help_rows(self) -> list[tuple[str, str, str]]:
        rows = [
            ("Chat", "Enter", "Send the message"),
            ("Chat", "ctrl+j / shift+enter", "Insert a newline in the message"),
            ("Chat", "/file PATH", "Typed as the message: attach a file (no PATH: the attach dialog)"),
            ("Chat", "backspace", "In an empty composer: remove the last attached file"),
        ]
        for where, bindings in (("Chat", ChatScreen.BINDINGS), ("Anywhere", self.BINDINGS)):
            for binding in bindings:
                rows.append((where, binding.key, binding.description))
        from chinwag.tui.screens.history import HistoryScreen

        rows += HistoryScreen.HELP_ROWS
        rows += [
            ("Anywhere", "ctrl+p", "Command palette: every action, themes"),
            ("Anywhere", "tab / shift+tab", "Move focus (chat pane scrolls with arrows and page keys)"),
            ("Dialogs", "escape", "Close without changes"),
        ]
        if self.served:  # in a browser: the keys it lets through
            rows = [(where, browser_keys_text(keys), what) for where, keys, what in rows]
        return rows

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_rows()))

    def action_history(self) -> None:
        from chinwag.tui.screens.history import HistoryScreen

        if isinstance(self.screen, HistoryScreen):
            return

        async def chosen(conversation: Conversation | None) -> None:
            if conversation is not None:
                await self.resume_conversation(conversation)

        self.push_screen(HistoryScreen(self.store, self.chat.session.conversation.id), chosen)

    def on_history_screen_renamed(self, event) -> None:
        # The open conversation keeps its new title: its next save must not write the old one back.
        chat = self.chat
        if chat.session.conversation.id == event.conversation.id:
            chat.session.conversation.title = event.conversation.title
            chat.refresh_header()

    async def on_history_screen_deleted(self, event) -> None:
        # The open conversation was deleted: start afresh rather than write its file back.
        if self.chat.session.conversation.id == event.conv_id:
            await self.action_new_conversation()

    async def resume_conversation(self, conversation: Conversation) -> None:
        """Show a saved conversation and carry on in it: its persona, model and settings return."""
        chat = self.chat
        await chat.stop_reply()
        chat.cancel_countdown()
        chat.session = self.new_session(conversation)
        chat.composer.clear()
        await chat.show_conversation()
        self.notify(f"Resumed: {clean(conversation.title)}", markup=False)

    def action_switch_persona(self) -> None:
        chat = self.chat
        current = chat.session.conversation.persona.name

        async def chosen(spec: PersonaSpec | None) -> None:
            self.personas, _ = load_personas()
            if spec is None:
                return
            event = chat.session.apply_persona(spec)
            chat.session.save()
            if event is not None:
                await chat.log_view.add(event)
            chat.refresh_header()
            chat.update_meter()
            self.notify(f"Persona {clean(spec.name)} applies to the next reply.", markup=False)

        self.push_screen(PersonaScreen(self.personas, current), chosen)

    def action_settings(self) -> None:
        theme_names = sorted(self.available_themes)

        async def chosen(new: config.Settings | None) -> None:
            if new is not None:
                await self.apply_settings(new)

        # Show what is in use (flags included), so saving keeps it.
        in_use = dataclasses.replace(
            self.settings,
            provider=self.resolved.name,
            base_url=self.resolved.base_url if self.resolved.name == "custom" else self.settings.base_url,
            model=self.chat.session.model,
        )
        self.push_screen(SettingsScreen(in_use, theme_names, self.list_models), chosen)

    async def list_models(self, provider: str, base_url: str | None, api_key: str | None) -> list[str]:
        settings = dataclasses.replace(self.settings, provider=provider, base_url=base_url, api_key=api_key or self.settings.api_key)
        resolved = resolve(settings, overrides={})
        probe = ChatClient(resolved.base_url, resolved.api_key, timeout=10, max_retries=0)
        try:
            return await probe.list_models()
        finally:
            await probe.aclose()

    async def apply_settings(self, new: config.Settings) -> None:
        old = self.settings
        self.settings = new
        register_secret(new.api_key)
        self.save_settings()
        if new.theme != old.theme and new.theme in self.available_themes:
            self.theme = new.theme
        # Settings chosen in the dialog win over the flags given at start-up.
        self.overrides = {k: v for k, v in self.overrides.items() if k == "persona"}
        self.resolved = self._resolve()
        old_client, self.client = self.client, self._make_client()
        chat = self.chat
        chat.session.client = self.client
        chat.setup_problem = self.resolved.missing
        conversation = chat.session.conversation
        conversation.provider = self.resolved.name
        if self.resolved.model:
            chat.session.set_model(self.resolved.model)
        conversation.settings = new.model_settings.over(conversation.settings)
        chat.session.default_budget = new.token_budget
        chat.refresh_header()
        chat.update_meter()
        if self.resolved.missing:
            await chat.log_view.notice(self.resolved.missing, "warning")
        else:
            chat.log_view.clear_notices()
            self.notify(f"Using {self.resolved.name} · {chat.session.model}", markup=False)
        await old_client.aclose()

    @work(thread=True, exit_on_error=False, group="config")
    def save_settings(self) -> None:
        try:
            config.save_settings(self.settings)
        except (OSError, ValueError) as error:
            self.call_from_thread(self.notify, f"Settings not saved: {error}", severity="error", markup=False)

    def apply_theme(self, name: str) -> None:
        self.theme = name
        self.settings = dataclasses.replace(self.settings, theme=name)
        self.save_settings()

    def action_export_conversation(self, conversation: Conversation) -> None:
        if not conversation.messages:
            self.notify("Nothing to export yet.", severity="warning")
            return

        def chosen(choice: tuple[str, Path, bool] | None) -> None:
            if choice is None:
                return
            fmt, path, reasoning = choice
            if self.served:
                self.deliver_text_file(export.render(conversation, fmt, reasoning), path.name, DOWNLOAD_TYPES[fmt])
                self.notify(f"Downloading {path.name} in your browser.", title="Export", markup=False, timeout=8)
                return
            try:
                written = export.write(conversation, fmt, path, reasoning=reasoning)
            except OSError as error:
                self.notify(f"Export failed: {error}", severity="error", markup=False)
                return
            self.notify(f"Exported to {written}", title="Export", markup=False, timeout=8)

        self.push_screen(ExportScreen(conversation.title, Path.cwd(), download=self.served), chosen)

    async def action_new_conversation(self) -> None:
        chat = self.chat
        await chat.stop_reply()
        chat.cancel_countdown()
        chat.session = self.new_session()
        chat.composer.clear()
        await chat.show_conversation()
        self.notify("New conversation.")

    async def action_quit(self) -> None:
        """Quit, saving first: a streaming reply is stopped and saved with what arrived. If the
        save fails, the draft and the conversation go to the recovery file and we say where."""
        try:
            chat = self.chat
        except LookupError:
            self.exit()
            return
        await chat.stop_reply()
        problem = chat.session.close(chat.composer.text)
        await self.client.aclose()
        self.exit(message=Text(f"chinwag: {clean(problem)}") if problem else None)


def run(options) -> int:
    """Entry from the CLI: build the app from config and flags, run it."""
    import sys

    from chinwag.logs import setup_logging
    from chinwag.store import NotFoundError, UnreadableError

    try:
        setup_logging(debug=bool(getattr(options, "debug", False)))
    except OSError as error:
        print(f"chinwag: logging is off ({error})", file=sys.stderr)
    settings, warnings = config.load_settings()
    overrides = {
        "provider": getattr(options, "provider", None),
        "model": getattr(options, "model", None),
        "base_url": getattr(options, "base_url", None),
        "persona": getattr(options, "persona", None),
    }
    store = Store()
    conversation = None
    ref = getattr(options, "resume", None) or ("latest" if getattr(options, "cont", False) else None)
    if ref:
        try:
            conversation = store.load(store.resolve(ref))
        except (NotFoundError, UnreadableError) as error:
            print(f"chinwag: {error}", file=sys.stderr)
            return 1
    app = ChinwagApp(settings, store=store, conversation=conversation, overrides=overrides, warnings=warnings)
    app.run()
    return 0
