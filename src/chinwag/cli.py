"""Command line: launch the TUI, or list, export and show personas without it."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from chinwag import __version__, cachedir, config
from chinwag.dates import DAY_FORMS
from chinwag.export import FORMATS
from chinwag.providers import PROVIDERS
from chinwag.sanitize import clean, safe_json
from chinwag.web import command as serve_command

GROUPINGS = ("day", "week", "month", "model", "persona", "provider")  # as chinwag.usage.GROUPINGS

FORMAT_SUFFIXES = {".md": "md", ".markdown": "md", ".json": "json", ".html": "html",
                   ".htm": "html", ".txt": "txt"}


class CliError(Exception):
    """A failure to report on stderr with exit status 1."""


class UsageError(CliError):
    """A wrong argument, reported with exit status 2 like argparse's own."""


def _base_url(value: str) -> str:
    try:
        return config.validate("base_url", value) or ""
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chinwag",
        description="A keyboard-driven terminal chat client for OpenAI-compatible APIs. "
        "With no command, opens the chat.",
    )
    parser.add_argument("--version", action="version", version=f"chinwag {__version__}")
    parser.add_argument("--provider", choices=list(PROVIDERS), help="API provider to use")
    parser.add_argument("--model", help="model name, e.g. gpt-4o-mini")
    parser.add_argument("--base-url", type=_base_url, metavar="URL",
                        help="OpenAI-compatible endpoint; without --provider means custom")
    parser.add_argument("--persona", metavar="NAME", help="persona for a new chat (see: chinwag personas)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--resume", metavar="ID", help="reopen a conversation (id, prefix or 'latest')")
    start.add_argument("--continue", dest="cont", action="store_true",
                       help="reopen the most recent conversation")
    parser.add_argument("--debug", action="store_true", help="log debug details to chinwag.log")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    listing = commands.add_parser("list", help="list saved conversations, newest first",
                                  description="List saved conversations, newest first.")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.add_argument("--search", metavar="QUERY",
                         help='only matching conversations, best first: words, "a phrase", '
                              "model:NAME persona:NAME after:DATE before:DATE")

    export = commands.add_parser("export", help="export a conversation",
                                 description="Export a conversation to stdout or a file.")
    export.add_argument("ref", metavar="ID", help="conversation id, unique prefix, or 'latest'")
    export.add_argument("--format", "-f", choices=FORMATS,
                        help="output format (default: from -o's suffix, else md)")
    export.add_argument("-o", "--output", metavar="PATH", type=Path,
                        help="write to this file (or into this directory) instead of stdout")
    export.add_argument("--reasoning", action="store_true",
                        help="include the models' reasoning text (left out by default)")

    importing = commands.add_parser(
        "import", help="import conversations from a ChatGPT or Claude export",
        description="Import conversations from a ChatGPT or Claude export: the zip as downloaded, "
        "its folder, or its conversations.json. Every branch is kept; importing again adds only "
        "what is new.")
    importing.add_argument("path", metavar="PATH", type=Path, help="the export (zip, folder or JSON file)")
    importing.add_argument("--dry-run", "-n", action="store_true",
                           help="show what would be imported and write nothing")

    commands.add_parser("personas", help="list personas (built-in and personas.toml)",
                        description="List personas: built-in ones and those in personas.toml.")
    serve_command.add_parser(commands)

    usage = commands.add_parser("usage", help="tokens and cost of every reply, added up",
                                description="Tokens and cost of every reply (every branch), added up. "
                                "~ marks figures chinwag estimated (the server sent no usage); a model "
                                "with no known price shows as unknown.")
    usage.add_argument("--since", metavar="DATE", help=f"only replies from this local day on ({DAY_FORMS})")
    usage.add_argument("--by", choices=GROUPINGS, default="model", help="one row per ... (default: model)")
    usage.add_argument("--json", action="store_true", help="print JSON")

    commands.add_parser("reindex", help="rebuild the search and usage index from the documents",
                        description="Throw the index away and read every conversation again. "
                        "Never needed for correctness: the index follows the files by itself.")
    return parser


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        _say(f"chinwag: warning: {warning}")


def _say(text: str) -> None:
    """A line for stderr: outside text (ids, paths, server words) shown, never obeyed."""
    print(clean(text), file=sys.stderr)


def _clean(text: object) -> str:
    return clean(text, one_line=True)


def _local_time(stamp: str) -> str:
    try:
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is not None:  # an instant (what chinwag writes): time.localtime is ~3x faster
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(when.timestamp()))
        return when.astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError, OverflowError, OSError):
        return stamp or "?"


