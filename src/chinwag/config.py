"""Settings from ``<config dir>/config.toml``: load, validate, save what changed.

Keys we do not know are kept in ``Settings.extra``. Saving edits the user's file in place
(``fileio.update_toml``): only the keys that changed are written. A file that does not parse
is reported (file and line), defaults are used, and it is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit


from chinwag import paths
from chinwag.fileio import read_toml, update_toml
from chinwag.model_settings import DEFAULTS, ModelSettings
from chinwag.providers import PROVIDERS
from chinwag.values import NUMBERS, check_setting, number

if TYPE_CHECKING:  # tomlkit loads only when a file is written: not on the start-up path
    from tomlkit.toml_document import TOMLDocument


@dataclass
class Settings:
    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # secret: from config only
    temperature: float = DEFAULTS["temperature"]
    max_tokens: int = DEFAULTS["max_tokens"]
    reasoning_effort: str | None = None  # none|minimal|low|medium|high; unset: the model's default
    token_budget: int = DEFAULTS["token_budget"]
    theme: str = "chinwag-dark"
    persona: str = "assistant"
    timeout: float = 60.0
    retries: int = 2
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys, e.g. "chat.new" = "ctrl+t"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_settings(self) -> ModelSettings:
        """The default model settings of every new conversation."""
        return ModelSettings.of(self)


KEYS = tuple(f.name for f in fields(Settings) if f.name not in ("prices", "keys", "extra"))
_OPTIONAL = ("provider", "model", "base_url", "api_key", "reasoning_effort")


def validate(field_name: str, value: Any) -> Any:
    """Return ``value`` typed for ``field_name`` or raise ValueError with a human message.

    Accepts strings as typed into an input box ("0.7"). For provider, model, base_url and
    api_key an empty string means "not set" and gives None.
    """
    if field_name in NUMBERS or field_name == "reasoning_effort":
        return check_setting(field_name, value)
    if field_name not in KEYS:
        raise ValueError(f"unknown setting {field_name!r}")
    if not isinstance(value, str):
        raise ValueError(f"{field_name} must be text, not {value!r}")
    value = value.strip()
    if field_name in _OPTIONAL and not value:
        return None
    if field_name == "provider" and value not in PROVIDERS:
        raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {value!r}")
    if field_name == "base_url" and not value.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, not {value!r}")
    if field_name in ("theme", "persona") and not value:
        raise ValueError(f"{field_name} must not be empty")
    return value


def _price(model: str, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ValueError("must be a table with input, output and context_window")
    out = dict(entry)
    for key in ("input", "output"):
        if key in out:
            out[key] = number(key, out[key], float, 0, None)
    if "context_window" in out:
        out["context_window"] = number("context_window", out["context_window"], int, 1, None)
    return out


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """Settings from ``path`` (default: the config file) and a list of warnings."""
    path = path or paths.config_file()
    try:
        data = read_toml(path)
    except ValueError as exc:
        return Settings(), [f"{exc} — using default settings; the file is left unchanged"]
    return settings_from(data or {}, path)


def settings_from(data: dict[str, Any], path: Path) -> tuple[Settings, list[str]]:
    """Settings from a parsed config file: a bad entry is a warning and its default is used."""
    settings, warnings = Settings(), []
    for key, value in data.items():
        if key == "prices":
            settings.prices = _load_prices(path, value, warnings)
        elif key == "keys":
            settings.keys = _load_keys(path, value, warnings)
        elif key in KEYS:
            try:
                setattr(settings, key, validate(key, value))
            except ValueError as exc:
                warnings.append(f"{path}: {exc} — using the default for {key}")
        else:
            settings.extra[key] = value
    return settings, warnings


def _load_prices(path: Path, value: Any, warnings: list[str]) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        warnings.append(f'{path}: prices must be tables like [prices."model"] — ignored')
        return {}
    prices = {}
    for model, entry in value.items():
        try:
            prices[model] = _price(model, entry)
        except ValueError as exc:
            warnings.append(f'{path}: prices."{model}": {exc} — ignored')
    return prices


def _load_keys(path: Path, value: Any, warnings: list[str]) -> dict[str, str]:
    """``[keys]``: binding id = "key" or "key1,key2"; anything else is reported and skipped."""
    if not isinstance(value, dict):
        warnings.append(f'{path}: keys must be a table like [keys] "chat.new" = "ctrl+t" — ignored')
        return {}
    keys = {}
    for binding_id, keys_text in value.items():
        if isinstance(keys_text, str) and keys_text.strip() and all(k.strip() for k in keys_text.split(",")):
            keys[binding_id] = ",".join(k.strip() for k in keys_text.split(","))
        else:
            warnings.append(f"{path}: keys.{binding_id} must be a key like \"ctrl+t\" — ignored")
    return keys


def save_settings(settings: Settings, path: Path | None = None, *, since: Settings | None = None) -> None:
    """Write the settings that changed into the user's file, leaving everything else as it was.

    Changed means: different from ``since`` (the settings before the user edited them), or,
    without ``since``, different from what the file itself gives. Comments, order, unknown keys,
    ``[prices]`` and even invalid entries stay untouched unless their key is the one that changed.
    The file is made 0600 when it holds a secret (an api_key, or a password in base_url).
    """
    path = path or paths.config_file()

    def edit(document: TOMLDocument) -> None:
        before = since if since is not None else settings_from(document.unwrap(), path)[0]
        for key in KEYS:
            value = getattr(settings, key)
            if value == getattr(before, key):
                continue
            if value is None:
                document.pop(key, None)
            else:
                document[key] = value

    secret = bool(settings.api_key) or has_credentials(settings.base_url)
    update_toml(path, edit, private=secret)


def has_credentials(url: str | None) -> bool:
    """True when a URL carries a user name or password (``https://user:pass@host``)."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return "@" in url
    return parts.username is not None or parts.password is not None
