"""Persona switcher (filter, pick) and the editor for new or changed personas."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from chinwag import paths
from chinwag.config import validate
from chinwag.model_settings import FIELDS as SETTING_FIELDS
from chinwag.model_settings import LABELS as SETTING_LABELS
from chinwag.personas import PersonaSpec, save_persona
from chinwag.sanitize import clean
from chinwag.tui.widgets.key_bar import KeyBar

CSS = Path(__file__).parent / "modals.tcss"


def matches(spec: PersonaSpec, query: str) -> bool:
    """Case-insensitive match on name and description."""
    query = query.strip().casefold()
    return query in spec.name.casefold() or query in spec.description.casefold()


def persona_option(spec: PersonaSpec, current: bool) -> Option:
    label = Text(clean(spec.name, one_line=True), style="bold")
    if current:
        label.append("  ● current", style="italic")
    label.append("\n")
    label.append(clean(spec.description, one_line=True) or "(no description)", style="dim")
    return Option(label, id=spec.name)


class PersonaScreen(ModalScreen[PersonaSpec | None]):
    """Pick a persona: type to filter, ↑/↓ to move, Enter to choose."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#persona-filter"
    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("enter", "choose", "Choose", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("down", "move(1)", "Next", show=False),
        Binding("ctrl+n", "new", "New persona", priority=True),
        Binding("ctrl+e", "edit", "Edit persona", priority=True),
    ]

    def __init__(self, personas: dict[str, PersonaSpec], current: str) -> None:
        super().__init__()
        self.personas = dict(personas)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Personas"
            yield Input(placeholder="Type to filter by name or description", id="persona-filter")
            yield OptionList(id="persona-list")
            yield Static("", id="persona-note", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_list(highlight=self.current)

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#persona-list", OptionList)

    @property
    def highlighted(self) -> PersonaSpec | None:
        option = self.option_list.highlighted_option
        return self.personas.get(option.id) if option and option.id else None

    def refresh_list(self, highlight: str | None = None) -> None:
        """Show the personas that match the filter; keep or set the highlight."""
        if highlight is None and self.highlighted:
            highlight = self.highlighted.name
        query = self.query_one("#persona-filter", Input).value
        shown = [spec for spec in self.personas.values() if matches(spec, query)]
        option_list = self.option_list
        option_list.set_options(persona_option(spec, spec.name == self.current) for spec in shown)
        names = [spec.name for spec in shown]
        if names:
            option_list.highlighted = names.index(highlight) if highlight in names else 0
        note = "" if names else f"No persona matches {query.strip()!r}"
        self.query_one("#persona-note", Static).update(note)

    @on(Input.Changed, "#persona-filter")
    def filter_changed(self) -> None:
        self.refresh_list()

    @on(Input.Submitted, "#persona-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose()

    @on(OptionList.OptionSelected, "#persona-list")
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose()

    def action_move(self, step: int) -> None:
        if step < 0:
            self.option_list.action_cursor_up()
        else:
            self.option_list.action_cursor_down()

    def action_choose(self) -> None:
        if self.highlighted is not None:
            self.dismiss(self.highlighted)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_new(self) -> None:
        self.app.push_screen(PersonaEditor(None, set(self.personas)), self.saved)

    def action_edit(self) -> None:
        if self.highlighted is not None:
            editor = PersonaEditor(self.highlighted, set(self.personas))
            self.app.push_screen(editor, self.saved)

    def saved(self, spec: PersonaSpec | None) -> None:
        if spec is None:
            return
        self.personas[spec.name] = spec
        self.query_one("#persona-filter", Input).value = ""
        self.refresh_list(highlight=spec.name)
        self.query_one("#persona-filter", Input).focus()


class PersonaEditor(ModalScreen[PersonaSpec | None]):
    """Create or change a persona; ctrl+s validates, saves to personas.toml and closes."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#persona-name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, spec: PersonaSpec | None, taken: Iterable[str] = ()) -> None:
        super().__init__()
        self.spec = spec
        self.taken = set(taken)

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Vertical(id="dialog", classes="form") as dialog:
            # A Text, not a str: a border title string would be parsed as markup.
            dialog.border_title = Text(clean(f"Edit persona {spec.name}", one_line=True) if spec else "New persona")
            with VerticalScroll(classes="form-fields"):
                yield from self.field("name", "Name", Input(
                    clean(spec.name if spec else "", one_line=True), placeholder="short-name", compact=True))
                yield from self.field("description", "Description", Input(
                    clean(spec.description if spec else "", one_line=True), placeholder="one line shown in the list",
                    compact=True))
                yield from self.field("system_prompt", "System prompt", TextArea(
                    clean(spec.system_prompt if spec else ""), soft_wrap=True, compact=True))
                yield from self.field("model", "Model", Input(
                    clean(spec.model if spec else "", one_line=True), placeholder="(the chat's model)",
                    compact=True))
                for name in SETTING_FIELDS:
                    value = getattr(spec, name) if spec else None
                    yield from self.field(name, SETTING_LABELS[name], Input(
                        "" if value is None else str(value), placeholder="(from settings)",
                        compact=True))
            yield Static("", id="form-status", markup=False)
        yield KeyBar()

    @staticmethod
    def field(name: str, label: str, widget: Input | TextArea) -> ComposeResult:
        widget.id = f"persona-{name}"
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label")
            yield widget
        yield Static("", id=f"error-{name}", classes="field-error", markup=False)

    def value(self, name: str) -> str:
        widget = self.query_one(f"#persona-{name}")
        return widget.text if isinstance(widget, TextArea) else widget.value

    def show_error(self, name: str, message: str) -> None:
        error = self.query_one(f"#error-{name}", Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    def collect(self) -> PersonaSpec | None:
        """The spec the fields describe, or None after showing what is wrong."""
        values: dict = {}
        errors: dict[str, str] = {}
        name = self.value("name").strip()
        if not name:
            errors["name"] = "A persona needs a name"
        elif len(name) > 40:
            errors["name"] = "Use at most 40 characters"
        elif name in self.taken and (self.spec is None or name != self.spec.name):
            errors["name"] = f"A persona named {name!r} exists: edit it instead"
        if not self.value("system_prompt").strip():
            errors["system_prompt"] = "Write the instructions the model gets"
        for key in ("model", *SETTING_FIELDS):
            raw = self.value(key).strip()
            try:
                values[key] = validate(key, raw) if raw else None
            except ValueError as error:
                errors[key] = str(error)
        for key in ("name", "system_prompt", "model", *SETTING_FIELDS):
            self.show_error(key, errors.get(key, ""))
        if errors:
            return None
        return PersonaSpec(
            name, self.value("description").strip(), self.value("system_prompt").strip(),
            **values, source=str(paths.personas_file()),
        )

    def action_save(self) -> None:
        spec = self.collect()
        if spec is None:
            self.set_status("Not saved: fix the fields marked above")
            return
        try:
            save_persona(spec)
        except (OSError, ValueError) as error:
            self.set_status(f"Could not save: {error}")
            return
        self.dismiss(spec)

    def set_status(self, message: str) -> None:
        status = self.query_one("#form-status", Static)
        status.update(message)
        status.set_class(bool(message), "-shown")

    def action_cancel(self) -> None:
        self.dismiss(None)
