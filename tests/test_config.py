"""Settings: load, validate, save — unknown keys kept, broken files left alone, keys private."""

from __future__ import annotations

import os
import stat
import tomllib

import pytest

from chinwag import paths
from chinwag.config import Settings, load_settings, save_settings, validate


def write_config(text: str):
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults():
    settings, warnings = load_settings()
    assert warnings == []
    assert settings == Settings()
    assert (settings.temperature, settings.max_tokens, settings.token_budget) == (0.7, 1024, 8000)
    assert (settings.theme, settings.persona, settings.timeout, settings.retries) == (
        "chinwag-dark", "assistant", 60.0, 2)


def test_round_trip_keeps_unknown_keys_and_prices():
    write_config(
        'provider = "together"\nmodel = "m1"\ntemperature = 1.2\nfuture_flag = true\n'
        '[prices."my-model"]\ninput = 0.5\noutput = 1.5\ncontext_window = 32000\n'
        '[plugins.spell]\nlang = "en"\n'
    )
    settings, warnings = load_settings()
    assert warnings == []
    assert settings.provider == "together" and settings.temperature == 1.2
    assert settings.prices == {"my-model": {"input": 0.5, "output": 1.5, "context_window": 32000}}
    assert settings.extra == {"future_flag": True, "plugins": {"spell": {"lang": "en"}}}

    settings.max_tokens = 2048
    save_settings(settings)
    data = tomllib.loads(paths.config_file().read_text())
    assert data["future_flag"] is True
    assert data["plugins"] == {"spell": {"lang": "en"}}
    assert data["max_tokens"] == 2048
    again, _ = load_settings()
    assert again == settings


def test_toml_error_warns_with_file_and_line_and_file_is_never_overwritten():
    broken = 'model = "gpt-4o"\ntemperature = = 0.3\nsecret_note = "mine"\n'
    path = write_config(broken)
    before = path.read_bytes()

    settings, warnings = load_settings()
    assert settings == Settings()
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "line 2" in warnings[0]

    settings.model = "gpt-4.1"
    with pytest.raises(ValueError, match="not overwritten"):
        save_settings(settings)
    assert path.read_bytes() == before


def test_wrong_type_names_the_key_and_uses_its_default():
    path = write_config('temperature = "hot"\nmax_tokens = 1.5\nretries = 99\nmodel = "kept"\n')
    settings, warnings = load_settings()
    assert settings.temperature == 0.7 and settings.max_tokens == 1024 and settings.retries == 2
    assert settings.model == "kept"
    assert any("temperature" in w and str(path) in w for w in warnings)
    assert any("max_tokens" in w for w in warnings)
    assert any("retries" in w for w in warnings)


def test_bad_price_entry_is_reported_and_others_kept():
    write_config('[prices.good]\ninput = 1\noutput = 2\n[prices.bad]\ninput = "cheap"\n')
    settings, warnings = load_settings()
    assert settings.prices == {"good": {"input": 1.0, "output": 2.0}}
    assert len(warnings) == 1 and "bad" in warnings[0]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("temperature", "0.7", 0.7),
        ("temperature", 2, 2.0),
        ("temperature", " 0 ", 0.0),
        ("max_tokens", "512", 512),
        ("max_tokens", 1_000_000, 1_000_000),
        ("token_budget", "256", 256),
        ("timeout", "0.5", 0.5),
        ("retries", "0", 0),
        ("base_url", "http://localhost:8080/v1", "http://localhost:8080/v1"),
        ("base_url", "", None),
        ("provider", "ollama", "ollama"),
        ("provider", "custom", "custom"),
        ("provider", "", None),
        ("model", " gpt-4o ", "gpt-4o"),
    ],
)
def test_validate_accepts(field, value, expected):
    result = validate(field, value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("temperature", "hot", "temperature must be a number"),
        ("temperature", "2.5", "between 0 and 2"),
        ("temperature", -0.1, "between 0 and 2"),
        ("temperature", "nan", "finite"),
        ("temperature", True, "temperature"),
        ("max_tokens", "1.5", "whole number"),
        ("max_tokens", 0, "between 1 and"),
        ("token_budget", 100, "between 256 and"),
        ("timeout", 0, "greater than 0"),
        ("retries", 11, "between 0 and 10"),
        ("base_url", "localhost:8080", "http:// or https://"),
        ("provider", "groq", "one of openai, together, ollama, custom"),
        ("theme", "", "empty"),
        ("colour", "x", "unknown setting"),
    ],
)
def test_validate_rejects_with_a_human_message(field, value, words):
    with pytest.raises(ValueError, match=words):
        validate(field, value)


def test_file_with_api_key_is_private():
    save_settings(Settings(provider="custom", base_url="http://h/v1", api_key="secret-123"))
    assert stat.S_IMODE(paths.config_file().stat().st_mode) == 0o600


def test_existing_readable_file_becomes_private_when_a_key_is_added():
    path = write_config('model = "m"\n')
    os.chmod(path, 0o644)
    settings, _ = load_settings()
    save_settings(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    settings.api_key = "secret-123"
    save_settings(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings()[0].api_key == "secret-123"


def test_settings_repr_hides_the_key():
    assert "secret-123" not in repr(Settings(api_key="secret-123"))


def test_save_leaves_no_temp_files_and_writes_through_symlink(tmp_path):
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text('theme = "x"\n')
    link = paths.config_file()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(real)
    save_settings(Settings(theme="nord"))
    assert link.is_symlink()
    assert tomllib.loads(real.read_text())["theme"] == "nord"
    assert sorted(p.name for p in real.parent.iterdir()) == ["config.toml"]


# -- saving edits the user's file in place ----------------------------------------------------

from test_fileio import USER_FILE  # noqa: E402


def test_changing_one_setting_changes_only_its_line():
    from dataclasses import replace

    path = write_config(USER_FILE)
    settings, warnings = load_settings()
    assert any("temperature" in w for w in warnings) and any("prices" in w for w in warnings)
    save_settings(replace(settings, theme="chinwag-amber"), since=settings)
    expected = USER_FILE.replace("future_flag = true\n", 'future_flag = true\ntheme = "chinwag-amber"\n')
    assert path.read_text() == expected
    # Without `since` the file itself is the baseline: still only the changed key is written.
    again, _ = load_settings()
    save_settings(replace(again, model="gpt-4.1"))
    assert path.read_text() == expected.replace('model = "gpt-4o"', 'model = "gpt-4.1"')


def test_a_bad_price_entry_never_drops_the_prices_table():
    path = write_config(USER_FILE)
    settings, _ = load_settings()
    assert "my-model" not in settings.prices  # the bad entry is ignored for pricing ...
    settings.max_tokens = 4096
    save_settings(settings)
    data = tomllib.loads(path.read_text())
    assert data["prices"] == {"my-model": {"input": 0.5, "output": "cheap"}}  # ... and kept in the file
    assert data["temperature"] == "warm" and data["plugins"] == {"spell": {"lang": "en"}}
    assert data["max_tokens"] == 4096


def test_unsetting_a_value_removes_its_key_only():
    path = write_config('# mine\nmodel = "m"  # note\nprovider = "ollama"\n')
    settings, _ = load_settings()
    settings.model = None
    save_settings(settings)
    assert path.read_text() == '# mine\nprovider = "ollama"\n'


def test_a_password_in_the_base_url_makes_the_file_private():
    path = write_config('model = "m"\n')
    os.chmod(path, 0o644)
    settings, _ = load_settings()
    settings.base_url = "https://user:hunter22@llm.example/v1"
    save_settings(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
