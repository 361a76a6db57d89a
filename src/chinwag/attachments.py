"""Files in the context: read with care, stored once by sha256 beside the documents, sent with a message.

A message's attachments are listed in the document (``"attachments": [{"name", "sha256", "size",
"kind", "mime"}]``); the bytes live in ``<data dir>/attachments/<sha256>``, so a file attached ten
times is stored once. Text files are sent inside the message as ``<file name="...">`` blocks;
images (PNG, JPEG, GIF, WebP) only to models marked vision-capable, as ``image_url`` parts.

Reading refuses what is not a plain file of bounded size: folders, devices (/dev/zero), FIFOs
(never blocks on one), sockets, files over the limit (read stops at limit + 1 bytes even when the
size lies, as /proc files do), empty files, binary files, chinwag's own config.toml (it may hold
an API key, whatever link leads to it) and any file holding a key chinwag knows.
"""

from __future__ import annotations

import base64
import os
import re
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chinwag import paths
from chinwag.fileio import PRIVATE, atomic_write
from chinwag.sanitize import clean


def _sha256(data: bytes) -> str:
    import hashlib  # here: hashlib's C modules cost a millisecond at every start

    return hashlib.sha256(data).hexdigest()


TEXT = "text"
IMAGE = "image"
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SECRET = 8  # shorter "keys" (a local server's "x") would refuse every file
FIELD = "attachments"  # the message field in the document

_SHA = re.compile(r"^[0-9a-f]{64}$")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class AttachError(ValueError):
    """A file that cannot be attached; the message says why, in words."""


@dataclass(frozen=True)
class Attachment:
    name: str  # the file's base name as given (content: cleaned before it is shown)
    sha256: str
    size: int
    kind: str  # text | image
    mime: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size, "kind": self.kind, "mime": self.mime}

    @classmethod
    def from_dict(cls, data: Any) -> "Attachment | None":
        """None for an entry that is not one we wrote (documents are outside content)."""
        if not isinstance(data, dict):
            return None
        sha, size = data.get("sha256"), data.get("size")
        if not isinstance(sha, str) or not _SHA.match(sha) or not isinstance(size, int):
            return None
        kind = IMAGE if data.get("kind") == IMAGE else TEXT
        mime = data.get("mime") if isinstance(data.get("mime"), str) else "text/plain"
        return cls(str(data.get("name") or "file"), sha, size, kind, mime)

    @property
    def label(self) -> str:
        """The name as it may be shown: no controls, one line."""
        return " ".join(clean(self.name).split()) or "file"


def of(message) -> list[Attachment]:
    """The attachments of a Message (from its document field)."""
    raw = message.extra.get(FIELD)
    if not isinstance(raw, list):
        return []
    return [a for a in (Attachment.from_dict(item) for item in raw) if a is not None]


