"""Logging to ``<log dir>/chinwag.log`` with API keys redacted from every record."""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from chinwag import paths

KEY_ENV_VARS = ("OPENAI_API_KEY", "TOGETHER_API_KEY")
NOISY = ("httpx2", "httpcore", "openai", "asyncio", "markdown_it")
REDACTED = "[redacted]"
_PATTERNS = (
    (re.compile(r"sk-[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"tgp_v1_[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + REDACTED),
)
_MIN_SECRET = 4  # shorter "keys" (e.g. "x" for a local server) would garble every line
_secrets: set[str] = set()
_handler: logging.Handler | None = None


def register_secret(value: str | None) -> None:
    """Redact ``value`` (e.g. an api_key from config.toml) wherever it appears in the log."""
    if value and len(value) >= _MIN_SECRET:
        _secrets.add(value)


def redact(text: str) -> str:
    known = _secrets | {os.environ.get(var, "") for var in KEY_ENV_VARS}
    for secret in sorted((s for s in known if len(s) >= _MIN_SECRET), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats each record's message with its args, then redacts keys from it."""

    def filter(self, record: logging.LogRecord) -> bool:
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
        return True


def setup_logging(debug: bool = False) -> Path:
    """Log to the rotating chinwag.log (INFO, or DEBUG with --debug); returns its path."""
    global _handler
    path = paths.log_dir() / "chinwag.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _handler.addFilter(RedactingFilter())
    root.addHandler(_handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    return path
