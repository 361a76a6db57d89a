"""Which request parameters a model takes: the families table, config overrides, learned quirks.

OpenAI's reasoning models (o1, o3, o4-mini, the gpt-5 family) refuse ``max_tokens`` (they want
``max_completion_tokens``) and any temperature but the default, take ``reasoning_effort``, and
want the system prompt under the ``developer`` role. Other servers differ again. Three layers,
the later winning field by field:

1. ``FAMILIES``: what we know, matched by the longest name prefix (``o3-2025-04-16`` is ``o3``);
2. ``[models."name"]`` tables in config.toml (the user's word);
3. what a server told us: a 400 ``unsupported_parameter``/``unsupported_value`` is retried once
   without the parameter (or with its replacement) and remembered per model in
   ``<cache dir>/model-params.json`` (delete the file to forget); any other parameter refused
   (``stream_options``, ``top_p``, ``seed``...) joins the model's ``unsent`` list.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from chinwag import jsonread, paths
from chinwag.fileio import PRIVATE, atomic_write
from chinwag.values import EFFORTS

TOKEN_PARAMS = ("max_tokens", "max_completion_tokens")
SYSTEM_ROLES = ("system", "developer", "user")
CACHE_NAME = "model-params.json"


@dataclass(frozen=True)
class Family:
    """How to ask one kind of model."""

    token_param: str = "max_tokens"  # or max_completion_tokens
    temperature: bool = True  # False: the model takes only its default, so none is sent
    efforts: tuple[str, ...] = ()  # reasoning_effort values it takes; empty: never sent
    system_role: str = "system"  # developer for OpenAI reasoning models; user where neither works
    vision: bool = False  # images may be sent as image_url parts
    unsent: tuple[str, ...] = ()  # other parameters the server refused for this model: never sent

    def options(self, temperature: float | None, max_tokens: int | None, effort: str | None) -> dict[str, Any]:
        """The request's optional parameters for these settings (unset ones left out)."""
        out: dict[str, Any] = {}
        if temperature is not None and self.temperature:
            out["temperature"] = temperature
        if max_tokens is not None:
            out[self.token_param] = max_tokens
        if effort and effort in self.efforts:
            out["reasoning_effort"] = effort
        return self.without_unsent(out)

    def without_unsent(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` without the parameters this model does not take (``unsent``)."""
        return {name: value for name, value in options.items() if name not in self.unsent}

    def takes_effort(self, effort: str | None) -> bool:
        return bool(effort) and effort in self.efforts


_O_SERIES = Family("max_completion_tokens", False, ("low", "medium", "high"), "developer", True)
_GPT5 = Family("max_completion_tokens", False, ("minimal", "low", "medium", "high"), "developer", True)
_GPT5_NEWER = Family("max_completion_tokens", False, ("none", "low", "medium", "high"), "developer", True)
_NO_SYSTEM = Family("max_completion_tokens", False, (), "user", False)  # o1-mini, o1-preview
_VISION = Family(vision=True)

FAMILIES: dict[str, Family] = {
    "o1": _O_SERIES,
    "o1-pro": _O_SERIES,
    "o1-mini": _NO_SYSTEM,
    "o1-preview": _NO_SYSTEM,
    "o3": _O_SERIES,
    "o3-pro": _O_SERIES,
    "o3-mini": replace(_O_SERIES, vision=False),
    "o4-mini": _O_SERIES,
    "codex-mini": _O_SERIES,
    "gpt-5": _GPT5,
    "gpt-5-chat": Family("max_completion_tokens", True, (), "system", True),
    "gpt-5.1": _GPT5_NEWER,
    "gpt-5.2": _GPT5_NEWER,
    "gpt-5.4": _GPT5_NEWER,
    "gpt-5.5": _GPT5_NEWER,
    "gpt-4o": _VISION,
    "gpt-4.1": _VISION,
    "gpt-4-turbo": _VISION,
    "chatgpt-4o": _VISION,
}

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")  # a request parameter such as stream_options
_BOUNDARY = "-._:@/ "  # what may follow a family name: o3-mini, gpt-5.1, o3@latest
_lock = threading.Lock()


def _normal(model: str) -> str:
    name = model.strip().casefold()
    return name.rsplit("/", 1)[-1] if name.startswith(("openai/", "azure/")) else name


def _family_name(model: str, names) -> str | None:
    wanted = _normal(model)
    best = None
    for name in names:
        key = name.casefold()
        if wanted == key or (wanted.startswith(key) and wanted[len(key)] in _BOUNDARY):
            if best is None or len(key) > len(best):
                best = name
    return best


# -- config overrides -----------------------------------------------------------------


def parse_overrides(raw: Any, where: str = "config.toml") -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``[models."name"]`` tables -> {model: fields of Family}, and warnings for what is wrong.

    Keys: max_tokens_param ("max_tokens" | "max_completion_tokens"), temperature (bool: false
    means never sent), reasoning_effort (a list of levels, or true for all, false for none),
    system_role ("system" | "developer" | "user"), vision (bool), unsent (a list of other
    parameters never to send, e.g. ["stream_options"]).
    """
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f'{where}: models must be tables like [models."name"] — ignored']
    out, warnings = {}, []
    for model, entry in raw.items():
        try:
            out[str(model)] = _override(entry)
        except ValueError as exc:
            warnings.append(f'{where}: models."{model}": {exc} — ignored')
    return out, warnings


def _override(entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ValueError("must be a table")
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "max_tokens_param":
            if value not in TOKEN_PARAMS:
                raise ValueError(f"max_tokens_param must be one of {', '.join(TOKEN_PARAMS)}")
            out["token_param"] = value
        elif key in ("temperature", "vision"):
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
            out[key] = value
        elif key == "reasoning_effort":
            if isinstance(value, bool):
                out["efforts"] = EFFORTS if value else ()
            elif isinstance(value, list) and all(v in EFFORTS for v in value):
                out["efforts"] = tuple(value)
            else:
                raise ValueError(f"reasoning_effort must be true, false or a list of {', '.join(EFFORTS)}")
        elif key == "system_role":
            if value not in SYSTEM_ROLES:
                raise ValueError(f"system_role must be one of {', '.join(SYSTEM_ROLES)}")
            out["system_role"] = value
        elif key == "unsent":
            if not isinstance(value, list) or not all(isinstance(v, str) and _PARAM_NAME.match(v) for v in value):
                raise ValueError("unsent must be a list of parameter names")
            out["unsent"] = tuple(sorted(set(value)))
        else:
            raise ValueError(f"unknown key {key!r}")
    return out


# -- what servers told us --------------------------------------------------------------


def cache_file() -> Path:
    return paths.cache_dir() / CACHE_NAME


def load_learned(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """{model: Family fields} from the cache; a missing or broken file is an empty memory."""
    try:
        data = jsonread.loads((path or cache_file()).read_bytes())
    except (OSError, jsonread.JsonProblem):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        return {}
    learned = {}
    for model, entry in models.items():
        try:
            learned[model] = _override(_to_config_keys(entry))
        except (ValueError, TypeError, AttributeError):
            continue  # a hand-edited entry we cannot read is forgotten, not fatal
    return learned


def _to_config_keys(entry: dict[str, Any]) -> dict[str, Any]:
    names = {"token_param": "max_tokens_param", "efforts": "reasoning_effort"}
    return {names.get(k, k): list(v) if isinstance(v, (list, tuple)) else v for k, v in entry.items()}


def remember(model: str, change: Mapping[str, Any], path: Path | None = None) -> None:
    """Add ``change`` (Family fields) to what we know of ``model``; written atomically."""
    path = path or cache_file()
    with _lock:
        learned = load_learned(path)
        before = learned.get(model, {})
        learned[model] = {**before, **change}
        if "unsent" in change:  # parameters refused add up (two windows may each learn one)
            learned[model]["unsent"] = tuple(sorted({*before.get("unsent", ()), *change["unsent"]}))
        data = {"models": {m: _to_config_keys(entry) for m, entry in sorted(learned.items())}}
        path.parent.mkdir(parents=True, exist_ok=True)
        import json

        atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"),
                     mode=PRIVATE, follow_symlinks=False)


# -- the answer -------------------------------------------------------------------------


def family(model: str, overrides: Mapping[str, Mapping[str, Any]] | None = None,
           learned: Mapping[str, Mapping[str, Any]] | None = None) -> Family:
    """How to ask ``model``: the table, then config overrides, then what servers told us."""
    found = _family_name(model, FAMILIES)
    result = FAMILIES[found] if found else Family()
    known = {f.name for f in fields(Family)}
    name = _family_name(model, overrides) if overrides else None
    layers = [overrides[name]] if name is not None else []
    if learned and model in learned:  # learned for this exact id: a dated sibling may differ
        layers.append(learned[model])
    for layer in layers:
        result = replace(result, **{k: v for k, v in layer.items() if k in known})
    return result


# -- reading a 400 ------------------------------------------------------------------------

_UNSUPPORTED = re.compile(r"unsupported (?:parameter|value):\s*'([^']+)'", re.IGNORECASE)
_ROLE_PARAM = re.compile(r"^messages\[\d+\]\.role$")


def rejected_param(code: str | None, param: str | None, message: str) -> str | None:
    """The parameter a 400 refused, when it says so (code unsupported_parameter/_value)."""
    if code in ("unsupported_parameter", "unsupported_value") and param:
        return param
    match = _UNSUPPORTED.search(message or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class Adjustment:
    """What to change in the request after a server refused ``param``."""

    param: str
    options: dict[str, Any]
    messages: list[dict]
    learned: dict[str, Any]  # Family fields to remember for the model
    note: str  # one line for the user


def adjust(param: str, options: Mapping[str, Any], messages: list[dict],
           current: Family | None = None, code: str | None = None) -> Adjustment | None:
    """The request without ``param`` (or with its replacement); None if we cannot help.

    ``current``: the family the request was built from (a refused reasoning effort level is
    forgotten alone when the code says the value, not the parameter, was refused)."""
    options = dict(options)
    if param in TOKEN_PARAMS and param in options:
        other = TOKEN_PARAMS[1 - TOKEN_PARAMS.index(param)]
        options[other] = options.pop(param)
        return Adjustment(param, options, messages, {"token_param": other},
                          f"The server does not take {param} for this model: sent {other} instead.")
    if param == "temperature" and "temperature" in options:
        value = options.pop("temperature")
        return Adjustment(param, options, messages, {"temperature": False},
                          f"The server takes only the default temperature for this model: "
                          f"sent without temperature {value:g}.")
    if param == "reasoning_effort" and param in options:
        value = options.pop(param)
        efforts = current.efforts if current is not None and code == "unsupported_value" else ()
        return Adjustment(param, options, messages, {"efforts": tuple(e for e in efforts if e != value)},
                          f"The server does not take reasoning effort {value!r} for this model: sent without it.")
    if _ROLE_PARAM.match(param):
        roles = {m.get("role") for m in messages}
        if "developer" in roles:
            old, new = "developer", "system"
        elif "system" in roles:
            old, new = "system", "user"
        else:
            return None
        changed = [{**m, "role": new} if m.get("role") == old else m for m in messages]
        return Adjustment(param, options, changed, {"system_role": new},
                          f"The server does not take the {old} role for this model: sent the system prompt as {new}.")
    if param in options and _PARAM_NAME.match(param):  # any other optional parameter we sent: leave it out
        options.pop(param)
        unsent = current.unsent if current is not None else ()
        return Adjustment(param, options, messages, {"unsent": tuple(sorted({*unsent, param}))},
                          f"The server does not take {param} for this model: sent without it.")
    return None
