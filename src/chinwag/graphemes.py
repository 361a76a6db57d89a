"""Where text may be cut without splitting what a reader sees as one character.

A user-perceived character (a grapheme cluster) can be several code points: a letter and its
combining accents (``e`` + U+0301), an emoji ZWJ sequence (👩‍💻 is three), a flag (two regional
indicators), an emoji with a skin tone or a variation selector, a Hangul syllable written as
jamo. Cutting a line between them shows a stray accent, half a family or a wrong flag. This is
the part of Unicode's segmentation rules (UAX #29) that matters for cutting a line short, not a
full implementation: only the neighbours of one position are looked at (and, for flags, the
run of regional indicators before it).
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
_MARKS = frozenset(("Mn", "Me", "Mc"))


def _extends(char: str) -> bool:
    """True for a code point that belongs to the character before it."""
    code = ord(char)
    if code < 0x300:
        return False  # ASCII and Latin-1 letters: the usual case, quickly
    return (
        char == ZWJ
        or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin tones
        or 0xE0020 <= code <= 0xE007F  # tags (subdivision flags)
        or 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FB  # Hangul vowel and final jamo
        or unicodedata.category(char) in _MARKS
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _hangul_lead(char: str) -> bool:
    code = ord(char)
    return 0x1100 <= code <= 0x115F or 0xA960 <= code <= 0xA97C


def is_boundary(text: str, index: int) -> bool:
    """True when ``text`` may be cut before ``text[index]`` (the ends always may)."""
    if index <= 0 or index >= len(text):
        return True
    after, before = text[index], text[index - 1]
    if after < "\u0300" and before < "\u1100":  # neither can join (the usual case, quickly)
        return True
    if _extends(after) or before == ZWJ:
        return False
    if _regional(after) and _regional(before):  # flags pair up from the start of the run
        run = index - 1
        while run > 0 and _regional(text[run - 1]):
            run -= 1
        return (index - run) % 2 == 0
    if _hangul_lead(before):
        code = ord(after)
        return not (_hangul_lead(after) or 0xAC00 <= code <= 0xD7A3)
    return True


def boundary_before(text: str, index: int) -> int:
    """The nearest place at or before ``index`` where ``text`` may be cut."""
    return _nearest(text, index, -1)


def boundary_after(text: str, index: int) -> int:
    """The nearest place at or after ``index`` where ``text`` may be cut."""
    return _nearest(text, index, 1)


def _nearest(text: str, index: int, step: int) -> int:
    if index <= 0:
        return 0
    if index >= len(text):
        return len(text)
    if text[index] < "\u0300" and text[index - 1] < "\u1100":  # as in is_boundary, without a call
        return index
    while not is_boundary(text, index):
        index += step
    return index


def shorten(text: str, width: int, mark: str = "…") -> str:
    """``text`` if it has at most ``width`` code points, else its start (cut between characters
    as seen) and ``mark``, within ``width`` code points."""
    if len(text) <= width:
        return text
    room = max(0, width - len(mark))
    start = text[:boundary_before(text, room) or room].rstrip()  # (one huge cluster: cut it anyway)
    return start if start.endswith(mark) else start + mark
