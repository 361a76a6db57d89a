"""`chinwag list --search` with the query syntax, and `chinwag reindex`."""

from __future__ import annotations

import json

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
