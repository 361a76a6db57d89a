"""Finding and streaming export files: zips, folders, the many-file layout, and hostile files."""

from __future__ import annotations

import io
import json
import os
import random
import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_helpers import CHATGPT, CLAUDE, chain, chatgpt_conversation, chatgpt_sample, write_json, write_zip

from chinwag.importers import ExportError, ImportedConversation, Problem, jsonstream, read_export, sources
from chinwag.importers.jsonstream import Oversized, StreamError, Utf8Repair, elements


def titles(items) -> list[str]:
    return [i.title for i in items if isinstance(i, ImportedConversation)]


def problems(items) -> list[Problem]:
    return [i for i in items if isinstance(i, Problem)]


# -- layouts ------------------------------------------------------------------------


def test_zip_as_downloaded_with_a_folder_and_junk(tmp_path):
    path = write_zip(tmp_path / "export.zip", {
        "chat.html": "<html>not read</html>",
        "user.json": "{}",
        "file-7Xq2Lm9PzR4tY8wE1uC3vB-runs.png": b"\x89PNG not an image",
        "__MACOSX/._conversations.json": b"\x00\x05\x16\x07junk",
        "conversations.json": CHATGPT.read_bytes(),
    })
    items = list(read_export(path))
    assert titles(items) == ["Lisbon trip ideas", "Chart of my runs", "Regex for dates"]
    assert [p.where for p in problems(items)] == ["export.zip:conversations.json #3 (Broken on purpose)"]


def test_many_file_layout_in_a_folder_and_in_a_zip(tmp_path):
    sample = chatgpt_sample()
    folder = tmp_path / "export"
    write_json(folder / "conversations-000.json", sample[:2])
    write_json(folder / "conversations-001.json", sample[3:])
    write_json(folder / "shared_conversations.json", [{"id": "x", "title": "not a conversations file"}])
    (folder / "chat.html").write_text("<html></html>")
    expected = ["Lisbon trip ideas", "Chart of my runs", "Regex for dates"]
    assert titles(read_export(folder)) == expected
    members = {f"export/{p.name}": p.read_bytes() for p in folder.iterdir()}
    assert titles(read_export(write_zip(tmp_path / "export.zip", members))) == expected
    # the folder that holds the unzipped folder works too
    assert titles(read_export(tmp_path)) == expected


def test_claude_zip(tmp_path):
    path = write_zip(tmp_path / "data-2025-02-12.zip", {
        "users.json": "[]", "projects.json": "[]", "conversations.json": CLAUDE.read_bytes()})
    assert titles(read_export(path)) == ["Rust lifetimes question", "Haiku about autumn", ""]


def test_paths_that_hold_no_export(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        list(read_export(tmp_path / "missing.zip"))
    with pytest.raises(ExportError, match="no conversations.json"):
        list(read_export(tmp_path))
    with pytest.raises(ExportError, match="holds no conversations.json"):
        list(read_export(write_zip(tmp_path / "x.zip", {"notes.txt": "hi"})))
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ExportError, match="not a file or a folder"):
        list(read_export(tmp_path / "pipe"))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + os.urandom(200))
    with pytest.raises(ExportError, match="not a readable zip"):
        list(read_export(broken))


def test_zip_member_names_never_reach_the_disk(tmp_path):
    inside = tmp_path / "work"
    inside.mkdir()
    path = write_zip(inside / "evil.zip", {
        "../../conversations.json": CLAUDE.read_bytes(),
        "/etc/conversations-000.json": CLAUDE.read_bytes(),
    })
    before = sorted(p for p in tmp_path.rglob("*"))
    items = list(read_export(path))
    assert len(titles(items)) == 6  # both read, in place
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "RATIO_FLOOR", 1024 * 1024)
    bomb = b"[" + b" " * (8 * 1024 * 1024) + b"]"
    path = write_zip(tmp_path / "bomb.zip", {"a/conversations.json": bomb, "b/conversations.json": CLAUDE.read_bytes()})
    items = list(read_export(path))
    (refused,) = problems(items)
    assert refused.where == "bomb.zip:a/conversations.json" and "zip bomb" in refused.reason
    assert titles(items)[:2] == ["Rust lifetimes question", "Haiku about autumn"]  # the other member still read


def test_damaged_zip_member_is_reported(tmp_path):
    path = write_zip(tmp_path / "export.zip", {"conversations.json": CLAUDE.read_bytes() * 1})
    data = bytearray(path.read_bytes())
    start = data.index(b"conversations.json") + len("conversations.json") + 40
    data[start:start + 50] = bytes(50)  # corrupt the compressed stream
    path.write_bytes(bytes(data))
    items = list(read_export(path))
    assert problems(items) and all(p.where.startswith("export.zip:conversations.json") for p in problems(items))


# -- the stream -----------------------------------------------------------------------


def read_bytes(data: bytes, chunk: int = 7):
    reader = Utf8Repair(io.BytesIO(data), chunk)
    return list(elements(reader)), reader


def test_lone_surrogate_escapes_and_bad_bytes_cost_one_character(tmp_path):
    good = '[{"a": "pair \\ud83d\\ude00", "b": "lone \\ud800 high", "c": "lone \\udc00 low", "d": "\\\\ud800 is text"}]'
    (value,), reader = read_bytes(good.encode())
    assert value == {"a": "pair 😀", "b": "lone \ufffd high", "c": "lone \ufffd low", "d": "\\ud800 is text"}
    (value,), reader = read_bytes('[{"a": "café ok"}]'.encode("latin-1"))
    assert value == {"a": "caf\ufffd ok"} and reader.replaced == 1


