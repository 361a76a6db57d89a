"""Every key binding in one table: for the help screen, the README and the user's keymap.

Bindings carry ids (``chat.stop``, ``app.history``...); ``[keys]`` in config.toml maps an id to
other keys (Textual's keymap), e.g. ``"chat.new" = "ctrl+t"`` when the terminal takes ctrl+n.
The help screen shows the keys in force.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

Row = tuple[str, str, str]  # where, key, what


def _sections() -> list[tuple[str, list[Binding]]]:
    from chinwag.tui.app import ChinwagApp
    from chinwag.tui.screens.chat import ChatScreen
    from chinwag.tui.screens.compare_models import CompareModelsScreen
    from chinwag.tui.screens.history import HistoryScreen
    from chinwag.tui.screens.usage import UsageScreen
    from chinwag.tui.screens.tree import ConversationTree, TreeScreen
    from chinwag.tui.widgets.chat_log import ChatLog
    from chinwag.tui.widgets.compare import CompareView
    from chinwag.tui.widgets.composer import Composer
    from chinwag.tui.widgets.history_table import HistoryTable

    return [
        ("Chat", [b for b in Composer.BINDINGS if isinstance(b, Binding)]),
        ("Chat", [b for b in ChatScreen.BINDINGS if isinstance(b, Binding)]),
        ("Message mode", [b for b in ChatLog.BINDINGS if isinstance(b, Binding)]),
        ("Tree (F6)", [b for b in [*TreeScreen.BINDINGS, *ConversationTree.BINDINGS] if isinstance(b, Binding)]),
        ("Compare (F7)", [b for b in [*CompareModelsScreen.BINDINGS, *CompareView.BINDINGS]
                          if isinstance(b, Binding)]),
        ("Anywhere", [b for b in ChinwagApp.BINDINGS if isinstance(b, Binding)]),
        ("History", [b for b in HistoryScreen.BINDINGS if isinstance(b, Binding)]),
        ("History", [b for b in HistoryTable.BINDINGS if isinstance(b, Binding)]),
        ("Usage", [b for b in UsageScreen.BINDINGS if isinstance(b, Binding)]),
    ]


def binding_ids() -> dict[str, Binding]:
    """Every binding that can be remapped, by id."""
    return {b.id: b for _, bindings in _sections() for b in bindings if b.id}


def keys_for(binding: Binding, keymap: Mapping[str, str]) -> str:
    return keymap.get(binding.id, binding.key) if binding.id else binding.key


def help_rows(keymap: Mapping[str, str] = {}) -> list[Row]:
    """(where, key, what) for every key, with the user's keymap applied."""
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for where, bindings in _sections():
        for binding in bindings:
            key = keys_for(binding, keymap).replace(",", " / ")
            if (where, binding.description) in seen:
                continue
            seen.add((where, binding.description))
            rows.append((where, key, binding.tooltip or binding.description))  # the tooltip says more
    rows += [
        ("Chat", "escape (idle)", "Cancel an edit or a compare; with nothing to cancel, select the newest message"),
        ("Tree (F6)", "enter", "Show the branch through that message (down to its leaf)"),
        ("Tree (F6)", "space", "Open or close a message's other versions"),
        ("Chat", "/file PATH", "Typed as the message: attach a file (no PATH: the attach dialog)"),
        ("Chat", "backspace", "In an empty composer: remove the last attached file"),
        ("History", "type", "Search titles and messages (letters typed on the list go there too)"),
        ("History", "search", '"a phrase", model:NAME, persona:NAME, after:2026-03-01, before:2026-04'),
        ("Anywhere", "ctrl+p", "Command palette: every action of the screen on top, themes"),
        ("Anywhere", "tab / shift+tab", "Move focus (on the chat pane: arrows move between messages, PgUp/PgDn scroll)"),
        ("Dialogs", "ctrl+s", "Save"),
        ("Dialogs", "escape", "Close without changes"),
    ]
    return rows


def keymap_warnings(keymap: Mapping[str, str]) -> list[str]:
    if not keymap:
        return []
    known = binding_ids()
    unknown = sorted(set(keymap) - set(known))
    if not unknown:
        return []
    return [f"[keys] in config.toml names unknown bindings: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"]

