"""Logging to ``<log dir>/chinwag.log`` (0600, rotated) with secrets redacted from every record.

Every record is redacted where it is made (a log record factory), so third-party loggers
(httpcore2's header dumps, the SDK's request options) and any handler a library adds are
covered, and again by the file handler's filter. Redacted: the keys in the environment, keys
registered from the config or typed into the settings (from the first keystroke, whether or
not the dialog is saved), anything shaped like an OpenAI/Together key or a bearer token, and
the user:password part of any URL.
"""

from __future__ import annotations

import logging
import os
import re
from contextlib import suppress
from logging.handlers import RotatingFileHandler
from pathlib import Path
from urllib.parse import urlsplit

from chinwag import paths

KEY_ENV_VARS = ("OPENAI_API_KEY", "TOGETHER_API_KEY")
NOISY = ("httpx2", "httpcore2", "openai", "asyncio", "markdown_it")
REDACTED = "[redacted]"
_PATTERNS = (
    (re.compile(r"sk-[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"tgp_v1_[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + REDACTED),
    # scheme://user:password@host (and scheme://token@host): the credentials go
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@'\"]+@"), r"\1" + REDACTED + "@"),
)
_MIN_SECRET = 4  # shorter "keys" (e.g. "x" for a local server) would garble every line
_secrets: set[str] = set()
_typed: str = ""  # what the settings dialog's key box holds right now
_handler: logging.Handler | None = None


def register_secret(value: str | None) -> None:
    """Redact ``value`` (an api_key from config.toml, a key used for a request) from now on."""
    if value and len(value) >= _MIN_SECRET:
        _secrets.add(value)


def register_url(url: str | None) -> None:
    """Redact the password (and user) in ``url`` wherever it appears, not only inside URLs."""
    if not url:
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    register_secret(parts.password)


def typing_secret(value: str) -> None:
    """The key box of the settings dialog changed: redact what it holds from this moment.

    Only the current value is kept (not every prefix typed on the way); call register_secret
    when the key is used or saved, so it stays redacted after the box changes again.
    """
    global _typed
    _typed = value


def _forms(secret: str) -> set[str]:
    """The secret as it can appear in a log line: as is, and as repr and bytes repr show it."""
    return {secret, repr(secret)[1:-1], repr(secret.encode("utf-8", "replace"))[2:-1]}


def redact(text: str) -> str:
    known = _secrets | {_typed} | {os.environ.get(var, "") for var in KEY_ENV_VARS}
    forms = {form for secret in known if len(secret) >= _MIN_SECRET for form in _forms(secret)}
    for secret in sorted(forms, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message with its args, then redact it (and its traceback)."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what we can, redacted
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """Redacts each record that reaches the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_factory = logging.getLogRecordFactory()


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    return redact_record(_factory(*args, **kwargs))


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose files are created 0600 (they may hold what a request carried)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.chmod(self.baseFilename, 0o600)  # a log left 0644 by an older chinwag
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors="backslashreplace")


def setup_logging(debug: bool = False) -> Path:
    """Log to the rotating chinwag.log (INFO, or DEBUG with --debug); returns its path."""
    global _handler
    path = paths.log_dir() / "chinwag.log"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    logging.setLogRecordFactory(_redacting_factory)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    for n in range(1, _handler.backupCount + 1):  # older logs an older chinwag left 0644
        with suppress(OSError):
            os.chmod(f"{path}.{n}", 0o600)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _handler.addFilter(RedactingFilter())
    root.addHandler(_handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    return path
