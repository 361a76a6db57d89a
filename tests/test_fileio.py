"""fileio: atomic writes that keep modes and symlinks; TOML edits that keep the user's file."""

from __future__ import annotations

import os
import stat

import pytest

from chinwag import fileio


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_keeps_the_mode_of_an_existing_file(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("old")
    os.chmod(path, 0o640)
    fileio.atomic_write(path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == 0o640


def test_atomic_write_gives_a_new_file_the_umasks_mode(tmp_path):
    old = os.umask(0o027)
    try:
        fileio.atomic_write(tmp_path / "new.txt", b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new.txt") == 0o640


def linked_file(tmp_path, name: str, file_mode: int):
    """(link, real): ``tmp_path/name`` a symlink to ``tmp_path/real/name``, which has ``file_mode``."""
    real = tmp_path / "real" / name
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, file_mode)
    link = tmp_path / name
    link.symlink_to(real)
    return link, real


def test_atomic_write_goes_through_a_symlink_and_keeps_it(tmp_path):
    link, real = linked_file(tmp_path, "file.txt", 0o604)
    assert fileio.atomic_write(link, b"new") == real
    assert link.is_symlink() and real.read_text() == "new" and mode(real) == 0o604
    assert sorted(p.name for p in real.parent.iterdir()) == ["file.txt"]  # no temp file left


def test_atomic_write_can_make_a_file_private(tmp_path):
    path = tmp_path / "secret.toml"
    path.write_text("x")
    os.chmod(path, 0o644)
    fileio.atomic_write(path, b"key", mode=fileio.PRIVATE)
    assert mode(path) == 0o600


USER_FILE = """\
# chinwag settings — hand-written
model = "gpt-4o"        # the one I pay for
temperature = "warm"    # not a number: chinwag warns and uses its default
future_flag = true

[prices."my-model"]
input = 0.5
output = "cheap"        # a bad entry

[plugins.spell]
lang = "en"
"""


def test_update_toml_changes_only_what_edit_touches(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(USER_FILE)

    def edit(document):
        document["model"] = "gpt-4.1"

    fileio.update_toml(path, edit)
    assert path.read_text() == USER_FILE.replace('model = "gpt-4o"', 'model = "gpt-4.1"')


def test_update_toml_never_writes_a_file_that_does_not_parse(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("model = = 1\n")
    with pytest.raises(ValueError, match="line 1.*not overwritten"):
        fileio.update_toml(path, lambda document: document.update(model="x"))
    assert path.read_text() == "model = = 1\n"
