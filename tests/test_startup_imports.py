"""What starting the chat loads: only what its first frame needs (the rest loads when first used)."""

from __future__ import annotations

import subprocess
import sys

# Modules a new chat does not need before its first frame, and what needs them.
LATER = {
    "sqlite3": "the index (history, search, usage)",
    "chinwag.index": "the history screen and saving",
    "chinwag.search": "search",
    "chinwag.usage": "the meter's first count",
    "hashlib": "attachments, wave 1's files, the tokenizer's cache",
    "html": "the HTML export",
    "chinwag.web.security": "chinwag serve",
    "chinwag.tui.widgets.compare": "comparing models",
    "textual.widgets._collapsible": "a reply's thinking",
    "chinwag.session": "the chat, right after its first frame",
    "chinwag.client": "the first request (and the warm-up after the first frame)",
    "chinwag.tokens": "the meter's first count",
    "chinwag.pricing": "the meter's first figures",
    "chinwag.recovery": "the check for a draft a failed save kept",
    "json": "the first document read or written",
    "chinwag.model_params": "the first request (or [models] tables in config.toml)",
}


def test_starting_the_chat_loads_nothing_its_first_frame_does_not_need():
    code = (
        "import sys\n"
        "import chinwag.cli, chinwag.tui.app\n"
        "from chinwag.config import Settings\n"
        "app = chinwag.tui.app.ChinwagApp(Settings(provider='custom', base_url='http://127.0.0.1:9/v1', model='m'))\n"
        f"print(' '.join(m for m in {sorted(LATER)!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], {name: LATER[name] for name in loaded}
