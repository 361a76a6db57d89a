"""The app in a browser tab (`chinwag serve`): other keys for the ones a browser keeps, downloads.

A browser never hands some keys to a page: ctrl+n (new window), ctrl+t (new tab), ctrl+w (close
tab), ctrl+tab and ctrl+page up/down (switch tabs), and in Firefox ctrl+q (quit the browser).
When the app is served, each of them has an alt+ twin that does the same thing: the twin is
translated into the original key before the app sees it, so every binding and widget that
uses the original (ctrl+w in the composer deletes a word) works with the twin, and the footer
and F1 show the twin instead. The app knows it is served from its driver (Textual's web
driver, which textual-serve starts), not from a setting.
"""

from __future__ import annotations

import dataclasses

from textual import events
from textual.app import App
from textual.binding import Binding

BROWSER_KEYS = {
    "ctrl+n": "alt+n",
    "ctrl+t": "alt+t",
    "ctrl+w": "alt+w",
    "ctrl+q": "alt+q",
    "ctrl+tab": "alt+pagedown",
    "ctrl+shift+tab": "alt+pageup",
    "ctrl+pagedown": "alt+pagedown",
    "ctrl+pageup": "alt+pageup",
}

# Content types of the export formats, for downloads (see chinwag.export.FORMATS).
DOWNLOAD_TYPES = {"md": "text/markdown", "html": "text/html", "txt": "text/plain", "json": "application/json"}


def browser_key(key: str) -> str:
    """The key to press in a browser for ``key`` (``key`` itself when the browser lets it through)."""
    return BROWSER_KEYS.get(key, key)


def browser_keys_text(keys: str) -> str:
    """A key list as shown in help ("ctrl+n / f3") with each kept key replaced by its twin."""
    return " / ".join(browser_key(part.strip()) for part in keys.split("/"))


class ServedApp(App):
    """Mixed into the chinwag app: key twins and file delivery while it runs in a browser."""

    @property
    def served(self) -> bool:
        """True in a browser tab (textual-serve runs the app with Textual's web driver)."""
        return self.is_web

    def _original_key(self, key: str) -> str | None:
        """The kept key that ``key`` stands for, if one of them is bound where focus is."""
        candidates = [original for original, twin in BROWSER_KEYS.items() if twin == key]
        if not candidates:
            return None
        bound = self.screen.active_bindings
        return next((original for original in candidates if original in bound), None)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self.served:
            original = self._original_key(event.key)
            if original is not None:
                event = events.Key(original, None)
        await super().on_event(event)

    def get_key_display(self, binding: Binding) -> str:
        if self.served and binding.key in BROWSER_KEYS:
            binding = dataclasses.replace(binding, key=BROWSER_KEYS[binding.key], key_display=None)
        return super().get_key_display(binding)

    def deliver_text_file(self, text: str, file_name: str, mime_type: str) -> str | None:
        """Send ``text`` to the browser as a download (UTF-8; unpaired surrogates replaced)."""
        import io

        data = io.BytesIO(text.encode("utf-8", "replace"))
        return self.deliver_binary(data, save_filename=file_name, mime_type=f"{mime_type}; charset=utf-8")
