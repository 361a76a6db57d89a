"""Load chinwag's bundled themes and the user's own from TOML files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from chinwag import paths
from chinwag.sanitize import clean

COLOUR_FIELDS = (
    "primary", "secondary", "accent", "foreground", "background",
    "surface", "panel", "boost", "warning", "error", "success",
)
THEME_FIELDS = {f.name for f in fields(Theme)}
ALPHA = re.compile(r"\d{1,3}%")


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message says why."""


def load_themes(user_dir: Path | None = None) -> tuple[list[Theme], list[str]]:
    """Bundled themes, then the user's (same name wins); broken files become warnings."""
    user_dir = paths.user_themes_dir() if user_dir is None else user_dir
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    for directory in (paths.bundled_themes_dir(), user_dir):
        for path in _theme_files(directory):
            try:
                theme = read_theme(path)
            except ThemeFileError as error:
                warnings.append(f"Theme file {path.name} skipped: {error}")
                continue
            themes[theme.name] = theme
    return list(themes.values()), warnings


def read_theme(path: Path) -> Theme:
    """Read one theme file, raising ThemeFileError with a human reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeFileError(f"cannot be read ({error.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as error:
        raise ThemeFileError(f"not valid TOML ({error})") from None
    except (ValueError, RecursionError):  # Python's int limit; nesting deeper than the stack
        raise ThemeFileError("not TOML we can read (a number too long, or nested too deeply)") from None
    return theme_from_dict(data)


def theme_from_dict(data: dict) -> Theme:
    """Build a Theme from a TOML table, checking names, types and colours."""
    unknown = sorted(set(data) - THEME_FIELDS)
    if unknown:
        raise ThemeFileError(f"unknown field(s): {', '.join(unknown)}")
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ThemeFileError(f"'{key}' is missing")
    if clean(data["name"], one_line=True) != data["name"]:
        raise ThemeFileError("'name' holds control characters or line breaks")  # shown in menus
    for key in COLOUR_FIELDS:
        if key in data:
            _check_colour(key, data[key])
    if not isinstance(data.get("dark", True), bool):
        raise ThemeFileError("'dark' must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError("'variables' must be a table")
    for key, value in variables.items():
        if not isinstance(value, str):
            raise ThemeFileError(f"variable '{key}' must be a string")
        if not key.endswith("-style"):
            _check_variable_colour(key, value)
    try:
        theme = Theme(**data)
        theme.to_color_system().generate()
    except (TypeError, ValueError, ColorParseError) as error:
        raise ThemeFileError(str(error)) from None
    return theme


def _theme_files(directory: Path) -> list[Path]:
    try:
        return sorted(directory.glob("*.toml"))
    except OSError:
        return []


def _check_colour(key: str, value: object) -> None:
    if not isinstance(value, str):
        raise ThemeFileError(f"'{key}' must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"'{key}' is not a colour: {value!r}") from None


def _check_variable_colour(key: str, value: str) -> None:
    """Colour variables may carry an alpha, e.g. "#81a1c1 35%"."""
    colour, _, alpha = value.strip().rpartition(" ")
    if not colour or not ALPHA.fullmatch(alpha):
        colour = value
    _check_colour(f"variables.{key}", colour)
