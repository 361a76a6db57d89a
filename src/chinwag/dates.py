"""Days as people type them (search filters, ``usage --since``) and the UTC stamps documents hold.

Documents store UTC stamps (``2026-11-24T21:55:00Z``); people think in local days. A typed day
means local midnight, turned into a UTC stamp that compares with the stored ones as text.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"  # (strftime's %Y does not pad years before 1000: see utc_text)
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
        try:
            return today - timedelta(days=count * (7 if relative.group(2) == "w" else 1))
        except OverflowError:
            pass
    found = _ISO_DAY.match(value)
    if found:
        year, month, day = (int(part) if part else 1 for part in found.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date: use {DAY_FORMS}")


def local_midnight_utc(day: date) -> str:
    """The UTC stamp of local midnight at the start of ``day``. At the ends of the range, where
    the C library cannot place local midnight (year 1 in any zone) or it falls outside years
    1-9999 in UTC, UTC midnight of the day stands in: the first stamp there is, or the last days."""
    try:
        local = datetime(day.year, day.month, day.day).astimezone()
        return utc_text(local.astimezone(timezone.utc))
    except (OverflowError, ValueError, OSError):
        return utc_text(datetime(day.year, day.month, day.day, tzinfo=timezone.utc))


def utc_text(when: datetime, sep: str = "T", zone: str = "Z") -> str:
    """An aware UTC datetime as ``0001-02-03T04:05:06Z``, the year always four digits (as
    stamps compare as text; ``strftime("%Y")`` gives ``1`` for year 1)."""
    return when.replace(tzinfo=None, microsecond=0).isoformat(sep) + zone


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
    try:
        return when.astimezone(timezone.utc)
    except OverflowError:  # "0001-01-01T00:00+05:00" is in year 0 in UTC: no date we can hold
        return None


def normal_utc(stamp: object) -> str:
    """A stamp in the one form that sorts and compares as text (``…Z``); "" when unreadable."""
    when = to_utc(stamp)
    return utc_text(when) if when else ""
