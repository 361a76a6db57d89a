"""The derived index of the conversations folder: summaries, full text and usage, in SQLite.

The documents are the truth; this is a cache in ``<cache dir>/index/``, one SQLite file per
conversations folder. Each entry remembers its file's stamp (mtime_ns, size, inode): ``sync``
re-reads exactly the files whose stamp changed, whoever changed them (another chinwag, an editor,
a sync from another machine, while chinwag was closed or not), and forgets removed ones. A
missing, corrupt or older-version index file is deleted and built again from the documents, and
so is one that SQLite reads but that is not what this version wrote (a table, column, index or
trigger missing or changed; rows out of step, which shows as a constraint failing): see
``damaged``. It holds the text of every conversation, so it is as private as they are: the
folder is 0700, the file and SQLite's -wal, -shm and -journal files 0600 (``private``).

Full text: an FTS5 table with the trigram tokenizer (matches inside words, any case). Its ``alt``
column holds the text folded (no accents, full case folding) when folding changes it, so
``cafe`` finds "Café" and ``strasse`` finds "Straße". What is indexed of a conversation is its
title and the messages the chat shows, as it shows them (``sanitize.clean``: an escape sequence
is gone, payload and all); usage counts every reply of every branch.

Words: a second FTS5 table holds the same text folded and cut into words (runs of letters,
digits and _), with a vocabulary of every word seen and a trigram table over it. A term made of
letters and digits only occurs inside words, so the conversations holding it are those holding
one of the vocabulary's words that contain it: ``weather`` is looked up as the few words
``weather``, ``weathers``, ``weatherman``… A word in every conversation costs one doclist that
way; through the trigram table it is a phrase of five trigrams (``wea`` ``eat`` ``ath`` ``the``
``her``) whose positions must be lined up in every conversation, and bm25() lines them up twice.

One Index object per file in a process (``Index.for_root``), shared by threads under a lock.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from chinwag import paths
from chinwag.conversation import Conversation
from chinwag.dates import normal_utc
from chinwag.sanitize import clean
from chinwag.search import MESSAGE_SEPARATOR, Query, fold, like_patterns, match_key, word_key, word_text
from chinwag.usage import UsageRecord, UsageRow, records

INDEX_VERSION = 4  # bump when the schema or what is indexed changes: older files are rebuilt
BATCH = 200  # documents written per transaction while syncing (the lock is free in between)
RACY_NS = 2_000_000_000  # a file changed this recently may change again within one mtime tick
# Primary result codes that mean the file is not what this version wrote (any extended code of
# theirs too: SQLITE_CORRUPT_VTAB is FTS5's): SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_SCHEMA,
# SQLITE_CONSTRAINT (a row this version would never have left: rows out of step), SQLITE_MISMATCH.
CORRUPT_CODES = {11, 26, 17, 19, 20}
# SQLITE_ERROR is also our own mistakes and the user's queries: damage only when it says so.
DAMAGE_MESSAGES = ("no such table", "no such column", "has no column named", "no such index",
                   "columns but", "vtable constructor failed", "invalid fts5 file format",
                   "fts5: corrupt", "malformed database schema")

Stamp = tuple[int, int, int]  # st_mtime_ns, st_size, st_ino: any save changes at least one
Progress = Callable[[int, int], None]  # (documents done, documents to do)


class IndexUnavailable(Exception):
    """The index cannot be used (e.g. this Python's SQLite has no FTS5); the message says why."""


@dataclass
class Summary:
    id: str
    title: str
    created_at: str
    updated_at: str
    provider: str
    model: str
    persona: str
    messages: int  # user and assistant messages (events not counted)
    tokens: int
    error: str | None = None  # why the file cannot be read; None when it can
    read_only: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = tuple(f.name for f in fields(Summary))
_TEXT = ("id", "title", "created_at", "updated_at", "provider", "model", "persona")


def _valid(summary: Summary) -> bool:
    """Every field of the type it should have (an index is only a cache: anything else is read again)."""
    return (
        all(isinstance(getattr(summary, name), str) for name in _TEXT)
        and all(type(getattr(summary, name)) is int and getattr(summary, name) >= 0 for name in ("messages", "tokens"))
        and (summary.error is None or isinstance(summary.error, str))
        and summary.read_only in (0, 1)
    )


def summarize(conv: Conversation) -> Summary:
    from chinwag.tokens import count_conversation  # loads tiktoken: only when needed

    return Summary(
        id=conv.id,
        title=conv.title,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
        provider=conv.provider,
        model=conv.model,
        persona=conv.persona.name,
        messages=len(conv.chat_messages),
        tokens=count_conversation(conv),
        read_only=conv.read_only,
    )


def unreadable(conv_id: str, reason: str, stamp: Stamp) -> Summary:
    """The summary of a file we cannot read, dated by its modification time."""
    when = datetime.fromtimestamp(stamp[0] / 1e9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Summary(conv_id, "", when, when, "", "", "", 0, 0, error=reason)


# -- what the index holds of one document ------------------------------------------------------


@dataclass
class Entry:
    summary: Summary
    stamp: Stamp
    title: str = ""
    body: str = ""  # the shown messages, joined by MESSAGE_SEPARATOR
    models: str = ""  # match keys of every model used, one a line (for model:)
    personas: str = ""
    usage: list[UsageRecord] = field(default_factory=list)


def settled(stamp: Stamp) -> Stamp:
    """``stamp``, or one that matches no file when the file changed so recently that a second
    change within the filesystem's timestamp resolution (up to 2 s) could leave the stamp as it
    is (what git calls "racily clean"): such a file is read again at the next sync."""
    if abs(time.time_ns() - stamp[0]) < RACY_NS:
        return (-1, stamp[1], stamp[2])
    return stamp


def entry_of(conv: Conversation, stamp: Stamp) -> Entry:
    # The text as the screen shows it (clean: what the chat, F2's titles and the pickers show):
    # an escape sequence is gone with its payload (an OSC 52 clipboard text, a DCS string), so
    # neither a match nor a snippet can see what nobody sees.
    body = MESSAGE_SEPARATOR.join(clean(m.content) for m in conv.path if m.is_chat)  # what the chat shows
    models = {conv.model, *(m.model for m in conv.messages if m.model)}
    personas = {conv.persona.name, *(m.persona.name for m in conv.messages if m.persona is not None)}
    return Entry(
        summary=summarize(conv),
        stamp=settled(stamp),
        title=clean(conv.title, one_line=True),
        body=body,
        models="\n".join(sorted(match_key(clean(str(m), one_line=True)) for m in models if m)),
        personas="\n".join(sorted(match_key(clean(str(p), one_line=True)) for p in personas if p)),
        usage=records(conv),
    )


def unreadable_entry(conv_id: str, reason: str, stamp: Stamp) -> Entry:
    return Entry(unreadable(conv_id, reason, stamp), settled(stamp))


# -- ranking ---------------------------------------------------------------------------------

RANK_HERE = 300  # a one-term search with at most this many hits is ranked in Python (see search)
MAX_VARIANTS = 16  # a term inside more words than this is looked up in the trigram table
HEAD = 2000  # characters of each text kept apart for snippets (a hit is usually near the start)
TITLE_WEIGHT, K1, B = 10.0, 1.2, 0.75  # as FTS5's bm25(text, 10.0, 1.0, 1.0)


class Found(list):
    """(summary, text rowid) of each hit, best first; ``texts``: (title, body) of those already read."""

    def __init__(self, hits: list[tuple[Summary, int]], texts: dict[int, tuple[str, str]] | None = None) -> None:
        super().__init__(hits)
        self.texts = texts or {}


def _ranked(rows: list[tuple[bytes, int, str]], texts: dict[int, tuple[str, str]], term: str) -> list:
    """BM25 of one term over ``rows`` (the term's document frequency is the same for all of them,
    so it does not change the order), then the newest first among equals."""
    needle = match_key(term)
    counted = []
    for row in rows:
        title, body = texts.get(row[1], ("", ""))
        freq = TITLE_WEIGHT * match_key(title).count(needle) + match_key(body).count(needle)
        counted.append((row, freq, len(title) + len(body)))
    average = sum(size for _, _, size in counted) / len(counted) if counted else 1.0
    scored = [(freq * (K1 + 1) / (freq + K1 * (1 - B + B * size / (average or 1.0))), row) for row, freq, size in counted]
    scored.sort(key=lambda item: item[1][2], reverse=True)  # newest first among equal scores (stable)
    scored.sort(key=lambda item: item[0], reverse=True)
    return [row for _, row in scored]


# -- the file ------------------------------------------------------------------------------

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE docs(
    rowid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, ino INTEGER NOT NULL,
    {", ".join(f"{name}" for name in _FIELDS if name != "id")},
    created_utc TEXT NOT NULL, updated_utc TEXT NOT NULL,
    models TEXT NOT NULL, personas TEXT NOT NULL
);
CREATE VIRTUAL TABLE text USING fts5(title, body, alt, tokenize='trigram case_sensitive 0');
INSERT INTO text(text, rank) VALUES('rank', 'bm25(10.0, 1.0, 1.0)');
CREATE VIRTUAL TABLE words USING fts5(title, body, content='', tokenize="ascii tokenchars '_'");
INSERT INTO words(words, rank) VALUES('rank', 'bm25(10.0, 1.0)');
CREATE TABLE heads(rowid INTEGER PRIMARY KEY, title TEXT NOT NULL, head TEXT NOT NULL);
CREATE TABLE vocab(id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE vocab_text USING fts5(word, content='vocab', content_rowid='id',
                                           tokenize='trigram case_sensitive 1');
CREATE TRIGGER vocab_added AFTER INSERT ON vocab BEGIN
    INSERT INTO vocab_text(rowid, word) VALUES (new.id, new.word);
END;
CREATE TABLE usage(
    doc INTEGER NOT NULL, bucket TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
    persona TEXT NOT NULL, estimated INTEGER NOT NULL, requests INTEGER NOT NULL,
    prompt INTEGER NOT NULL, completion INTEGER NOT NULL, reasoning INTEGER NOT NULL, cached INTEGER NOT NULL
);
CREATE INDEX usage_doc ON usage(doc);
CREATE INDEX usage_bucket ON usage(bucket);
"""
# What the folding depends on: a new Unicode version may fold differently, so it rebuilds too.
FOLDING = unicodedata.unidata_version
_SUMMARY_COLUMNS = ", ".join(_FIELDS)


def index_path(root: Path) -> Path:
    """The index file of the conversations folder ``root``, in the cache dir."""
    key = hashlib.sha256(str(Path(root).resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return paths.cache_dir() / "index" / f"conversations-{key}.sqlite3"


SQLITE_FILES = ("", "-wal", "-shm", "-journal")  # the file and those SQLite makes beside it
PRIVATE_FILE, PRIVATE_FOLDER = 0o600, 0o700


def _remove(path: Path) -> None:
    for suffix in SQLITE_FILES:
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def damaged(exc: sqlite3.Error) -> bool:
    """True when ``exc`` says the file is not what this version wrote, so rebuilding it from the
    documents is the cure. A busy or locked database, a full disk, a read-only folder, an
    interrupted query are not damage: they keep their own handling."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return False
    if code & 0xFF in CORRUPT_CODES:
        return True
    return code & 0xFF == 1 and any(words in str(exc) for words in DAMAGE_MESSAGES)


def private(path: Path) -> None:
    """Make the index folder 0700 and the file and SQLite's files beside it 0600 (an index made
    by an older chinwag was 0644 in a 0755 folder). SQLite gives the -wal, -shm and -journal
    files it creates the database file's own mode, so a file created 0600 keeps them private."""
    for target, mode in ((path.parent, PRIVATE_FOLDER), *((Path(f"{path}{s}"), PRIVATE_FILE) for s in SQLITE_FILES)):
        try:
            if os.stat(target).st_mode & 0o777 != mode:
                os.chmod(target, mode)
        except OSError:  # missing, or not ours to change: nothing to tighten
            pass


def _new_file(path: Path) -> None:
    """Create the (empty: SQLite reads it as a new database) index file 0600 whatever the umask."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    except FileExistsError:  # another chinwag was quicker: it made it the same way
        return
    os.close(fd)


# The types of a docs row as written (id, 6 texts, messages, tokens, no error, read_only, stamp).
_ROW_TYPES = (bytes, *(str,) * 6, int, int, type(None), int, int, int, int)


_OBJECTS = ("meta", "docs", "text", "words", "heads", "vocab", "vocab_text", "vocab_added", "usage",
            "usage_doc", "usage_bucket")  # what SCHEMA makes (FTS5's own tables are its business)


def _schema(con: sqlite3.Connection) -> tuple[list[tuple], set[str]]:
    """Our objects as created (type, name, table, SQL) and the names of every object (FTS5's
    own tables only by name: their SQL is FTS5's business and may differ between versions)."""
    rows = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return sorted(row for row in rows if row[1] in _OBJECTS), {row[1] for row in rows}


@functools.cache
def _expected_schema() -> tuple[list[tuple], set[str]]:
    """The schema as this version creates it (made once, in memory)."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(SCHEMA)
        return _schema(con)
    finally:
        con.close()


def _schema_ok(con: sqlite3.Connection) -> bool:
    ours, names = _schema(con)
    expected_ours, expected_names = _expected_schema()
    return ours == expected_ours and expected_names <= names


# Tables that hold one row per indexed document, written together (one row per word for vocab).
# Only counts of small rows, and min/max (each its own subquery: two in one SELECT scan the table).
_IN_STEP = """SELECT
    (SELECT count(*) FROM docs WHERE error IS NULL), (SELECT count(*) FROM text_docsize),
    (SELECT count(*) FROM words_docsize),
    (SELECT max(rowid) FROM text_docsize), (SELECT max(rowid) FROM heads), (SELECT max(rowid) FROM text_content),
    (SELECT min(rowid) FROM text_docsize), (SELECT min(rowid) FROM heads), (SELECT min(rowid) FROM text_content),
    (SELECT count(*) FROM vocab), (SELECT count(*) FROM vocab_text_docsize),
    (SELECT min(doc) FROM usage) >= (SELECT min(rowid) FROM docs),
    (SELECT max(doc) FROM usage) <= (SELECT max(rowid) FROM docs)"""


def _in_step(con: sqlite3.Connection) -> bool:
    """The tables agree with each other (cheap aggregates, at open: ~1 ms at 3,000 documents):
    rows deleted from one of them, or moved, make the file something this version did not write."""
    docs, texts, words, *ends, vocab, vocab_text, low, high = con.execute(_IN_STEP).fetchone()
    return (docs == texts == words and len(set(ends[:3])) == 1 and len(set(ends[3:])) == 1
            and vocab == vocab_text and low != 0 and high != 0)


def _row(row: tuple) -> tuple[Summary, Stamp]:
    """A summary and its stamp from a docs row; a row with a value of the wrong type (the file
    was edited by hand or damaged) gets a stamp that matches no file, so the file is read again."""
    if tuple(map(type, row)) == _ROW_TYPES and row[7] >= 0 and row[8] >= 0 and row[10] in (0, 1):
        return Summary(_from_key(row[0]), *row[1:10], bool(row[10])), row[11:]  # the usual row, quickly
    summary, stamp = Summary(*row[:-3]), tuple(row[-3:])
    summary.id = _from_key(summary.id) if isinstance(summary.id, bytes) else summary.id
    if not _valid(summary) or not all(type(n) is int for n in stamp):
        return summary, (-1, -1, -1)
    summary.read_only = bool(summary.read_only)
    return summary, stamp


def _key(conv_id: str) -> bytes:
    """An id as SQLite keeps it: bytes, so an id from an undecodable file name survives."""
    return conv_id.encode("utf-8", "surrogatepass")


def _from_key(key: bytes) -> str:
    return key.decode("utf-8", "surrogatepass")


def _text(value: Any) -> Any:
    """Text SQLite can store: a lone surrogate (JSON allows them) becomes U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _unindex(con: sqlite3.Connection, rowid: int) -> None:
    """Remove a document's text, words and usage (its docs row stays). The word table keeps no
    copy of the text: FTS5 is told the words it indexed, made again from the stored text.
    (Its vocabulary only grows: a word no document holds any more finds nothing.)"""
    old = con.execute("SELECT title, body FROM text WHERE rowid = ?", (rowid,)).fetchone()
    if old is not None:
        con.execute("INSERT INTO words(words, rowid, title, body) VALUES ('delete', ?, ?, ?)",
                    (rowid, word_text(old[0]), word_text(old[1])))
        con.execute("DELETE FROM text WHERE rowid = ?", (rowid,))
        con.execute("DELETE FROM heads WHERE rowid = ?", (rowid,))
    con.execute("DELETE FROM usage WHERE doc = ?", (rowid,))


class Index:
    """The index of one conversations folder; safe to share between threads."""

    _shared: dict[Path, Index] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def for_root(cls, root: Path) -> Index:
        path = index_path(root)
        with cls._shared_lock:
            index = cls._shared.get(path)
            if index is None:
                index = cls._shared[path] = cls(path)
            return index

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: in memory only (the cache dir cannot be written)
        self.lock = threading.RLock()
        self.synced_at = float("-inf")  # time.monotonic() of the last full sync
        self.rebuilds = 0  # how often the file was found damaged or old and started afresh
        self._con: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None  # (st_dev, st_ino) of the file we opened
        self._entries: dict[str, tuple[Summary, Stamp]] | None = None  # what the file holds
        self._ordered: list[Summary] | None = None
        self._rowids: dict[int, Summary] | None = None

    # -- connection ----------------------------------------------------------------------

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            self._con = self._open()
            self._file = self._identity()
        return self._con

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path) if self.path is not None else None
        except OSError:
            return None
        return (st.st_dev, st.st_ino) if st else None

    def _replaced(self) -> bool:
        """True when the file we opened was deleted or replaced (by a person or another chinwag)."""
        return self._con is not None and self.path is not None and self._identity() != self._file

    def _open(self) -> sqlite3.Connection:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
                private(self.path)
                if not self.path.exists():
                    return self._create(self.path)
                con = self._connect(str(self.path))
                try:
                    if self._current(con):
                        return con
                except sqlite3.DatabaseError:
                    con.close()
                    raise
                con.close()
                self.rebuilds += 1
                _remove(self.path)
                return self._create(self.path)
            except sqlite3.DatabaseError as exc:
                if damaged(exc):
                    self.rebuilds += 1
                    _remove(self.path)
                    return self._create(self.path)
                if isinstance(exc, sqlite3.OperationalError) and "fts5" in str(exc):
                    raise IndexUnavailable(f"this Python's SQLite cannot index text ({exc})") from None
                self.path = None  # cannot open the file there: work in memory
            except OSError:
                self.path = None
        return self._create(":memory:")

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        con = sqlite3.connect(target, timeout=5.0, check_same_thread=False, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")  # a cache: losing the last commits costs a re-read
        return con

    @staticmethod
    def _current(con: sqlite3.Connection) -> bool:
        """The file is what this version writes: its version, folding and schema."""
        if con.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            return False
        row = con.execute("SELECT value FROM meta WHERE key = 'folding'").fetchone()
        return row is not None and row[0] == FOLDING and _schema_ok(con) and _in_step(con)

    def _create(self, target: Path | str) -> sqlite3.Connection:
        if isinstance(target, Path):
            _new_file(target)
        con = self._connect(str(target))
        try:
            con.executescript(f"BEGIN; {SCHEMA} INSERT INTO meta VALUES('folding', '{FOLDING}'); "
                              f"PRAGMA user_version = {INDEX_VERSION}; COMMIT;")
        except sqlite3.OperationalError as exc:
            con.close()
            raise IndexUnavailable(f"this Python's SQLite cannot index text ({exc})") from None
        return con

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """``work(connection)`` under the lock; a damaged file (``damaged``) is replaced and
        ``work`` run again, once: a second failure is raised."""
        with self.lock:
            try:
                return work(self.con)
            except sqlite3.DatabaseError as exc:
                if self.path is None or not damaged(exc):
                    raise
                self.reset()
                return work(self.con)

    def _transaction(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """``work`` in one write transaction: all of it or none."""

        def wrapped(con: sqlite3.Connection) -> None:
            con.execute("BEGIN IMMEDIATE")
            try:
                work(con)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

        self._run(wrapped)

    def reset(self) -> None:
        """Throw the file away; the next sync reads every document again."""
        with self.lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            if self.path is not None:
                _remove(self.path)
            self.rebuilds += 1
            self._entries, self._ordered, self._rowids = None, None, None
            self.synced_at = float("-inf")

    def close(self) -> None:
        with self.lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            self._entries, self._ordered, self._rowids = None, None, None
            self.synced_at = float("-inf")

    @classmethod
    def close_all(cls) -> None:
        """Close every index this process opened (tests; the end of a command)."""
        with cls._shared_lock:
            for index in cls._shared.values():
                index.close()
            cls._shared.clear()

    # -- keeping up with the folder ----------------------------------------------------------

    def _loaded(self) -> dict[str, tuple[Summary, Stamp]]:
        if self._entries is None:
            rows = self._run(lambda con: con.execute(
                f"SELECT {_SUMMARY_COLUMNS}, mtime_ns, size, ino FROM docs").fetchall())
            self._entries = {entry[0].id: entry for entry in map(_row, rows) if isinstance(entry[0].id, str)}
            self._ordered = self._rowids = None
        return self._entries

    def sync(self, files: dict[str, Stamp], read: Callable[[str, Stamp], Entry | None],
             progress: Progress | None = None, _again: bool = False) -> int:
        """Bring the index up to ``files`` (id -> stamp), reading changed ones with ``read``
        (None: the file is gone). Returns how many documents were (re-)read."""
        rebuilds = self.rebuilds
        with self.lock:
            if self._replaced():
                self.close()
            known = self._loaded()
            stale = [conv_id for conv_id, stamp in files.items() if known.get(conv_id, (None, None))[1] != stamp]
            gone = [conv_id for conv_id in known if conv_id not in files]
            if stale and self._adopt(stale, files):  # written meanwhile by another process
                stale = [conv_id for conv_id in stale if known.get(conv_id, (None, None))[1] != files[conv_id]]
            if gone:
                self._drop(gone)
        done = 0
        for start in range(0, len(stale), BATCH):
            batch = [entry for conv_id in stale[start:start + BATCH]
                     if (entry := read(conv_id, files[conv_id])) is not None]
            self.write(batch)
            done = min(len(stale), start + BATCH)
            if progress is not None:
                progress(done, len(stale))
        if self.rebuilds != rebuilds and not _again:  # the file was damaged part-way: start afresh
            return self.sync(files, read, progress, _again=True)
        self.synced_at = time.monotonic()
        return len(stale)

    def _adopt(self, ids: list[str], files: dict[str, Stamp]) -> bool:
        """Take rows that another process already wrote for these stamps; True if any."""
        known = self._loaded()
        adopted = False
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._run(lambda con: con.execute(
                f"SELECT {_SUMMARY_COLUMNS}, mtime_ns, size, ino FROM docs WHERE id IN ({marks})",
                [_key(conv_id) for conv_id in chunk]).fetchall())
            for row in rows:
                summary, stamp = _row(row)
                if files.get(summary.id) == stamp:
                    known[summary.id] = (summary, stamp)
                    adopted = True
        if adopted:
            self._ordered = self._rowids = None
        return adopted

    def write(self, entries: list[Entry]) -> None:
        """Replace what the index holds of these documents, in one transaction."""
        if not entries:
            return

        def work(con: sqlite3.Connection) -> None:
            vocabulary: set[str] = set()
            for entry in entries:
                self._put(con, entry, vocabulary)
            con.executemany("INSERT OR IGNORE INTO vocab(word) VALUES (?)", ((word,) for word in vocabulary))

        with self.lock:
            self._transaction(work)
            known = self._loaded()
            for entry in entries:
                known[entry.summary.id] = (entry.summary, entry.stamp)
            self._ordered = self._rowids = None

    @staticmethod
    def _put(con: sqlite3.Connection, entry: Entry, vocabulary: set[str]) -> None:
        """Write one document; the words of its text are added to ``vocabulary``."""
        s = entry.summary
        values = [_text(getattr(s, name)) for name in _FIELDS[1:]]
        values[-1] = int(s.read_only)
        dated = [normal_utc(s.created_at), normal_utc(s.updated_at), _text(entry.models), _text(entry.personas)]
        row = con.execute("SELECT rowid FROM docs WHERE id = ?", (_key(s.id),)).fetchone()
        if row is not None:
            rowid = row[0]
            _unindex(con, rowid)
            setters = ", ".join(f"{name} = ?" for name in (
                "mtime_ns", "size", "ino", *_FIELDS[1:], "created_utc", "updated_utc", "models", "personas"))
            con.execute(f"UPDATE docs SET {setters} WHERE rowid = ?", (*entry.stamp, *values, *dated, rowid))
        else:
            marks = ",".join("?" * (len(_FIELDS) + 7))
            rowid = con.execute(
                f"INSERT INTO docs(id, mtime_ns, size, ino, {', '.join(_FIELDS[1:])}, created_utc, updated_utc, "
                f"models, personas) VALUES ({marks})", (_key(s.id), *entry.stamp, *values, *dated)).lastrowid
        if s.error is None:
            title, body = _text(entry.title), _text(entry.body)
            plain = title + MESSAGE_SEPARATOR + body
            folded = fold(plain)
            con.execute("INSERT INTO text(rowid, title, body, alt) VALUES (?, ?, ?, ?)",
                        (rowid, title, body, folded if folded != plain else ""))
            con.execute("INSERT INTO heads VALUES (?, ?, ?)", (rowid, title, body[:HEAD + 1]))
            title_words, body_words = word_text(title), word_text(body)
            con.execute("INSERT INTO words(rowid, title, body) VALUES (?, ?, ?)", (rowid, title_words, body_words))
            vocabulary.update(title_words.split())
            vocabulary.update(body_words.split())
        con.executemany(
            "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(rowid, r.bucket, _text(r.model), _text(r.provider), _text(r.persona), int(r.estimated), r.requests,
              r.prompt, r.completion, r.reasoning, r.cached) for r in entry.usage],
        )

    def _drop(self, ids: list[str]) -> None:
        def work(con: sqlite3.Connection) -> None:
            for conv_id in ids:
                row = con.execute("SELECT rowid FROM docs WHERE id = ?", (_key(conv_id),)).fetchone()
                if row is not None:
                    _unindex(con, row[0])
                    con.execute("DELETE FROM docs WHERE rowid = ?", (row[0],))

        with self.lock:
            self._transaction(work)
            known = self._loaded()
            for conv_id in ids:
                known.pop(conv_id, None)
            self._ordered = self._rowids = None

    def forget(self, conv_id: str) -> None:
        """The document was deleted."""
        self._drop([conv_id])

    # -- answers ---------------------------------------------------------------------------

    def summaries(self) -> list[Summary]:
        """Every conversation, newest first."""
        with self.lock:
            if self._ordered is None:
                ordered = [summary for summary, _ in self._loaded().values()]
                ordered.sort(key=lambda s: (str(s.updated_at), str(s.created_at), s.id), reverse=True)
                self._ordered = ordered
            return list(self._ordered)

    def search(self, query: Query, stop: Callable[[], bool] | None = None) -> Found:
        """The conversations that match, best first (newest first when only filters or short
        terms are given); empty when ``stop()`` turned true.

        Ranking is BM25, the title weighing 10 times the messages. Terms of letters and digits
        are looked up among the words (see the module's doc): BM25 over words. Other terms (a
        phrase, punctuation, three characters) go to the trigram table: BM25 over trigrams.
        There, FTS5's bm25() scans the index a second time for each term's document frequency,
        which doubles the cost of a long phrase; for one term the frequency is the same for
        every hit, so when the hits are few they are read and ranked here by the same formula
        instead (their text is then at hand for the snippets too)."""
        texts: dict[int, tuple[str, str]] = {}

        def work(con: sqlite3.Connection) -> tuple[bool, list]:
            if stop is not None:
                con.set_progress_handler(lambda: 1 if stop() else 0, 20_000)
            try:
                return self._search(con, query, texts)
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    return False, []
                raise
            finally:
                con.set_progress_handler(None, 0)

        with self.lock:
            alone, rows = self._run(work)
            if alone:
                by_rowid = self._by_rowid()
                return Found([(summary, rowid) for (rowid,) in rows if (summary := by_rowid.get(rowid)) is not None])
            known = self._loaded()
            found = [(_from_key(key), rowid) for key, rowid, _ in rows]
            return Found([(known[conv_id][0], rowid) for conv_id, rowid in found if conv_id in known], texts)

    def _search(self, con: sqlite3.Connection, query: Query, texts: dict[int, tuple[str, str]]) -> tuple[bool, list]:
        """(True, [(rowid,), ...]) or (False, [(id, rowid, updated), ...]), best first; the text
        of the hits read along the way goes into ``texts``."""
        words = self._words_match(con, query) if query.indexed else None
        if words == "":
            return False, []  # a term that no word holds: nothing has it
        table = "text" if words is None else "words"
        where, params = ["docs.error IS NULL"], []
        if query.indexed:
            source = f"{table} JOIN docs ON docs.rowid = {table}.rowid"
            if table == "words" and query.short:
                source += " JOIN text ON text.rowid = words.rowid"
            where.append(f"{table} MATCH ?")
            params.append(query.fts() if words is None else words)
        else:
            source = "docs JOIN text ON text.rowid = docs.rowid"
        for term in query.short:
            patterns = like_patterns(term)
            where.append("(" + " OR ".join(f"text.{column} LIKE ? ESCAPE '\\'"
                                           for column in ("title", "body", "alt") for _ in patterns) + ")")
            params += patterns * 3
        for column, wanted in (("models", query.models), ("personas", query.personas)):
            for part in wanted:
                where.append(f"instr(docs.{column}, ?) > 0")
                params.append(part)
        if query.after:
            where.append("docs.updated_utc >= ?")
            params.append(query.after)
        if query.before:
            where.append("docs.created_utc < ?")
            params.append(query.before)
        select = f"SELECT docs.id, docs.rowid, docs.updated_utc FROM {source} WHERE {' AND '.join(where)}"
        recent = "docs.updated_at DESC, docs.created_at DESC, docs.id DESC"
        if not query.indexed:
            return False, con.execute(f"{select} ORDER BY {recent}", params).fetchall()
        if table == "text" and len(query.terms) == 1:
            few = con.execute(f"{select} LIMIT {RANK_HERE + 1}", params).fetchall()
            if len(few) <= RANK_HERE:
                texts.update(self._texts(con, [row[1] for row in few]))
                return False, _ranked(few, texts, query.terms[0])
        # Rowids alone, the summaries mapped from memory (10,000 ids decoded cost ~10 ms); bm25()
        # named in ORDER BY only: selected too, it would be computed twice.
        score = f"bm25({table}, {TITLE_WEIGHT}, 1.0{', 1.0' if table == 'text' else ''})"
        return True, con.execute(f"SELECT {table}.rowid FROM {source} WHERE {' AND '.join(where)} "
                                 f"ORDER BY {score}, {recent}", params).fetchall()

    @staticmethod
    def _words_match(con: sqlite3.Connection, query: Query) -> str | None:
        """The word table's MATCH expression for the indexed terms, each term as the words that
        contain it. "": a term is in no word, so nothing matches. None: a term cannot be looked
        up among words (see search.word_key) or is inside more than MAX_VARIANTS of them."""
        groups = []
        for term in query.indexed:
            key = word_key(term)
            if key is None:
                return None
            variants = [word for (word,) in con.execute(
                "SELECT word FROM vocab WHERE id IN (SELECT rowid FROM vocab_text WHERE vocab_text MATCH ?) LIMIT ?",
                (f'"{key}"', MAX_VARIANTS + 1))]
            if len(variants) > MAX_VARIANTS:
                return None
            if not variants:
                return ""
            groups.append("(" + " OR ".join(f'"{word}"' for word in variants) + ")")
        return " AND ".join(groups)

    def _by_rowid(self) -> dict[int, Summary]:
        """Summaries by their rowid, made again whenever what the index holds changed."""
        if self._rowids is None:
            known = self._loaded()
            pairs = self._run(lambda con: con.execute("SELECT rowid, id FROM docs").fetchall())
            self._rowids = {rowid: known[conv_id][0] for rowid, key in pairs
                            if (conv_id := _from_key(key)) in known}
        return self._rowids

    def texts(self, rowids: list[int]) -> dict[int, tuple[str, str]]:
        """(title, body) by rowid as indexed; a rowid whose document changed since is missing."""
        return self._run(lambda con: self._texts(con, rowids))

    def heads(self, rowids: list[int]) -> dict[int, tuple[str, str]]:
        """(title, the first HEAD + 1 characters of the body) by rowid: longer than HEAD, there is
        more. (Reading rows of an FTS5 table by rowid costs ~4 µs each, and a long text all of it:
        these come from a plain table.)"""
        return self._run(lambda con: self._texts(con, rowids, "heads", "head"))

    @staticmethod
    def _texts(con: sqlite3.Connection, rowids: list[int], table: str = "text",
               column: str = "body") -> dict[int, tuple[str, str]]:
        out: dict[int, tuple[str, str]] = {}
        for start in range(0, len(rowids), 500):
            chunk = rowids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for rowid, title, text in con.execute(f"SELECT rowid, title, {column} FROM {table} "
                                                  f"WHERE rowid IN ({marks})", chunk):
                out[rowid] = (title, text)
        return out

    def usage(self, since: str | None = None) -> list[UsageRow]:
        """Usage summed per local day, model, provider, persona and estimated-or-not; ``since``
        is a UTC stamp (``…Z``): only replies from then on."""
        # A bucket at the ends of the range has no local day past 9999-12-31 (SQLite: NULL): its
        # UTC day stands in; one before 0001-01-01 (SQLite: "0000-12-31") counts on the first day.
        sql = ("SELECT coalesce(date(bucket, 'localtime'), date(bucket)) AS day, model, provider, persona, "
               "estimated, sum(requests), sum(prompt), sum(completion), sum(reasoning), sum(cached) FROM usage "
               + ("WHERE bucket >= ? " if since else "")
               + "GROUP BY day, model, provider, persona, estimated")
        params = (since.replace("T", " ").rstrip("Z"),) if since else ()
        rows = self._run(lambda con: con.execute(sql, params).fetchall())
        return [UsageRow(day, *row[1:4], bool(row[4]), *row[5:]) for row in rows
                if (day := _usage_day(row[0])) is not None]


def _usage_day(text: object) -> date | None:
    """A local day as SQLite gives it; the first day for one before year 1, None for no day."""
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return date.min if text < "0001" else None
