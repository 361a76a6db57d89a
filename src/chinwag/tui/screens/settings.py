"""Settings dialog: provider, endpoint, model, key, sampling and theme (previewed live)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from chinwag import logs
from chinwag.config import Settings, validate
from chinwag.model_settings import FIELDS as SETTING_FIELDS
from chinwag.model_settings import INPUT_TYPES as SETTING_INPUT_TYPES
from chinwag.model_settings import LABELS as SETTING_LABELS
from chinwag.model_settings import PLACEHOLDERS as SETTING_PLACEHOLDERS
from chinwag.providers import PROVIDERS, resolve
from chinwag.sanitize import clean
from chinwag.tui.widgets.key_bar import KeyBar

LoadModels = Callable[[str, str | None, str | None], Awaitable[list[str]]]
FIELDS = ("provider", "base_url", "model", "api_key", *SETTING_FIELDS, "theme")
LABELS = {
    "provider": "Provider", "base_url": "Base URL", "model": "Model", "api_key": "API key",
    **SETTING_LABELS, "theme": "Theme",
}


def key_placeholder(provider: str | None) -> str:
    """Tell where the key comes from when this box is left empty."""
    spec = PROVIDERS.get(provider or "")
    if spec is None:
        return "optional: OPENAI_API_KEY or TOGETHER_API_KEY from the environment"
    if spec.name == "custom":
        return "optional: OPENAI_API_KEY from the environment is used when empty"
    if spec.key_env is None:
        return f"not needed for {spec.name}"
    return f"optional: {spec.key_env} from the environment takes precedence"


URL_MASK = "••••"


def masked_url(url: str | None) -> str:
    """``url`` to show in the field: a password in it as URL_MASK (it stays in the file)."""
    if not url:
        return ""
    try:
        password = urlsplit(url).password
    except ValueError:
        return url
    return url.replace(f":{password}@", f":{URL_MASK}@", 1) if password else url


def unmask_url(value: str, original: str | None) -> str:
    """The field's URL with the original password back where the mask still stands."""
    if URL_MASK not in value or not original:
        return value
    try:
        password = urlsplit(original).password
    except ValueError:
        return value
    return value.replace(URL_MASK, password, 1) if password else value


def url_placeholder(provider: str | None) -> str:
    spec = PROVIDERS.get(provider or "")
    if spec is not None and spec.base_url:
        return f"default: {spec.base_url}"
    return "https://host/v1 (needed for custom)"


def model_placeholder(provider: str | None) -> str:
    spec = PROVIDERS.get(provider or "")
    if spec is not None and spec.default_model:
        return f"default: {spec.default_model}"
    return "model id, e.g. gpt-4o-mini"


