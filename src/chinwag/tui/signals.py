"""SIGHUP (the terminal closed), SIGTERM (kill) and SIGINT while the app runs: quit as ctrl+q
does, so a streaming reply is saved with what arrived (``interrupted``) and Textual restores
the terminal (alternate screen left, cursor shown). Without this, the default action ended
the process on the spot: the partial reply was lost and SIGTERM left the terminal unusable.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from contextlib import suppress

SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGTERM", "SIGINT") if hasattr(signal, name))


def install(on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Route SIGNALS to ``on_signal(signum)`` on the running loop; returns the undo."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, or Windows
            continue
        installed.append(signum)

    def remove() -> None:
        for signum in installed:
            with suppress(Exception):
                loop.remove_signal_handler(signum)

    return remove
