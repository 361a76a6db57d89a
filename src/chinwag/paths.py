"""Where chinwag keeps things, per platformdirs (honours XDG_* on Linux).

Every function reads the environment when called, so tests can point
XDG_DATA_HOME / XDG_CONFIG_HOME / XDG_CACHE_HOME / XDG_STATE_HOME at temp dirs.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "chinwag"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def conversations_dir() -> Path:
    return data_dir() / "conversations"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def personas_file() -> Path:
    return config_dir() / "personas.toml"


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP, appauthor=False))


def bundled_themes_dir() -> Path:
    """Themes shipped with chinwag: inside the wheel, or the repo's top-level themes/."""
    packaged = Path(__file__).parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "themes"
