"""Where things live. Only this module knows paths.

`HW_HOME` overrides everything (tests, users who want one folder); otherwise
the platform's user cache dir (platformdirs) holds data sets and models.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "hw"


def home() -> Path:
    override = os.environ.get("HW_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def datasets_dir() -> Path:
    return home() / "datasets"


def default_dataset_path() -> Path:
    return datasets_dir() / "iam-ondb.npz"


def models_dir() -> Path:
    return home() / "models"


def assets_dir() -> Path:
    return Path(__file__).parent / "assets"


def shipped_models_dir() -> Path:
    return assets_dir() / "models"


def styles_dir() -> Path:
    return assets_dir() / "styles"
