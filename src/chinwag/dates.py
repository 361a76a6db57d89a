"""Days as people type them (search filters, ``usage --since``) and the UTC stamps documents hold.

Documents store UTC stamps (``2026-11-24T21:55:00Z``); people think in local days. A typed day
means local midnight, turned into a UTC stamp that compares with the stored ones as text.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
DAY_FORMS = "YYYY-MM-DD, YYYY-MM, YYYY, today, yesterday, or 7d / 4w (days / weeks ago)"

_RELATIVE = re.compile(r"(\d{1,5})([dw])\Z")
_ISO_DAY = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\Z")


def parse_day(text: str, today: date | None = None) -> date:
    """The first local day of what ``text`` names; ValueError (saying the accepted forms) if none."""
    value = text.strip().lower()
    today = today or date.today()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    relative = _RELATIVE.match(value)
    if relative:
        count = int(relative.group(1))
        return today - timedelta(days=count * (7 if relative.group(2) == "w" else 1))
    found = _ISO_DAY.match(value)
    if found:
        year, month, day = (int(part) if part else 1 for part in found.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date: use {DAY_FORMS}")


def local_midnight_utc(day: date) -> str:
    """The UTC stamp of local midnight at the start of ``day``."""
    local = datetime(day.year, day.month, day.day).astimezone()
    return local.astimezone(timezone.utc).strftime(ISO_Z)


def to_utc(stamp: object) -> datetime | None:
    """A document's stamp as an aware UTC datetime; naive stamps are taken as UTC."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def normal_utc(stamp: object) -> str:
    """A stamp in the one form that sorts and compares as text (``…Z``); "" when unreadable."""
    when = to_utc(stamp)
    return when.strftime(ISO_Z) if when else ""
