"""Shared fixtures: where the real data lives, an isolated HW_HOME, the fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real data sets sit beside the repository, never inside it: ../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the calling test, saying why, when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found at {path} (tests read it from ../shared/data beside the repository)")
    return path


@pytest.fixture
def shared_data():
    """`shared_data("iam-ondb-sample")` -> that path, or the test is skipped with the reason."""
    return shared_data_path


@pytest.fixture
def hw_home(tmp_path, monkeypatch) -> Path:
    """HW_HOME in a fresh temporary folder: the cache dir of every command in the test."""
    home = tmp_path / "hw_home"
    home.mkdir()
    monkeypatch.setenv("HW_HOME", str(home))
    return home


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures: small hand-written files in the real formats."""
    return FIXTURES
