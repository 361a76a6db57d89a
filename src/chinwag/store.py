"""Conversation documents on disk: one ``<id>.json`` each, saved atomically.

A file that does not parse is never written to: it is listed with its error and
``load`` raises UnreadableError. Two chinwag processes saving the same conversation
merge instead of overwriting each other (``chinwag.merge``). A save writes only when the
document changed (so a version-1 file stays as it is until then) and never writes a
conversation without a message; it goes through a symlink and keeps the file's mode.
A save that fails raises SaveError, whose message says what and where.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import stat as stat_mode
import time
import weakref
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from chinwag import fileio, jsonread, paths
from chinwag.conversation import Conversation, FormatError, Message
from chinwag.fileio import fsync_dir
from chinwag.merge import Merged, merge

# The index (SQLite) and the search syntax load when a listing, a search or a save first needs
# them, not at every start: a chat shows its first frame before it saves anything.
if TYPE_CHECKING:
    from chinwag.index import Entry, Index, Progress, Stamp, Summary
    from chinwag.search import QueryError
    from chinwag.usage import UsageRow

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; saves are still atomic
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "Store", "Summary", "Hit", "Merged", "StoreError", "NotFoundError", "UnreadableError", "ReadOnlyError",
    "SaveError", "QueryError",
]

log = logging.getLogger(__name__)


def save_problem(error: Exception) -> str:
    """A failed save in words: what went wrong and where, never a repr."""
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{where}"
    return str(error)


def __getattr__(name: str):
    """``Summary`` and ``QueryError``, named here for the screens, load with their modules."""
    if name == "Summary":
        from chinwag.index import Summary

        return Summary
    if name == "QueryError":
        from chinwag.search import QueryError

        return QueryError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

TMP_MARK = ".json.tmp-"  # temp files are named .<id>.json.tmp-<random>
NEW_FILE_MODE = 0o600  # conversations are private; an existing file keeps its own mode
STALE_TMP_SECONDS = 60
SNIPPET_BATCH = 50  # hits whose text is read together for their snippets
TYPING_MAX_AGE = 1.0  # seconds: how stale the stamps may be for a search typed in the history screen
LEGACY_INDEX = "index.json"  # wave 1's listing index, now in the cache dir; never a document


class StoreError(Exception):
    """Base of the store's errors; the message is meant for a person."""


def reason_of(error: BaseException) -> str:
    """Why a read of the store failed, for a person: a StoreError's own words, an OS error's;
    anything else is a bug, logged with its traceback and never shown as Python's words."""
    if isinstance(error, StoreError):
        return str(error)
    if isinstance(error, OSError):
        return _describe(error)
    log.error("unexpected error reading the conversations", exc_info=error)
    return "something went wrong inside chinwag (details in the log: chinwag --debug)"


class NotFoundError(StoreError, LookupError):
    """No conversation with that id (or the reference matches none, or several)."""


