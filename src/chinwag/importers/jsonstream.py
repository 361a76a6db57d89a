"""Read a JSON array of conversations one element at a time, with bounded memory.

Exports run to hundreds of megabytes, so the file is never parsed whole: ijson's C parser
(yajl) yields events and ``elements`` builds one element at a time from them. Memory is
bounded by the largest element we agree to build:

- an element over ELEMENT_LIMIT bytes of JSON, or nested deeper than DEPTH_LIMIT, is
  skipped (reported as Oversized) and reading goes on with the next one;
- a single value over TOKEN_LIMIT bytes (one giant string, or megabytes of blank space)
  stops the file with StreamError: no parser could skip it without holding it.

``Utf8Repair`` sits between the file and the parser: bytes that are not UTF-8 become U+FFFD
(counted, so the user is told) and a ``\\ud800`` escape of a lone surrogate becomes
``\\ufffd``, so one bad character costs one character, not the rest of the file.

It also keeps from the parser any number it cannot turn into a value: yajl's C backend hands
every integer to Python's int (which refuses more than 4,300 digits) and every other number to
Decimal (which refuses an exponent of more than 18 digits), and when either raises inside the
parser the process crashes (ijson 3.6: SystemError or a segmentation fault). Such a number,
outside a string, is replaced with TOO_LONG (a string no export holds), and the element that
held it is skipped as Oversized: one conversation lost, not the file or the process.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

import ijson

ELEMENT_LIMIT = 128 * 1024 * 1024
NUMBER_LIMIT = 4300  # characters in one number (Python's int limit: see the module's docstring)
EXPONENT_LIMIT = 15  # digits in a number's exponent (Decimal refuses more than 18)
TOO_LONG = "\x00chinwag: a number too long to read"
TOKEN_LIMIT = 64 * 1024 * 1024
DEPTH_LIMIT = 256
CHUNK = 256 * 1024

_ERRORS = "chinwag-import-replace"
_BOM = codecs.BOM_UTF8


class StreamError(ValueError):
    """The file cannot be read on from here; the message is for a person."""


@dataclass
class Oversized:
    """An element that was skipped, and why."""

    reason: str


class Utf8Repair:
    """A binary reader that passes on valid UTF-8 and JSON without lone surrogate escapes."""

    def __init__(self, raw: BinaryIO, chunk: int = CHUNK) -> None:
        self._raw = raw
        self._chunk = chunk
        self._decoder = codecs.getincrementaldecoder("utf-8")(_ERRORS)
        self._held = b""  # a trailing run of backslashes (an escape that may go on in the next chunk)
        self._done = False
        self._first = True
        self.position = 0  # bytes read from the file
        self.replaced = 0  # undecodable bytes turned into U+FFFD
        self.quiet = 0  # bytes read since the parser last produced an event
        self.too_long = 0  # numbers replaced with TOO_LONG
        self._in_string = False  # whether the bytes passed on so far end inside a string
        self._skip_number = False  # the bytes passed on end in a replaced number: drop the rest of it

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing first, to see whether the file gives bytes or text
            return b""
        while not self._done:
            chunk = self._raw.read(self._chunk)
            self.position += len(chunk)
            self.quiet += len(chunk)
            if self.quiet > TOKEN_LIMIT:
                raise StreamError(
                    f"over {TOKEN_LIMIT // 2**20} MiB without a value ending, near byte {self.position:,} "
                    "(one giant string, or padding)"
                )
            if self._first:
                self._first = False
                if chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM):]
            final = not chunk
            self._done = final
            _counter[0] = 0
            text = self._decoder.decode(chunk, final)
            self.replaced += _counter[0]
            data, self._held = _repair_escapes(self._held + text.encode("utf-8"), final)
            data = self._guard_numbers(data, final)
            if data:
                return data
        return b""

    def _guard_numbers(self, data: bytes, final: bool) -> bytes:
        """``data`` with each number too long to parse (outside strings) replaced by TOO_LONG;
        a trailing run that may be part of a number is held back until the rest arrives.
        Hot: every byte of the file passes here, so the common case is a few C-speed scans."""
        if self._skip_number:
            rest = _NUMBER_RUN.match(data)
            if rest is not None:
                data = data[rest.end():]
            self._skip_number = rest is not None and not data and not final
        if not final and data and data[-1] in _NUMBER_CHARS:
            tail = _run_left(data, len(data) - 1, NUMBER_LIMIT + 1)
            if len(data) - tail <= NUMBER_LIMIT:
                self._held = data[tail:] + self._held
                data = data[:tail]
        # Every number too long has a run of over EXPONENT_LIMIT digits: look for those first.
        flat = data.translate(_DIGITS_AS_ZERO)
        found = flat.find(_DIGIT_RUN)
        if found < 0:
            self._in_string ^= _quotes(data) % 2 == 1
            return data
        out, start = bytearray(), 0
        while found >= 0:
            left = _run_left(data, found, NUMBER_LIMIT + 1)
            token = _NUMBER_RUN.match(data, left)
            assert token is not None
            found = flat.find(_DIGIT_RUN, token.end())
            if token.end() - left <= NUMBER_LIMIT and not _LONG_EXPONENT.search(data, left, token.end()):
                continue  # a long number that parses, or digits in a text
            self._in_string ^= _quotes(data[start:left]) % 2 == 1
            out += data[start:left]
            start = token.end()
            if self._in_string:  # digits in a text: kept as they are
                out += data[left:start]
                continue
            self.too_long += 1
            out += _TOO_LONG_JSON
            self._skip_number = start == len(data) and not final
        self._in_string ^= _quotes(data[start:]) % 2 == 1
        out += data[start:]
        return bytes(out)


_counter = [0]

_NUMBER_CHARS = b"-+.0123456789eE"  # what a number is made of (outside strings, also true/false's e)
_NUMBER_RUN = re.compile(rb"[-+.0-9eE]+")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_DIGIT_RUN = b"0" * (EXPONENT_LIMIT + 1)
_LONG_EXPONENT = re.compile(rb"[eE][-+]?[0-9]{%d}" % (EXPONENT_LIMIT + 1))
_TOO_LONG_JSON = b'"' + TOO_LONG.replace("\x00", "\\u0000").encode("ascii") + b'"'


def _quotes(data: bytes) -> int:
    """The quotes in ``data`` that open or close a string (not ``\\"``); ``data`` starts
    outside a run of backslashes. A quote after an odd run of backslashes is escaped: counted
    as (after 1 or more) - (after 2 or more) + (after 3 or more) - ..., each a C-speed count."""
    count = data.count(b'"')
    sign, run = -1, b'\\"'
    while after := data.count(run):
        count += sign * after
        sign, run = -sign, b"\\" + run
    return count


def _run_left(data: bytes, index: int, most: int | None = None) -> int:
    """Where the run of number characters around ``index`` starts (looking back at most
    ``most`` characters)."""
    stop = 0 if most is None else max(0, index - most)
    while index > stop and data[index - 1] in _NUMBER_CHARS:
        index -= 1
    return index


def _replace(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    _counter[0] += error.end - error.start
    return "\ufffd", error.end


codecs.register_error(_ERRORS, _replace)

_ESCAPE = re.compile(rb"\\+u[dD][89a-fA-F][0-9a-fA-F]{2}")  # a run of backslashes, u, a surrogate
_LOW = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _repair_escapes(data: bytes, final: bool) -> tuple[bytes, bytes]:
    """(data with each ``\\uD800``-style escape that is not half of a pair made ``\\uFFFD``,
    a tail to hold until the next chunk because an escape in it may not be complete).

    Only an odd run of backslashes starts an escape (``\\\\ud800`` is a backslash and text).
    A replacement has the same length, so positions do not move. ``data`` always starts
    outside a run of backslashes (a held tail starts at the beginning of its run).
    """
    cut = len(data)
    if not final:  # an escape is 6 bytes: one whose backslash is this close to the end is unfinished
        last = data.rfind(b"\\", max(0, len(data) - 6))
        if last >= 0:
            cut = _run_start(data, last)
    if b"\\u" not in data and b"\\U" not in data:
        return _split(data, cut)
    out = None
    pos = 0
    while True:
        match = _ESCAPE.search(data, pos, cut)
        if match is None:
            break
        pos = match.end()
        if (match.end() - match.start() - 5) % 2 == 0:
            continue  # an even run: escaped backslashes, then plain text
        if data[match.end() - 3] in b"89abAB":  # a high surrogate: is a low one next?
            if match.end() + 6 > cut and not final:
                cut = match.start()  # not known yet: decide when the rest has arrived
                break
            if _LOW.match(data, match.end()):
                pos = match.end() + 6
                continue
        if out is None:
            out = bytearray(data)
        out[match.end() - 6:match.end()] = b"\\ufffd"
    return _split(bytes(out) if out is not None else data, cut)


def _run_start(data: bytes, index: int) -> int:
    while index > 0 and data[index - 1] == 0x5C:
        index -= 1
    return index


def _split(data: bytes, cut: int) -> tuple[bytes, bytes]:
    if cut == 0 and data:  # nothing but an unfinished escape: cannot be long, unless it is all
        return (data, b"") if len(data) > CHUNK else (b"", data)  # backslashes; let those through
    return data[:cut], data[cut:]


# -- elements -------------------------------------------------------------------

_OPEN = ("start_map", "start_array")


def elements(reader: Utf8Repair) -> Iterator[Any]:
    """Each element of the top-level array (or the one top-level object) as Python values;
    an Oversized in place of one that was too big. Numbers come as int or Decimal.
    Raises StreamError when the file is not JSON, or is cut off, from that point on."""
    events = ijson.basic_parse(reader, buf_size=CHUNK)
    found = [0]  # TOO_LONG values met so far (the reader may have replaced more, further on)
    try:
        first = next(events, None)
        if first is None:
            raise StreamError("the file is empty")
        if first[0] == "start_map":
            yield _checked(_build(first, events, reader), reader, found)
            return
        if first[0] != "start_array":
            raise StreamError("the file is not a list of conversations")
        for event in events:
            if event[0] == "end_array":
                return
            yield _checked(_build(event, events, reader), reader, found)
    except ijson.JSONError as exc:
        raise StreamError(_json_problem(exc, reader)) from None
    except StreamError:
        raise
    except (ValueError, ArithmeticError):  # a number the guard let through (defence in depth)
        raise StreamError(f"a number that cannot be read near byte {reader.position:,}") from None


def _checked(item: Any, reader: Utf8Repair, found: list[int]) -> Any:
    """``item``, or Oversized when it holds a number replaced with TOO_LONG. Only searched
    while the reader has replaced more numbers than were found: free for ordinary files."""
    if reader.too_long <= found[0] or isinstance(item, Oversized):
        return item
    count, stack = 0, [item]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value == TOO_LONG:
            count += 1
    if not count:
        return item
    found[0] += count
    return Oversized(f"holds a number too long to read (over {NUMBER_LIMIT:,} characters, or an exponent "
                     f"of over {EXPONENT_LIMIT} digits)")


def _json_problem(exc: Exception, reader: Utf8Repair) -> str:
    text = str(exc)
    if reader.position == 0:
        return "the file is empty"
    if "premature EOF" in text or "Incomplete" in type(exc).__name__ and "EOF" in text:
        return "the file ends in the middle of the JSON (cut off?)"
    return f"not valid JSON near byte {reader.position:,}"


def _build(first: tuple[str, Any], events: Iterator[tuple[str, Any]], reader: Utf8Repair) -> Any:
    """One element from its first event on. Hot: every event of the file passes here."""
    event, value = first
    if event not in _OPEN:
        return value
    start = reader.position
    top: Any = {} if event == "start_map" else []
    in_dict = event == "start_map"
    key: Any = None
    stack: list[tuple[Any, Any, bool]] = []  # the containers above ``top``, with their keys
    for event, value in events:
        if event == "map_key":
            reader.quiet = 0
            key = value
        elif event == "string" or event == "number" or event == "boolean" or event == "null":
            if in_dict:
                top[key] = value  # the key's event reset ``quiet``
            else:
                reader.quiet = 0
                top.append(value)
        elif event == "start_map" or event == "start_array":
            reader.quiet = 0
            if len(stack) + 2 > DEPTH_LIMIT:
                return _skip(events, reader, len(stack) + 2, f"nested more than {DEPTH_LIMIT} levels deep")
            if reader.position - start > ELEMENT_LIMIT:
                return _skip(events, reader, len(stack) + 2, f"over {ELEMENT_LIMIT // 2**20} MiB of JSON")
            child: Any = {} if event == "start_map" else []
            if in_dict:
                top[key] = child
            else:
                top.append(child)
            stack.append((top, key, in_dict))
            top, key, in_dict = child, None, event == "start_map"
        else:  # end_map, end_array
            reader.quiet = 0
            if not stack:
                return top
            top, key, in_dict = stack.pop()
    raise StreamError("the file ends in the middle of the JSON (cut off?)")


def _skip(events: Iterator[tuple[str, Any]], reader: Utf8Repair, depth: int, reason: str) -> Oversized:
    """Read on to the end of an element that is not kept (``depth`` containers are open)."""
    for event, _ in events:
        reader.quiet = 0
        if event == "start_map" or event == "start_array":
            depth += 1
        elif event == "end_map" or event == "end_array":
            depth -= 1
            if depth == 0:
                return Oversized(reason)
    raise StreamError("the file ends in the middle of the JSON (cut off?)")