def _table(rows: list[list[str]]) -> str:
    """Left-aligned columns; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    line = "  ".join([f"{{:<{max(width, 1)}}}" for width in widths] + ["{}"])
    return "\n".join(line.format(*row).rstrip() for row in rows)


def cmd_list(args: argparse.Namespace) -> int:
    from chinwag.store import Store

    store = Store()
    if args.search:
        from chinwag.search import QueryError

        try:
            hits = store.search(args.search)
        except QueryError as exc:
            raise UsageError(f"--search: {exc}") from None
        found = [(hit.summary, hit.snippet) for hit in hits]
    else:
        found = [(summary, None) for summary in store.list()]
    if args.json:
        items = []
        for summary, snippet in found:
            item = summary.to_json()
            if snippet is not None:
                item["snippet"] = snippet
            items.append(item)
        print(safe_json(items))
        return 0
    if not found:
        _say("No matching conversations." if args.search else "No conversations yet.")
        return 0
    rows = [["ID", "UPDATED", "MODEL", "MESSAGES", "TOKENS", "TITLE"]]
    for summary, snippet in found:
        title = f"(unreadable: {summary.error})" if summary.error else summary.title
        if summary.read_only and not summary.error:
            title += " (read-only)"
        rows.append([_clean(cell) for cell in (
            summary.id, _local_time(summary.updated_at), summary.model or "",
            summary.messages, summary.tokens, title,
        )])
        if snippet:
            rows.append(["", "", "", "", "", f"  {_clean(snippet)}"])  # its own … marks a cut
    print(_table(rows))
    return 0


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output is not None:
        return FORMAT_SUFFIXES.get(args.output.suffix.lower(), "md")
    return "md"


def cmd_export(args: argparse.Namespace) -> int:
    from chinwag import export
    from chinwag.store import NotFoundError, Store, UnreadableError

    store = Store()
    try:
        conv = store.load(store.resolve(args.ref))
    except (NotFoundError, UnreadableError) as exc:
        raise CliError(str(exc)) from None
    fmt = _export_format(args)
    if args.output is None or str(args.output) == "-":
        text = export.render(conv, fmt, args.reasoning)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    try:
        if args.output.is_dir():
            path = export.write(conv, fmt, directory=args.output, reasoning=args.reasoning)
        else:
            path = export.write(conv, fmt, args.output, reasoning=args.reasoning)
    except export.ExportError as exc:  # a sentence of its own, not an OS error about a file
        raise CliError(str(exc)) from None
    _say(str(path))
    return 0


def cmd_personas(args: argparse.Namespace) -> int:
    from chinwag.personas import load_personas

    specs, warnings = load_personas()
    _warn(warnings)
    rows = [["NAME", "DESCRIPTION", "SOURCE"]]
    rows += [[_clean(spec.name), _clean(spec.description), _clean(spec.source)] for spec in specs.values()]
    print(_table(rows))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from chinwag.importers import report
    from chinwag.importers.documents import ExportError, import_export
    from chinwag.store import Store

    template = _ImportTemplate(args)
    tally = report.Tally()
    try:
        for outcome in import_export(args.path, Store(), template, dry_run=args.dry_run):
            to_stderr, text = report.line(outcome, args.dry_run)
            print(text, file=sys.stderr if to_stderr else sys.stdout)
            tally.add(outcome)
    except ExportError as exc:
        raise CliError(_clean(str(exc))) from None
    print(tally.summary(args.dry_run))
    return 1 if tally.failed else 0


class _ImportTemplate:
    """The provider, model, persona and settings an imported conversation continues with:
    those a new chat would get (config, then --provider/--model/--persona). Worked out once,
    when the first document is written."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.conversation = None

    def __call__(self):
        if self.conversation is None:
            from chinwag.personas import load_personas
            from chinwag.providers import resolve
            from chinwag.conversation import start_conversation

            args = self.args
            settings, _ = config.load_settings()
            resolved = resolve(settings, overrides={"provider": args.provider, "model": args.model,
                                                    "base_url": args.base_url})
            specs, _ = load_personas()
            spec = specs.get(args.persona or settings.persona) or specs["assistant"]
            self.conversation = start_conversation(settings, resolved, spec)
        return self.conversation


