"""Personas: built-ins, the user's personas.toml (add, override, broken entries), save."""

from __future__ import annotations

import tomllib

import pytest

from chinwag import paths
from chinwag.conversation import Persona
from chinwag.personas import BUILTIN, PersonaSpec, load_personas, save_persona


def write_personas(text: str):
    path = paths.personas_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_builtins_without_a_file():
    specs, warnings = load_personas()
    assert warnings == []
    assert {"assistant", "sassy", "coder", "editor", "tutor", "translator"} <= set(specs)
    assert next(iter(specs)) == "assistant"
    assert specs["sassy"].system_prompt == (
        "You are a fed up and sassy assistant who hates answering questions.")
    for spec in specs.values():
        assert spec.source == "built-in"
        assert spec.description and "\n" not in spec.description and spec.system_prompt


def test_to_persona():
    assert BUILTIN["assistant"].to_persona() == Persona("assistant", "You are a helpful assistant.")


def test_file_adds_and_overrides():
    path = write_personas(
        '[personas.pirate]\ndescription = "Talks like a pirate"\nsystem_prompt = "Arr."\n'
        'model = "gpt-4o"\ntemperature = 1.1\nmax_tokens = 300\ntoken_budget = 4000\n'
        '[personas.sassy]\ndescription = "Even sassier"\nsystem_prompt = "Ugh. Fine."\n'
    )
    specs, warnings = load_personas()
    assert warnings == []
    assert specs["pirate"] == PersonaSpec("pirate", "Talks like a pirate", "Arr.", "gpt-4o", 1.1, 300,
                                          4000, source=str(path))
    assert specs["sassy"].system_prompt == "Ugh. Fine." and specs["sassy"].source == str(path)
    assert specs["coder"].source == "built-in"


def test_broken_entry_is_named_and_the_rest_load():
    write_personas(
        '[personas.nope]\ndescription = "no prompt"\n'
        '[personas.hot]\nsystem_prompt = "x"\ntemperature = "very"\n'
        '[personas.fine]\nsystem_prompt = "ok"\n'
    )
    specs, warnings = load_personas()
    assert "fine" in specs and "nope" not in specs and "hot" not in specs
    assert len(warnings) == 2
    assert any("'nope'" in w and "system_prompt" in w for w in warnings)
    assert any("'hot'" in w and "temperature" in w for w in warnings)


def test_broken_file_is_reported_with_line_and_builtins_load():
    path = write_personas('[personas.a]\nsystem_prompt = "x"\n\n[personas.b\n')
    specs, warnings = load_personas()
    assert "assistant" in specs and "a" not in specs
    assert len(warnings) == 1 and str(path) in warnings[0] and "line 4" in warnings[0]


def test_save_adds_replaces_and_keeps_other_entries_and_unknown_keys():
    path = write_personas(
        'note = "top level kept"\n'
        '[personas.pirate]\nsystem_prompt = "Arr."\ncolour = "red"\ntemperature = 1.5\n'
        '[personas.other]\nsystem_prompt = "Other."\n'
    )
    save_persona(PersonaSpec("pirate", "Pirate talk", "Arr, matey."))
    save_persona(PersonaSpec("chef", "Cooks", "You are a chef.", temperature="0.4"))
    data = tomllib.loads(path.read_text())
    assert data["note"] == "top level kept"
    assert data["personas"]["pirate"] == {"system_prompt": "Arr, matey.", "colour": "red",
                                          "description": "Pirate talk"}
    assert data["personas"]["other"] == {"system_prompt": "Other."}
    specs, warnings = load_personas()
    assert warnings == []
    assert specs["chef"].temperature == 0.4 and specs["pirate"].system_prompt == "Arr, matey."


def test_save_creates_the_file():
    save_persona(PersonaSpec("reviewer", "Reviews code", "Review this."))
    assert load_personas()[0]["reviewer"].source == str(paths.personas_file())


def test_save_refuses_a_broken_file_and_bad_values():
    path = write_personas('[personas.a\nsystem_prompt = "x"\n')
    before = path.read_bytes()
    with pytest.raises(ValueError, match="not overwritten"):
        save_persona(PersonaSpec("b", "", "y"))
    assert path.read_bytes() == before
    path.unlink()
    with pytest.raises(ValueError, match="temperature"):
        save_persona(PersonaSpec("b", "", "y", temperature=5))
    with pytest.raises(ValueError, match="name"):
        save_persona(PersonaSpec(" ", "", "y"))
