"""Read ChatGPT and Claude exports into plain conversations, one at a time.

``read_export(path)`` yields an ImportedConversation for each conversation it can read and
a Problem for each one it cannot (and for files it cannot read on), so one bad conversation
costs only itself. Memory stays bounded by the largest single conversation, however big
the export. Part of the engine: never imports Textual.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from chinwag.importers import chatgpt, claude
from chinwag.importers.jsonstream import Oversized, StreamError, Utf8Repair, elements
from chinwag.importers.plain import BadConversation, ImportedConversation, ImportedMessage
from chinwag.importers.sources import ExportError, Source, close_all, find_sources

__all__ = [
    "ExportError", "ImportedConversation", "ImportedMessage", "Problem", "read_export",
]

PARSERS = (chatgpt, claude)
DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError)  # a zip member that will not decompress


@dataclass
class Problem:
    """Something not imported: a conversation (``where`` says which) or the rest of a file."""

    where: str
    reason: str
    warning: bool = False  # True: read, but the user should know (e.g. bytes replaced)


def read_export(path: Path) -> Iterator[ImportedConversation | Problem]:
    """Every conversation of the export at ``path`` (file, folder or zip), in file order.
    Raises ExportError when ``path`` holds no export at all."""
    sources = find_sources(Path(path))
    try:
        for source in sources:
            if source.refused:
                yield Problem(source.label, source.refused)
                continue
            try:
                yield from _read_source(source)
            except ExportError as exc:
                yield Problem(source.label, str(exc))
            except OSError as exc:
                yield Problem(source.label, f"cannot be read ({exc.strerror or exc})")
    finally:
        close_all(sources)


def _read_source(source: Source) -> Iterator[ImportedConversation | Problem]:
    with source.open() as raw:
        reader = Utf8Repair(raw)
        number = 0
        try:
            for number, item in enumerate(elements(reader), 1):
                yield _one(item, f"{source.label} #{number}")
        except StreamError as exc:
            read = f" after {number} conversation{'s' if number != 1 else ''}" if number else ""
            yield Problem(source.label, f"{exc}; nothing more read from it{read}")
        except DAMAGED as exc:
            yield Problem(source.label, f"the zip is damaged ({exc}); nothing more read from it")
        if reader.replaced:
            yield Problem(
                source.label,
                f"{reader.replaced:,} byte{'s' if reader.replaced != 1 else ''} that are not UTF-8 "
                "were replaced with �",
                warning=True,
            )


def _one(item: Any, where: str) -> ImportedConversation | Problem:
    if isinstance(item, Oversized):
        return Problem(where, f"skipped: {item.reason}")
    for parser in PARSERS:
        if parser.looks_like(item):
            title = item.get("title") or item.get("name")
            if isinstance(title, str) and title.strip():
                where += f" ({' '.join(title.split())[:60]})"  # cleaned where it is printed
            try:
                conversation = parser.parse(item)
            except BadConversation as exc:
                return Problem(where, f"skipped: {exc}")
            except (RecursionError, ValueError, ArithmeticError, TypeError, KeyError, AttributeError) as exc:
                return Problem(where, f"skipped: it could not be read ({type(exc).__name__})")
            conversation.where = where
            return conversation
    return Problem(where, "skipped: not a ChatGPT or Claude conversation (no mapping, no chat_messages)")
