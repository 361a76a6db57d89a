"""Find the conversation files of an export: one JSON file, a folder, or the zip as downloaded.

ChatGPT puts every conversation in ``conversations.json``; newer exports split them over
``conversations-000.json``, ``conversations-001.json``, ... Claude's export has one
``conversations.json``. A zip is read in place, member by member, as a stream: nothing is
extracted, so no member name can write anywhere, and a member that claims to decompress to
far more than it could hold (a zip bomb) is refused before reading.
"""

from __future__ import annotations

import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

_NAME = re.compile(r"conversations(?:-\d{1,6})?\.json\Z", re.IGNORECASE)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
MEMBER_LIMIT = 16 * 2**30  # bytes a zip member may decompress to
RATIO_LIMIT = 100  # JSON compresses about 5-15 times; a bomb by thousands
RATIO_FLOOR = 64 * 2**20  # below this size any ratio is harmless


class ExportError(Exception):
    """The path cannot be read as an export at all; the message is for a person."""


@dataclass
class Source:
    """One conversations file: how to name it in reports, and how to open it."""

    label: str
    path: Path
    member: zipfile.ZipInfo | None = None
    refused: str | None = None  # why this file is not read (the others still are)
    archive: zipfile.ZipFile | None = None  # one open zip shared by its members (see close_all)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.member is None or self.archive is None:
            with open(self.path, "rb") as f:
                yield f
            return
        try:
            with self.archive.open(self.member) as f:
                yield f  # type: ignore[misc]
        except NotImplementedError as exc:  # e.g. a compression method zipfile lacks
            raise ExportError(f"{self.label}: cannot be decompressed ({exc})") from None
        except RuntimeError as exc:  # encrypted
            raise ExportError(f"{self.label}: {exc}") from None


def find_sources(path: Path) -> list[Source]:
    """The conversations files at ``path``, in reading order; ExportError when there are none."""
    try:
        if path.is_dir():
            return _in_folder(path)
        if path.exists() and not path.is_file():
            raise ExportError(f"{path}: not a file or a folder")
        with open(path, "rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if magic in ZIP_MAGIC:
        return _in_zip(path)
    return [Source(path.name, path)]


def _in_folder(folder: Path) -> list[Source]:
    for where in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        found = sorted(p for p in where.iterdir() if _NAME.match(p.name) and p.is_file())
        if found:
            return [Source(str(p.relative_to(folder)), p) for p in found]
    raise ExportError(f"{folder}: no conversations.json (or conversations-000.json, ...) in this folder")


def close_all(sources: list[Source]) -> None:
    for archive in {id(s.archive): s.archive for s in sources if s.archive is not None}.values():
        archive.close()


def _in_zip(path: Path) -> list[Source]:
    """The members to read, sharing one open ZipFile: opening it again for each member would
    re-read the central directory each time (quadratic in a zip of many small members)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(f"{path.name}: not a readable zip file ({exc})") from None
    try:
        return _members(path, archive)
    except BaseException:
        archive.close()
        raise


def _members(path: Path, archive: zipfile.ZipFile) -> list[Source]:
    members = archive.infolist()
    chosen = []
    for info in members:
        parts = info.filename.replace("\\", "/").split("/")
        name = parts[-1]
        if info.is_dir() or not _NAME.match(name) or "__MACOSX" in parts or name.startswith("._"):
            continue
        chosen.append(info)
    if not chosen:
        raise ExportError(f"{path.name}: the zip holds no conversations.json (or conversations-000.json, ...)")
    chosen.sort(key=lambda i: (i.filename.count("/"), i.filename))
    sources = []
    for info in chosen:
        label = f"{path.name}:{info.filename}"
        size, packed = info.file_size, info.compress_size
        refused = None
        if size > MEMBER_LIMIT or (size > RATIO_FLOOR and size > RATIO_LIMIT * max(packed, 1)):
            refused = f"would decompress {packed:,} bytes to {size:,}; not read (a zip bomb?)"
        sources.append(Source(label, path, info, refused, archive))
    return sources
