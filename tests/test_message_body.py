"""How message text is cut and wrapped for the screen (pure parts, no app)."""

from __future__ import annotations

from rich.console import Console
from rich.style import Style

from chinwag.tui.markdown_blocks import split_settled
from chinwag.tui.widgets.message_body import plain_lines


def test_streamed_markdown_settles_whole_blocks_only():
    text = "A first paragraph\nstill the first.\n\n```python\nprint(1)\n```\n\n- one\n- tw"
    settled, tail = split_settled(text)
    assert settled + tail == text
    assert settled.endswith("```\n\n") and tail == "- one\n- tw"  # the list may still grow


def test_an_open_code_fence_is_never_settled():
    text = "Intro.\n\n```python\nfor x in y:\n\n    print(x)\n"
    settled, tail = split_settled(text)
    assert settled == "Intro.\n\n" and tail.startswith("```python")


def test_one_block_is_all_tail():
    assert split_settled("just one paragraph") == ("", "just one paragraph")
    assert split_settled("") == ("", "")


def test_plain_text_wraps_to_the_width_and_keeps_every_word():
    console = Console(width=40, file=None, color_system=None)
    line = "the quick brown fox jumps over the lazy dog " * 5
    text = f"{line}\nünïcödé ✓ and [brackets]\n\n日本語のテキスト、幅が二つの文字 " * 3
    strips = plain_lines(text, 20, Style(), console)
    assert all(strip.cell_length == 20 for strip in strips)
    shown = "".join(strip.text for strip in strips)
    assert "".join(shown.split()) == "".join(text.split())  # long words fold, none is lost


def test_empty_text_has_no_lines():
    assert plain_lines("", 20, Style(), Console(width=20)) == []


def test_html_in_a_reply_is_shown_as_text_never_dropped():
    from chinwag.tui.widgets.message_body import markdown_theme, render_markdown

    text = ("In Rust, is Vec<String> better than Vec<&str>? And Option<Box<T>>, if a<b and c>d.\n\n"
            "<div class=\"x\">\nThis whole block is HTML text\n</div>\n\n<details>\n<summary>Click</summary>\n"
            "Hidden answer 42\n</details>\n\nEnd <br> here.")
    console = Console(width=100, color_system=None)
    lines = render_markdown(text, console, console.options, markdown_theme({}), "friendly")
    shown = "\n".join("".join(segment.text for segment in line) for line in lines)
    for words in ("Vec<String>", "Vec<&str>", "Option<Box<T>>", "a<b and c>d", '<div class="x">',
                  "This whole block is HTML text", "Hidden answer 42", "<summary>Click</summary>", "<br>"):
        assert words in shown, words