def image_type(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def read_file(path: str | os.PathLike, vision: bool, secrets: Iterable[str] = ()) -> tuple[Attachment, bytes]:
    """Read ``path`` for attaching; raises AttachError saying why not."""
    given = Path(os.path.expanduser(os.fspath(path)))
    shown = " ".join(clean(str(given)).split())
    try:
        if os.path.realpath(given) == os.path.realpath(paths.config_file()):
            raise AttachError(f"{shown} is chinwag's own config file, which may hold your API key: not attached.")
        fd = os.open(given, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except AttachError:
        raise
    except FileNotFoundError:
        raise AttachError(f"No such file: {shown}") from None
    except PermissionError:
        raise AttachError(f"Permission denied: {shown}") from None
    except OSError as exc:
        raise AttachError(f"Cannot open {shown}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise AttachError(f"{shown} is a folder: attach the files in it one by one.")
        if not stat.S_ISREG(info.st_mode):
            raise AttachError(f"{shown} is not a regular file (a device, pipe or socket): not attached.")
        limit = MAX_IMAGE_BYTES
        if info.st_size > limit:
            raise AttachError(f"{shown} is too large ({_size_text(info.st_size)}; the limit is "
                              f"{_size_text(MAX_TEXT_BYTES)} of text or {_size_text(MAX_IMAGE_BYTES)} of image).")
        data = _read_at_most(fd, limit + 1)
    except OSError as exc:
        raise AttachError(f"Cannot read {shown}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if not data:
        raise AttachError(f"{shown} is empty: nothing to attach.")
    name = given.name or shown
    mime = image_type(data)
    if mime is not None:
        if len(data) > MAX_IMAGE_BYTES:
            raise AttachError(f"{shown} is too large (the limit for an image is {_size_text(MAX_IMAGE_BYTES)}).")
        if not vision:
            raise AttachError(f"{shown} is an image, and this model is not marked as able to see images: "
                              "not attached. (If it can, set vision = true for it under [models] in config.toml.)")
        return Attachment(name, _sha256(data), len(data), IMAGE, mime), data
    if len(data) > MAX_TEXT_BYTES:
        raise AttachError(f"{shown} is too large ({_size_text(len(data))}; the limit for text is "
                          f"{_size_text(MAX_TEXT_BYTES)}).")
    if b"\x00" in data:
        raise AttachError(f"{shown} is a binary file, not text: not attached.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachError(f"{shown} is not UTF-8 text (a binary file?): not attached.") from None
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET and secret in text:
            raise AttachError(f"{shown} holds an API key chinwag uses: not attached.")
    return Attachment(name, _sha256(data), len(data), TEXT, "text/plain"), data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, total = [], 0
    while total < limit:
        try:
            chunk = os.read(fd, min(1 << 20, limit - total))
        except BlockingIOError:  # cannot happen for a regular file; never wait for one that does
            break
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


class AttachmentStore:
    """``<data dir>/attachments/<sha256>``: each content once, written atomically."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else paths.data_dir() / "attachments"
        self._text: dict[str, str] = {}

    def path(self, sha: str) -> Path:
        if not _SHA.match(sha):  # a document naming "../../x" must not reach outside the folder
            raise AttachError("not an attachment id")
        return self.root / sha

    def put(self, attachment: Attachment, data: bytes) -> None:
        target = self.path(attachment.sha256)
        try:
            if target.stat().st_size == len(data):
                return  # stored already: same hash, same size
        except FileNotFoundError:
            pass
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data, mode=PRIVATE, follow_symlinks=False)

    def read(self, sha: str) -> bytes | None:
        try:
            return self.path(sha).read_bytes()
        except (OSError, AttachError):
            return None

    def text(self, attachment: Attachment) -> str | None:
        """The text of a text attachment, None when its file is gone."""
        if attachment.sha256 not in self._text:
            data = self.read(attachment.sha256)
            if data is None:
                return None
            if len(self._text) > 64:
                self._text.clear()
            self._text[attachment.sha256] = data.decode("utf-8", errors="replace")
        return self._text[attachment.sha256]


def _quote(name: str) -> str:
    return " ".join(clean(name).split()).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def file_block(attachment: Attachment, text: str | None) -> str:
    """How a text file goes into the message the model reads."""
    if text is None:
        return f'<file name="{_quote(attachment.name)}">(this file is no longer stored)</file>'
    return f'<file name="{_quote(attachment.name)}">\n{text}\n</file>'


def extra_text(message, store: AttachmentStore) -> str:
    """What the message's text attachments add to its text (also what is counted)."""
    blocks = [file_block(a, store.text(a)) for a in of(message) if a.kind == TEXT]
    return "".join(f"\n\n{block}" for block in blocks)


def image_tokens(attachment: Attachment, store: AttachmentStore | None = None) -> int:
    """Estimated prompt tokens of an image (OpenAI's tile rule at high detail: 85 + 170 a tile
    of 512 px after scaling to fit 2048 and a short side of 768; 765 when the size is unknown)."""
    size = _dimensions(store.read(attachment.sha256) if store else None)
    if size is None:
        return 765
    width, height = size
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height)) if min(width, height) else 1.0
    width, height = width * scale, height * scale
    tiles = -(-int(width) // 512) * -(-int(height) // 512)
    return 85 + 170 * max(tiles, 1)


def _dimensions(data: bytes | None) -> tuple[int, int] | None:
    if not data:
        return None
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"GIF") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def api_content(message, store: AttachmentStore, vision: bool) -> Any:
    """The message as the API gets it: its text, its text files appended, and its images as
    ``image_url`` parts (to a vision model) or a line saying they were left out."""
    attached = of(message)
    if not attached:
        return message.content
    text = message.content + extra_text(message, store)
    images = [a for a in attached if a.kind == IMAGE]
    if not images:
        return text
    parts: list[dict[str, Any]] = []
    for image in images:
        data = store.read(image.sha256) if vision else None
        if data is None:
            why = "no longer stored" if vision else "this model does not take images"
            text += f"\n\n[image {_quote(image.name)} not sent: {why}]"
            continue
        url = f"data:{image.mime};base64,{base64.b64encode(data).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    if not parts:
        return text
    return [{"type": "text", "text": text}, *parts]
