"""`hw models`: the table and --json list of the user's and the shipped models; a corrupt or
incomplete checkpoint is listed as unreadable, never a crash. And the export that makes a
trained model shippable (`python -m hwcli.models.export`).
"""

# The session's tiny models (`tiny`, `home`) are conftest.py fixtures, built from synthetic lines.

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from test_sampling import (  # noqa: F401 - CLI helpers
    PREDICTION,
    SYNTHESIS,
    assert_ok,
    assert_one_line_error,
    check_svg,
    hw,
)

from hwcli.models import checkpoint as ckpt


@pytest.fixture
def own_home(tiny, tmp_path, monkeypatch) -> Path:
    """A copy of the tiny models' HW_HOME that a test may spoil; nothing shipped."""
    copy = tmp_path / "hw_home"
    shutil.copytree(tiny.home / "models", copy / "models")
    monkeypatch.setenv("HW_HOME", str(copy))
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tmp_path / "no-shipped-models")
    return copy


def listed(result) -> dict:
    assert_ok(result)
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_json_lists_the_tiny_models(home):
    rows = listed(hw("models", "--json"))
    assert set(rows) == {SYNTHESIS, PREDICTION}
    for name, kind in ((SYNTHESIS, "synthesis"), (PREDICTION, "prediction")):
        row = rows[name]
        assert row["kind"] == kind and row["size"] == "2x16" and row["shipped"] is False
        assert row["epochs"] == 1 and row["best_validation"] > 0 and row["weights"] > 0
        assert Path(row["path"]).name == "best.pt" and row["bytes"] == Path(row["path"]).stat().st_size


def test_table_lists_the_tiny_models(home, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = hw("models")
    assert_ok(result)
    for fragment in (SYNTHESIS, PREDICTION, "synthesis", "prediction", "2x16", "validation"):
        assert fragment in result.stdout


def test_no_models(tmp_path, monkeypatch):
    monkeypatch.setenv("HW_HOME", str(tmp_path))
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tmp_path / "none")
    result = hw("models")
    assert_ok(result)
    assert "no models" in result.stdout and "hw train" in result.stdout
    assert listed(hw("models", "--json")) == {}


@pytest.mark.parametrize(
    "content",
    [b"not a checkpoint at all", b"", "incomplete"],
    ids=["garbage", "empty", "incomplete"],
)
def test_a_broken_checkpoint_is_unreadable_not_a_crash(own_home, monkeypatch, content):
    broken = own_home / "models" / "broken" / "best.pt"
    broken.parent.mkdir(parents=True)
    if content == "incomplete":  # our format marker, but no config or weights
        torch.save({"format": ckpt.FORMAT, "format_version": ckpt.FORMAT_VERSION, "kind": "synthesis"}, broken)
    else:
        broken.write_bytes(content)
    rows = listed(hw("models", "--json"))
    assert rows["broken"]["kind"] == "unreadable" and "broken" in rows["broken"]["error"]
    assert rows[SYNTHESIS]["kind"] == "synthesis"  # the others are still listed
    monkeypatch.setenv("COLUMNS", "200")
    result = hw("models")
    assert_ok(result)
    assert "unreadable" in result.stdout and SYNTHESIS in result.stdout


def test_writing_with_a_corrupt_model_is_one_error_line(own_home, tmp_path):
    broken = own_home / "models" / "broken" / "best.pt"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\x80\x02garbage")
    assert_one_line_error(hw("write", "hello", "-o", tmp_path / "x.svg", "--model", "broken"), 1, "best.pt")


def test_shipped_models_are_flagged_and_user_models_shadow_them(own_home, tiny, monkeypatch):
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tiny.shipped)
    rows = listed(hw("models", "--json"))
    assert rows["synthesis"]["shipped"] is True and rows["synthesis"]["kind"] == "synthesis"
    monkeypatch.setenv("COLUMNS", "200")
    assert "synthesis (shipped)" in hw("models").stdout
    shutil.copytree(own_home / "models" / SYNTHESIS, own_home / "models" / "synthesis")
    rows = listed(hw("models", "--json"))
    assert rows["synthesis"]["shipped"] is False


# --- export -----------------------------------------------------------------------------------------


def test_export_makes_a_half_precision_checkpoint(tiny):
    stored = torch.load(tiny.exported, weights_only=True)
    source = torch.load(tiny.synthesis_path, weights_only=True)
    assert stored["format"] == ckpt.FORMAT and stored["kind"] == "synthesis"
    assert stored["training"] is None  # no optimiser state to ship
    assert stored["config"] == source["config"] and stored["alphabet"] == source["alphabet"]
    for key, value in stored["state_dict"].items():
        assert value.dtype == torch.float16
        torch.testing.assert_close(value.float(), source["state_dict"][key], rtol=1e-3, atol=1e-3)
    info = stored["info"]
    assert info["dataset"] == "" and info["line_height"] > 0 and info["pen_step"] > 0
    assert tiny.exported.stat().st_size < tiny.synthesis_path.stat().st_size


def test_an_exported_model_loads_in_float32_and_writes(tiny, home, tmp_path):
    model = ckpt.load(tiny.exported)
    assert all(p.dtype == torch.float32 for p in model.network.parameters())
    out = tmp_path / "half.svg"
    assert_ok(hw("write", "Good morning", "-o", out, "--model", tiny.exported, "--seed", 1))
    check_svg(out)


def test_export_command_line(tiny, home, tmp_path):
    out = tmp_path / "exported.pt"  # more of `hw export` in test_export.py
    result = hw("export", SYNTHESIS, out, "--dataset", tiny.dataset)
    assert_ok(result)
    assert "line height" in result.stdout
    assert ckpt.load(out).kind == "synthesis"


STYLES = Path(__file__).resolve().parent / "fixtures" / "styles"


def test_a_default_style_travels_with_the_model_and_primes_hw_write(tiny, home, tmp_path, monkeypatch):
    """Exported with --default-style, `hw write` primes with that style unless --style says otherwise."""
    from hwcli.errors import UsageError
    from hwcli.models.export import export

    monkeypatch.setattr("hwcli.paths.styles_dir", lambda: STYLES)  # the fixture styles stand in for the built-ins
    styled = tmp_path / "styled.pt"
    export(SYNTHESIS, styled, tiny.dataset, default_style="hi")
    assert ckpt.load(styled).info["default_style"] == "hi"

    def strokes(*options) -> list:
        out = tmp_path / "out.json"
        assert_ok(hw("write", "hello", "-o", out, "--seed", 3, *options))
        return json.loads(out.read_text())["strokes"]

    implicit = strokes("--model", styled)
    assert implicit == strokes("--model", styled, "--style", "hi")
    unprimed = strokes("--model", styled, "--style", "none")
    assert unprimed != implicit
    assert unprimed == strokes("--model", tiny.exported)  # the same weights, no default style

    listed = hw("models")
    assert_ok(listed)
    assert "built-in styles (hw write --style NAME): hi" in listed.output
    with pytest.raises(UsageError, match="no built-in style 'nope'"):
        export(SYNTHESIS, tmp_path / "bad.pt", tiny.dataset, default_style="nope")
    assert not (tmp_path / "bad.pt").exists()
