"""Exports: what a reader sees in each format, and what can never get in."""

from __future__ import annotations

import json
import re

import pytest

from chinwag.model_settings import ModelSettings
from chinwag.conversation import ASSISTANT, CUT_OFF, INTERRUPTED, USER, Conversation, Message, Persona
from chinwag.export import FORMATS, render, safe_filename, write

HOSTILE = (
    "<script>alert('x')</script> <img src=x onerror=alert(1)> "
    "[click me](javascript:alert(document.cookie)) <javascript:alert(2)> "
    "\x1b]52;c;ZXZpbA==\x07\x1b]0;owned\x07\x1b[2J\x9b31m done"
)


@pytest.fixture
def conv():
    conv = Conversation(
        id="20261124-215500-3f2a9c",
        title="Weather <complaints> & more",
        created_at="2026-11-24T21:55:00Z",
        model="gpt-4o-mini",
        persona=Persona("sassy", "You are sassy."),
        settings=ModelSettings(temperature=0.7, max_tokens=1024),
    )
    for message in [
        Message(USER, "What is the weather like?\n\n| day | sky |\n|---|---|\n| mon | grey |",
                created_at="2026-11-24T21:55:03Z"),
        Message(ASSISTANT, "Oh **fantastic**, another weather question.", created_at="2026-11-24T21:55:05Z",
                model="gpt-4o-mini", finish_reason="stop"),
    ]:
        conv.add(message)
    conv.switch_persona(Persona("pirate", "Arr."))
    for message in [
        Message(USER, HOSTILE, created_at="2026-11-24T21:56:00Z"),
        Message(ASSISTANT, "Arr, the skies be", created_at="2026-11-24T21:56:02Z", finish_reason=INTERRUPTED),
    ]:
        conv.add(message)
    return conv


def test_markdown_transcript(conv):
    md = render(conv, "md")
    assert md.startswith("# Weather <complaints> & more\n")
    meta = md.splitlines()[2]
    assert "gpt-4o-mini" in meta and "pirate" in meta and "2026-11-24" in meta
    assert md.count("## You") == 2 and md.count("## Assistant") == 2
    assert "---\n\n_Persona changed to pirate_\n\n---" in md
    assert "Arr, the skies be\n\n_(reply interrupted)_" in md
    assert "| mon | grey |" in md


def test_json_export_is_the_document(conv):
    out = render(conv, "json")
    data = json.loads(out)
    assert data == conv.to_dict()
    assert Conversation.from_dict(data).messages[3].content == HOSTILE
    assert '\n  "format": "chinwag.conversation"' in out  # indented


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_terminal_escapes_in_any_export(conv, fmt):
    out = render(conv, fmt)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out), fmt
    assert "done" in out


def test_text_export_is_plain_and_clean(conv):
    txt = render(conv, "txt")
    assert txt.splitlines()[0] == "Weather <complaints> & more"
    assert "[You] 2026-11-24 21:55 UTC\nWhat is the weather like?" in txt
    assert "--- Persona changed to pirate ---" in txt
    assert "Arr, the skies be\n(reply interrupted)" in txt
    assert "ZXZpbA==" not in txt and "owned" not in txt  # the clipboard payload and title are gone


def test_html_is_standalone_and_renders_markdown(conv):
    page = render(conv, "html")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and page.rstrip().endswith("</html>")
    assert "<title>Weather &lt;complaints&gt; &amp; more</title>" in page
    assert "<h1>Weather &lt;complaints&gt; &amp; more</h1>" in page
    assert "<strong>fantastic</strong>" in page
    assert "<table>" in page and "<td>grey</td>" in page
    assert "reply interrupted" in page and "Persona changed to pirate" in page