def test_escapes_split_across_any_chunk_boundary():
    rng = random.Random(7)
    alphabet = ["a", "\\", '"', "é", "\U0001F600", "\ud800", "\udc00", "\n"]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(24))
        data = json.dumps([text]).encode()
        expected = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        for chunk in (1, 2, 3, 5, 6, 7, 11, 12, 13):
            assert read_bytes(data, chunk)[0] == [expected]


def test_bom_and_a_single_object_file():
    assert read_bytes(b"\xef\xbb\xbf[1, 2]")[0] == [1, 2]
    assert read_bytes(b'{"mapping": {}}')[0] == [{"mapping": {}}]


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b'"just text"', "not a list of conversations"),
    (b"[1, 2,,]", "not valid JSON near byte"),
    (b'[{"a": NaN}]', "not valid JSON"),
])
def test_files_that_are_not_json_lists(data, message):
    with pytest.raises(StreamError, match=message):
        read_bytes(data)


def test_cut_off_file_keeps_what_came_before(tmp_path):
    data = json.dumps(chatgpt_sample()).encode()
    path = tmp_path / "conversations.json"
    path.write_bytes(data[: len(data) - 200])
    items = list(read_export(path))
    assert titles(items) == ["Lisbon trip ideas", "Chart of my runs"]
    assert "cut off" in items[-1].reason and "after 3 conversations" in items[-1].reason


def test_deep_nesting_is_skipped_without_eating_memory(tmp_path):
    bomb = "[" * 200_000 + "]" * 200_000
    path = tmp_path / "conversations.json"
    path.write_text("[" + bomb + "," + json.dumps(chatgpt_sample()[3]) + "]")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = list(read_export(path))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "nested more than" in items[0].reason and titles(items) == ["Regex for dates"]
    assert grown_mb < 100


def test_oversized_conversation_is_skipped_and_the_next_read(monkeypatch):
    monkeypatch.setattr(jsonstream, "ELEMENT_LIMIT", 4096)
    big = chatgpt_conversation(chain(*["x" * 100] * 200), current="m200", title="Big")
    small = chatgpt_conversation(chain("q", "a"), current="m2", title="Small")
    values, _ = read_bytes(json.dumps([big, small]).encode(), 1024)
    assert isinstance(values[0], Oversized) and "MiB" in values[0].reason
    assert values[1]["title"] == "Small"


def test_a_giant_single_value_stops_the_file(monkeypatch):
    monkeypatch.setattr(jsonstream, "TOKEN_LIMIT", 64 * 1024)
    data = b'[{"title": "ok", "chat_messages": []}, {"title": "' + b"x" * 200_000 + b'"}]'
    reader = Utf8Repair(io.BytesIO(data), 4096)
    got = []
    with pytest.raises(StreamError, match="without a value ending"):
        for value in elements(reader):
            got.append(value)
    assert got == [{"title": "ok", "chat_messages": []}]


def test_a_zip_of_many_small_conversation_files_is_read_in_one_pass(tmp_path):
    one = json.dumps([chatgpt_conversation(chain("q", "a"), current="m2", title="Small")])
    members = {f"conversations-{i:03d}.json": one for i in range(3000)}
    items = list(read_export(write_zip(tmp_path / "many.zip", members)))
    assert len(items) == 3000 and not problems(items)


# -- numbers the parser cannot hold -----------------------------------------------------------

HUGE = "9" * 5000  # over Python's 4,300-digit int limit: crashed ijson's C parser (ijson 3.6)
TEXTS = st.text(alphabet=st.sampled_from(['"', "\\", "a", "1", "e", " ", "é"]), max_size=12)
NUMBERS = st.sampled_from([HUGE, "-" + HUGE, HUGE + ".5", "1." + HUGE, "1e" + "9" * 30, "2.5E-" + "1" * 20])
LEAVES = st.one_of(st.integers(), st.booleans(), st.none(), TEXTS,
                   TEXTS.map(lambda t: t + HUGE + t))  # a long run of digits inside a text is text


@st.composite
def elements_with_numbers(draw):
    out, expected = [], []
    for _ in range(draw(st.integers(1, 4))):
        value = draw(st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3)
                                  | st.dictionaries(TEXTS, inner, max_size=3), max_leaves=6))
        text = json.dumps(value)
        if draw(st.booleans()):
            number = draw(NUMBERS)
            text = f'{{"junk": {number}, "value": {text}}}' if draw(st.booleans()) else f"[{text}, {number}]"
            expected.append(None)
        else:
            expected.append(value)
        out.append(text)
    return "[" + ", ".join(out) + "]", expected


@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elements_with_numbers(), st.sampled_from([7, 100, 4096, 256 * 1024]))
def test_a_number_too_long_to_parse_costs_only_its_element(case, chunk):
    data, expected = case
    values, _ = read_bytes(data.encode(), chunk)
    assert len(values) == len(expected)
    for value, wanted in zip(values, expected):
        if wanted is None:
            assert isinstance(value, Oversized) and "number too long" in value.reason
        else:
            assert value == wanted


def test_an_export_with_a_huge_number_imports_the_others(tmp_path):
    first = chatgpt_conversation(chain("first q", "first a"), current="m2", title="First fine")
    big = chatgpt_conversation(chain("big q", "big a", start=1700000500.0), current="m2", title="Big")
    last = chatgpt_conversation(chain("last q", "last a", start=1700000900.0), current="m2", title="Last")
    text = json.dumps([first, big, last]).replace('"title": "Big"', f'"title": "Big", "update_time": 1700000600, "junk": {HUGE}')
    path = tmp_path / "conversations.json"
    path.write_text(text)
    items = list(read_export(path))
    assert titles(items) == ["First fine", "Last"]
    (problem,) = problems(items)
    assert problem.where.endswith("#2") and "number too long" in problem.reason
