"""Plain imported conversations -> chinwag documents in the store, once each.

An imported conversation is an ordinary document (format v2: ids, parents, ``current``)
with one more field, ``"imported_from": {"source": "chatgpt", "id": "<its id there>"}``.
Its document id is derived from the source and that id (the date it was created, then a
hash), so whether it is already here is one file lookup, not a scan of the history:

- not there: the document is written;
- there: only messages it does not hold yet (by id) are added; none -> nothing is written.

So importing the same export twice adds nothing, and a newer export of the same account
adds only what is new in it. A dry run does the same lookups and writes nothing.

A conversations folder that cannot be used (a file in its place or in its path, not
readable or not writable, a read-only or full file system) stops the import with one
OSError naming the folder, before the first conversation and whenever a conversation
fails: it is no single conversation's fault.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from chinwag.conversation import REASONING, Conversation, Message, now_iso, title_from
from chinwag.importers import ExportError, ImportedConversation, Problem, read_export
from chinwag.store import NotFoundError, Store, StoreError, UnreadableError

__all__ = ["ExportError", "Outcome", "import_export", "to_conversation"]

FIELD = "imported_from"
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z\Z")
TITLE_LENGTH = 200

NEW, UPDATED, UNCHANGED, EMPTY, SKIPPED, WARNING = "new", "updated", "unchanged", "empty", "skipped", "warning"


@dataclass
class Outcome:
    """What happened to one conversation of the export (or, for SKIPPED/WARNING, a file)."""

    status: str  # NEW, UPDATED, UNCHANGED, EMPTY, SKIPPED or WARNING
    where: str  # the file and its place in it
    title: str = ""
    conv_id: str | None = None  # the document (to be) written or found
    messages: int = 0  # chat messages the export holds for it
    added: int = 0  # of which new here (all of them for NEW)
    branches: int = 0
    reason: str = ""


def import_export(
    path: Path, store: Store, template: Callable[[], Conversation], dry_run: bool = False
) -> Iterator[Outcome]:
    """Import every conversation at ``path``; yield an Outcome for each as it is done.
    ``template()`` gives an empty conversation with the provider, model, persona and
    settings that an imported one continues with. Raises ExportError when ``path`` holds
    no export at all."""
    planned: dict[str, set[str]] = {}  # dry run: document id -> message ids it would hold
    checked = False
    for item in read_export(path):
        if isinstance(item, Problem):
            yield Outcome(WARNING if item.warning else SKIPPED, item.where, reason=item.reason)
            continue
        title = display_title(item)
        base = Outcome(NEW, item.where, title, messages=len(item.messages), branches=item.branches)
        if not item.messages:
            yield replace(base, status=EMPTY, reason="no messages to import")
            continue
        if not checked:  # only once there is something to put there: a bad export says so first
            check_folder(store.root, write=not dry_run)
            checked = True
        try:
            outcome = _import_one(item, base, store, template, planned if dry_run else None)
        except (StoreError, OSError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            outcome = replace(base, status=SKIPPED, reason=f"not saved: {detail}")
        if outcome.status == SKIPPED:  # the folder's fault rather than this conversation's?
            check_folder(store.root, write=not dry_run, after_failure=True)
        yield outcome


def check_folder(folder: Path, write: bool, after_failure: bool = False) -> None:
    """Raise an OSError naming ``folder`` when conversations cannot be read there (or, with
    ``write``, written: the folder is created first). ``after_failure``: a save just failed,
    so a file system with no free space left counts as unusable too."""
    try:
        is_folder = stat.S_ISDIR(os.stat(folder).st_mode)  # a file in the path: NotADirectoryError
    except FileNotFoundError:
        if not write:
            return  # a dry run into a folder still to be made: nothing is there
        folder.mkdir(parents=True, exist_ok=True)  # EACCES, EROFS, ENOTDIR
        is_folder = True
    if not is_folder:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    mode = os.R_OK | os.X_OK | (os.W_OK if write else 0)
    if not os.access(folder, mode):  # access() also answers EROFS for a read-only mount
        code = errno.EROFS if write and _read_only_mount(folder) else errno.EACCES
        raise OSError(code, os.strerror(code), str(folder))
    if after_failure and write:
        space = os.statvfs(folder)
        if space.f_bavail == 0 or (space.f_files and space.f_favail == 0):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _import_one(
    item: ImportedConversation, base: Outcome, store: Store,
    template: Callable[[], Conversation], planned: dict[str, set[str]] | None,
) -> Outcome:
    for conv_id in document_ids(item):
        if planned is not None and conv_id in planned:
            held = planned[conv_id]
            added = [m for m in item.messages if m.id not in held]
            held.update(m.id for m in added)
            return replace(base, status=UPDATED if added else UNCHANGED, conv_id=conv_id, added=len(added))
        try:
            existing = store.load(conv_id)
        except NotFoundError:
            if planned is not None:
                planned[conv_id] = {m.id for m in item.messages}
            else:
                store.save(to_conversation(item, template(), conv_id))
            return replace(base, conv_id=conv_id, added=len(item.messages))
        except UnreadableError as exc:
            return replace(base, status=SKIPPED, conv_id=conv_id,
                           reason=f"{conv_id}.json is in the way and cannot be read ({exc.reason})")
        if _same_source(existing, item):
            added = _merge(existing, item)
            if planned is not None:
                planned[conv_id] = {m.id for m in existing.messages}
            elif added:
                if existing.read_only:
                    return replace(base, status=SKIPPED, conv_id=conv_id,
                                   reason=f"{existing.read_only_reason}; its {added} new messages were not added")
                store.save(existing)
            return replace(base, status=UPDATED if added else UNCHANGED, conv_id=conv_id, added=added)
    raise StoreError("no free document id")  # 4 hashes of different lengths all taken: not in this universe


def document_ids(item: ImportedConversation) -> Iterator[str]:
    """Candidate document ids: ``<created, as 20241216-230000>-<hash of source and id>``,
    the hash longer each time (the next is tried only when a document of another source
    holds the shorter one)."""
    parts = _ISO.match(item.created_at or "")
    stamp = "{}{}{}-{}{}{}".format(*parts.groups()) if parts else "00000000-000000"
    digest = hashlib.sha256(f"{item.source}\0{item.source_id}".encode("utf-8", "replace")).hexdigest()
    for length in (6, 12, 24, 64):
        yield f"{stamp}-{digest[:length]}"


def _same_source(conv: Conversation, item: ImportedConversation) -> bool:
    origin = conv.extra.get(FIELD)
    return isinstance(origin, dict) and origin.get("source") == item.source and origin.get("id") == item.source_id


def display_title(item: ImportedConversation) -> str:
    title = " ".join(item.title.split())[:TITLE_LENGTH]
    if title:
        return title
    first = next((m for m in item.messages if m.role == "user"), None)
    return title_from(first.text) if first is not None else "Untitled"


def to_conversation(item: ImportedConversation, template: Conversation, conv_id: str) -> Conversation:
    """A new document holding every message of ``item``, showing the branch the source showed."""
    created = item.created_at or now_iso()
    conv = Conversation(
        id=conv_id,
        title=display_title(item),
        created_at=created,
        updated_at=item.updated_at or created,
        provider=template.provider,
        model=template.model,
        persona=template.persona,
        settings=template.settings,
        messages=[],
        extra={FIELD: _origin(item)},
    )
    _merge(conv, item)
    return conv


def _origin(item: ImportedConversation) -> dict[str, str]:
    origin = {"source": item.source, "id": item.source_id}
    if item.model:
        origin["model"] = item.model
    return origin


def _merge(conv: Conversation, item: ImportedConversation) -> int:
    """Add the messages of ``item`` that ``conv`` lacks (by id), parents first; when any were
    added, show the source's current branch (unless the user has carried on in chinwag since
    the last import). Returns how many were added."""
    have = {m.id: m for m in conv.messages}
    leaf = conv.leaf
    # Show the source's branch, unless the user has carried on in chinwag since the last import.
    followed_source = leaf is None or any(m.id == leaf.id for m in item.messages)
    added = 0
    for source in item.messages:
        if source.id in have:
            continue
        parent = have.get(source.parent) if source.parent is not None else None
        message = Message(
            source.role,
            source.text,
            created_at=source.created_at or (parent.created_at if parent is not None else conv.created_at),
            model=source.model,
            finish_reason=source.finish_reason,
            id=source.id,
            parent=parent.id if parent is not None else None,
        )
        if source.reasoning:
            message.extra[REASONING] = source.reasoning
        conv.messages.append(message)
        have[message.id] = message
        added += 1
    if added:
        conv.forget_tree()
        if item.current in have and (followed_source or not conv.current):
            conv.current = item.current
        conv.updated_at = max(conv.updated_at, item.updated_at or "", _newest(conv))
    return added


def _newest(conv: Conversation) -> str:
    return max((m.created_at for m in conv.messages), default=conv.created_at)
