"""The footer: the keys of the screen on top, drawn as one widget.

Textual's Footer mounts a widget per key, styles each (and each one's two component classes)
several times as it starts, and composes them all again when the bindings are ready: with the
chat's eleven keys that was ~8 ms of the ~60 from run to first frame. ``KeyBar`` shows the same
keys the same way (the same theme variables, the palette key at the right) as one line drawn by
one widget; a click on a key presses it, the mouse over a key highlights it and shows its tooltip.
Keys that do not fit the width are left out whole, never cut in the middle.
"""

from __future__ import annotations

from itertools import groupby
from typing import NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

SEPARATOR = "▏"  # before the palette key, as Textual's footer draws it
DIM = Style(dim=True)  # a key whose action cannot run now


class Key(NamedTuple):
    action: str
    key: str  # what simulate_key presses
    display: str  # as shown (the keymap, browser twins)
    description: str
    enabled: bool
    tooltip: str


class Item(NamedTuple):
    """One key and what it does, or the keys of a binding group (← → Versions) and its name."""

    keys: tuple[Key, ...]
    description: str


def _width(item: Item) -> int:
    keys = sum(cell_len(key.display) for key in item.keys) + len(item.keys) - 1
    return 1 + keys + 1 + (cell_len(item.description) + 1 if item.description else 0)


class KeyBar(Widget, can_focus=False):
    """One line of keys at the bottom of a screen (in place of Textual's Footer)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--hover", "key-bar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
        .key-bar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[tuple[int, int, Key]] = []  # where each shown key is, in cells
        self._hover: Key | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        self.refresh()

    def keys(self) -> tuple[list[Item], Key | None]:
        """What to show, in the screen's order: one key per action (the first bound to it), keys
        of one binding group together under its name; and the palette's key."""
        app = self.app
        active = self.screen.active_bindings
        first: dict[str, tuple] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show:
                first.setdefault(binding.action, (binding, enabled, tooltip))

        def key(binding, enabled: bool, tooltip: str) -> Key:
            return Key(binding.action, binding.key, app.get_key_display(binding), binding.description, enabled,
                       tooltip)

        items: list[Item] = []
        for group, entries in groupby(first.values(), key=lambda entry: entry[0].group):
            entries = list(entries)
            if group is not None and len(entries) > 1:
                keys = tuple(key(b, e, t or b.description) for b, e, t in entries)
                items.append(Item(keys, group.description))
            else:
                items.extend(Item((key(b, e, t),), b.description) for b, e, t in entries)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and (entry := active.get(app.COMMAND_PALETTE_BINDING)) is not None:
            _, binding, enabled, tooltip = entry
            palette = key(binding, enabled, tooltip or binding.tooltip or binding.description)
        return items, palette

    def render(self) -> Text:
        width = self.size.width
        items, palette = self.keys()
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        hover_style = self.get_component_rich_style("key-bar--hover")
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, Key]] = []

        def add(text: str, style: Style, key: Key | None) -> None:
            """Append ``text``; with a ``key``, the mouse presses it there (and lights it)."""
            if key is not None:
                if key == self._hover and key.enabled:
                    style = style + hover_style
                spans.append((line.cell_len, line.cell_len + cell_len(text), key))
            line.append(text, style if key is None or key.enabled else style + DIM)

        right = 0
        if palette is not None:  # at the right edge, as Textual's footer has it
            right = 1 + cell_len(palette.display) + 1 + cell_len(palette.description) + 1
        room = width - right
        for item in items:
            if line.cell_len + _width(item) > room:
                break  # whole keys only, never a cut one
            single = item.keys[0] if len(item.keys) == 1 else None
            add(" ", key_style, single)
            for n, key in enumerate(item.keys):
                add(("" if n == 0 else " ") + key.display, key_style, key)
            add(" ", key_style, single)
            if item.description:
                add(f"{item.description} ", description_style, single)
        if palette is not None:
            line.append(" " * max(0, room - line.cell_len))
            line.append(SEPARATOR, self.get_component_rich_style("key-bar--separator"))
            add(palette.display, key_style, palette)
            add(f" {palette.description} ", description_style, palette)
        self._spans = spans
        line.stylize_before(self.rich_style)
        return line

    def _key_at(self, x: int) -> Key | None:
        for start, end, key in self._spans:
            if start <= x < end:
                return key
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        if key != self._hover:
            self._hover = key
            self.tooltip = key.tooltip if key is not None and key.tooltip else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        event.stop()
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()

