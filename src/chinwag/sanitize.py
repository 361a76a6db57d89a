"""The one boundary every outside string passes on its way to a screen, stdout or a file.

Text from outside (replies, server error bodies, model ids, documents, config values, theme
and persona names, file names, flags) is data. A reply that holds ``ESC ] 52 ; c ; ...``
could write to the clipboard of whoever ``cat``s a transcript; ``ESC ] 0 ;`` retitles their
window; a lone surrogate (``"\\ud800"`` is valid JSON) makes a strict UTF-8 encode raise.

``clean`` removes every escape sequence and control character except newline and tab, shows
a stray ESC visibly as "␛", and replaces lone surrogates (and so undecodable bytes, which
Python carries as surrogates) with "\ufffd". It also removes the bidirectional embeddings,
overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the letters of whatever
follows them up to the end of a paragraph, so ``"Snip \\u202egnp.exe"`` reads ``Snip exe.png``
(the "Trojan Source" trick), and a title or a snippet cut short never closes them. The
direction marks (U+200E, U+200F, U+061C) stay: they are zero-width letters with a direction
and no span, cannot reverse a word, and right-to-left writing uses them to place punctuation
and numbers. Printable text (emoji, wide and right-to-left scripts) is untouched.
``clean(text, one_line=True)`` also folds all whitespace to single spaces, for titles, table
cells and notifications. Documents keep the raw data; only what is shown or written for
people is cleaned. ``safe_json`` writes data losslessly but escapes what a terminal could act
on (the bidi controls included).
"""

from __future__ import annotations

import re
from typing import Any

VISIBLE_ESC = "␛"
REPLACEMENT = "\ufffd"

# The bidirectional formatting that reorders a span: LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"

# Anything worth a second look: C0 controls other than \t and \n, DEL, C1 controls, bidi
# embeddings/overrides/isolates, surrogates.
_SUSPECT = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

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

_CONTROL = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def clean(text: object, *, one_line: bool = False) -> str:
    """Text safe to show or print: no escape sequences, no controls but \\n and \\t, no bidi
    embeddings, overrides or isolates, no lone surrogates. ``one_line``: every run of
    whitespace (newlines too) becomes one space."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if text.isprintable():  # the usual case, quickly: no control, surrogate or space but " "
        return " ".join(text.split()) if one_line and ("  " in text or text[:1] == " " or text[-1:] == " ") else text
    if _SUSPECT.search(text):
        text = _SURROGATE.sub(REPLACEMENT, text)
        text = _SEQUENCE.sub("", text)
        text = text.replace("\r\n", "\n").replace("\x1b", VISIBLE_ESC)
        text = _CONTROL.sub("", text)
    return " ".join(text.split()) if one_line else text


def clean_paste(text: str) -> str:
    """A paste as the user meant it: terminals send its newlines as CR, so CR and CRLF become
    LF (never deleted: lines must not run together); then ``clean``."""
    return clean(text.replace("\r\n", "\n").replace("\r", "\n"))


# Inside JSON strings: DEL and C1 (0x9b is a terminal's CSI), the bidi controls that reorder
# what is read, lone surrogates, and the line separators some tools treat as newlines.
# json.dumps already escapes C0 controls.
_JSON_UNSAFE = re.compile(rf"[\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff\u2028\u2029]")


def safe_json(data: Any, indent: int | None = 2) -> str:
    """JSON of ``data`` (readable UTF-8) that keeps every character but can be printed safely:
    what a terminal or a strict encoder would trip on is written as a \\uXXXX escape."""
    import json

    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def valid_unicode(data: Any) -> Any:
    """``data`` (str, or lists and dicts of them) with lone surrogates replaced by "\ufffd": what
    can be encoded as UTF-8, e.g. a request whose document holds a "\\ud800" from a JSON file.
    Returns ``data`` itself when there is nothing to replace."""
    if isinstance(data, str):
        return _SURROGATE.sub(REPLACEMENT, data) if _SURROGATE.search(data) else data
    if isinstance(data, list):
        items = [valid_unicode(item) for item in data]
        return data if all(a is b for a, b in zip(items, data)) else items
    if isinstance(data, dict):
        pairs = {valid_unicode(k): valid_unicode(v) for k, v in data.items()}
        return data if all(pairs.get(k) is v for k, v in data.items()) else pairs
    return data


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
