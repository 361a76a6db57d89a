"""The composer: a multi-line TextArea where Enter sends and ctrl+j adds a newline."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from chinwag.sanitize import clean_paste


def key_name(key: str) -> str:
    return {"enter": "Enter", "escape": "Escape", "tab": "Tab"}.get(key, key)


class Composer(TextArea):
    """Multi-line input. Enter posts Submitted; ctrl+j (or shift+enter) inserts a newline;
    PageUp/PageDown scroll the chat while the draft fits in the box."""

    DEFAULT_CSS = """
    Composer {
        height: auto;
        min-height: 3;
        max-height: 12;
        border: round $primary 50%;
        border-title-color: $text-muted;
        &:focus { border: round $primary; }
    }
    """

    BINDINGS = [
        Binding("enter", "submit", "Send", key_display="⏎", id="composer.send"),
        Binding("ctrl+j", "newline", "Newline", show=False, id="composer.newline"),
        Binding("shift+enter", "newline", "Newline", show=False),
        Binding("pageup", "page(-1)", "Scroll chat up", show=False, id="composer.page_up"),
        Binding("pagedown", "page(1)", "Scroll chat down", show=False, id="composer.page_down"),
    ]

    class PageChat(Message):
        """Scroll the chat a page (-1 up, 1 down)."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    class Submitted(Message):
        """The user asked to send the draft."""

        def __init__(self, composer: "Composer", text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    class EmptyBackspace(Message):
        """Backspace in an empty composer (removes the last attached file)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

    def keys_of(self, binding_id: str) -> list[str]:
        """The keys in force for one of the composer's bindings ([keys] in config.toml may move
        them: the app's keymap)."""
        default = {"composer.send": "enter", "composer.newline": "ctrl+j"}[binding_id]
        keymap = getattr(self.app, "_keymap", {}) or {}
        return [key.strip() for key in keymap.get(binding_id, default).split(",") if key.strip()]

    def title(self) -> str:
        """What the box's title says about its keys (the ones in force)."""
        send = " / ".join(key_name(k) for k in self.keys_of("composer.send"))
        newline = " / ".join(key_name(k) for k in self.keys_of("composer.newline"))
        return f"Message ({send} send · {newline} newline · ctrl+o attach file · ctrl+↑ messages)"

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline for Enter before bindings run: take the send and newline
        # keys (as the keymap has them; terminals report ctrl+j as "newline") here instead.
        send, newline = self.keys_of("composer.send"), self.keys_of("composer.newline")
        if "ctrl+j" in newline:
            newline.append("newline")
        if event.key in send:
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in newline or (event.key == "shift+enter" and "shift+enter" not in send):
            event.stop()
            event.prevent_default()
            self.action_newline()
        if event.key == "backspace" and not self.text:
            self.post_message(self.EmptyBackspace())
        # Other keys: Textual calls TextArea._on_key next (handlers run along the MRO).

    async def _on_paste(self, event: events.Paste) -> None:
        # A paste is text, never terminal control: escape sequences and controls go (a stray ESC
        # shows as ␛), so the draft cannot drive the terminal and what is sent is what is seen.
        # Terminals send pasted newlines as CR: CR and CRLF become newlines (see tui/driver.py).
        # TextArea._on_paste runs after this one (handlers run along the MRO) and inserts it.
        event.text = clean_paste(event.text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # TextArea binds F6 (select line) and F7 (select all); the chat takes those keys first
        # (tree, compare), so they never fire here: left out, they do not push the chat's keys
        # to the front of the footer either.
        if action in ("select_line", "select_all"):
            return False
        return super().check_action(action, parameters)

    def action_submit(self) -> None:
        # Empty text too: files attached alone may be sent; the screen decides.
        self.post_message(self.Submitted(self, self.text))

    def action_page(self, direction: int) -> None:
        if self.max_scroll_y > 0:  # a long draft: PageUp/PageDown move in it
            if direction < 0:
                self.action_cursor_page_up()
            else:
                self.action_cursor_page_down()
            return
        self.post_message(self.PageChat(direction))

    def action_newline(self) -> None:
        self.insert("\n")
