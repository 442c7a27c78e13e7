"""`hw export`: a trained model to a shippable file, end to end (export, then write with it), and
every bad input answered with one line; the library call raises the project's errors, never exits.
"""

from __future__ import annotations

import json

import pytest
import torch
from cli_checks import assert_ok, assert_one_line_error
from conftest import SYNTHESIS
from test_sampling import check_svg, hw

from hwcli import paths
from hwcli.errors import DataError, HwError, ModelError, UsageError
from hwcli.models import checkpoint as ckpt
from hwcli.models.export import export


def builtin_styles() -> list[str]:
    return sorted(p.stem for p in paths.styles_dir().glob("*.json"))


def test_export_then_write_with_it(home, tiny, tmp_path):
    style = builtin_styles()[0]
    out = tmp_path / "dist" / "synthesis.pt"  # the folder is made
    result = hw("export", SYNTHESIS, out, "--default-style", style)
    assert_ok(result)
    assert f"wrote {out}" in result.stdout and "line height" in result.stdout

    shipped, source = ckpt.read(out), ckpt.read(tiny.synthesis_path)
    assert shipped["training"] is None and shipped["info"]["dataset"] == ""
    assert shipped["info"]["default_style"] == style
    assert shipped["info"]["line_height"] > 0 and shipped["info"]["pen_step"] > 0
    assert shipped["config"] == source["config"] and shipped["alphabet"] == source["alphabet"]
    for key, value in shipped["state_dict"].items():
        if value.is_floating_point():
            assert value.dtype == torch.float16
            torch.testing.assert_close(value.float(), source["state_dict"][key], atol=1e-2, rtol=1e-2)

    svg = tmp_path / "hello.svg"
    written = hw("write", "hello", "-o", svg, "--model", out, "--seed", 1)
    assert_ok(written)
    check_svg(svg)


def test_json_and_re_export_keeps_the_scale_without_a_dataset(home, tiny, tmp_path):
    first = tmp_path / "a.pt"
    result = hw("export", SYNTHESIS, first, "--json")
    assert_ok(result)
    info = json.loads(result.stdout)
    assert info["path"] == str(first) and info["line_height"] > 0
    again = tmp_path / "b.pt"  # the exported file names no dataset: it keeps what it carries
    assert_ok(hw("export", first, again))
    assert ckpt.read(again)["info"]["line_height"] == pytest.approx(info["line_height"])


def test_an_explicit_dataset_is_measured(home, tiny, tiny_dataset, tmp_path):
    out = tmp_path / "m.pt"
    assert_ok(hw("export", SYNTHESIS, out, "--dataset", tiny_dataset))
    assert ckpt.read(out)["info"]["line_height"] > 0


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["no-such-model", "OUT"], 1, "no model named 'no-such-model'"),
        ([SYNTHESIS, "OUT", "--default-style", "no-such-style"], 2, "no built-in style 'no-such-style'"),
        ([SYNTHESIS, "out.txt"], 2, "must end in .pt"),
        ([SYNTHESIS, "OUT", "--dataset", "missing.npz"], 1, "missing.npz"),
    ],
)
def test_bad_input_is_one_line(args, code, fragment, home, tmp_path):
    args = [str(tmp_path / "out.pt") if a == "OUT" else str(tmp_path / a) if a.endswith((".txt", ".npz")) else a for a in args]
    assert_one_line_error(hw("export", *args), code, fragment)


def test_a_folder_as_the_output_is_refused(home, tmp_path):
    folder = tmp_path / "dir.pt"
    folder.mkdir()
    assert_one_line_error(hw("export", SYNTHESIS, folder), 2, "is a folder")


def test_the_library_raises_project_errors(home, tiny, tmp_path):
    with pytest.raises(UsageError, match="no built-in style"):
        export(SYNTHESIS, tmp_path / "x.pt", default_style="nope")
    with pytest.raises(ModelError):
        export("nope", tmp_path / "x.pt")
    with pytest.raises(DataError, match="no dataset file"):
        export(SYNTHESIS, tmp_path / "x.pt", dataset_path=tmp_path / "gone.npz")
    for error in (UsageError, ModelError, DataError):
        assert issubclass(error, HwError) and not issubclass(error, SystemExit)
    assert not (tmp_path / "x.pt").exists()