def check_persona(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from chinwag.personas import load_personas

    if args.persona:
        specs, _ = load_personas()
        if args.persona not in specs:
            parser.error(_clean(f"unknown persona {args.persona!r}; choose one of: {', '.join(specs)}"))


def launch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Start the TUI (imported lazily: the other commands never load Textual)."""
    from chinwag import logs

    check_persona(args, parser)
    settings, _ = config.load_settings()  # the TUI shows these warnings itself
    logs.register_secret(settings.api_key)  # run() sets up logging (--debug)
    logs.register_url(settings.base_url)
    logs.register_url(args.base_url)
    from chinwag.tui.app import run

    return run(args)


def cmd_reindex(args: argparse.Namespace) -> int:
    from chinwag.store import Store

    store = Store()
    bar = ProgressBar(sys.stderr)
    start = time.perf_counter()
    summaries = store.rebuild_index(bar.update)
    bar.close()
    unreadable = sum(1 for s in summaries if s.error)
    where = store.index.path or "memory (the cache dir cannot be written)"
    note = f", {unreadable:,} unreadable" if unreadable else ""
    _say(f"Indexed {len(summaries):,} conversations{note} in {time.perf_counter() - start:.1f} s: {where}")
    return 0


class ProgressBar:
    """``[#####-----]  4,000/10,000`` redrawn in place on a terminal; nothing when redirected."""

    WIDTH = 30

    def __init__(self, stream) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.shown = False

    def update(self, done: int, total: int) -> None:
        if not self.live or not total:
            return
        filled = self.WIDTH * done // total
        self.stream.write(f"\r[{'#' * filled}{'-' * (self.WIDTH - filled)}] {done:,}/{total:,}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")


def cmd_usage(args: argparse.Namespace) -> int:
    from chinwag import usage
    from chinwag.dates import local_midnight_utc, parse_day
    from chinwag.store import Store

    since = None
    if args.since:
        try:
            since = parse_day(args.since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
    prices = config.load_settings()[0].prices
    found = Store().usage(local_midnight_utc(since) if since else None)
    groups = usage.grouped(found, args.by, prices)
    total = usage.total(groups.values())
    if args.json:
        print(safe_json({
            "since": since.isoformat() if since else None,
            "by": args.by,
            "groups": [{args.by: key, **figures.to_json()} for key, figures in groups.items()],
            "total": total.to_json(),
        }))
        return 0
    if not groups:
        print("No usage recorded" + (f" since {since:%Y-%m-%d}." if since else " yet."), file=sys.stderr)
        return 0
    rows = usage_rows(args.by, groups, total)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:  # names left, numbers right
        print("  ".join([row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]))
    notes = []
    if total.estimated:
        notes.append("~ includes replies whose server sent no usage: chinwag counted them itself.")
    unpriced = sorted({_clean(row.model) for row in found
                       if usage.cost_of(row.model, row.provider, 0, 0, 0, prices) is None})
    if unpriced:
        notes.append("unknown: no price for " + ", ".join(unpriced)
                     + ' (add [prices."MODEL"] to config.toml).')
    for note in notes:
        print(note)
    return 0


def usage_rows(by: str, groups: dict, total) -> list[list[str]]:
    from chinwag import usage

    def tokens(figures, value: int) -> str:
        return ("~" if figures.estimated else "") + f"{value:,}"

    rows = [[by.upper(), "REQUESTS", "PROMPT", "CACHED", "COMPLETION", "REASONING", "COST"]]
    for key, figures in [*groups.items(), ("TOTAL", total)]:
        rows.append([_clean(key), f"{figures.requests:,}", tokens(figures, figures.prompt),
                     tokens(figures, figures.cached), tokens(figures, figures.completion),
                     tokens(figures, figures.reasoning), usage.format_cost(figures)])
    return rows


COMMANDS = {"list": cmd_list, "export": cmd_export, "import": cmd_import, "personas": cmd_personas,
            "usage": cmd_usage, "reindex": cmd_reindex}


def main(argv: list[str] | None = None) -> int:
    # Never encode strictly on the way out: text that slipped past clean (a lone surrogate,
    # an undecodable file name) prints as a replacement character instead of a traceback.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return launch(args, parser)
    if args.command == "serve":  # the app's own flags apply to every session it serves
        check_persona(args, parser)
        return serve_command.run(args)
    _warn(config.load_settings()[1] + cachedir.warnings())
    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        _say(f"chinwag: {exc}")
        return 2 if isinstance(exc, UsageError) else 1
    except BrokenPipeError:  # e.g. `chinwag list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        _say(f"chinwag: cannot use{where}: {exc.strerror or exc}")
        return 1
