"""Kill a process mid-save, again and again: every document on disk stays whole."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from chinwag.conversation import Conversation
from chinwag.index import Index, index_path
from chinwag.store import Store

SAVER = """
import sys
from chinwag.conversation import Conversation
from chinwag.store import NotFoundError, Store
store = Store(sys.argv[1])
try:
    conv = store.load(sys.argv[2])
except NotFoundError:
    conv = Conversation(id=sys.argv[2], model="gpt-4")  # cl100k: the quicker encoding to load
conv.add_user("first")
store.save(conv)  # the file exists before any kill: a kill during the very first save leaves none
store.list()  # loads the token counter, so later listings (and index writes) are quick
print("ready", flush=True)
i = len(conv.messages)
while True:
    conv.add_user(f"message {i} " + "x" * (i * 37 % 3000))
    store.save(conv)
    i += 1
    if i % 5 == 0:
        store.list()  # syncs the index too (every save writes it), so kills land there as well
"""

KILLS = 24
TIME_LIMIT = 90.0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_during_saves_never_leaves_half_a_document(tmp_path):
    root = tmp_path / "conversations"
    conv_id = "20260101-100000-c0ffee"
    rng = random.Random(20260101)
    deadline = time.monotonic() + TIME_LIMIT
    counts = [0]
    for kill in range(KILLS):
        if time.monotonic() > deadline:
            break
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(root), conv_id], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()

        for path in root.glob("*.json"):  # glob skips dot files: the temp files
            assert Conversation.from_dict(json.loads(path.read_text("utf-8"))).id == conv_id
        summaries = Store(root).list()
        assert [(s.id, s.error) for s in summaries] == [(conv_id, None)], f"after kill {kill}"
        messages = Store(root).load(conv_id).messages
        assert len(messages) >= counts[-1]  # the old or the new document, never less
        counts.append(len(messages))

    assert kill >= 19, "fewer than 20 kills fitted in the time limit"
    assert counts[-1] > 0
    Index.close_all()
    index_path(root).unlink()
    assert [s.messages for s in Store(root).list()] == [counts[-1]]
    assert index_path(root).is_file()
