"""A message's text as one widget of pre-rendered lines, so that cost follows what changed.

Textual's Markdown widget mounts a widget per block (and more per list item and code fence), and
every layout walks them all: a long reply streamed into it costs more with every chunk. Here a
reply is one widget holding the lines of its text rendered by Rich. While it streams, text is cut
where a top-level block starts (``split_settled``): the blocks before the cut can no longer
change, so they are rendered once and their lines kept; only the last block, the tail, is
rendered again as text arrives. Lines are rendered again only when the width or theme changes.
Colours come from the app's theme. A user's message is plain text (no Markdown), rendered the
same way: wrapped once per width, however often the widget is refreshed.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme as RichTheme
from textual.color import Color, ColorParseError
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from chinwag.tui.markdown_blocks import split_settled
from chinwag.tui.widgets.layout_once import LayoutOnce

CODE_THEMES = {True: "github-dark", False: "friendly"}  # by theme.dark


@lru_cache(maxsize=1)
def _markdown_class() -> type:
    """Rich's Markdown with left-aligned headings, and HTML shown as the text it is: a reply that
    says ``Vec<String>`` or ``<div>`` must show it (Rich drops HTML tokens, and would lose those
    words). Imported when first needed: it brings Pygments."""
    from rich.markdown import Heading, Markdown

    from chinwag.tui.markdown_blocks import parser

    class LeftHeading(Heading):
        LEVEL_ALIGN = {tag: "left" for tag in ("h1", "h2", "h3", "h4", "h5", "h6")}

    class ChatMarkdown(Markdown):
        elements = {**Markdown.elements, "heading_open": LeftHeading}

        def __init__(self, markup: str, code_theme: str) -> None:
            # Rich's own __init__ builds a parser with HTML on (and a new one every time).
            self.markup = markup
            self.parsed = parser().parse(markup)
            self.code_theme = code_theme
            self.justify = None
            self.style = "none"
            self.hyperlinks = False
            self.inline_code_lexer = None
            self.inline_code_theme = code_theme

    return ChatMarkdown


def _colour(variables: dict[str, str], name: str, fallback: str) -> str:
    try:
        return Color.parse(variables.get(name, fallback)).hex6
    except ColorParseError:
        return fallback


def markdown_theme(variables: dict[str, str]) -> RichTheme:
    """Rich's markdown.* styles in the colours of a Textual theme (its CSS variables)."""
    primary = _colour(variables, "primary", "#0178d4")
    secondary = _colour(variables, "secondary", "#004578")
    accent = _colour(variables, "accent", "#ffa62b")
    panel = _colour(variables, "panel", "#333333")
    return RichTheme({
        "markdown.h1": f"bold underline {primary}",
        "markdown.h2": f"bold {primary}",
        "markdown.h3": f"bold {accent}",
        "markdown.h4": "bold",
        "markdown.h5": "bold italic",
        "markdown.h6": "italic",
        "markdown.code": f"bold {accent} on {panel}",
        "markdown.block_quote": f"italic {secondary}",
        "markdown.item.bullet": f"bold {primary}",
        "markdown.item.number": f"bold {primary}",
        "markdown.link": f"underline {secondary}",
        "markdown.link_url": f"italic {secondary}",
        "markdown.hr": secondary,
        "markdown.table.header": f"bold {primary}",
        "markdown.table.border": primary,
    })


_THEMES: dict[str, RichTheme] = {}


def theme_for(app) -> tuple[RichTheme, str]:
    """The Rich theme and code theme for Markdown in ``app``'s current theme (cached by name)."""
    theme = _THEMES.get(app.theme)
    if theme is None:
        theme = _THEMES[app.theme] = markdown_theme(app.theme_variables)
    return theme, CODE_THEMES[app.current_theme.dark]


def render_markdown(source: str, console: Console, options: ConsoleOptions, theme: RichTheme,
                    code_theme: str) -> list[list[Segment]]:
    """The lines of ``source`` rendered as Markdown at ``options``' width."""
    if not source.strip():
        return []
    markdown = _markdown_class()(source, code_theme)
    with console.use_theme(theme):
        return console.render_lines(markdown, options, pad=False)


