"""Where Markdown text can be cut into pieces that render alone (no Textual here).

While a reply streams, a top-level block (paragraph, list, code block, table...) that is not
the last one can no longer change, so it is rendered once; only the last block, the live tail,
is rendered again as text arrives. The cut points are where markdown-it starts a top-level block.
The same parse lists a message's code blocks (copy one with ``c`` in message mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def parser() -> "MarkdownIt":
    """CommonMark with tables and strikethrough, and raw HTML read as text (a reply that writes
    ``<div>`` or ``Vec<String>`` shows it; nothing is ever rendered as HTML or dropped)."""
    from markdown_it import MarkdownIt  # loaded with the first reply, not at start-up

    return MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")


def block_starts(text: str) -> list[int]:
    """The source line numbers where top-level blocks start, in order."""
    tokens = parser().parse(text)
    return [token.map[0] for token in tokens if token.level == 0 and token.map is not None and token.nesting >= 0]


def split_settled(text: str) -> tuple[str, str]:
    """(the complete blocks, the last block which may still grow) of streamed ``text``.

    Everything before the start of the last top-level block is settled; a text with one block or
    none is all tail. Cuts are at line starts, so ``settled + tail == text``.
    """
    starts = block_starts(text)
    if len(starts) < 2:
        return "", text
    lines = text.splitlines(keepends=True)
    cut = sum(len(line) for line in lines[: starts[-1]])
    return text[:cut], text[cut:]



@dataclass(frozen=True)
class CodeBlock:
    language: str  # the fence's info word ("python"), "" when none was given
    code: str

    @property
    def lines(self) -> int:
        return self.code.count("\n") + (0 if self.code.endswith("\n") or not self.code else 1)


def code_blocks(text: str) -> list[CodeBlock]:
    """The code blocks of ``text`` in order: fenced (``` or ~~~, at any depth: in lists and
    quotes too) and indented ones, as Markdown renders them. The code is what a person would
    paste: without the fences, ending with one newline."""
    blocks = []
    for token in parser().parse(text):
        if token.type in ("fence", "code_block"):
            info = token.info.split()[0] if token.type == "fence" and token.info.split() else ""
            blocks.append(CodeBlock(info, token.content))
    return blocks
