"""Transcripts of a conversation as Markdown, JSON, HTML or plain text.

Markdown, HTML and text hold the current path (the branch shown); JSON is the whole
document, every branch included.

Text exports are sanitized (no escape sequences reach a terminal that ``cat``s them);
HTML escapes every piece of content before rendering its Markdown, runs no scripts, keeps
no ``javascript:`` links and loads nothing from the network (its CSP allows only inline
styles and data: images). The JSON export is the document, every character kept, with what
a terminal could act on written as \\u escapes. Exports hold only the document, which never
holds keys.

Writing: never into a folder of chinwag's own (data, config, cache, state, logs: an export over
a conversation's own file or config.toml would destroy it), however a symlink leads there;
atomically; through a symlink; an existing file keeps its mode.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path

from chinwag import attachments, paths
from chinwag.conversation import (
    ASSISTANT, CUT_OFF, EVENT, FAILED, INTERRUPTED, REASONING, USER, Conversation, Message,
)
from chinwag.fileio import atomic_write
from chinwag.sanitize import clean, safe_json

FORMATS = ("md", "json", "html", "txt")
FILENAME_LENGTH = 60

ROLE_NAMES = {USER: "You", ASSISTANT: "Assistant"}
PARTIAL_NOTES = {
    INTERRUPTED: "reply interrupted",
    CUT_OFF: "reply cut off: the connection ended early",
    FAILED: "reply failed part-way",
}

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def render(conv: Conversation, fmt: str, reasoning: bool = False) -> str:
    """The export; the models' reasoning text only when ``reasoning`` is asked for."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return {"md": _markdown, "json": _json, "html": _html, "txt": _text}[fmt](conv, reasoning)


def safe_filename(title: str, fmt: str) -> str:
    """An ASCII file name from the title: no separators, no leading dot, bounded length."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()[:FILENAME_LENGTH].rstrip("-")
    if not slug or slug in _WINDOWS_RESERVED:
        slug = "conversation"
    return f"{slug}.{fmt}"


class ExportError(OSError):
    """The export cannot go where it was asked to; the message says why."""


def write(conv: Conversation, fmt: str, path: Path | None = None, directory: Path | None = None,
          reasoning: bool = False) -> Path:
    """Write the export; without ``path``, pick a new name in ``directory`` (default: cwd).

    Raises ExportError for a place inside one of chinwag's own folders, OSError when writing fails.
    """
    data = render(conv, fmt, reasoning).encode("utf-8", "replace")  # render cleaned it; never a traceback
    if path is not None:
        path = Path(path)
        _refuse_own_folders(path)
        atomic_write(path, data)  # through a symlink; an existing file keeps its mode
        return path
    folder = Path(directory) if directory is not None else Path.cwd()
    _refuse_own_folders(folder)
    stem, _, ext = safe_filename(conv.title, fmt).rpartition(".")
    for n in range(10_000):
        candidate = folder / (f"{stem}.{ext}" if n == 0 else f"{stem}-{n}.{ext}")
        try:
            with open(candidate, "xb") as f:  # never replaces an existing file
                f.write(data)
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"Too many exports named {stem} in {folder}.")


def _refuse_own_folders(place: Path) -> None:
    """Exports never go into a folder of chinwag's own (``place``: the file, or the folder a
    new file goes in): one could replace a conversation, the config file (and its API key), a
    persona file, the index or the recovery file. Compared with every symlink resolved, so a
    link into them is refused too; the innermost folder is named (logs live in the state dir)."""
    target = Path(os.path.realpath(place))
    found = None
    for name, folder in (("data", paths.data_dir()), ("config", paths.config_dir()), ("cache", paths.cache_dir()),
                         ("state", paths.state_dir()), ("log", paths.log_dir())):
        real = Path(os.path.realpath(folder))
        if (target == real or real in target.parents) and (found is None or found[1] in real.parents):
            found = (name, real)
    if found is not None:
        name, real = found
        where = "" if target == real else "inside "
        raise ExportError(f"{clean(str(place), one_line=True)} is {where}chinwag's {name} folder "
                          f"({clean(str(real), one_line=True)}), where an export could overwrite "
                          "chinwag's own files; choose another place.")


# -- formats ---------------------------------------------------------------------


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, AttributeError):
        return str(iso)


def _title(conv: Conversation) -> str:
    return " ".join(conv.title.split()) or "Untitled conversation"


def _meta(conv: Conversation) -> str:
    parts = [f"Model: {conv.model or 'unknown'}", f"Persona: {conv.persona.name}", f"Started: {_when(conv.created_at)}"]
    return " · ".join(parts)


def _role(message: Message) -> str:
    return ROLE_NAMES.get(message.role, message.role.capitalize())


def _thinking(message: Message, reasoning: bool) -> str:
    """The message's reasoning text, when asked for and present."""
    text = message.extra.get(REASONING) if reasoning else None
    return text.strip() if isinstance(text, str) else ""