def test_html_never_carries_live_markup_from_content(conv):
    page = render(conv, "html")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(" in page
    assert "<img" not in page and "onerror=alert(1)&gt;" in page
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", page, re.IGNORECASE)
    assert "[click me](javascript:alert(document.cookie))" in page  # shown as text, not a link


def test_html_links_that_are_safe_stay_links():
    conv = Conversation(title="links")
    conv.add_user("see [the docs](https://example.com/docs) and <https://example.org>")
    page = render(conv, "html")
    assert '<a href="https://example.com/docs">the docs</a>' in page
    assert '<a href="https://example.org">' in page


def test_cut_off_reply_is_marked():
    conv = Conversation(title="t")
    conv.add_user("q")
    conv.add(Message(ASSISTANT, "half an ans", finish_reason=CUT_OFF))
    for fmt in ("md", "txt", "html"):
        assert "cut off" in render(conv, fmt)


def test_unknown_format_is_refused(conv):
    with pytest.raises(ValueError, match="md, json, html, txt"):
        render(conv, "pdf")


def test_api_keys_never_appear(conv, monkeypatch):
    key = "sk-proj-TESTKEY1234567890abcdefABCDEF"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    conv.settings = conv.settings.replace(extra={"base_url": "https://api.openai.com/v1"})
    for fmt in FORMATS:
        assert key not in render(conv, fmt)
        assert "TESTKEY" not in render(conv, fmt)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Weather complaints", "weather-complaints.md"),
        ("../../etc/passwd", "etc-passwd.md"),
        ("..\\..\\windows\\system32", "windows-system32.md"),
        (".bashrc", "bashrc.md"),
        ("Ünïcödé café", "unicode-cafe.md"),
        ("日本語のタイトル", "conversation.md"),
        ("", "conversation.md"),
        ("   ", "conversation.md"),
        ("CON", "conversation.md"),
        ("a/b\x00c\x1b[31m", "a-b-c-31m.md"),
    ],
)
def test_safe_filename(title, expected):
    assert safe_filename(title, "md") == expected


def test_safe_filename_is_bounded():
    name = safe_filename("word " * 200, "html")
    assert len(name) <= 70 and name.endswith(".html") and not name.startswith((".", "-"))


def test_write_picks_a_fresh_name_and_never_overwrites(conv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = write(conv, "md")
    assert first == tmp_path / "weather-complaints-more.md"
    first.write_text("my own edits")
    second = write(conv, "md")
    third = write(conv, "md", directory=tmp_path)
    assert (second.name, third.name) == ("weather-complaints-more-1.md", "weather-complaints-more-2.md")
    assert first.read_text() == "my own edits"
    assert third.read_text("utf-8") == render(conv, "md")


def test_write_to_an_explicit_path_replaces_it(conv, tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    assert write(conv, "json", path=target) == target
    assert json.loads(target.read_text("utf-8"))["id"] == conv.id


def test_write_into_another_directory(conv, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    path = write(conv, "html", directory=folder)
    assert path.parent == folder and path.suffix == ".html"
    assert "<h1>" in path.read_text("utf-8")


# -- never into chinwag's own folders ---------------------------------------------------------

FOLDERS = ("data", "config", "cache", "state", "log")


@pytest.mark.parametrize("kind", FOLDERS)
@pytest.mark.parametrize("how", ["file", "folder", "link to a file", "link to the folder"])
def test_export_never_goes_into_chinwags_own_folders(tmp_path, capsys, kind, how):
    # `export -o ~/.config/chinwag/config.toml` replaced the config file, API key and all.
    import os

    from chinwag import paths
    from chinwag.cli import main
    from chinwag.store import Store

    conversation = Conversation()
    conversation.add_user("hello")
    Store().save(conversation)
    folder = getattr(paths, f"{kind}_dir")()
    folder.mkdir(parents=True, exist_ok=True)
    own = folder / "config.toml"
    own.write_text('api_key = "sk-keep-me"\n')
    files = sorted(folder.rglob("*"))
    target = {"file": own, "folder": folder}.get(how, tmp_path / "elsewhere.md")
    if how == "link to a file":
        os.symlink(own, target)
    elif how == "link to the folder":
        os.symlink(folder, tmp_path / "linked")
        target = tmp_path / "linked" / "notes.md"
    code = main(["export", conversation.id, "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 1 and own.read_text() == 'api_key = "sk-keep-me"\n' and sorted(folder.rglob("*")) == files
    # One clear sentence: where, whose folder, why, what to do.
    inside = "" if how == "folder" else "inside "
    assert err.count("\n") == 1 and err.startswith(f"chinwag: {target} is {inside}chinwag's {kind} folder (")
    assert err.rstrip().endswith("choose another place.") and "cannot use" not in err
    with pytest.raises(OSError, match=f"chinwag's {kind} folder"):
        write(conversation, "md", target)


def test_export_next_to_chinwags_folders_is_fine(tmp_path):
    from chinwag import paths

    conversation = Conversation()
    conversation.add_user("hello")
    beside = paths.config_dir().parent / "chinwag-notes.md"  # same parent, another name
    assert write(conversation, "md", beside) == beside and "hello" in beside.read_text()
