"""`chinwag list --search` with the query syntax, and `chinwag reindex`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from documents import saved

from chinwag import paths
from chinwag.cli import main
from chinwag.index import index_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_with_filters_and_a_phrase(capsys):
    saved("Tell me about airships", "The zeppelin Hindenburg was the largest.", "2026-01-02T10:00:00Z")
    saved("More about airships", "A zeppelin again, the Graf.", "2026-03-04T12:00:00Z", model="gpt-4.1")
    code, out, _ = run(capsys, "list", "--json", "--search", "zeppelin model:gpt-4.1")
    assert code == 0 and [item["title"] for item in json.loads(out)] == ["More about airships"]
    code, out, _ = run(capsys, "list", "--json", "--search", '"zeppelin Hindenburg" before:2026-02')
    (item,) = json.loads(out)
    assert item["title"] == "Tell me about airships" and "zeppelin Hindenburg" in item["snippet"]


def test_a_bad_filter_is_a_usage_error(capsys):
    saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    code, out, err = run(capsys, "list", "--search", "after:someday")
    assert code == 2 and out == ""
    assert "after:" in err and "YYYY-MM-DD" in err


def test_reindex_rebuilds_from_the_documents(capsys):
    saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    (paths.conversations_dir() / "broken.json").write_text("{", "utf-8")
    code, _, err = run(capsys, "list")
    path = index_path(paths.conversations_dir())
    assert code == 0 and path.is_file()
    code, _, err = run(capsys, "reindex")
    assert code == 0 and "Indexed 2 conversations, 1 unreadable" in err and str(path) in err
    code, out, _ = run(capsys, "list", "--search", "zeppelin")
    assert "Tell me about airships" in out


def test_list_and_search_start_without_the_heavy_libraries(capsys):
    # `chinwag list` is a process people run in scripts: its start-up must not pay for the TOML
    # writer, Markdown, asyncio, the SDK, the tokenizer or Textual.
    conv = saved("Tell me about airships", "The zeppelin", "2026-01-02T10:00:00Z")
    path = paths.conversations_dir() / f"{conv.id}.json"
    os.utime(path, (1_700_000_000, 1_700_000_000))  # indexed now, not read again (not "racily clean")
    assert run(capsys, "list")[0] == 0
    code = ("import sys; from chinwag.cli import main; main(['list', '--search', 'zeppelin']); main(['list']); "
            "heavy = [m for m in ('tomlkit', 'markdown_it', 'asyncio', 'openai', 'tiktoken', 'textual') "
            "if m in sys.modules]; sys.exit(repr(heavy) if heavy else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Tell me about airships" in done.stdout