class UnreadableError(StoreError):
    """The file exists but is not a conversation we can read; it is left untouched."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadOnlyError(StoreError):
    """The conversation is read-only (a newer format, a field of the wrong type): never saved."""


class SaveError(StoreError):
    """Writing failed (a read-only folder, a full disk, a file where the folder should be)."""


@dataclass
class _Synced:
    """What one Conversation object last had in common with its file: to tell what changed
    since, on either side. Kept per object: one process may hold two copies of a document."""

    stamp: Stamp  # the file as this copy last read or wrote it
    fingerprint: int | None  # of the copy then; None: it holds changes the file does not have
    values: dict[str, object]  # the file's Conversation.field_values()
    edited: dict[str, str]  # and its edit stamps

    @classmethod
    def of(cls, conv: Conversation, stamp: Stamp, fingerprint: int | None) -> "_Synced":
        return cls(stamp, fingerprint, conv.field_values(), dict(conv.edited))


class Hit:
    """A search result: the conversation and one line around its first match (… where cut).

    The line is made when first read: a common word matches thousands of conversations and the
    screen shows a page of them."""

    __slots__ = ("summary", "_snippet", "_page", "_rowid")

    def __init__(self, summary: Summary, page: _Page, rowid: int) -> None:
        self.summary = summary
        self._snippet: str | None = None
        self._page, self._rowid = page, rowid

    @property
    def snippet(self) -> str:
        if self._snippet is None:
            self._snippet = self._page.snippet(self._rowid)
        return self._snippet

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hit) and (self.summary, self.snippet) == (other.summary, other.snippet)

    def __repr__(self) -> str:
        return f"Hit({self.summary.id!r}, {self.snippet!r})"


class _Page:
    """The snippets of a batch of hits. The start of each text is read, in one query, when the
    first snippet is wanted; a text is read whole only when its start cannot give the line."""

    def __init__(self, index: Index, rowids: list[int], terms: list[str], known: dict[int, tuple[str, str]]) -> None:
        self.index, self.rowids, self.terms = index, rowids, terms
        self.whole = {rowid: known[rowid] for rowid in rowids if rowid in known}
        self.starts: dict[int, tuple[str, str]] | None = None

    def snippet(self, rowid: int) -> str:
        from chinwag.index import HEAD
        from chinwag.search import snippet as make_snippet

        if rowid in self.whole:
            return make_snippet(*self.whole[rowid], self.terms) or ""
        if self.starts is None:
            self.starts = self.index.heads([r for r in self.rowids if r not in self.whole])
        title, start = self.starts.get(rowid, ("", ""))
        line = make_snippet(title, start, self.terms, complete=len(start) <= HEAD)
        if line is None:
            line = make_snippet(*self.index.texts([rowid]).get(rowid, ("", "")), self.terms)
        return line or ""


class Store:
    """The conversations folder. Safe to use from several processes at once."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else paths.conversations_dir()
        self.last_merge = Merged()  # what the last save or refresh took from the disk
        self._synced: weakref.WeakKeyDictionary[Conversation, _Synced] = weakref.WeakKeyDictionary()
        self._index: Index | None = None

    # -- documents -----------------------------------------------------------

    def load(self, conv_id: str) -> Conversation:
        conv, stamp = self._read(self._path(conv_id), conv_id)
        if not conv.read_only:  # a save over a newer file must always look at it first
            self._synced[conv] = _Synced.of(conv, stamp, fingerprint(conv))
        return conv

    def save(self, conv: Conversation) -> Merged:
        """Merge what another process saved into ``conv``, then write it atomically if it
        changed; return what was merged in. Raises SaveError, ReadOnlyError, UnreadableError."""
        if conv.read_only:
            raise ReadOnlyError(conv.read_only_reason or "This conversation is read-only.")
        path = self._path(conv.id)
        if not any(m.is_chat for m in conv.messages) and not os.path.exists(path):
            return Merged()  # no empty conversations on disk (nor their lock files)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._lock(conv.id):
                merged, mark = self._sync(conv, path)
                if mark is not None:
                    write_document(path, encode(conv))
                    stamp = _stamp(os.stat(path))
                    self._synced[conv] = _Synced.of(conv, stamp, fingerprint(conv) if merged else mark)
        except OSError as exc:
            raise SaveError(f"Could not save the conversation: {_describe(exc)}") from None
        self.last_merge = merged
        if mark is not None:
            self._index_saved(conv, stamp)
        return merged

    def refresh(self, conv: Conversation) -> Merged:
        """Merge into ``conv`` what another process saved since we last read or wrote it,
        without writing; return what was merged in (cheap when nothing changed: one stat)."""
        if conv.read_only:
            return Merged()
        try:
            merged, _ = self._sync(conv, self._path(conv.id))
        except (OSError, StoreError):  # best effort: the next save says what is wrong
            return Merged()
        self.last_merge = merged
        return merged

    def delete(self, conv_id: str) -> None:
        path = self._path(conv_id)
        try:
            with self._lock(conv_id):
                try:
                    path.unlink()
                except FileNotFoundError:
                    raise NotFoundError(f"There is no conversation {conv_id}.") from None
                with suppress(OSError):
                    (self.root / f".{conv_id}.lock").unlink()
        except OSError as exc:
            raise StoreError(f"Could not delete the conversation: {_describe(exc)}") from None
        fsync_dir(self.root)
        import sqlite3

        from chinwag.index import IndexUnavailable

        with suppress(sqlite3.Error, IndexUnavailable):  # the next listing notices it anyway
            self.index.forget(conv_id)

    def rename(self, conv_id: str, title: str) -> Conversation:
        conv = self.load(conv_id)
        conv.rename(title)
        self.save(conv)
        return conv

    # -- listing -------------------------------------------------------------

    @property
    def index(self) -> Index:
        """The derived index of this folder (one per folder in a process)."""
        if self._index is None:
            from chinwag.index import Index

            self._index = Index.for_root(self.root)
        return self._index

    def list(self) -> list[Summary]:
        """Every conversation, newest first, from the index (re-reading changed files only)."""
        self.sync()
        return self.index.summaries()

    def sync(self, progress: Progress | None = None) -> int:
        """Bring the index up to the files (re-reading changed ones); how many were read."""
        from chinwag.index import IndexUnavailable

        try:
            return self.index.sync(self._scan(), self._entry, progress)
        except IndexUnavailable as exc:
            raise StoreError(f"The search index cannot be used: {exc}") from None

    def rebuild_index(self, progress: Progress | None = None) -> list[Summary]:
        """Throw the index away and read every document again."""
        self.index.reset()
        self.sync(progress)
        return self.index.summaries()

    def resolve(self, ref: str) -> str:
        """"latest", a full id or a unique prefix of one -> the id."""
        ref = ref.strip()
        if ref != "latest" and _valid_id(ref) and (self.root / f"{ref}.json").is_file():
            return ref
        summaries = self.list()
        if ref == "latest":  # the newest conversation with a message in it
            for summary in summaries:
                if summary.error is None and summary.messages > 0:
                    return summary.id
            raise NotFoundError("There are no saved conversations yet.")
        ids = [s.id for s in summaries]
        matches = sorted(i for i in ids if ref and i.startswith(ref))
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFoundError(f"{ref!r} matches {len(matches)} conversations: {', '.join(matches[:5])}")
        close = _closest(ref, ids)
        hint = f" Closest: {', '.join(close)}." if close else ""
        raise NotFoundError(f"No conversation matches {ref!r}.{hint}")

    def search(self, text: str) -> list[Hit]:
        """Conversations that match ``text`` (see chinwag.search for the syntax), best first."""
        return list(self.iter_search(text))

    def iter_search(self, text: str, stop: Callable[[], bool] | None = None, max_age: float = 0.0) -> Iterator[Hit]:
        """``search`` one hit at a time; ends early once ``stop()`` is true (e.g. a newer query).
        Every file's stamp is checked first unless that was done less than ``max_age`` seconds
        ago (TYPING_MAX_AGE: a search per keystroke need not stat ten thousand files each time).
        QueryError (a ValueError) says what is wrong with a filter."""
        from chinwag.search import parse_query

        query = parse_query(text)
        if not query:
            return
        if time.monotonic() - self.index.synced_at >= max_age:
            self.sync()
        found = self.index.search(query, stop)
        for start in range(0, len(found), SNIPPET_BATCH):
            if stop is not None and stop():
                return
            batch = found[start:start + SNIPPET_BATCH]
            page = _Page(self.index, [rowid for _, rowid in batch], query.terms, found.texts)
            for summary, rowid in batch:
                yield Hit(summary, page, rowid)

    def usage(self, since: str | None = None, sync: bool = True) -> list[UsageRow]:
        """Every reply's usage, summed per local day, model, provider and persona (from the index);
        ``since``: a UTC stamp. ``sync=False``: as the index has it, without checking the files."""
        from chinwag.index import IndexUnavailable

        if sync:
            self.sync()
        try:
            return self.index.usage(since)
        except IndexUnavailable as exc:
            raise StoreError(f"The usage index cannot be used: {exc}") from None

    # -- internals -----------------------------------------------------------

    def _path(self, conv_id: str) -> Path:
        if not _valid_id(conv_id):
            raise NotFoundError(f"{conv_id!r} is not a conversation id.")
        return self.root / f"{conv_id}.json"

    def _read(self, path: Path, conv_id: str) -> tuple[Conversation, Stamp]:
        raw, stamp = _read_raw(path, conv_id)
        return _decode(raw, conv_id), stamp

    def _sync(self, conv: Conversation, path: Path) -> tuple[Merged, int | None]:
        """Merge the file into ``conv`` if another process changed it. Returns what was merged
        and, when ``conv`` holds changes the file does not have, its fingerprint before the
        merge (None: nothing of ours to write)."""
        base = self._synced.get(conv)
        if base is not None:  # stamp the fields changed in place, which no assignment saw
            conv.stamp_changes(base.values, since=base.edited)
        mark = fingerprint(conv)
        dirty = base is None or base.fingerprint != mark
        try:
            stamp = _stamp(os.stat(path))
        except FileNotFoundError:
            return Merged(), mark if dirty else None
        if base is not None and base.stamp == stamp:
            return Merged(), mark if dirty else None
        try:
            disk, stamp = self._read(path, conv.id)
        except NotFoundError:
            return Merged(), mark if dirty else None
        except UnreadableError as exc:
            raise UnreadableError(f"{path.name} cannot be read ({exc.reason}); not overwriting it") from None
        if disk.read_only:
            raise ReadOnlyError(f"{disk.read_only_reason}; not overwriting it")
        merged = merge(conv, disk)
        base = _Synced.of(disk, stamp, None)
        if not dirty:  # we had nothing of our own: we now hold what the file holds
            base.fingerprint = fingerprint(conv) if merged else mark
        self._synced[conv] = base
        return merged, mark if dirty else None

    @contextmanager
    def _lock(self, conv_id: str) -> Iterator[None]:
        """Hold an exclusive lock on ``.<id>.lock`` so two processes do not interleave.

        The lock file stays beside its document for as long as the document exists: every
        chinwag since the first locks that same path, so moving or cleaning up lock files would
        let a chinwag still running an older version and this one both believe they hold the
        lock. ``delete`` removes it with the document; whoever was waiting on the removed file
        then finds it is no longer the one at that path and locks the one that is."""
        if fcntl is None or not self.root.is_dir():
            yield
            return
        path = self.root / f".{conv_id}.lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = os.fstat(fd)
                try:
                    now = os.stat(path)
                except FileNotFoundError:
                    now = None
            except BaseException:
                os.close(fd)
                raise
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                break
            os.close(fd)  # removed (or replaced) while we waited: lock the file there now
        try:
            yield
        finally:
            os.close(fd)  # releases the lock

    def _entry(self, conv_id: str, stamp: Stamp) -> Entry | None:
        """What the index keeps of one file (None: it is gone)."""
        from chinwag.index import entry_of, unreadable_entry

        try:
            raw, stamp = _read_raw(self.root / f"{conv_id}.json", conv_id)
            return entry_of(_decode(raw, conv_id), stamp)
        except NotFoundError:
            return None
        except UnreadableError as exc:
            return unreadable_entry(conv_id, exc.reason, stamp)

    def _index_saved(self, conv: Conversation, stamp: Stamp) -> None:
        """Put a saved document in the index now; if the index is busy (a long sync in another
        thread) or broken, leave it: the next listing sees the new stamp and reads the file."""
        import sqlite3

        from chinwag.index import IndexUnavailable, entry_of

        index = self.index
        if not index.lock.acquire(timeout=0.2):
            return
        try:
            index.write([entry_of(conv, stamp)])
        except (sqlite3.Error, IndexUnavailable, OSError):
            log.warning("could not update the index after saving %s", conv.id, exc_info=True)
        finally:
            index.lock.release()

    def _scan(self) -> dict[str, Stamp]:
        """Conversation files by id with their stamps; removes stale temp files."""
        found: dict[str, Stamp] = {}
        try:
            entries = os.scandir(self.root)
        except FileNotFoundError:
            return found
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    if TMP_MARK in name:
                        _drop_if_stale(entry)
                    continue
                if not name.endswith(".json") or name == LEGACY_INDEX or not _valid_id(name[:-5]):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                if stat_mode.S_ISREG(st.st_mode):
                    found[name[:-5]] = _stamp(st)
        return found


