"""Provider resolution: env keys, config, CLI flags, base URL means custom, missing messages."""

from __future__ import annotations

import pytest

from chinwag.config import Settings
from chinwag.providers import PROVIDERS, resolve

OPENAI_KEY = "sk-openai-0123456789"
TOGETHER_KEY = "tgp_v1_together0123456789"


def test_providers_listed():
    assert list(PROVIDERS) == ["openai", "together", "ollama", "custom"]


@pytest.mark.parametrize(
    ("env", "name", "key", "model"),
    [
        ({"OPENAI_API_KEY": OPENAI_KEY}, "openai", OPENAI_KEY, "gpt-4o-mini"),
        ({"TOGETHER_API_KEY": TOGETHER_KEY}, "together", TOGETHER_KEY,
         "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free"),
        ({"OPENAI_API_KEY": OPENAI_KEY, "TOGETHER_API_KEY": TOGETHER_KEY}, "openai", OPENAI_KEY,
         "gpt-4o-mini"),
    ],
)
def test_no_provider_anywhere_picks_by_env_key(env, name, key, model):
    resolved = resolve(Settings(), env=env)
    assert (resolved.name, resolved.api_key, resolved.model, resolved.missing) == (name, key, model, None)


def test_nothing_set_is_openai_with_missing_message():
    resolved = resolve(Settings(), env={})
    assert resolved.name == "openai" and resolved.api_key is None
    assert "OPENAI_API_KEY" in resolved.missing and "ollama" in resolved.missing


def test_openai_base_url_from_env():
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": "https://proxy.example/v1"}
    assert resolve(Settings(), env=env).base_url == "https://proxy.example/v1"
    assert resolve(Settings(), env={"OPENAI_API_KEY": OPENAI_KEY}).base_url == "https://api.openai.com/v1"


def test_config_provider_beats_env_guess_and_names_its_env_var_when_missing():
    resolved = resolve(Settings(provider="together"), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert resolved.name == "together" and resolved.api_key is None
    assert "TOGETHER_API_KEY" in resolved.missing and "api_key" in resolved.missing


def test_config_api_key_used_when_env_var_absent_env_wins_otherwise():
    settings = Settings(provider="together", api_key="config-key-123")
    assert resolve(settings, env={}).api_key == "config-key-123"
    assert resolve(settings, env={}).missing is None
    assert resolve(settings, env={"TOGETHER_API_KEY": TOGETHER_KEY}).api_key == TOGETHER_KEY


def test_cli_overrides_beat_config():
    settings = Settings(provider="together", model="together-model")
    resolved = resolve(settings, env={"OPENAI_API_KEY": OPENAI_KEY},
                       overrides={"provider": "openai", "model": "gpt-4.1", "base_url": None})
    assert (resolved.name, resolved.model, resolved.api_key) == ("openai", "gpt-4.1", OPENAI_KEY)


def test_config_model_is_not_carried_to_another_provider():
    settings = Settings(provider="openai", model="gpt-4.1")
    assert resolve(settings, env={}).model == "gpt-4.1"
    assert resolve(settings, env={}, overrides={"provider": "ollama"}).model == "llama3.2"
    assert resolve(Settings(model="gpt-4.1"), env={"OPENAI_API_KEY": OPENAI_KEY}).model == "gpt-4.1"


def test_ollama_needs_no_key():
    resolved = resolve(Settings(provider="ollama", api_key="config-key-123"),
                       env={"OPENAI_API_KEY": OPENAI_KEY})
    assert resolved.base_url == "http://localhost:11434/v1"
    assert resolved.api_key is None and resolved.missing is None and resolved.model == "llama3.2"


def test_base_url_flag_without_provider_means_custom():
    resolved = resolve(Settings(provider="together"), env={"OPENAI_API_KEY": OPENAI_KEY},
                       overrides={"base_url": "http://127.0.0.1:8080/v1", "model": "local"})
    assert resolved.name == "custom" and resolved.base_url == "http://127.0.0.1:8080/v1"
    assert resolved.api_key == OPENAI_KEY and resolved.missing is None


def test_base_url_in_config_without_provider_means_custom():
    resolved = resolve(Settings(base_url="http://box:1234/v1", model="m", api_key="k-local"), env={})
    assert (resolved.name, resolved.base_url, resolved.api_key) == ("custom", "http://box:1234/v1", "k-local")
    assert resolved.missing is None


def test_base_url_flag_with_provider_moves_that_provider():
    resolved = resolve(Settings(), env={},
                       overrides={"provider": "ollama", "base_url": "http://gpu:11434/v1"})
    assert (resolved.name, resolved.base_url) == ("ollama", "http://gpu:11434/v1")


def test_custom_key_is_optional_but_base_url_and_model_are_not():
    assert resolve(Settings(provider="custom", base_url="http://h/v1", model="m"), env={}).missing is None
    no_url = resolve(Settings(provider="custom", model="m"), env={})
    assert "base_url" in no_url.missing and "--base-url" in no_url.missing
    no_model = resolve(Settings(provider="custom", base_url="http://h/v1"), env={})
    assert "model" in no_model.missing


def test_config_base_url_moves_the_configured_provider_only():
    settings = Settings(provider="ollama", base_url="http://gpu:11434/v1")
    assert resolve(settings, env={}).base_url == "http://gpu:11434/v1"
    custom = Settings(provider="custom", base_url="http://local:8080/v1", model="m")
    picked = resolve(custom, env={"OPENAI_API_KEY": OPENAI_KEY}, overrides={"provider": "openai"})
    assert (picked.base_url, picked.model) == ("https://api.openai.com/v1", "gpt-4o-mini")
    implied_custom = Settings(base_url="http://local:8080/v1", model="m")
    picked = resolve(implied_custom, env={"OPENAI_API_KEY": OPENAI_KEY}, overrides={"provider": "openai"})
    assert (picked.base_url, picked.model) == ("https://api.openai.com/v1", "gpt-4o-mini")


def test_openai_base_url_env_beats_config():
    settings = Settings(provider="openai", base_url="http://config/v1")
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": "https://proxy.example/v1"}
    assert resolve(settings, env=env).base_url == "https://proxy.example/v1"


def test_repr_and_str_never_show_the_key():
    resolved = resolve(Settings(), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert OPENAI_KEY not in repr(resolved) and OPENAI_KEY not in str(resolved)
    assert OPENAI_KEY not in f"{resolved}" and "<set>" in repr(resolved)


@pytest.mark.parametrize("name", ["openai", "together"])
def test_a_base_url_of_ones_own_needs_no_provider_key(name):
    settings = Settings(provider=name, base_url="http://127.0.0.1:8080/v1", model="m")
    resolved = resolve(settings, env={})
    assert resolved.missing is None and resolved.api_key is None
    assert resolved.base_url == "http://127.0.0.1:8080/v1"
    # The provider's own endpoint still wants its key.
    assert "API key" in resolve(Settings(provider=name, base_url=PROVIDERS[name].base_url + "/"), env={}).missing
