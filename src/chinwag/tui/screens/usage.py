"""Usage (F5): what the replies cost — totals, a chart per day, week or month, a breakdown.

The figures come from the index (chinwag.store.Store.usage), read in a thread worker, and are
added up by chinwag.usage exactly as `chinwag usage` does, so the two always agree. Keys switch
the range (r), the breakdown (g) and cost or tokens (c); nothing here reads a document.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot

from chinwag import usage
from chinwag.sanitize import clean
from chinwag.store import Store, StoreError, reason_of
from chinwag.usage import Figures, UsageRow
from chinwag.tui.widgets.key_bar import KeyBar


@dataclass(frozen=True)
class Range:
    label: str
    unit: str  # day | week | month: one bar each
    bars: int


RANGES = (Range("7 days", "day", 7), Range("30 days", "day", 30), Range("12 weeks", "week", 12),
          Range("12 months", "month", 12))
GROUPS = ("model", "persona", "provider")
PERIODS = (("today", "Today"), ("week", "This week"), ("month", "This month"), ("all", "All time"))
LABEL_WIDTH = 18


def label(text: str, width: int = LABEL_WIDTH) -> str:
    """A name from a document, safe for the chart (plotext writes ANSI) and short."""
    line = "".join(ch for ch in " ".join(clean(text).split()) if ch.isprintable()) or "(none)"
    return line if len(line) <= width else line[: width - 1] + "…"


def tokens_text(figures: Figures, value: int) -> str:
    return ("~" if figures.estimated else "") + f"{value:,}"


def bucket_start(day: date, unit: str) -> date:
    if unit == "week":
        return usage.week_start(day)
    if unit == "month":
        return day.replace(day=1)
    return day


def buckets(today: date, chosen: Range) -> list[date]:
    """The first day of each bar, oldest first, ending with the one holding ``today``."""
    out = [bucket_start(today, chosen.unit)]
    while len(out) < chosen.bars:
        before = out[-1] - timedelta(days=1)
        out.append(bucket_start(before, chosen.unit))
    return out[::-1]


def short_number(value: float, metric: str) -> str:
    """An axis label: ``$1.25``, ``$0.0040``, ``$0.000030``, ``12.5M``, ``830k``."""
    if metric == "cost":
        if value >= 0.1 or value <= 0:
            return f"${value:,.2f}"
        # Two significant digits, however small: a chat's cents of a cent still read apart.
        return f"${value:.{min(10, 1 - math.floor(math.log10(value)))}f}"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.0f}"


def ticks(values: list[float], metric: str, count: int = 4) -> tuple[list[float], list[str]]:
    top = max(values, default=0) or 1
    positions = [top * i / count for i in range(count + 1)]
    return positions, [short_number(p, metric) for p in positions]


def period_card(title: str, figures: Figures) -> Text:
    text = Text()
    text.append(title + "\n", style="bold")
    text.append(usage.format_cost(figures) + "\n")
    text.append(f"{tokens_text(figures, figures.tokens)} tokens\n", style="dim")
    text.append(f"{figures.requests:,} repl{'y' if figures.requests == 1 else 'ies'}", style="dim")
    return text


class UsageScreen(Screen[None]):
    """Totals, a chart over time and a breakdown of every reply's usage."""

    DEFAULT_CSS = """
    UsageScreen #usage-cards { height: 4; margin: 1 1 0 1; }
    UsageScreen .usage-card {
        width: 1fr; height: 4; padding: 0 1; margin-right: 1;
        background: $panel; border-left: outer $primary;
    }
    UsageScreen #usage-chart { height: 1fr; min-height: 8; margin: 0 1; }
    UsageScreen #usage-bottom { height: 1fr; min-height: 8; margin: 0 1; }
    UsageScreen #usage-groups { width: 2fr; max-width: 44; }
    UsageScreen #usage-table-pane { width: 3fr; }
    UsageScreen #usage-table { height: 1fr; background: $background; }
    UsageScreen #usage-note { height: auto; padding: 0 2; color: $text-muted; text-style: italic; }
    """
    TITLE = "Usage"
    BINDINGS = [
        Binding("r", "next_range", "Range", id="usage.range"),
        Binding("g", "next_group", "Breakdown", id="usage.group"),
        Binding("c", "toggle_metric", "Cost/tokens", id="usage.metric"),
        Binding("escape,f5", "close", "Close", id="usage.close"),
    ]
    def __init__(self, store: Store, prices: dict | None = None, today: date | None = None) -> None:
        super().__init__()
        self.store = store
        self.prices = prices or {}
        self.today = today
        self.rows: list[UsageRow] | None = None  # every day's figures, once read
        self.checked = False  # the files were checked against the index since the screen opened
        self.range_index = 1  # 30 days
        self.group_index = 0
        self.metric = "cost"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="usage-cards"):
            for key, title in PERIODS:
                yield Static(Text(f"{title}\n…", style="dim"), id=f"usage-{key}", classes="usage-card")
        yield PlotextPlot(id="usage-chart")
        with Horizontal(id="usage-bottom"):
            yield PlotextPlot(id="usage-groups")
            with Vertical(id="usage-table-pane"):
                yield DataTable(id="usage-table", cursor_type="row", zebra_stripes=True)
        yield Static("Reading the index…", id="usage-note", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.draw())
        # The first frame shows what the index holds (one grouped query, a few ms); the files
        # are checked after it, in a thread: statting every file takes a while, and in a thread
        # that shares the GIL with the screen it would hold up the first frame.
        try:
            self._loaded(self.store.usage(sync=False))
        except (StoreError, sqlite3.Error) as error:
            self.query_one("#usage-note", Static).update(f"Cannot read the usage: {clean(str(error))}")
        self.call_after_refresh(self.check)

    # -- data ------------------------------------------------------------------------------

    def check(self) -> None:
        self.run_worker(self._check, thread=True, exclusive=True, group="usage", exit_on_error=False)

    def _check(self) -> None:
        """Bring the index up to the files; read the figures again if anything changed."""
        if self.store.sync():
            self.app.call_from_thread(self._loaded, self.store.usage(sync=False))
        self.app.call_from_thread(self._checked)

    def _checked(self) -> None:
        self.checked = True
        self.draw()

    def _loaded(self, rows: list[UsageRow]) -> None:
        self.rows = rows
        self.draw()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            reason = reason_of(event.worker.error)
            self.query_one("#usage-note", Static).update(f"Cannot read the usage: {clean(reason)}")

    @property
    def day(self) -> date:
        return self.today or date.today()

    @property
    def range(self) -> Range:
        return RANGES[self.range_index]

    @property
    def group(self) -> str:
        return GROUPS[self.group_index]

    def in_range(self) -> list[UsageRow]:
        start = buckets(self.day, self.range)[0]
        return [row for row in self.rows or [] if start <= row.day <= self.day]

    # -- drawing ---------------------------------------------------------------------------

    def draw(self) -> None:
        if self.rows is None or not self.is_attached:
            return
        periods = usage.periods(self.rows, self.day, self.prices)
        for key, title in PERIODS:
            self.query_one(f"#usage-{key}", Static).update(period_card(title, periods[key]))
        rows = self.in_range()
        self.draw_chart(rows)
        groups = usage.grouped(rows, self.group, self.prices)
        self.draw_groups(groups)
        self.fill_table(groups)
        self.query_one("#usage-note", Static).update(self.note(periods["all"]))

    def colour(self, name: str) -> tuple[int, int, int]:
        value = self.app.theme_variables.get(name) or self.app.theme_variables.get("primary", "#888888")
        return Color.parse(value).rgb

    def value(self, figures: Figures) -> float:
        return figures.cost if self.metric == "cost" else figures.tokens

    def draw_chart(self, rows: list[UsageRow]) -> None:
        chosen = self.range
        starts = buckets(self.day, chosen)
        totals = {start: Figures() for start in starts}
        for row in rows:
            totals[bucket_start(row.day, chosen.unit)].add(row, self.prices)
        values = [self.value(figures) for figures in totals.values()]
        fmt = {"day": "%m-%d", "week": "%m-%d", "month": "%Y-%m"}[chosen.unit]
        names = [start.strftime(fmt) for start in starts]
        step = max(1, len(names) // 8)
        plot = self.query_one("#usage-chart", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        positions = list(range(len(values)))
        plt.bar(positions, values, color=self.colour("primary"), width=0.6)
        plt.xticks(positions[::step], names[::step])
        plt.yticks(*ticks(values, self.metric))
        what = "cost (USD, priced replies)" if self.metric == "cost" else "tokens (prompt + completion)"
        per = {"day": "per day", "week": "per week (from Monday)", "month": "per month"}[chosen.unit]
        plt.title(f"{what} {per}, last {chosen.label}")
        plot.refresh()

    def draw_groups(self, groups: dict[str, Figures]) -> None:
        plot = self.query_one("#usage-groups", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        top = list(groups.items())[:8]
        if top:
            values = [self.value(f) for _, f in top][::-1]
            plt.bar([label(name) for name, _ in top][::-1], values,
                    orientation="horizontal", color=self.colour("accent"), width=0.5)
            plt.xticks(*ticks(values, self.metric, 2))
        plt.title(f"{'cost' if self.metric == 'cost' else 'tokens'} by {self.group}, last {self.range.label}")
        plot.refresh()

    def fill_table(self, groups: dict[str, Figures]) -> None:
        table = self.query_one("#usage-table", DataTable)
        table.clear(columns=True)
        table.add_column(self.group.capitalize())
        for name in ("Replies", "Prompt", "Cached", "Completion", "Reasoning", "Cost"):
            table.add_column(Text(name, justify="right"))
        for name, figures in [*groups.items(), ("Total", usage.total(groups.values()))]:
            table.add_row(
                Text(label(name, 28), style="bold" if name == "Total" else ""),
                Text(f"{figures.requests:,}", justify="right"),
                *(Text(tokens_text(figures, n), justify="right")
                  for n in (figures.prompt, figures.cached, figures.completion, figures.reasoning)),
                Text(usage.format_cost(figures), justify="right"),
            )

    def note(self, everything: Figures) -> str:
        parts = [f"{self.range.label} · by {self.group} · charting {self.metric}"]
        if not self.checked:
            parts.append("checking for changed conversations…")
        if not everything.requests:
            parts.append("no replies with usage yet")
        if everything.estimated:
            parts.append("~ counted by chinwag (no usage from the server)")
        if everything.unpriced:
            parts.append("unknown: no known price ([prices] in config.toml)")
        return " · ".join(parts)

    # -- keys ------------------------------------------------------------------------------

    def commands(self) -> list[SystemCommand]:
        """What the command palette offers on this screen."""
        return [
            SystemCommand("Next range", "Today, this week, this month, all time", self.action_next_range),
            SystemCommand("Next breakdown", "By model, persona or provider", self.action_next_group),
            SystemCommand("Cost or tokens", "Chart cost or tokens per day", self.action_toggle_metric),
            SystemCommand("Close usage", "Back to where you were", self.action_close),
        ]

    def action_next_range(self) -> None:
        self.range_index = (self.range_index + 1) % len(RANGES)
        self.draw()

    def action_next_group(self) -> None:
        self.group_index = (self.group_index + 1) % len(GROUPS)
        self.draw()

    def action_toggle_metric(self) -> None:
        self.metric = "tokens" if self.metric == "cost" else "cost"
        self.draw()

    def action_close(self) -> None:
        self.dismiss(None)
