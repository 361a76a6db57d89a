"""The cache folder is derived, never the truth: when it cannot be used, chinwag works without it.

What lives there (the search and usage index, the tokenizer's files, what servers told us about
model parameters) can always be made again. A cache folder that cannot be written (a file where
the folder should be, a read-only home, an odd container) must not stop listing, searching or
chatting: the index is kept in memory for the run (``Index``), the tokenizer is read from a
private temp folder or built from its bundled data (``tokens``), refused parameters are asked
about again. ``problem`` says so once, at start, in one sentence.
"""

from __future__ import annotations

import os
import tempfile

from chinwag import paths


def problem() -> str | None:
    """Why the cache folder cannot be used this run, in words; None when it can (one probe:
    the folder is made if missing and a file is created in it and removed)."""
    folder = paths.cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        reason = "a file is where the folder should be" if isinstance(error, FileExistsError) else (
            error.strerror or str(error))
        return (f"the cache folder {folder} cannot be used ({reason}), so this run works "
                "without it: the search index is kept in memory and rebuilt from your conversations, "
                "which are not affected")
    return None


def warnings() -> list[str]:
    """``problem`` as a list of warnings (empty when the folder is fine)."""
    found = problem()
    return [found] if found else []
