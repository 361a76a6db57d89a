"""What leaves chinwag for a terminal or a file: never an escape sequence, never a strict encode.

The documents keep the data as it came (escapes, lone surrogates); `chinwag list`, `personas`,
errors on stderr and every export show it as plain text, with "\ufffd" for what is not text.
Run as a real process: a real stdout encodes strictly, capsys would not.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys

import pytest
from test_fileio import linked_file

from chinwag import paths
from chinwag.conversation import Conversation
from chinwag.export import FORMATS
from chinwag.store import Store

ESCAPES = ("t\x1b]52;c;aGVsbG8=\x07i\x1b]0;pwned\x07t\x1b[2Jl\x9b2Je \x9d0;owned\x9c"
           " Snip \u202egnp.exe\u202c \u2067isolated\u2069 \u202aLRE\u202b\u202d")  # reordered, "Trojan Source"
SURROGATE = "lone \ud800 and \udcff half"
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def run(*argv: str | bytes, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    env["LC_ALL"] = env["LANG"] = "C.UTF-8"
    result = subprocess.run([sys.executable, "-m", "chinwag", *argv], capture_output=True, env=env,
                            timeout=60)
    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    if check:
        assert result.returncode == 0, result.stderr
    return result


def assert_plain(data: bytes, lossless: bool = False) -> str:
    """``data`` is valid UTF-8 with no control character; unless it is ``lossless`` JSON (which
    keeps the escapes' text, written as harmless \\u escapes) their payload is gone too."""
    text = data.decode("utf-8")  # strict: what was written is valid UTF-8
    found = FORBIDDEN.findall(text.replace("\n", "").replace("\t", ""))
    assert not found, f"control characters reach the terminal: {found!r}"
    if not lossless:
        assert "aGVsbG8=" not in text and "pwned" not in text and "owned" not in text
    return text


@pytest.fixture
def hostile() -> Conversation:
    conv = Conversation(model=f"gpt{ESCAPES}", title=f"title {ESCAPES} {SURROGATE}")
    conv.add_user(f"question {ESCAPES} {SURROGATE}")
    conv.add_assistant(f"answer {ESCAPES} {SURROGATE}")
    Store().save(conv)
    return conv


def test_the_document_keeps_the_raw_data(hostile):
    raw = json.loads((paths.conversations_dir() / f"{hostile.id}.json").read_text("utf-8"))
    assert raw["messages"][1]["content"] == f"answer {ESCAPES} {SURROGATE}"
    assert raw["model"] == f"gpt{ESCAPES}"


def test_list_shows_titles_and_models_as_plain_text(hostile):
    out = assert_plain(run("list").stdout)
    assert "title titlet" not in out and "lone \ufffd and \ufffd half" in out and "gpt" in out
    assert "Snip gnp.exe isolated" in out


def test_list_json_is_lossless_and_printable(hostile):
    out = assert_plain(run("list", "--json").stdout, lossless=True)
    (item,) = json.loads(out)
    assert item["title"] == hostile.title and item["model"] == hostile.model  # every character kept


@pytest.mark.parametrize("search", [b"answer", b"lone", b"\xff", b"\x1b]0;x\x07"])
def test_search_output_is_plain_text(hostile, search):
    assert "answer" in assert_plain(run("list", "--search", "answer").stdout)
    found = json.loads(assert_plain(run("list", "--json", "--search", search).stdout, lossless=True))
    assert [i["id"] for i in found] in ([hostile.id], [])
    assert_plain(run("list", "--search", search).stderr)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_export_to_stdout_and_to_a_file_is_plain(hostile, fmt, tmp_path):
    lossless = fmt == "json"
    out = assert_plain(run("export", "latest", "--format", fmt).stdout, lossless)
    assert "answer" in out and "question" in out
    target = tmp_path / f"out.{fmt}"
    run("export", "latest", "-o", str(target))
    assert assert_plain(target.read_bytes(), lossless) == out
    if lossless:
        assert json.loads(target.read_text("utf-8"))["messages"][1]["content"] == hostile.messages[1].content


def test_errors_on_stderr_never_carry_escapes():
    result = run("export", f"nope{ESCAPES}", check=False)
    assert result.returncode == 1
    err = assert_plain(result.stderr, lossless=True)  # the id is quoted, its escapes shown as \\x1b
    assert "nope" in err


def test_personas_and_config_warnings_are_plain_text():
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.personas_file().write_text(
        f'[personas.{toml_string("evil" + ESCAPES)}]\ndescription = {toml_string("d" + ESCAPES)}\n'
        f'system_prompt = "x"\n[personas.broken]\nsystem_prompt = 1\n', "utf-8")
    paths.config_file().write_text(f'temperature = {toml_string("hot" + ESCAPES)}\n', "utf-8")
    result = run("personas")
    out = assert_plain(result.stdout)
    assert_plain(result.stderr, lossless=True)  # the bad value is quoted: its escapes show as \\x1b
    assert "evil" in out and "temperature" in result.stderr.decode()


def toml_string(text: str) -> str:
    """A TOML basic string holding ``text``, control characters written as \\u escapes."""
    return '"' + "".join(f"\\u{ord(c):04x}" if FORBIDDEN.match(c) or c in '"\\' else c for c in text) + '"'


def test_an_undecodable_file_name_in_an_error_prints(tmp_path):
    target = os.fsencode(tmp_path) + b"/missing-\xff-dir/out.md"
    saved = Conversation()
    saved.add_user("hi")
    Store().save(saved)
    result = subprocess.run([sys.executable, "-m", "chinwag", "export", "latest", "-o", target],
                            capture_output=True, timeout=60, env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert "missing-" in assert_plain(result.stderr)


# -- where exports may go --------------------------------------------------------------------


def test_export_refuses_to_overwrite_a_conversations_own_file(hostile):
    own = paths.conversations_dir() / f"{hostile.id}.json"
    before, files = own.read_bytes(), sorted(paths.conversations_dir().iterdir())
    result = run("export", hostile.id, "-o", str(own), check=False)
    assert result.returncode == 1 and "data folder" in assert_plain(result.stderr)
    assert own.read_bytes() == before
    result = run("export", hostile.id, "-o", str(paths.conversations_dir()), check=False)
    assert result.returncode == 1 and sorted(paths.conversations_dir().iterdir()) == files


def test_export_refuses_a_symlink_into_the_data_folder(hostile, tmp_path):
    link = tmp_path / "innocent.json"
    link.symlink_to(paths.conversations_dir() / f"{hostile.id}.json")
    before = link.read_bytes()
    assert run("export", hostile.id, "-o", str(link), check=False).returncode == 1
    assert link.read_bytes() == before


def test_export_writes_through_a_symlink_and_keeps_the_mode(hostile, tmp_path):
    link, real = linked_file(tmp_path, "chat.md", 0o640)
    run("export", hostile.id, "-o", str(link))
    assert link.is_symlink() and "answer" in real.read_text("utf-8")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_the_html_export_loads_nothing_from_the_network():
    from chinwag.export import render

    conv = Conversation()
    conv.add_user("look")
    conv.add_assistant("![tracker](https://evil.example/pixel.png) and ![inline](data:image/png;base64,AAAA)")
    page = render(conv, "html")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert "https:" not in csp and "http:" not in csp and "*" not in csp
    assert directives["img-src"] == "data:"
