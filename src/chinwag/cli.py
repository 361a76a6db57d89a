"""Command line entry point (placeholder until the CLI lands)."""

from __future__ import annotations

import sys

from chinwag import __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--version" in argv:
        print(f"chinwag {__version__}")
        return 0
    print("chinwag: not built yet", file=sys.stderr)
    return 1
