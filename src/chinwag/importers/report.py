"""What `chinwag import` prints: one line per conversation as it goes, then a summary.

Every piece of text from the export (titles, file and member names, reasons that quote
them) passes ``chinwag.sanitize.clean`` here: an export is outside text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from chinwag.importers.documents import EMPTY, NEW, SKIPPED, UNCHANGED, UPDATED, WARNING, Outcome
from chinwag.sanitize import clean

STATUS_WIDTH = 16
ID_WIDTH = 22
COUNT_WIDTH = 24


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def line(outcome: Outcome, dry_run: bool) -> tuple[bool, str]:
    """(True for stderr, the line) for one outcome."""
    where = one_line(outcome.where)
    if outcome.status == SKIPPED:
        return True, f"chinwag: {where}: {one_line(outcome.reason)}"
    if outcome.status == WARNING:
        return True, f"chinwag: warning: {where}: {one_line(outcome.reason)}"
    if outcome.status == NEW:
        status = "would import" if dry_run else "imported"
        counts = f"{plural(outcome.messages, 'message')}, {plural(outcome.branches, 'branch', 'branches')}"
    elif outcome.status == UPDATED:
        status = "would update" if dry_run else "updated"
        counts = f"+{plural(outcome.added, 'new message')}"
    elif outcome.status == UNCHANGED:
        status = "already there"
        counts = f"{plural(outcome.messages, 'message')}, nothing new"
    else:  # EMPTY
        return False, f"{'empty':<{STATUS_WIDTH}} {where}: no messages, nothing to import"
    ident = outcome.conv_id or ""
    return False, (
        f"{status:<{STATUS_WIDTH}} {ident:<{ID_WIDTH}} {counts:<{COUNT_WIDTH}} {one_line(outcome.title)}"
    ).rstrip()


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    messages: int = 0  # messages written (or that would be)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        if outcome.status in (NEW, UPDATED):
            self.messages += outcome.added

    @property
    def failed(self) -> bool:
        return self.counts[SKIPPED] > 0

    def summary(self, dry_run: bool) -> str:
        c = self.counts
        parts = []
        verb = "would import" if dry_run else "imported"
        parts.append(f"{verb} {plural(c[NEW], 'conversation')}")
        if c[UPDATED]:
            parts.append(f"{'would update' if dry_run else 'updated'} {c[UPDATED]:,}")
        parts.append(f"{plural(self.messages, 'message')} {'to write' if dry_run else 'written'}")
        if c[UNCHANGED]:
            parts.append(f"{c[UNCHANGED]:,} already there")
        if c[EMPTY]:
            parts.append(f"{c[EMPTY]:,} empty")
        if c[SKIPPED]:
            parts.append(f"{c[SKIPPED]:,} not imported (see above)")
        text = "; ".join(parts)
        text = text[0].upper() + text[1:] + "."
        return f"Dry run, nothing written. {text}" if dry_run else text
