"""What people type in the search box (F2, ``chinwag list --search``), and the line shown per hit.

Syntax: words (each must occur somewhere, inside words too: ``stream`` finds "streaming"), a
"quoted phrase" (occurs as typed, spaces included), and filters ``model:``, ``persona:`` (part of
the name, any case; quote a value with spaces), ``after:`` and ``before:`` (local days; see
chinwag.dates). Any case matches, and so do letters with or without accents (``cafe`` finds
"Café"). Everything else is text to find: ``http://x`` is a word, not a filter.

The index is SQLite FTS5 with the trigram tokenizer: any term of three or more characters is
looked up in it; shorter terms (``ok``, ``AI``, and many Chinese or Japanese words such as 東京)
have no trigram, so they are matched by scanning the stored text, which is slower.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from chinwag.dates import local_midnight_utc, parse_day
from chinwag.graphemes import boundary_after, boundary_before
from chinwag.sanitize import clean, valid_unicode

SNIPPET_WIDTH = 80
MESSAGE_SEPARATOR = "\x1e"  # between messages in the indexed text: no phrase spans two messages
TRIGRAM = 3  # terms shorter than this are not in the index

_MARKS = re.compile("[\u0300-\u036f]")  # combining accents of Latin, Greek and Cyrillic letters
_TOKEN = re.compile(
    r'(?P<key>model|persona|before|after):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S*))'
    r'|"(?P<phrase>[^"]*)"?'
    r"|(?P<word>\S+)",
    re.IGNORECASE,
)


class QueryError(ValueError):
    """The query cannot be run as typed; the message says what to change."""


def fold(text: str) -> str:
    """``text`` without accents (é -> e, ﬁ -> fi, full-width -> ASCII) and case-folded (ß -> ss);
    other marks (kana voicing, Hangul) stay. ASCII is returned as is: the index ignores its case."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold())))


def match_key(text: str) -> str:
    """How two strings are compared when locating a hit: folded, any case."""
    return text.lower() if text.isascii() else fold(text)


_WORD = re.compile(r"\w+")
_NOT_WORD = re.compile(r"\W+")


def word_text(text: str) -> str:
    """``text`` as the word table holds it: folded as hits are compared (``match_key``), each
    run of characters that are not letters, digits or _ one space (so every space-free
    sequence of letters and digits lies within one word)."""
    return _NOT_WORD.sub(" ", match_key(text))


def word_key(term: str) -> str | None:
    """What to look for among the words when ``term`` can be found through them: letters,
    digits and _ only (then each of its occurrences lies inside one word), at least three (the
    words that hold it are found by their trigrams). None: only the trigram table can find it
    (a phrase, punctuation)."""
    key = match_key(term)
    return key if len(key) >= TRIGRAM and _WORD.fullmatch(key) else None


@dataclass
class Query:
    terms: list[str] = field(default_factory=list)  # folded words and phrases, in typed order
    models: list[str] = field(default_factory=list)  # case-folded parts of model names
    personas: list[str] = field(default_factory=list)
    after: str | None = None  # UTC stamp: the conversation was active at or after it
    before: str | None = None  # UTC stamp: the conversation started before it

    @property
    def indexed(self) -> list[str]:
        return [term for term in self.terms if len(term) >= TRIGRAM]

    @property
    def short(self) -> list[str]:
        return [term for term in self.terms if len(term) < TRIGRAM]

    @property
    def filters_only(self) -> bool:
        return not self.terms

    def __bool__(self) -> bool:
        return bool(self.terms or self.models or self.personas or self.after or self.before)

    def fts(self) -> str:
        """The FTS5 MATCH expression of the indexed terms (each one a quoted string)."""
        return " AND ".join('"' + term.replace('"', '""') + '"' for term in self.indexed)


def parse_query(text: str, today: date | None = None) -> Query:
    """Split what was typed into terms and filters; QueryError when a filter's value is wrong."""
    # SQLite takes neither a lone surrogate (undecodable argv bytes) nor a NUL (it ends an FTS5
    # string: "unterminated string"); neither can be meant as text to find.
    text = valid_unicode(text).replace("\x00", " ")
    query = Query()
    for found in _TOKEN.finditer(text):
        key = found.group("key")
        if key is None:
            term = fold(found.group("phrase") if found.group("phrase") is not None else found.group("word"))
            if term.strip():
                query.terms.append(term if found.group("phrase") is not None else term.strip())
            continue
        value = (found.group("quoted") if found.group("quoted") is not None else found.group("value")).strip()
        if not value:
            continue  # "model:" typed so far: nothing to filter on yet
        key = key.lower()
        if key == "model":
            query.models.append(match_key(value))
        elif key == "persona":
            query.personas.append(match_key(value))
        else:
            try:
                day = parse_day(value, today)
            except ValueError as exc:
                raise QueryError(f"{key}: {exc}") from None
            stamp = local_midnight_utc(day)
            if key == "after":
                query.after = max(query.after or stamp, stamp)
            else:
                query.before = min(query.before or stamp, stamp)
    return query


