"""Writing files without ever leaving half of one, and editing the user's TOML files in place.

``atomic_write`` writes a temporary file next to the target, fsyncs it, renames it over the
target and fsyncs the folder: a crash leaves the old file or the new one. By default it writes
through a symlink (the link stays a link) and keeps an existing file's mode; a new file gets
the mode the umask gives (0644 usually), or the one asked for (0600 for files holding secrets).

``update_toml`` changes a TOML file the way a person would: comments, order, unknown and even
invalid entries stay where they were; only what ``edit`` touches changes (tomlkit keeps the
rest byte for byte). A file that does not parse is never written.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # tomlkit loads only when a file is written: not on the start-up path
    from tomlkit.toml_document import TOMLDocument


PRIVATE = 0o600


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, new_mode: int | None = None,
                 follow_symlinks: bool = True) -> Path:
    """Replace ``path`` with ``data`` atomically; returns the file actually written.

    ``mode``: the file's mode. None keeps an existing file's mode; a new file gets ``new_mode``,
    or without it the umask's default. ``follow_symlinks``: write the file a symlink points to
    and keep the link.
    """
    target = Path(os.path.realpath(path)) if follow_symlinks else Path(path)
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = new_mode
    tmp = target.with_name(f".{target.name}.tmp-{os.urandom(4).hex()}")
    # A new file with no mode asked for is created 0666 and the umask decides, as open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else PRIVATE)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
    return target


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- TOML ---------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any] | None:
    """The parsed file, None when it does not exist; raises ValueError naming file and line."""
    text = _read_text(path)
    return None if text is None else _parse(path, text)


def update_toml(path: Path, edit: Callable[[TOMLDocument], None], *, private: bool = False) -> Path:
    """Apply ``edit`` to the file's document and write it back if anything changed.

    ``private`` makes the file 0600 (it holds a secret); otherwise its mode is kept. Raises
    ValueError, without writing, when the file exists but does not parse.
    """
    text = _read_text(path)
    if text is not None:
        try:
            _parse(path, text)
        except ValueError as exc:
            raise ValueError(f"{exc}; fix or remove it first, it was not overwritten") from None
    import tomlkit

    document = tomlkit.parse(text or "")
    edit(document)
    new = tomlkit.dumps(document)
    target = Path(os.path.realpath(path))
    if new == text and (not private or _mode(target) == PRIVATE):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(target, new.encode("utf-8"), mode=PRIVATE if private else None)


def _read_text(path: Path) -> str | None:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    except ValueError:  # Python's int limit (the only other ValueError tomllib raises)
        raise ValueError(f"{path}: a number of more than {sys.get_int_max_str_digits():,} digits") from None
    except RecursionError:
        raise ValueError(f"{path}: arrays or tables nested too deeply") from None


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return None
