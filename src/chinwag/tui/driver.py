"""The terminal driver: Textual's Linux driver, with bracketed pastes taken whole and undecodable
input bytes replaced instead of ending the app.

Textual's input parser appends a paste one character at a time, but an ESC inside a paste
starts its escape-sequence reader, which swallows what follows and later re-issues it as key
presses: a paste holding an escape sequence came back reordered (keys first, the rest of the
paste after). Terminals also send a paste's newlines as CR. ``PasteFilter`` sits between the
terminal and the parser: it holds a paste from ``ESC[200~`` to ``ESC[201~`` and hands the
parser that paste cleaned (``sanitize.clean_paste``: CR and CRLF become LF, escape sequences
go), so what the parser sees holds no ESC and arrives in order.
"""

from __future__ import annotations

import os
import selectors
import sys
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from chinwag.sanitize import clean_paste

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


class PasteFilter:
    """Terminal input in, parser input out: everything passes as it came, except a bracketed
    paste, which is held until it is complete and passed on cleaned. Markers may be split
    across reads; the work per read is proportional to the read."""

    def __init__(self) -> None:
        self._tail = ""  # the last few characters passed on: a start marker may be split
        self._paste: list[str] | None = None  # the paste so far, while inside one
        self._paste_tail = ""  # the last few characters of the paste: the end marker may be split

    @property
    def in_paste(self) -> bool:
        return self._paste is not None

    def feed(self, data: str) -> str:
        out: list[str] = []
        while data:
            if self._paste is None:
                probe = self._tail + data
                found = probe.find(PASTE_START)
                if found < 0:
                    out.append(data)
                    self._tail = probe[-(len(PASTE_START) - 1):]
                    break
                end = found + len(PASTE_START) - len(self._tail)  # where the marker ends in data
                out.append(data[:end])
                data = data[end:]
                self._tail, self._paste, self._paste_tail = "", [], ""
            else:
                probe = self._paste_tail + data
                found = probe.find(PASTE_END)
                if found < 0:
                    self._paste.append(data)
                    self._paste_tail = probe[-(len(PASTE_END) - 1):]
                    break
                end = found + len(PASTE_END) - len(self._paste_tail)
                pasted = "".join(self._paste) + data[:end]
                out.append(clean_paste(pasted[: -len(PASTE_END)]) + PASTE_END)
                data = data[end:]
                self._paste, self._paste_tail = None, ""
        return "".join(out)


class ChinwagDriver(LinuxDriver):
    """LinuxDriver whose input thread puts a PasteFilter before the parser and decodes input
    with errors="replace" (a stray invalid byte no longer kills the input thread)."""

    def run_input_thread(self) -> None:  # Textual 8.2's loop, with the two changes above
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        pastes = PasteFilter()
        decode = getincrementaldecoder("utf-8")(errors="replace").decode

        def process(selector_events, final: bool = False) -> None:
            for index, (_key, mask) in enumerate(selector_events):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final and index == len(selector_events) - 1)
                    if not data:
                        break
                    data = pastes.feed(data)
                    if data:  # empty while a paste is held (and the parser reads "" as end of input)
                        for event in parser.feed(data):
                            self.process_message(event)
            for event in parser.tick():  # an ESC held by the parser times out into the escape key
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(0.1))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass


def driver_class() -> type[LinuxDriver] | None:
    """The driver for this platform: ours where Textual would use its Linux driver."""
    if sys.platform == "win32" or os.environ.get("TEXTUAL_DRIVER"):
        return None
    return ChinwagDriver
