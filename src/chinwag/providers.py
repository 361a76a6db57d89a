"""Which API to talk to: provider, base URL, key and model from CLI flags, env and settings.

Precedence: CLI flags, then the environment, then config.toml, then the provider's defaults.
- No provider anywhere: a base URL (flag or config) means custom; else openai when
  OPENAI_API_KEY is set, else together when TOGETHER_API_KEY is set, else openai (key missing).
- Config ``base_url`` and ``model`` apply when the provider is the configured one (a URL or
  model set for one provider is wrong for another one picked with --provider); otherwise
  the provider's defaults. OPENAI_BASE_URL moves openai, ahead of config.toml.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class Configured(Protocol):
    """What resolve() reads from the settings (config.Settings has it; config imports us)."""

    provider: str | None
    base_url: str | None
    api_key: str | None
    model: str | None


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str | None
    key_env: str | None  # env var holding the key; None: no key needed (or optional)
    default_model: str | None


PROVIDERS: dict[str, Provider] = {
    "openai": Provider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "gpt-4o-mini"),
    "together": Provider(
        "together", "https://api.together.xyz/v1", "TOGETHER_API_KEY",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free",
    ),
    "ollama": Provider("ollama", "http://localhost:11434/v1", None, "llama3.2"),
    "custom": Provider("custom", None, None, None),
}


@dataclass(frozen=True)
class Resolved:
    name: str
    base_url: str | None
    api_key: str | None
    model: str | None
    missing: str | None = None  # what to set before a request can go out

    def __repr__(self) -> str:
        key = "<set>" if self.api_key else None
        return (
            f"Resolved(name={self.name!r}, base_url={self.base_url!r}, api_key={key}, "
            f"model={self.model!r}, missing={self.missing!r})"
        )

    __str__ = __repr__


def _choose(settings: Configured, env: Mapping[str, str], flags: dict) -> str:
    if flags.get("provider"):
        return flags["provider"]
    if flags.get("base_url"):
        return "custom"
    if settings.provider:
        return settings.provider
    if settings.base_url:
        return "custom"
    if env.get("OPENAI_API_KEY"):
        return "openai"
    if env.get("TOGETHER_API_KEY"):
        return "together"
    return "openai"


def resolve(settings: Configured, env: Mapping[str, str] = os.environ,
            overrides: dict | None = None) -> Resolved:
    """Pick provider, base URL, key and model; ``overrides`` are CLI flags (None = not given)."""
    flags = {k: v for k, v in (overrides or {}).items() if v}
    name = _choose(settings, env, flags)
    if name not in PROVIDERS:
        return Resolved(name, None, None, flags.get("model"),
                        f"Unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}")
    provider = PROVIDERS[name]
    configured = name == _choose(settings, env, {})  # the provider config.toml alone picks

    env_url = env.get("OPENAI_BASE_URL") if name == "openai" else None
    base_url = (flags.get("base_url") or env_url or (settings.base_url if configured else None)
                or provider.base_url)
    model = flags.get("model") or (settings.model if configured else None) or provider.default_model
    if name == "custom":
        api_key = settings.api_key or env.get("OPENAI_API_KEY") or None
    elif provider.key_env:
        api_key = env.get(provider.key_env) or settings.api_key or None
    else:
        api_key = None

    # A server of one's own at another URL (a proxy, a local server speaking the same API)
    # decides itself whether it wants a key: the provider's key is not required there.
    own_server = bool(base_url) and base_url.rstrip("/") != (provider.base_url or "").rstrip("/")
    missing = None
    if not base_url:
        missing = "No base URL for the custom provider: set base_url in settings (F4) or pass --base-url"
    elif provider.key_env and not api_key and not own_server:
        if name == "openai":
            missing = (
                "No API key: set OPENAI_API_KEY, or choose a provider that needs none (ollama) "
                "or a custom base URL in settings (F4)"
            )
        else:
            missing = f"No API key for {name}: set {provider.key_env} or api_key in settings (F4)"
    elif not model:
        missing = f"No model for {name}: set model in settings (F4) or pass --model"
    return Resolved(name, base_url, api_key, model, missing)
