"""Compare models: the replies to one message side by side, one column per model.

Each column streams into a MessageBody (as the chat does) and ends with its numbers: time to
the first token, total time, tokens in and out, cost. A failure shows in its own column. The
number keys pick the reply to continue with; the screen decides what that means.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from chinwag.pricing import format_cost
from chinwag.sanitize import clean
from chinwag.tui.widgets.message_body import MessageBody

PICK = Binding.Group("Continue with")

WAITING, STREAMING, DONE, FAILED, STOPPED = "waiting", "streaming", "done", "failed", "stopped"


def stats_text(first_token: float | None, elapsed: float | None, prompt: int | None, completion: int | None,
               estimated: bool, cost: float | None) -> str:
    """``first token 0.42 s · 1.30 s · 38→96 tokens · $0.0001`` (tokens in→out)."""
    parts = []
    if first_token is not None:
        parts.append(f"first token {first_token:.2f} s")
    if elapsed is not None:
        parts.append(f"{elapsed:.2f} s")
    if prompt is not None and completion is not None:
        mark = "~" if estimated else ""
        parts.append(f"{mark}{prompt:,}→{mark}{completion:,} tokens")
        parts.append("price unknown" if cost is None else format_cost(cost))
    return " · ".join(parts)


class CompareColumn(Vertical):
    """One model's reply: its name, the text as it streams, then its numbers (or its failure)."""

    DEFAULT_CSS = """
    CompareColumn {
        width: 1fr;
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        & > VerticalScroll { height: 1fr; scrollbar-size-vertical: 1; }
        & > .stats { height: auto; color: $text-muted; text-style: italic; }
        & > .failure { height: auto; color: $error; display: none; }
        &.-failed { border: round $error; & > .failure { display: block; } }
        &:focus-within { border: round $primary; }
        &.-failed:focus-within { border: round $error; }
    }
    """

    def __init__(self, number: int, model: str, provider: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.number = number
        self.model = model
        self.provider = provider
        self.state = WAITING
        self.body = MessageBody("", markdown=True)
        self.stats = Static("waiting…", classes="stats", markup=False)
        self.failure = Static("", classes="failure", markup=False)
        self.scroller = VerticalScroll(self.body, can_focus=True)
        self.border_title = Text(clean(f"{number} · {model}"))  # content, never markup
        self.border_subtitle = Text(clean(provider))

    def compose(self) -> ComposeResult:
        yield self.scroller
        yield self.failure
        yield self.stats

    def follow(self) -> None:
        """Keep the newest text in view while it streams, unless the reader scrolled up."""
        scroller = self.scroller
        if scroller.scroll_y >= scroller.max_scroll_y - 1:
            scroller.call_after_refresh(scroller.scroll_end, animate=False, immediate=True)

    def started(self) -> None:
        self.state = STREAMING
        self.stats.update("replying…")

    def show_stats(self, text: str) -> None:
        self.stats.update(text)

    def ended(self, state: str, stats: str, failure: str = "") -> None:
        self.state = state
        self.stats.update(stats or state)
        if failure:
            self.failure.update(Text(clean(failure)))
            self.add_class("-failed")

    @property
    def streaming(self) -> bool:
        return self.state in (WAITING, STREAMING)


class CompareView(Vertical):
    """The columns, the message they answer, and how to pick one."""

    DEFAULT_CSS = """
    CompareView {
        height: 1fr;
        padding: 0 1;
        & > .question { height: auto; max-height: 3; color: $accent; margin-top: 1; }
        & > Horizontal { height: 1fr; }
        & > .hint { height: auto; color: $text-muted; }
    }
    """

    BINDINGS = [
        *[Binding(str(n), f"screen.pick_compare({n})", f"Continue with reply {n}", group=PICK,
                  id=f"compare.pick_{n}") for n in range(1, 4)],
        Binding("left", "focus_column(-1)", "Previous column", show=False, id="compare.left"),
        Binding("right", "focus_column(1)", "Next column", show=False, id="compare.right"),
        Binding("escape", "screen.leave_compare", "Stop / keep all", id="compare.leave",
                tooltip="Stop the replies still coming (what arrived is kept); then keep them all, unpicked"),
    ]

    def __init__(self, question: str, targets: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        line = " ".join(clean(question).split())
        self.question = Static(Text(f"You: {line[:200]}"), classes="question", markup=False)
        self.columns = [CompareColumn(n, model, provider) for n, (provider, model) in enumerate(targets, 1)]
        count = len(self.columns)
        self.hint = Static(f"1–{count} continues with that reply (the others stay as its versions) · ← → column · "
                           "Escape stops, then keeps all", classes="hint", markup=False)

    def compose(self) -> ComposeResult:
        yield self.question
        with Horizontal():
            yield from self.columns
        yield self.hint

    def focus_first(self) -> None:
        self.columns[0].scroller.focus()

    def action_focus_column(self, step: int) -> None:
        focused = self.screen.focused
        index = next((i for i, c in enumerate(self.columns) if focused is c.scroller), 0)
        self.columns[(index + step) % len(self.columns)].scroller.focus()

    @property
    def streaming(self) -> bool:
        return any(column.streaming for column in self.columns)
