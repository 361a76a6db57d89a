"""Streamed text on its way to the screen, a frame at a time (the chat and compare columns)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.screen import Screen
from textual.timer import Timer

from chinwag.sanitize import clean, split_unfinished

FRAME = 1 / 10  # how often streamed text reaches the screen (each frame redraws what changed)
MAX_FRAME = 0.25  # ...or less often, when drawing is slow: at most DRAW_SHARE of the time drawing
DRAW_SHARE = 0.2


class ScreenStream:
    """Streamed text on its way to a message body, a frame at a time.

    A delta costs a list append; a timer puts what arrived on screen once a frame: every FRAME,
    or less often when a frame takes long to draw (so that drawing takes at most DRAW_SHARE of
    the time: a slow terminal or a loaded machine gets fewer, larger steps, never a backlog).
    An escape sequence split between deltas is held until it is complete, so it is cleaned whole.
    """

    def __init__(self, screen: Screen, body, shown: Callable[[], None] | None = None) -> None:
        """``shown``: called after each frame of text reached ``body``."""
        self.screen = screen
        self.body = body
        self.shown = shown
        self.pending: list[str] = []
        self.timer: Timer | None = None
        self.last = 0.0
        self.interval = FRAME

    def add(self, text: str) -> None:
        self.pending.append(text)
        if self.timer is None:
            wait = max(0.001, self.interval - (time.monotonic() - self.last))
            self.timer = self.screen.set_timer(wait, self.flush)

    def flush(self, final: bool = False) -> None:
        if self.timer is not None:
            self.timer.stop()
        self.timer = None
        self.last = started = time.monotonic()
        text = "".join(self.pending)
        ready, held = (text, "") if final else split_unfinished(text)
        self.pending = [held] if held else []
        if ready:
            self.body.append(clean(ready))
            if self.shown is not None:
                self.shown()
            if not final:
                self.screen.call_after_refresh(self._drawn, started)

    def _drawn(self, started: float) -> None:
        """The frame is on screen: how long it took sets the pace of the next ones."""
        cost = time.monotonic() - started
        self.interval = min(MAX_FRAME, max(FRAME, cost / DRAW_SHARE))

    def retarget(self, body) -> None:
        """Go on in ``body``, a new view's, made from all the text so far (the message's own text
        is updated before each delta reaches us): what waited for a frame is in it already."""
        self.body = body
        self.pending = []

    def close(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        self.flush(final=True)
        self.body.finish()
