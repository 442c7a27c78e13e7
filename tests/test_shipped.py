"""What a user gets after `pip install`: the shipped models and every built-in style write.

`hw write "Good morning" -o out.svg` with no other option (the shipped synthesis model in its default style),
`--style NAME` for each file of hwcli/assets/styles, `hw sample` with both shipped prediction
models, all with HW_HOME empty so nothing of the user's can stand in.
"""

from __future__ import annotations

import pytest
from cli_checks import assert_ok
from test_sampling import check_svg, hw

from hwcli import paths
from hwcli.models import checkpoint as ckpt

BUILTIN_STYLES = sorted(p.stem for p in paths.styles_dir().glob("*.json"))
SHIPPED = sorted(p.stem for p in paths.shipped_models_dir().glob("*.pt"))


def test_the_package_ships_models_and_styles():
    assert {"synthesis", "prediction", "signatures"} <= set(SHIPPED)
    assert BUILTIN_STYLES, "no built-in styles in hwcli/assets/styles"
    default = ckpt.read(paths.shipped_models_dir() / "synthesis.pt")["info"].get("default_style")
    assert default in BUILTIN_STYLES


def test_good_morning_with_no_options(hw_home, tmp_path):
    out = tmp_path / "out.svg"  # the README's quickstart: nothing but the output file
    assert_ok(hw("write", "Good morning", "-o", out))
    check_svg(out)


@pytest.mark.parametrize("style", BUILTIN_STYLES)
def test_every_builtin_style_writes(style, hw_home, tmp_path):
    out = tmp_path / f"{style}.svg"
    assert_ok(hw("write", "Good morning", "-o", out, "--style", style, "--seed", 1))
    check_svg(out)


@pytest.mark.parametrize("model", ["prediction", "signatures"])
def test_shipped_prediction_models_sample(model, hw_home, tmp_path):
    out = tmp_path / f"{model}.svg"
    assert_ok(hw("sample", "-o", out, "--model", model, "--steps", 100, "--seed", 1))
    check_svg(out)
