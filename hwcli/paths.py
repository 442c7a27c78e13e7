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
        return _checked(Path(override).expanduser(), "HW_HOME")
    from platformdirs import user_cache_dir

    return _checked(Path(user_cache_dir(APP_NAME, appauthor=False)), "the hw cache dir")


def check_home() -> Path:
    """The home folder, or DataError when it (or a folder above it) is a file: every command
    calls this first, so a bad HW_HOME is one clear line, whatever the command reads."""
    return home()


def _checked(folder: Path, label: str) -> Path:
    for above in (folder, *folder.parents):  # the nearest part that exists must be a folder
        if above.exists() or above.is_symlink():
            if not above.is_dir():
                from hwcli.errors import DataError

                what = "it" if above == folder else str(above)
                raise DataError(f"{label} is {folder}, but {what} is a file, not a folder; "
                                "point HW_HOME at a folder")
            break
    return folder


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


def builtin_style_names() -> list[str]:
    """The built-in styles shipped in the package, by name, sorted."""
    return sorted(p.stem for p in styles_dir().glob("*.json"))


def styles_library_dir() -> Path:
    """The user's own named styles (`hw styles add`), one JSON ink file each."""
    return home() / "styles"
