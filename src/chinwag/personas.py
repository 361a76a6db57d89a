"""Personas: named system prompts, built in and from ``<config dir>/personas.toml``.

personas.toml holds ``[personas.<name>]`` tables with description, system_prompt and optional
model, temperature, max_tokens, reasoning_effort, token_budget. An entry there adds a persona or replaces a
built-in one of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any


from chinwag import paths
from chinwag.config import validate
from chinwag.conversation import Persona
from chinwag.fileio import read_toml, update_toml
from chinwag.model_settings import FIELDS as SETTING_FIELDS
from chinwag.model_settings import ModelSettings

if TYPE_CHECKING:  # tomlkit loads only when a file is written: not on the start-up path
    from tomlkit.toml_document import TOMLDocument

SOURCE_BUILT_IN = "built-in"
DEFAULT = "assistant"
_OPTIONAL = ("model", *SETTING_FIELDS)


@dataclass
class PersonaSpec:
    name: str
    description: str
    system_prompt: str
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    token_budget: int | None = None
    source: str = SOURCE_BUILT_IN
    reasoning_effort: str | None = None

    @property
    def settings(self) -> ModelSettings:
        """The model settings this persona sets (None where it leaves them alone)."""
        return ModelSettings.of(self)

    def to_persona(self) -> Persona:
        return Persona(self.name, self.system_prompt)


BUILTIN: dict[str, PersonaSpec] = {
    spec.name: spec
    for spec in (
        PersonaSpec("assistant", "A helpful general assistant", "You are a helpful assistant."),
        PersonaSpec(
            "sassy", "Answers, but makes it clear it would rather not",
            "You are a fed up and sassy assistant who hates answering questions.",
        ),
        PersonaSpec(
            "coder", "Concise senior engineer: code first, short explanations",
            "You are a senior software engineer. Answer with working code first, then at most a "
            "few sentences of explanation. Prefer the standard library and idiomatic, tested "
            "solutions. Point out bugs, edge cases and security problems you notice. If the "
            "question is ambiguous, state your assumption and proceed.",
        ),
        PersonaSpec(
            "editor", "Proofreads and tightens prose, shows what changed",
            "You are a careful copy editor. Fix spelling, grammar and punctuation, cut needless "
            "words and make sentences clear, keeping the author's voice and meaning. Reply with "
            "the revised text first, then a short list of the changes you made and why.",
        ),
        PersonaSpec(
            "tutor", "Socratic tutor: explains step by step and checks understanding",
            "You are a patient tutor. Help the learner reach the answer themselves: ask one "
            "guiding question at a time, explain concepts step by step with simple examples, "
            "and check their understanding before moving on. Give the full solution only when "
            "they ask for it.",
        ),
        PersonaSpec(
            "translator", "Translates text, keeping tone and formatting",
            "You are a professional translator. Translate the user's text into English, or, if "
            "it is already English or the user names a target language, into that language. "
            "Keep the tone, formatting and meaning; reply with the translation only, plus a "
            "short note when a phrase has no direct equivalent.",
        ),
    )
}


def _spec(name: str, entry: Any, source: str) -> PersonaSpec:
    """A PersonaSpec from one personas.toml table; raises ValueError saying what is wrong."""
    if not isinstance(entry, dict):
        raise ValueError("must be a table")
    prompt = entry.get("system_prompt")
    if not isinstance(prompt, str):
        raise ValueError("needs system_prompt as text")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise ValueError("description must be text")
    options = {key: validate(key, entry[key]) for key in _OPTIONAL if key in entry}
    return PersonaSpec(name, description, prompt, **options, source=source)


def load_personas(path: Path | None = None) -> tuple[dict[str, PersonaSpec], list[str]]:
    """Built-in personas overlaid with the user's file, and warnings about that file."""
    path = path or paths.personas_file()
    personas = dict(BUILTIN)
    try:
        data = read_toml(path) or {}
    except ValueError as exc:
        return personas, [f"{exc} — only the built-in personas are loaded"]
    table = data.get("personas", {})
    if not isinstance(table, dict):
        return personas, [f"{path}: personas must be tables like [personas.name] — ignored"]
    warnings = []
    for name, entry in table.items():
        try:
            personas[name] = _spec(name, entry, str(path))
        except ValueError as exc:
            warnings.append(f"{path}: persona {name!r} {exc} — skipped")
    return personas, warnings


def save_persona(spec: PersonaSpec, path: Path | None = None) -> None:
    """Add or replace ``spec`` in personas.toml; the rest of the file stays as it was."""
    path = path or paths.personas_file()
    if not spec.name.strip():
        raise ValueError("a persona needs a name")
    options = {key: validate(key, getattr(spec, key)) for key in _OPTIONAL if getattr(spec, key) is not None}

    import tomlkit

    def edit(document: TOMLDocument) -> None:
        if "personas" not in document:
            document["personas"] = tomlkit.table(is_super_table=True)
        table = document["personas"]
        if not isinstance(table, dict):
            raise ValueError(f"{path}: personas is not a table; fix the file first")
        entry = table.get(spec.name)
        if not isinstance(entry, dict):
            entry = table[spec.name] = tomlkit.table()
        entry["description"] = spec.description
        entry["system_prompt"] = spec.system_prompt
        for key in _OPTIONAL:
            if key in options:
                entry[key] = options[key]
            else:
                entry.pop(key, None)

    update_toml(path, edit)
