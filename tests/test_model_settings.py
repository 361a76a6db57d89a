"""ModelSettings: one typed place for temperature, max tokens and budget, layered and validated."""

from __future__ import annotations

import pytest

from chinwag.config import Settings
from chinwag.conversation import Conversation
from chinwag.model_settings import FIELDS, ModelSettings
from chinwag.personas import PersonaSpec
from chinwag.providers import resolve
from chinwag.conversation import start_conversation


def test_a_persona_overrides_only_what_it_sets():
    base = ModelSettings(temperature=0.7, max_tokens=1024, token_budget=8000)
    persona = ModelSettings(temperature=0.1)
    assert persona.over(base) == ModelSettings(temperature=0.1, max_tokens=1024, token_budget=8000)


def test_a_new_conversation_takes_config_then_persona():
    settings = Settings(provider="ollama", temperature=0.3, max_tokens=500, token_budget=3000)
    spec = PersonaSpec("terse", "", "Be terse.", token_budget=1000)
    conversation = start_conversation(settings, resolve(settings, env={}), spec)
    assert conversation.settings == ModelSettings(temperature=0.3, max_tokens=500, token_budget=1000)


def test_document_round_trip_keeps_unknown_keys():
    data = {"temperature": 0.5, "top_p": 0.9}
    settings = ModelSettings.from_dict(data)
    assert settings.temperature == 0.5 and settings.max_tokens is None
    assert settings.to_dict() == data


@pytest.mark.parametrize(("name", "value"), [("temperature", "hot"), ("max_tokens", 1.5), ("token_budget", -3),
                                              ("temperature", [1])])
def test_wrong_types_in_a_document_name_the_field(name, value):
    with pytest.raises(ValueError, match=f"settings.{name}"):
        ModelSettings.from_dict({name: value})


def test_conversation_document_writes_settings_it_holds():
    conversation = Conversation(settings=ModelSettings(token_budget=4000))
    assert conversation.to_dict()["settings"] == {"token_budget": 4000}
    assert Conversation.from_dict(conversation.to_dict()).settings == ModelSettings(token_budget=4000)


def test_every_field_is_a_config_key_and_a_persona_field():
    from chinwag.config import KEYS

    assert set(FIELDS) <= set(KEYS)
    assert all(hasattr(PersonaSpec("x", "", ""), name) for name in FIELDS)