# -- documents -----------------------------------------------------------------


def _read_raw(path: Path, conv_id: str) -> tuple[bytes, Stamp]:
    try:
        with open(path, "rb") as f:
            return f.read(), _stamp(os.fstat(f.fileno()))
    except FileNotFoundError:
        raise NotFoundError(f"There is no conversation {conv_id}.") from None
    except OSError as exc:
        raise UnreadableError(f"cannot be opened ({exc.strerror or exc})") from None


def _decode(raw: bytes, conv_id: str) -> Conversation:
    try:
        conv = parse(raw.decode("utf-8-sig"), f"{conv_id}.json")
    except UnicodeDecodeError as exc:
        raise UnreadableError(f"not UTF-8 text (byte {exc.start})") from None
    conv.id = conv_id  # the file name is the id
    return conv


def parse(text: str, source: str = "the document") -> Conversation:
    """A conversation from the text of its file, or UnreadableError saying why not."""
    try:
        data = jsonread.loads(text)
    except jsonread.JsonProblem as exc:
        raise UnreadableError(str(exc)) from None
    try:
        return Conversation.from_dict(data, source)
    except FormatError as exc:
        raise UnreadableError(str(exc)) from None
    except RecursionError:
        raise UnreadableError("nested too deeply") from None


def encode(conv: Conversation) -> bytes:
    import json  # (here and below: a new chat's first frame writes nothing)

    data = conv.to_dict()
    try:
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: keep it, JSON-escaped
        return (json.dumps(data, indent=2) + "\n").encode("ascii")


