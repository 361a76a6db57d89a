"""Choose one of a message's code blocks to copy: listed by number and language."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from chinwag.sanitize import clean
from chinwag.tui.markdown_blocks import CodeBlock
from chinwag.tui.screens.dialogs import DIALOG_CSS
from chinwag.tui.widgets.key_bar import KeyBar

PREVIEW = 60  # characters of a block's first line shown in the list


def describe(number: int, block: CodeBlock) -> Text:
    """``2  python · 3 lines  def forecast(day):`` (the code is content: cleaned, never markup)."""
    first = next((line.strip() for line in block.code.splitlines() if line.strip()), "")
    if len(first) > PREVIEW:
        first = first[: PREVIEW - 1] + "…"
    lines = block.lines
    text = Text(f"{number:>2}  ", style="bold")
    text.append(clean(block.language) or "code", style="bold")
    text.append(f" · {lines} line{'s' if lines != 1 else ''}  ", style="italic")
    text.append(clean(first))
    return text


class CodeBlocksScreen(ModalScreen[int | None]):
    """Lists code blocks; a number key (or Enter on the highlighted one) returns its index."""

    DEFAULT_CSS = f"""
    CodeBlocksScreen {{
        {DIALOG_CSS}
        #dialog {{ width: 90; }}
        OptionList {{
            height: auto; max-height: 60vh; border: none; padding: 0; background: $surface;
            &:focus {{ border: none; }}
        }}
    }}
    """
    AUTO_FOCUS = "OptionList"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        *[Binding(str(n), f"pick({n})", f"Copy block {n}", show=False) for n in range(1, 10)],
    ]

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__()
        self.blocks = list(blocks)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Copy a code block"
            yield OptionList(*[Option(describe(n, block), id=str(n - 1))
                               for n, block in enumerate(self.blocks, 1)])
            hint = "1–9 or Enter copies · Escape cancels" if len(self.blocks) > 1 else "1 or Enter copies · Escape cancels"
            yield Static(hint, classes="hint", markup=False)
        yield KeyBar()

    def action_pick(self, number: int) -> None:
        if 1 <= number <= len(self.blocks):
            self.dismiss(number - 1)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