def _attached(message: Message) -> str:
    names = [f"{a.label} ({a.size:,} bytes)" for a in attachments.of(message)]
    return f"Attached: {', '.join(names)}" if names else ""


def _markdown(conv: Conversation, reasoning: bool = False) -> str:
    out = [f"# {_title(conv)}", "", f"_{_meta(conv)}_", ""]
    for message in conv.path:
        if message.role == EVENT:
            out += ["---", "", f"_{' '.join(message.content.split())}_", "", "---", ""]
            continue
        out += [f"## {_role(message)}", ""]
        if thinking := _thinking(message, reasoning):
            out += ["**Thinking**", "", *[f"> {line}".rstrip() for line in thinking.splitlines()], ""]
        if attached := _attached(message):
            out += [f"_{attached}_", ""]
        out += [message.content.rstrip(), ""]
        if message.is_partial:
            out += [f"_({PARTIAL_NOTES[message.finish_reason]})_", ""]
    return clean("\n".join(out))


def _text(conv: Conversation, reasoning: bool = False) -> str:
    title = _title(conv)
    out = [title, "=" * min(len(title), 72), _meta(conv), ""]
    for message in conv.path:
        if message.role == EVENT:
            out += [f"--- {' '.join(message.content.split())} ---", ""]
            continue
        out.append(f"[{_role(message)}] {_when(message.created_at)}")
        if thinking := _thinking(message, reasoning):
            out += ["(thinking)", *[f"  {line}".rstrip() for line in thinking.splitlines()], "(reply)"]
        if attached := _attached(message):
            out.append(f"({attached})")
        out.append(message.content.rstrip())
        if message.is_partial:
            out.append(f"({PARTIAL_NOTES[message.finish_reason]})")
        out.append("")
    return clean("\n".join(out))


def _json(conv: Conversation, reasoning: bool = False) -> str:
    document = conv.to_dict()
    if not reasoning:
        document["messages"] = [{k: v for k, v in m.items() if k != REASONING} for m in document["messages"]]
    return safe_json(document) + "\n"


@functools.cache
def _html_renderer():
    """The Markdown renderer of HTML exports (imported when first needed: ``chinwag list`` and
    the TUI's start need no markdown-it)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


_CSS = """
body { margin: 0; background: #f6f6f4; color: #1d1d1f; font: 16px/1.55 system-ui, sans-serif; }
main { max-width: 48rem; margin: 0 auto; padding: 2rem 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.meta, .event { color: #6b6b6b; font-size: .9rem; }
.message { background: #fff; border-radius: 8px; padding: .25rem 1rem; margin: 1rem 0;
  border-left: 4px solid #8a8a8a; overflow-wrap: anywhere; }
.message.user { border-left-color: #2f6fde; }
.message.assistant { border-left-color: #2a9d5b; }
.message h2 { font-size: .95rem; margin: .5rem 0 0; color: #444; }
.partial { color: #b35c00; font-style: italic; }
.thinking { color: #6b6b6b; border-left: 2px solid #ccc; padding-left: .75rem; margin: .5rem 0; }
.attached { color: #6b6b6b; font-size: .9rem; }
pre { background: #f0f0f0; padding: .6rem; overflow-x: auto; border-radius: 4px; }
code { font-family: ui-monospace, monospace; font-size: .9em; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: .2rem .5rem; }
hr.event { border: none; border-top: 1px dashed #bbb; margin: 1.5rem 0 .25rem; }
p.event { text-align: center; margin: 0 0 1.5rem; }
"""


def _html(conv: Conversation, reasoning: bool = False) -> str:
    import html  # here: the CLI imports this module at every start, for the list of formats

    e = html.escape
    title = e(clean(_title(conv)))
    body = [f"<header><h1>{title}</h1><p class=\"meta\">{e(clean(_meta(conv)))}</p></header>"]
    for message in conv.path:
        if message.role == EVENT:
            note = e(clean(" ".join(message.content.split())))
            body.append(f'<hr class="event"><p class="event"><em>{note}</em></p>')
            continue
        role = e(message.role)
        part = [f'<section class="message {role}"><h2>{e(_role(message))}</h2>']
        if thinking := _thinking(message, reasoning):
            rendered = _html_renderer().render(clean(thinking))
            part.append(f'<details class="thinking"><summary>Thinking</summary>{rendered}</details>')
        if attached := _attached(message):
            part.append(f'<p class="attached">{e(clean(attached))}</p>')
        part.append(_html_renderer().render(clean(message.content)))
        if message.is_partial:
            part.append(f'<p class="partial">({e(PARTIAL_NOTES[message.finish_reason])})</p>')
        part.append("</section>")
        body.append("\n".join(part))
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
