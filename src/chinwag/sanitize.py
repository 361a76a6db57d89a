"""Strip terminal control sequences from text that came from a model or a file.

A reply that holds ``ESC ] 52 ; c ; ...`` could write to the clipboard of whoever
``cat``s a transcript; ``ESC ] 0 ;`` retitles their window. ``clean`` removes every
escape sequence and control character except newline and tab, and shows a stray ESC
visibly as "␛". Printable text (emoji, wide and right-to-left scripts) is untouched.
"""

from __future__ import annotations

import re

VISIBLE_ESC = "␛"

# Anything worth a second look: C0 controls other than \t and \n, DEL, C1 controls.
_SUSPECT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_SEQUENCE = re.compile(
    # CSI: ESC [ (or 8-bit 0x9b), parameter bytes, intermediate bytes, final byte.
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    # OSC (title, clipboard, hyperlinks ...): ESC ] (or 0x9d) ... BEL or ST.
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    # DCS, SOS, PM, APC strings: ... ST (some terminals accept BEL too).
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    # Any other escape: ESC, intermediates, a final byte (not the openers above, so an
    # unterminated CSI/OSC keeps a visible ␛; not a space, so "ESC to quit" stays readable).
    r"|\x1b[!-/]*[0-OQ-WYZ\\`-~]"
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Text safe to print to a terminal: no escape sequences, no controls but \\n and \\t."""
    if not _SUSPECT.search(text):
        return text
    text = _SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\x1b", VISIBLE_ESC)
    return _CONTROL.sub("", text)


# An escape sequence cut short at the end of a piece of a stream: its opener and no terminator yet.
_UNFINISHED = re.compile(
    r"(?:\x1b|\x1b\[[0-?]*[ -/]*|\x9b[0-?]*[ -/]*"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*\x1b)\Z"
)
UNFINISHED_LIMIT = 4096  # a "sequence" longer than this is not held back any more


def split_unfinished(text: str) -> tuple[str, str]:
    """(text to show now, a trailing unfinished escape sequence to hold until more arrives)."""
    match = _UNFINISHED.search(text[-UNFINISHED_LIMIT:]) if _SUSPECT.search(text[-UNFINISHED_LIMIT:]) else None
    if match is None:
        return text, ""
    cut = len(text) - (len(match.group()))
    return text[:cut], text[cut:]
