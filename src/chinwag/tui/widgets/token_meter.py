"""The token-meter sidebar: what the next request costs, and what the replies cost."""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from chinwag.meter import Meter, Totals

BAR_WIDTH = 30


def bar_level(used: int, total: int) -> str:
    """"over", "high" (past 80%) or "ok": which of the theme's colours the bar takes."""
    share = used / total if total else 1.0
    return "over" if used > total else "high" if share > 0.8 else "ok"


def bar(used: int, total: int, width: int, styles: dict[str, Style]) -> Text:
    share = min(used / total, 1.0) if total else 1.0
    filled = round(share * width)
    text = Text("█" * filled, style=styles[bar_level(used, total)])
    text.append("░" * (width - filled), style=styles["empty"])
    return text


def _num(value: int | None, estimated: bool = False) -> str:
    if value is None:
        return "—"
    return f"~{value:,}" if estimated else f"{value:,}"


def _totals(table: Table, label: str, totals: Totals) -> None:
    from chinwag.pricing import format_cost  # (the meter's figures come after the first frame)

    mark = "~" if totals.estimated else ""
    table.add_row(Text(label, style="bold"), "")
    table.add_row("  tokens in", f"{mark}{totals.prompt_tokens:,}")
    table.add_row("  tokens out", f"{mark}{totals.completion_tokens:,}")
    table.add_row("  cost", format_cost(totals.cost))


def _grid() -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(ratio=1)  # labels (and notes) wrap when they must
    table.add_column(justify="right", no_wrap=True)  # numbers never do
    return table


class TokenMeter(Static):
    """Renders a Meter; the chat screen sets ``meter`` and the widget redraws. The bar's colours
    are the theme's success, warning and error."""

    DEFAULT_CSS = """
    TokenMeter {
        width: 36;
        height: 1fr;
        padding: 1 1;
        background: $panel;
        border-left: vkey $primary 30%;
        & > .token-meter--ok { color: $success; }
        & > .token-meter--high { color: $warning; }
        & > .token-meter--over { color: $error; text-style: bold; }
        & > .token-meter--empty { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES = {"token-meter--ok", "token-meter--high", "token-meter--over", "token-meter--empty"}

    meter: reactive[Meter | None] = reactive(None, layout=True)

    def _bar_styles(self) -> dict[str, Style]:
        return {name: self.get_component_rich_style(f"token-meter--{name}", partial=True)
                for name in ("ok", "high", "over", "empty")}

    def render(self):
        meter = self.meter
        if meter is None:
            return Text("Counting tokens…", style="italic")
        from chinwag.pricing import format_cost

        estimate = "" if meter.exact else "~"
        # Each section is its own grid, so a long number in one never squeezes another's
        # labels; notes are lines of their own, wrapped across the whole width.
        parts: list = []
        head = _grid()
        head.add_row(Text("Next request", style="bold"), "")
        head.add_row("  tokens", f"{estimate}{meter.request_tokens:,} / {meter.budget:,}")
        width = max(self.content_region.width - 2, 4)
        meter_bar = Text("  ").append_text(bar(meter.request_tokens, meter.budget, min(width, BAR_WIDTH),
                                               self._bar_styles()))
        table = _grid()
        table.add_row("  messages", f"{meter.sent:,} of {meter.total:,}")
        table.add_row("  draft", f"{estimate}{meter.draft_tokens:,}")
        if meter.attachment_tokens:
            table.add_row("    of which files", f"{estimate}{meter.attachment_tokens:,}")
        table.add_row("  context window", _num(meter.context_window))
        table.add_row("  est. cost", format_cost(meter.cost_of_next))
        parts += [head, meter_bar, table]
        if not meter.exact:
            parts.append(_note("~ counts are estimates for this model"))
        if not meter.fits:
            parts.append(_note("the newest message alone exceeds the budget",
                               self.get_component_rich_style("token-meter--over", partial=True)))
        last = _grid()
        last.add_row(Text("Last reply", style="bold"), "")
        estimated = meter.last_estimated
        last.add_row("  prompt", _num(meter.last_prompt, estimated))
        if meter.last_cached:
            last.add_row("    cached", _num(meter.last_cached))
        last.add_row("  completion", _num(meter.last_completion, estimated))
        if meter.last_reasoning is not None:
            last.add_row("    reasoning", _num(meter.last_reasoning))
        parts += [Text(""), last]
        if estimated:
            parts.append(_note("~ estimated: the server sent no usage"))
        for label, totals in (("Conversation", meter.conversation), ("Session", meter.session)):
            section = _grid()
            _totals(section, label, totals)
            parts += [Text(""), section]
        return Group(*parts)


def _note(text: str, style: str | Style = "italic") -> Padding:
    return Padding(Text(text, style=style), (0, 0, 0, 2))  # wrapped lines keep the indent