class SettingsScreen(ModalScreen[Settings | None]):
    """Edit settings; ctrl+s validates and returns a new Settings, escape cancels."""

    CSS_PATH = Path(__file__).parent / "modals.tcss"
    AUTO_FOCUS = "#field-provider"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, settings: Settings, themes: list[str],
                 load_models: LoadModels | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.themes = list(themes)
        self.load_models = load_models
        self.original_theme: str | None = None
        self.models_for: tuple[str, str | None, str | None] | None = None
        self._checked: dict[str, str] = {}  # each field's text when it was last checked

    def compose(self) -> ComposeResult:
        s = self.settings
        provider = s.provider if s.provider in PROVIDERS else Select.NULL
        themes = self.themes if s.theme in self.themes else [s.theme, *self.themes]
        with Vertical(id="dialog", classes="form") as dialog:
            dialog.border_title = "Settings"
            with VerticalScroll(classes="form-fields"):
                yield from self.field("provider", Select(
                    [(name, name) for name in PROVIDERS], value=provider,
                    prompt="(automatic)", compact=True))
                yield from self.field("base_url", Input(
                    masked_url(clean(s.base_url, one_line=True)), placeholder=url_placeholder(s.provider),
                    compact=True))
                yield from self.field("model", Input(
                    clean(s.model, one_line=True), placeholder=model_placeholder(s.provider), compact=True))
                yield Static("", id="model-note", classes="field-note", markup=False)
                yield from self.field("api_key", Input(
                    s.api_key or "", password=True, placeholder=key_placeholder(s.provider),
                    compact=True))
                for name in SETTING_FIELDS:
                    value = getattr(s, name)
                    yield from self.field(name, Input(
                        "" if value is None else str(value), type=SETTING_INPUT_TYPES.get(name, "text"),
                        placeholder=SETTING_PLACEHOLDERS.get(name, ""), compact=True))
                yield from self.field("theme", Select(
                    [(Text(clean(name, one_line=True)), name) for name in themes], value=s.theme, allow_blank=False,
                    compact=True))
            yield Static("", id="form-status", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="save", variant="primary", compact=True)
        yield KeyBar()

    @staticmethod
    def field(name: str, widget: Widget) -> ComposeResult:
        widget.id = f"field-{name}"
        with Horizontal(classes="field-row"):
            yield Label(LABELS[name], classes="field-label")
            yield widget
        yield Static("", id=f"error-{name}", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.original_theme = self.app.theme
        self.fetch_models()

    def raw(self, name: str) -> str:
        widget = self.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            return "" if widget.is_blank() else str(widget.value)
        assert isinstance(widget, Input)
        if name == "base_url":  # the password was shown masked: the masked one means "as it was"
            return unmask_url(widget.value, self.settings.base_url)
        return widget.value

    def fetch_models(self) -> None:
        """List the provider's models in a worker; on failure the model stays free text."""
        if self.load_models is None:
            return
        base_url = self.raw("base_url").strip() or None
        api_key = self.raw("api_key").strip() or None
        draft = replace(self.settings, provider=self.raw("provider") or None,
                        base_url=base_url, api_key=api_key)
        endpoint = (resolve(draft).name, base_url, api_key)
        if endpoint == self.models_for:
            return
        self.models_for = endpoint
        logs.register_secret(api_key)  # it goes out with the request: redacted from now on
        logs.register_url(base_url)
        self.query_one("#model-note", Static).update("loading models…")
        self.run_worker(self._fetch(*endpoint), group="models",
                        exclusive=True, exit_on_error=False)

    async def _fetch(self, provider: str, base_url: str | None, api_key: str | None) -> None:
        note = self.query_one("#model-note", Static)
        model = self.query_one("#field-model", Input)
        try:
            models = await self.load_models(provider, base_url, api_key)
        except Exception as error:  # any failure: the model stays free text
            reason = clean(str(error), one_line=True)[:50] or error.__class__.__name__
            note.update(f"Could not list models ({reason}); type the id")
            model.suggester = None
            return
        # Ids from the server are shown (and completed) only as plain text.
        models = list(dict.fromkeys(filter(None, (clean(m, one_line=True) for m in models))))
        model.suggester = SuggestFromList(models, case_sensitive=False)
        note.update(f"{len(models)} models available: type to complete, → accepts"
                    if models else "The server listed no models; type the model id")

    @on(Input.Changed, "#field-api_key")
    def key_typed(self, event: Input.Changed) -> None:
        logs.typing_secret(event.value.strip())  # redacted from the first keystroke, saved or not

    @on(Select.Changed, "#field-provider")
    def provider_changed(self) -> None:
        provider = self.raw("provider") or None
        self.query_one("#field-base_url", Input).placeholder = url_placeholder(provider)
        self.query_one("#field-api_key", Input).placeholder = key_placeholder(provider)
        self.query_one("#field-model", Input).placeholder = model_placeholder(provider)
        self.fetch_models()

    @on(Input.Blurred, "#field-base_url")
    @on(Input.Blurred, "#field-api_key")
    def endpoint_changed(self) -> None:
        self.fetch_models()

    @on(Select.Changed, "#field-theme")
    def theme_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value in self.app.available_themes:
            self.app.theme = event.value

    @on(Button.Pressed, "#save")
    def save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Changed)
    def field_changed(self, event: Input.Changed) -> None:
        """A field being corrected no longer shows the error it had at the last save."""
        name = (event.input.id or "").removeprefix("field-")
        if name in FIELDS and event.value != self._checked.get(name):
            error = self.query_one(f"#error-{name}", Static)
            error.update("")
            error.remove_class("-shown")

    def action_save(self) -> None:
        values, bad = {}, []
        for name in FIELDS:
            error = self.query_one(f"#error-{name}", Static)
            widget = self.query_one(f"#field-{name}")
            if isinstance(widget, Input):
                self._checked[name] = widget.value
            try:
                values[name] = validate(name, self.raw(name))
            except ValueError as exc:
                error.update(str(exc))
                error.add_class("-shown")
                bad.append(LABELS[name])
            else:
                error.update("")
                error.remove_class("-shown")
        if bad:
            status = self.query_one("#form-status", Static)
            status.update(f"Not saved: check {', '.join(bad)}")
            status.add_class("-shown")
            return
        self.dismiss(replace(self.settings, **values))

    def action_cancel(self) -> None:
        if self.original_theme and self.app.theme != self.original_theme:
            self.app.theme = self.original_theme
        self.dismiss(None)
