"""The chinwag Textual app: routes screens, holds the settings, tells the chat of changes.

The chat screen owns its conversation. The app keeps what outlives one chat (settings, the
provider and client in a ChatContext, themes, the keymap) and tells the chat screen of changes
with Messages (``chinwag.tui.messages``); the command palette offers what the screen on top can
do, then what the app can.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen

from chinwag import cachedir, config
from chinwag.chat_context import ChatContext
from chinwag.conversation import Conversation
from chinwag.logs import register_secret, register_url
from chinwag.paths import config_file
from chinwag.personas import load_personas
from chinwag.providers import resolve
from chinwag.sanitize import clean
from chinwag.store import Store, StoreError
from chinwag.tui import signals
from chinwag.tui.driver import driver_class
from chinwag.tui.keys import help_rows, keymap_warnings
from chinwag.tui.messages import (
    ContextChanged,
    ConversationDeleted,
    ConversationRenamed,
    OpenConversation,
    Recovered,
)
from chinwag.tui.screens.chat import AFTER_FIRST_FRAME, ChatScreen
from chinwag.tui.themes import load_themes
from chinwag.tui.web import ServedApp, browser_keys_text

DEFAULT_THEME = "chinwag-dark"


def freeze_imports() -> None:
    """Leave what the imports made (modules, classes, tables: ~90% of the objects a chat holds,
    and all of them live until exit) out of the garbage collector's full passes, once a process.
    Each full pass walked all of them: a third of the time from start to the first frame, and
    again now and then while a reply streams. The collector still runs for everything made later."""
    if not getattr(freeze_imports, "done", False):
        gc.freeze()
        freeze_imports.done = True


class ChinwagApp(ServedApp):
    """Full-screen chat with OpenAI-compatible APIs."""

    TITLE = "chinwag"
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "history", "History", id="app.history"),
        Binding("f4", "settings", "Settings", id="app.settings"),
        Binding("f5", "usage", "Usage", id="app.usage"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        settings: config.Settings,
        *,
        store: Store | None = None,
        conversation: Conversation | None = None,
        resume: str | None = None,
        overrides: dict | None = None,
        warnings: Iterable[str] = (),
    ) -> None:
        """``conversation``: show this one; ``resume``: read this id after the first frame."""
        freeze_imports()
        super().__init__(driver_class=driver_class())  # pastes arrive whole and in order
        self.settings = settings
        self.startup_warnings = list(warnings)
        personas, persona_warnings = load_personas()
        self.startup_warnings += persona_warnings
        model_overrides: dict = {}
        if settings.extra.get("models") is not None:  # [models."name"] tables in config.toml
            from chinwag.model_params import parse_overrides

            model_overrides, model_warnings = parse_overrides(settings.extra["models"], str(config_file()))
            self.startup_warnings += model_warnings
        self.context = ChatContext(settings, store or Store(), personas, overrides or {}, model_overrides)
        self.initial_conversation = conversation
        self.resume_id = resume
        self._warm = False  # the tokenizer and SDK are loading or loaded
        # The theme is chosen before anything is styled: set once widgets exist, it restyled them all.
        themes, theme_warnings = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.startup_warnings += theme_warnings
        self.theme = settings.theme if settings.theme in self.available_themes else DEFAULT_THEME

    @property
    def chat(self) -> ChatScreen:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ChatScreen):
                return screen
        raise LookupError("no chat screen")

    def notify(self, message: str, *, title: str = "", **options) -> None:
        """Every notification (from any screen) shows its text plain: outside text inside it
        (names, ids, paths, server words) can neither drive the terminal nor be markup."""
        super().notify(clean(message), title=clean(title, one_line=True), **{**options, "markup": False})

    def on_mount(self) -> None:
        self.set_keymap(self.settings.keys)
        self.startup_warnings += keymap_warnings(self.settings.keys)
        chat = ChatScreen(self.context, opening=self.resume_id)
        self.push_screen(chat)
        if self.initial_conversation is not None:
            chat.post_message(OpenConversation(self.initial_conversation, announce=False))
        for warning in self.startup_warnings:
            self.notify(warning, title="Configuration", severity="warning", markup=False, timeout=10)
        if not self.is_headless:  # a real terminal: closing it or kill(1) quits as ctrl+q does
            signals.install(self.quit_on_signal)

    def quit_on_signal(self, signum: int) -> None:
        """SIGHUP, SIGTERM, SIGINT: stop and save the reply, restore the terminal, exit 128+signum."""
        self.signal_code = 128 + signum
        self.call_next(self.action_quit)

    def on_ready(self) -> None:
        # After the first frame: slow loads would otherwise hold the GIL while we paint.
        if self.resume_id:
            # The tokenizer and SDK load once the conversation is on screen: threads share one
            # interpreter lock, and reading a long document is what the user waits for.
            self.read_conversation(self.resume_id)
        # The rest once the frame is on the terminal: a loading thread would hold it back (~10 ms).
        self.set_timer(AFTER_FIRST_FRAME, self._after_first_frame)

    def _after_first_frame(self) -> None:
        try:
            chat = self.chat
        except LookupError:  # quitting already
            return
        if not self.resume_id:
            self.warm_up(chat.session.model)
        self.recover()

    def on_chat_screen_opened(self, event: ChatScreen.Opened) -> None:
        if self.resume_id and not self._warm:
            self.warm_up(event.model)

    @work(thread=True, exit_on_error=False, group="recover")
    def recover(self) -> None:
        """Offer back a draft that a failed save kept last time (and save its conversation)."""
        from chinwag import recovery

        found = recovery.restore(self.context.store)
        if found is not None:
            message = Recovered(found.draft, found.saved_at, found.conversation, found.restored)
            self.call_from_thread(self.chat.post_message, message)

    @work(thread=True, exit_on_error=False, group="open")
    def read_conversation(self, conv_id: str) -> None:
        """Read the conversation named on the command line; the chat shows "Opening…" meanwhile."""
        try:
            message = OpenConversation(self.context.store.load(conv_id), announce=False)
        except StoreError as error:
            message = OpenConversation(None, f"Cannot open {conv_id}: {error} The file is left untouched.")
        self.call_from_thread(self.chat.post_message, message)

    @work(thread=True, exit_on_error=False, group="warm-up")
    def warm_up(self, model: str) -> None:
        """Load the tokenizer and the OpenAI SDK off the start-up path (together over a second)."""
        from chinwag.tokens import warm_up

        self._warm = True
        warm_up(model)
        self.call_from_thread(self.chat.update_meter)
        import openai  # noqa: F401 - imported for its side effect: the first request starts at once

    # -- palette and help ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        commands = getattr(screen, "commands", None)
        if callable(commands):
            yield from commands()
        yield SystemCommand("History", "Browse, search and resume saved conversations", self.action_history)
        yield SystemCommand("Settings", "Provider, model, temperature, budget and theme", self.action_settings)
        yield SystemCommand("Usage", "Tokens and cost over time, by model, persona or provider", self.action_usage)
        yield SystemCommand("Help", "Every key and what it does", self.action_help)
        # Textual's own theme picker would change the theme without saving it: ours save.
        yield from (command for command in super().get_system_commands(screen) if command.title != "Theme")
        for name in sorted(self.available_themes):
            # The palette reads titles as markup; a theme's name is the user's text.
            yield SystemCommand(f"Theme: {escape(name)}", "Switch to this theme (saved)",
                                lambda n=name: self.apply_theme(n))

    def help_rows(self) -> list[tuple[str, str, str]]:
        rows = help_rows(self.settings.keys)
        if self.served:  # in a browser: the keys it lets through
            rows = [(where, browser_keys_text(keys), what) for where, keys, what in rows]
        return rows

    def action_help(self) -> None:
        from chinwag.tui.screens.help import HelpScreen  # (screens load when first opened: a faster start)

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_rows()))

    # -- history -----------------------------------------------------------------------

    def action_history(self) -> None:
        from chinwag.tui.screens.history import HistoryScreen

        if isinstance(self.screen, HistoryScreen):
            return

        def chosen(conversation: Conversation | None) -> None:
            if conversation is not None:
                self.chat.post_message(OpenConversation(conversation))

        self.push_screen(HistoryScreen(self.context.store, self.chat.session.conversation.id), chosen)

    def action_usage(self) -> None:
        try:
            from chinwag.tui.screens.usage import UsageScreen
        except ImportError as error:  # an install without its charts: the chat goes on
            self.notify(f"The usage screen cannot open: the library {error.name or error} is not installed. "
                        "Install chinwag again (pip install chinwag) to get it; `chinwag usage` prints the "
                        "same figures.", severity="error", timeout=10)
            return
        if not isinstance(self.screen, UsageScreen):
            self.push_screen(UsageScreen(self.context.store, self.settings.prices))

    def on_history_screen_renamed(self, event) -> None:
        self.chat.post_message(ConversationRenamed(event.conversation.id, event.conversation.title))

    def on_history_screen_deleted(self, event) -> None:
        self.chat.post_message(ConversationDeleted(event.conv_id))

    # -- settings and theme ------------------------------------------------------------

    def action_settings(self) -> None:
        from chinwag.tui.screens.settings import SettingsScreen

        if isinstance(self.screen, SettingsScreen):
            return

        # Show what is in use (flags included); what the user changes there is what is saved.
        resolved = self.context.resolved
        in_use = dataclasses.replace(
            self.settings,
            provider=resolved.name,
            base_url=resolved.base_url if resolved.name == "custom" else self.settings.base_url,
            model=self.chat.session.model,
        )

        async def chosen(new: config.Settings | None) -> None:
            if new is not None:
                await self.apply_settings(new, shown=in_use)

        self.push_screen(SettingsScreen(in_use, sorted(self.available_themes), self.list_models), chosen)

    async def list_models(self, provider: str, base_url: str | None, api_key: str | None) -> list[str]:
        settings = dataclasses.replace(self.settings, provider=provider, base_url=base_url,
                                       api_key=api_key or self.settings.api_key)
        resolved = resolve(settings, overrides={})
        from chinwag.client import ChatClient

        probe = ChatClient(resolved.base_url, resolved.api_key, timeout=10, max_retries=0)
        try:
            return await probe.list_models()
        finally:
            await probe.aclose()

    async def apply_settings(self, new: config.Settings, shown: config.Settings | None = None) -> None:
        """Settings from F4. Only what the user changed there is saved and replaces a start-up
        flag: a --model or --provider given for one run is never written into config.toml."""
        shown = shown or self.settings
        flagged = set(self.context.flags)  # what the command line set for this run

        def changed_here(key: str) -> bool:
            if getattr(new, key) != getattr(shown, key):
                return True  # the user changed it in the dialog
            # Shown and kept as it was: saved when it is not the file's and not from a flag
            # (e.g. the provider's default model, confirmed by saving).
            return key not in flagged and getattr(new, key) != getattr(self.settings, key)

        changed = [key for key in config.KEYS if changed_here(key)]
        old = self.context
        self.settings = dataclasses.replace(self.settings, **{key: getattr(new, key) for key in changed})
        register_secret(self.settings.api_key)
        register_url(self.settings.base_url)
        self.save_settings()  # what differs from the file: flags never reach it unless edited
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.context = self.context.with_settings(self.settings, changed)
        self.chat.post_message(ContextChanged(self.context))
        await old.aclose_client()

    @work(thread=True, exit_on_error=False, group="config")
    def save_settings(self, since: config.Settings | None = None) -> None:
        # Only keys that differ from ``since`` (or, without it, from the file) are written: the
        # user's file keeps the rest, even an edit made by hand while chinwag runs.
        try:
            config.save_settings(self.settings, since=since)
        except (OSError, ValueError) as error:
            self.call_from_thread(self.notify, f"Settings not saved: {error}", severity="error", markup=False)

    def apply_theme(self, name: str) -> None:
        self.theme = name
        old, self.settings = self.settings, dataclasses.replace(self.settings, theme=name)
        self.context.settings = self.settings
        self.save_settings(old)

    # -- quitting ------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit, saving first: a streaming reply is stopped and saved with what arrived. If the
        save fails, the draft and the conversation go to the recovery file and we say where."""
        try:
            chat = self.chat
        except LookupError:
            self.exit()
            return
        await chat.stop_reply()
        # A failed save keeps the draft and the conversation in the recovery file: say where.
        problem = chat.session.close(chat.composer.text)
        await self.context.aclose_client()
        self.exit(message=Text(f"chinwag: {clean(problem)}") if problem else None)


def run(options) -> int:
    """Entry from the CLI: build the app from config and flags, run it."""
    import sys

    from chinwag.logs import setup_logging
    from chinwag.store import NotFoundError

    try:
        setup_logging(debug=bool(getattr(options, "debug", False)))
    except OSError as error:
        print(clean(f"chinwag: logging is off ({error})"), file=sys.stderr)
    settings, warnings = config.load_settings()
    warnings += cachedir.warnings()  # a cache folder that cannot be used: said once, chinwag works without it
    overrides = {
        "provider": getattr(options, "provider", None),
        "model": getattr(options, "model", None),
        "base_url": getattr(options, "base_url", None),
        "persona": getattr(options, "persona", None),
    }
    store = Store()
    resume = None
    ref = getattr(options, "resume", None) or ("latest" if getattr(options, "cont", False) else None)
    if ref:
        try:
            resume = store.resolve(ref)  # the document itself is read after the first frame
        except NotFoundError as error:
            print(clean(f"chinwag: {error}"), file=sys.stderr)
            return 1
    app = ChinwagApp(settings, store=store, resume=resume, overrides=overrides, warnings=warnings)
    app.run()
    return app.return_code or getattr(app, "signal_code", 0)