def fingerprint(conv: Conversation) -> int:
    """A digest of the document, leaving out what is only derived (token counts).

    It is only ever compared within this process (has the copy changed since we last shared
    it with the file?), so Python's own hashing serves: a message's text hashes once (strings
    keep their hash), and the rest of a message is small. A quarter of what dumping the whole
    document as JSON costs, on each load and save.
    """
    import json

    head = conv.to_dict()
    head.pop("messages", None)
    return hash((json.dumps(head, sort_keys=True, default=str), tuple(map(_message_digest, conv.messages))))


def _message_digest(message: Message) -> tuple:
    persona = message.persona
    return (
        message.id, message.parent, message.role, message.content, message.created_at, message.model,
        message.finish_reason, repr(message.usage) if message.usage is not None else None,
        (persona.name, persona.system_prompt, repr(persona.extra)) if persona is not None else None,
        repr(message.extra) if message.extra else None,
    )


def write_document(path: Path, data: bytes) -> None:
    """Replace the document atomically. A symlink stays a symlink (the file it points to is
    replaced) and an existing file keeps its mode (see fileio)."""
    fileio.atomic_write(path, data, new_mode=NEW_FILE_MODE)


def atomic_write(path: Path, data: bytes, mode: int = NEW_FILE_MODE) -> None:
    """Write ``path`` itself atomically with ``mode`` (the index, caches; see fileio)."""
    fileio.atomic_write(path, data, mode=mode, follow_symlinks=False)


def _describe(exc: OSError) -> str:
    """An OSError in words, with the file it concerns."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _stamp(st: os.stat_result) -> Stamp:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


# No path separators, no control characters, no leading dot, not the index's name.
_ID = re.compile(r"(?!\.)(?!index\Z)[^/\\\x00-\x1f]{1,200}\Z")


def _valid_id(conv_id: str) -> bool:
    return isinstance(conv_id, str) and _ID.match(conv_id) is not None


def _closest(ref: str, ids: list[str], n: int = 3) -> list[str]:
    """Ids like ``ref``, whole or as a prefix of the same length (difflib ratio >= 0.6)."""

    def score(conv_id: str) -> float:
        return max(difflib.SequenceMatcher(None, ref, c).ratio() for c in (conv_id, conv_id[: len(ref)]))

    scored = sorted(((score(i), i) for i in ids), key=lambda pair: -pair[0])
    return [conv_id for ratio, conv_id in scored[:n] if ratio >= 0.6]


def _drop_if_stale(entry: os.DirEntry) -> None:
    """Remove a temp file left by a crashed save once it is clearly not in use."""
    with suppress(OSError):
        if time.time() - entry.stat().st_mtime > STALE_TMP_SECONDS:
            os.unlink(entry.path)
