"""ChatContext without a pilot: which provider, model and URL are in force after F4."""

from __future__ import annotations

from chinwag.chat_context import ChatContext
from chinwag.config import Settings
from chinwag.personas import load_personas
from chinwag.store import Store


def context(settings: Settings, **flags) -> ChatContext:
    personas, _ = load_personas()
    return ChatContext(settings, Store(), personas, overrides=flags)


def test_a_model_chosen_in_settings_is_used_with_the_provider_a_flag_gave(tmp_path):
    # `chinwag --provider custom --base-url URL --model a` with no config; F4 changes the model.
    start = context(Settings(), provider="custom", base_url="http://127.0.0.1:9/v1", model="a")
    assert (start.resolved.name, start.resolved.model) == ("custom", "a")
    after = start.with_settings(Settings(model="b"), changed=["model"])
    assert (after.resolved.name, after.resolved.base_url, after.resolved.model) == (
        "custom", "http://127.0.0.1:9/v1", "b")
    assert after.problem is None


def test_a_model_set_in_settings_counts_when_no_flag_named_one(tmp_path):
    start = context(Settings(), provider="custom", base_url="http://127.0.0.1:9/v1")
    assert start.problem and "No model" in start.problem
    after = start.with_settings(Settings(model="b"), changed=["model"])
    assert after.resolved.model == "b" and after.problem is None


def test_flags_for_settings_left_alone_stay_in_force(tmp_path):
    start = context(Settings(provider="ollama"), provider="custom", base_url="http://127.0.0.1:9/v1", model="a")
    after = start.with_settings(Settings(provider="ollama", temperature=0.3), changed=["temperature"])
    assert (after.resolved.name, after.resolved.model) == ("custom", "a")


def test_models_tables_in_the_config_reach_the_chat_and_their_mistakes_are_reported():
    from chinwag.tui.app import ChinwagApp

    models = {"my-model": {"unsent": ["stream_options"]}, "broken": {"unsent": 3}}
    app = ChinwagApp(Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="my-model",
                              extra={"models": models}))
    assert app.context.model_overrides["my-model"]["unsent"] == ("stream_options",)
    assert any("broken" in warning for warning in app.startup_warnings)
    plain = ChinwagApp(Settings(provider="custom", base_url="http://127.0.0.1:9/v1", model="m"))
    assert plain.context.model_overrides == {}