def plain_lines(source: str, width: int, style: Style, console: Console) -> list[Strip]:
    """Plain text wrapped at ``width``: a line whose characters each take one cell is wrapped
    here, word by word (a pasted megabyte is mostly such lines); anything else (wide characters,
    tabs) goes through Rich, one line at a time."""
    strips: list[Strip] = []
    if not source:
        return strips
    options = console.options.update(width=width, highlight=False)
    for line in source.split("\n"):
        if line.isprintable() and (line.isascii() or cell_len(line) == len(line)):
            if len(line) <= width:
                pieces = [line]
            else:
                pieces = textwrap.wrap(line, width, drop_whitespace=True, break_on_hyphens=False) or [""]
            strips.extend(Strip([Segment(piece.ljust(width), style)], width) for piece in pieces)
        else:
            for rendered in console.render_lines(Text(line), options, pad=False):
                strips.append(Strip(Segment.apply_style(rendered, style)).extend_cell_length(width, style)
                              .crop(0, width))
    return strips


class MessageBody(LayoutOnce, Widget):
    """A message's text: Markdown (replies) or plain. ``append`` adds streamed text; ``finish``
    ends the stream."""

    DEFAULT_CSS = """
    MessageBody {
        height: auto;
    }
    """

    def __init__(self, source: str = "", markdown: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.markdown = markdown
        self._chunks: list[str] = [source] if source else []  # settled text, as it arrived
        self._tail = ""  # the last block while streaming
        self._settled_length = len(source)
        self._rendered: list[list[Strip]] = []  # lines of each chunk, at self._key
        self._tail_lines: list[Strip] = []
        self._lines: list[Strip] = []  # all of them, with a blank line between chunks
        self._key: tuple[int, str] | None = None  # (width, theme) the lines were rendered at
        self._base = Style()  # the widget's colours the lines were rendered with

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self._key = None
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Colours are part of the rendered lines; other style changes (a class on the message
        # that dims it, say) leave them as they are, so a long message is not wrapped again.
        if self._key is not None and self.rich_style != self._base:
            self._key = None

    # -- rendering --------------------------------------------------------------------

    def _render(self, source: str, width: int) -> list[Strip]:
        app = self.app
        base = self._base = self.rich_style
        if not self.markdown:
            return plain_lines(source, width, base, app.console)
        options = app.console_options.update(width=width, highlight=False)
        theme, code_theme = theme_for(app)
        lines = render_markdown(source, app.console, options, theme, code_theme)
        return [Strip(Segment.apply_style(line, base)).extend_cell_length(width, base).crop(0, width)
                for line in lines]

    def _ensure(self, width: int) -> None:
        """Lines for every settled chunk at ``width`` (only chunks not rendered yet are)."""
        key = (width, self.app.theme)
        changed = key != self._key
        if changed:
            self._key = key
            self._rendered = []
            self._tail_lines = self._render(self._tail, width) if self._tail else []
        if len(self._rendered) < len(self._chunks):
            for chunk in self._chunks[len(self._rendered):]:
                self._rendered.append(self._render(chunk, width))
            changed = True
        if changed:
            self._join()

    def _join(self) -> None:
        lines: list[Strip] = []
        blank = Strip.blank(self._key[0] if self._key else 0, self.rich_style)
        for part in [*self._rendered, self._tail_lines]:
            if part:
                if lines:
                    lines.append(blank)
                lines.extend(part)
        self._lines = lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0:
            return 0
        self._ensure(width)
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        self._ensure(width)
        if y >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[y]  # rendered at this width already

    # -- streaming ------------------------------------------------------------------------

    def append(self, text: str) -> None:
        """Add streamed text: completed blocks are rendered once, the tail again."""
        if not text:
            return
        self.source += text
        settled, self._tail = split_settled(self.source[self._settled_length:])
        if settled:
            self._chunks.append(settled)
            self._settled_length += len(settled)
        if self._key is not None:
            width = self._key[0]
            self._tail_lines = self._render(self._tail, width) if self._tail else []
            if settled:
                self._rendered.append(self._render(settled, width))
            self._join()
        self.refresh(layout=True)

    def finish(self) -> None:
        """The reply ended: the tail is settled too."""
        if self._tail:
            self._chunks.append(self._tail)
            self._settled_length += len(self._tail)
            if self._key is not None:
                self._rendered.append(self._tail_lines)
            self._tail, self._tail_lines = "", []
            self._join()
