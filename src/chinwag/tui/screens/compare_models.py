"""F7: choose two or three models, of any providers, to answer the next message side by side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from chinwag.providers import PROVIDERS, Resolved
from chinwag.sanitize import clean
from chinwag.tui.screens.dialogs import DIALOG_CSS
from chinwag.tui.widgets.key_bar import KeyBar

ROWS = 3
MIN_MODELS = 2


@dataclass(frozen=True)
class Target:
    """One column of a comparison: a model at a provider."""

    provider: str
    model: str

    def label(self) -> str:
        return f"{self.model} · {self.provider}"


Resolve = Callable[[str], Resolved]
LoadModels = Callable[[str], Awaitable[list[str]]]


class CompareModelsScreen(ModalScreen[list[Target] | None]):
    """Up to three rows of provider and model; rows left without a model are not used.
    Enter or ctrl+s checks each provider can be reached (a key, a base URL) and returns them."""

    DEFAULT_CSS = f"""
    CompareModelsScreen {{
        {DIALOG_CSS}
        #dialog {{ width: 90; }}
        .row {{ height: auto; margin-top: 1; }}
        .number {{ width: 3; padding-top: 0; text-style: bold; }}
        Select {{ width: 16; }}
        Input {{ width: 1fr; background: $boost; }}
        .row-error {{ height: auto; color: $error; padding-left: 3; }}
        .row-note {{ height: auto; color: $text-muted; padding-left: 3; }}
        #compare-status {{ height: auto; color: $error; margin-top: 1; }}
        .row-error, .row-note, #compare-status {{ display: none; &.-shown {{ display: block; }} }}
    }}
    """
    AUTO_FOCUS = "#model-1"
    BINDINGS = [
        Binding("ctrl+s", "start", "Compare", priority=True, id="compare.start",
                tooltip="In the dialog (or Enter): the next message goes to each model chosen"),
        Binding("escape", "cancel", "Cancel", id="compare.cancel", tooltip="Close the dialog, compare nothing"),
    ]

    def __init__(self, rows: list[Target], resolve: Resolve, load_models: LoadModels | None = None) -> None:
        super().__init__()
        self.rows = list(rows)[:ROWS]
        self.resolve = resolve
        self.load_models = load_models
        self.listed: dict[str, list[str]] = {}
        self.listing: set[str] = set()  # providers whose models are being listed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Compare models"
            yield Static("The next message goes to each model at once; the replies stream side by side. "
                         "Pick one with its number to continue; the others stay as versions.", markup=False)
            default = self.rows[0].provider if self.rows and self.rows[0].provider in PROVIDERS else "openai"
            for n in range(1, ROWS + 1):
                target = self.rows[n - 1] if n <= len(self.rows) else None
                provider = target.provider if target and target.provider in PROVIDERS else default
                with Horizontal(classes="row"):
                    yield Label(f"{n}", classes="number")
                    yield Select([(name, name) for name in PROVIDERS], value=provider, allow_blank=False,
                                 compact=True, id=f"provider-{n}")
                    yield Input(target.model if target else "", placeholder="model id (empty: not used)",
                                compact=True, id=f"model-{n}")
                yield Static("", classes="row-note", id=f"note-{n}", markup=False)
                yield Static("", classes="row-error", id=f"error-{n}", markup=False)
            yield Static("", id="compare-status", markup=False)
            yield Static("Enter or ctrl+s compares · Tab moves · Escape cancels", classes="hint", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        for n in range(1, ROWS + 1):
            self.provider_chosen(n)

    def say(self, selector: str, text: str) -> None:
        """Show ``text`` in that line (hidden while empty)."""
        line = self.query_one(selector, Static)
        line.update(text)
        line.set_class(bool(text), "-shown")

    def provider(self, n: int) -> str:
        return str(self.query_one(f"#provider-{n}", Select).value)

    def model(self, n: int) -> str:
        return self.query_one(f"#model-{n}", Input).value.strip()

    @on(Select.Changed)
    def provider_changed(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.startswith("provider-"):
            self.provider_chosen(int(event.select.id.removeprefix("provider-")))

    def provider_chosen(self, n: int) -> None:
        """Say what the provider lacks, and list its models (in a worker) for completion."""
        provider = self.provider(n)
        resolved = self.resolve(provider)
        model = self.query_one(f"#model-{n}", Input)
        spec = PROVIDERS.get(provider)
        model.placeholder = (f"model id, e.g. {spec.default_model} (empty: not used)"
                             if spec is not None and spec.default_model else "model id (empty: not used)")
        self.say(f"#note-{n}", clean(resolved.missing or ""))
        if resolved.missing:
            return
        if provider in self.listed:
            model.suggester = SuggestFromList(self.listed[provider], case_sensitive=False)
        elif self.load_models is not None and provider not in self.listing:
            self.listing.add(provider)
            self.run_worker(self._list(provider), group="models", exit_on_error=False)

    async def _list(self, provider: str) -> None:
        try:
            models = await self.load_models(provider)
        except Exception:  # noqa: BLE001 - listing is a convenience: the model stays free text
            return
        self.listed[provider] = models
        for n in range(1, ROWS + 1):
            if self.provider(n) == provider:
                self.query_one(f"#model-{n}", Input).suggester = SuggestFromList(models, case_sensitive=False)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def action_start(self) -> None:
        chosen: list[Target] = []
        bad = False
        for n in range(1, ROWS + 1):
            self.say(f"#error-{n}", "")
            model = self.model(n)
            if not model:
                continue
            provider = self.provider(n)
            missing = self.resolve(provider).missing
            if missing:
                # (The row's note already says what is missing: not said twice.)
                self.say(f"#error-{n}", "This row cannot be used until that is fixed (or empty its model).")
                bad = True
                continue
            chosen.append(Target(provider, model))
        if bad:
            self.say("#compare-status", "Fix the rows above, or empty their model to leave them out.")
            return
        if len(chosen) < MIN_MODELS:
            self.say("#compare-status", f"Choose at least {MIN_MODELS} models (one per row).")
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
