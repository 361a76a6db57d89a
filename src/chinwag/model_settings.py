"""ModelSettings: the per-request knobs (temperature, max tokens, budget, ...) in one typed place.

They come from config.toml (the defaults), a persona (its overrides) and a conversation
document (what that conversation uses). ``FIELDS`` is the one list of their names: config,
personas, the settings and persona dialogs and the document all read it from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from chinwag.values import check_setting

DEFAULTS = {"temperature": 0.7, "max_tokens": 1024, "token_budget": 8000}
LABELS = {"temperature": "Temperature", "max_tokens": "Max tokens", "reasoning_effort": "Reasoning effort",
          "token_budget": "Token budget"}
PLACEHOLDERS = {"reasoning_effort": "none, minimal, low, medium or high; empty: the model's default"}
INPUT_TYPES = {"temperature": "number", "max_tokens": "integer", "token_budget": "integer"}


@dataclass(frozen=True)
class ModelSettings:
    """A field left as None is not set here: a lower layer (or the server's default) applies."""

    temperature: float | None = None
    max_tokens: int | None = None
    # none|minimal|low|medium|high, sent only to models that take it (model_params); None: the model's default
    reasoning_effort: str | None = None
    token_budget: int | None = None
    # Keys a document or file holds that this chinwag does not know: kept and written back.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return FIELDS

    @classmethod
    def defaults(cls) -> "ModelSettings":
        return cls(**DEFAULTS)

    @classmethod
    def of(cls, source: Any) -> "ModelSettings":
        """The settings named in FIELDS taken from an object's attributes (Settings, PersonaSpec)."""
        return cls(**{name: getattr(source, name, None) for name in FIELDS})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelSettings":
        """From a document's ``settings``; raises ValueError naming a field of the wrong type."""
        values: dict[str, Any] = {}
        for name in FIELDS:
            value = data.get(name)
            if value is not None:
                try:
                    values[name] = check_setting(name, value)
                except ValueError as error:
                    raise ValueError(f"settings.{name}: {error}") from None
        extra = {k: v for k, v in data.items() if k not in FIELDS}
        return cls(**values, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update((name, getattr(self, name)) for name in FIELDS if getattr(self, name) is not None)
        return out

    def over(self, base: "ModelSettings") -> "ModelSettings":
        """These settings where set, ``base``'s elsewhere."""
        values = {name: getattr(self, name) if getattr(self, name) is not None else getattr(base, name)
                  for name in FIELDS}
        return ModelSettings(**values, extra={**base.extra, **self.extra})

    def replace(self, **changes: Any) -> "ModelSettings":
        return dataclasses.replace(self, **changes)


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ModelSettings) if f.name != "extra")