def like_patterns(term: str) -> list[str]:
    """LIKE patterns for a short term: LIKE ignores case for ASCII letters only, so other
    scripts get their lower- and upper-case forms too."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    forms = {escaped} if escaped.isascii() else {escaped, escaped.lower(), escaped.upper()}
    return [f"%{form}%" for form in sorted(forms)]


# -- the line shown per hit ---------------------------------------------------------------


def locate(text: str, terms: list[str]) -> tuple[int, int] | None:
    """Where the first of ``terms`` occurs in ``text`` (start, end), ignoring case and accents."""
    keys = [match_key(term) for term in terms if term.strip()]
    if not keys:
        return None
    key = match_key(text)
    if len(key) != len(text):  # folding changed the length: map positions character by character
        return _locate_mapped(text, keys)
    best = None
    for needle in keys:
        pos = key.find(needle)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, pos + len(needle))
    return best


def _locate_mapped(text: str, keys: list[str]) -> tuple[int, int] | None:
    folded, origin = [], []
    for index, char in enumerate(text):
        part = match_key(char)
        folded.append(part)
        origin.extend([index] * len(part))
    key = "".join(folded)
    origin.append(len(text))
    best = None
    for needle in keys:
        pos = key.find(needle)
        if pos >= 0:
            span = (origin[pos], origin[pos + len(needle) - 1] + 1)
            if best is None or span[0] < best[0]:
                best = span
    return best


def excerpt(text: str, start: int = 0, end: int = 0, width: int = SNIPPET_WIDTH) -> str:
    """One clean line of about ``width`` characters with text[start:end] in it, … where cut (one
    mark, never two; never between the code points of one character as seen: chinwag.graphemes).

    ``text`` is indexed text, what the screen shows (see index.entry_of): no escape sequence is
    left whose payload a cut could turn into visible text."""
    low = boundary_after(text, start - width) if start > width else 0
    high = boundary_before(text, start + 2 * width)
    if high <= start:  # one "character" of hundreds of code points (stacked accents): cut it
        high = start + 2 * width
    before = " ".join(text[low:start].split())
    rest = " ".join(text[start:high].split())
    if before and (text[start - 1].isspace() or text[start:start + 1].isspace()):  # (a phrase may start with one)
        before += " "
    # The hit near the start: a narrow column (F2's) still shows it.
    keep = boundary_after(before, len(before) - min(len(before), width // 4))
    line = before[keep:] + rest
    cut_left = keep > 0 or low > 0
    cut_right = high < len(text)
    if len(line) > width:
        cut_right = True
        line = line[:boundary_before(line, width) or width]
    line = line.strip()
    left = "…" if cut_left and not line.startswith(("…", "...")) else ""
    right = "…" if cut_right and not line.endswith(("…", "...")) else ""
    return clean(left + line + right)


def snippet(title: str, body: str, terms: list[str], width: int = SNIPPET_WIDTH, complete: bool = True) -> str | None:
    """The line around the first hit in the messages (``body``: messages joined by
    MESSAGE_SEPARATOR), else in the title; the start of the first message when no term is given.

    ``complete=False``: ``body`` is only the start of the text (reading all of a long
    conversation for one line is most of the cost of a common word's snippets). The line is
    then made only when the rest of the text cannot change it: the first hit lies far enough
    from the end for its excerpt (and any longer term that could start before it) to fit.
    Otherwise None: ask again with the whole text."""
    if not terms:
        first, separator, _ = body.partition(MESSAGE_SEPARATOR)
        if not (complete or separator or (2 * width < len(first) and first.strip())):
            return None
        return excerpt(first, width=width) if first.strip() else ""
    span = locate(body, terms)
    if span is None:
        if not complete:
            return None  # the hit may be further on: the title comes only after the messages
        span = locate(title, terms)
        return excerpt(title, *span, width=width) if span else ""
    begin = body.rfind(MESSAGE_SEPARATOR, 0, span[0]) + 1
    stop = body.find(MESSAGE_SEPARATOR, span[1])
    # Past the cut, folding could make a term longer or shorter in the text (a letter and its
    # accents, ß and ss): keep a margin of four characters per term character.
    reach = span[0] + 2 * width + 4 * max(len(term) for term in terms) + 16
    if not complete and reach >= len(body):
        return None
    message = body[begin:stop if stop >= 0 else len(body)]
    return excerpt(message, span[0] - begin, span[1] - begin, width)
