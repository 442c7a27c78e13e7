"""`hw inspect` and hwcli.generate.inspection: the window's alignment as a heat map, the density of the
next pen position, and the plain summary (steps per character, the stopping rule).
"""

# The session's tiny models (`tiny`, `home`) are conftest.py fixtures, built from synthetic lines.

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from test_sampling import (  # noqa: F401 - CLI helpers
    PREDICTION,
    SVG_NS,
    SYNTHESIS,
    assert_ok,
    assert_one_line_error,
    hw,
    steer_window,
)

from hwcli.config import DEFAULT_CANDIDATES
from hwcli.generate.inspection import focus_report, inspect_text
from hwcli.generate import sampler
from hwcli.models import mdn


def inspect(out, text="hello", *args, model=SYNTHESIS):
    return hw("inspect", text, "-o", out, "--model", model, *args)


def test_inspect_writes_the_heat_map_and_a_summary(home, tmp_path):
    from lxml import etree

    out = tmp_path / "attention.svg"
    result = inspect(out, "hello there", "--seed", 1)
    assert_ok(result)
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{SVG_NS}svg" and len(root.get("viewBox").split()) == 4
    heat = [r for r in root.iter(f"{SVG_NS}rect") if r.get("fill") not in ("white", "none")]
    assert len(heat) > 10  # phi cells and density cells
    labels = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "h" in labels and "\u2423" in labels  # characters down the side, the space shown as ␣
    assert root.findall(f".//{SVG_NS}path")  # the handwriting under the map
    summary = result.stderr
    match = re.search(r"(\d+) steps for 11 characters: ([\d.]+) steps per character", summary)
    assert match and float(match.group(2)) == pytest.approx(int(match.group(1)) / 11, abs=0.05)
    assert "stopping rule: " in summary


def test_inspect_reports_the_rule_or_the_cap(home, tiny, tmp_path, monkeypatch):
    from hwcli.models import store

    load = store.load
    for speed, said in ((0.5, "fired"), (1e-3, "cut at the step cap")):
        monkeypatch.setattr(store, "load", lambda name, kind, _speed=speed: steer_window(load(name, kind), _speed))
        result = inspect(tmp_path / "a.svg", "hello")
        assert_ok(result)
        assert f"stopping rule: {'fired' if said == 'fired' else 'did not fire'}" in result.stderr
        assert said in result.stderr.replace("\n", " ")


def test_inspect_text_matches_its_parts(tiny):
    model = tiny.load()
    result = inspect_text(model, "  hello   there ", seed=3)
    assert result.text == "hello there"
    T = len(result.phi)
    assert result.phi.shape == (T, len(result.text))
    assert result.steps_per_char == pytest.approx(T / len(result.text))
    assert sum(len(s) for s in result.strokes) == T
    grid, extent = result.density
    assert grid.ndim == 2 and np.isfinite(grid).all() and grid.max() > 0
    assert extent[0] < extent[1] and extent[2] < extent[3]


def test_the_density_uses_the_predictions_the_ink_was_drawn_from(tiny, monkeypatch):
    """Step t's density is the mixture the sampler drew point t + 1 from: the same network outputs,
    computed again over the whole line (the sampler starts from a zero input)."""
    sampled, plotted = [], []
    original_sample, original_density = sampler.sample_mixture, mdn.density

    def sample(y_hat, *args, **kwargs):
        sampled.append(torch.from_numpy(y_hat[0].copy()))
        return original_sample(y_hat, *args, **kwargs)

    def density(y_hat, *args, **kwargs):
        plotted.append(y_hat.clone())
        return original_density(y_hat, *args, **kwargs)

    monkeypatch.setattr(sampler, "sample_mixture", sample)
    monkeypatch.setattr(mdn, "density", density)
    result = inspect_text(tiny.load(), "hello", bias=0.0, seed=5, candidates=1)  # the batch's one line
    T = len(result.phi)
    assert len(sampled) >= T and len(plotted) == T - 1  # every step near the ink
    for t, y_hat in enumerate(plotted):
        torch.testing.assert_close(y_hat, sampled[t + 1], rtol=1e-4, atol=1e-4)


def test_focus_report_finds_skipped_and_lagged_characters():
    text = "abcde"
    focus = [0] * 2 + [1] * 2 + [3] * 20 + [4] * 2  # c never in focus, d held ten times the median
    phi = np.eye(len(text))[focus]
    skipped, lagged = focus_report(phi, text)
    assert skipped == [(2, "c")]
    assert lagged == [(3, "d", 20)]


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["", "-o", "x.svg"], 2, "empty"),
        (["hello", "-o", "x.png"], 2, "x.png"),
        (["hello \u20ac", "-o", "x.svg"], 2, "'\u20ac'"),
        (["hello", "-o", "x.svg", "--bias", "-1"], 2, "--bias"),
    ],
)
def test_inspect_bad_input(home, tmp_path, monkeypatch, args, code, fragment):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(hw("inspect", *args, "--model", SYNTHESIS), code, fragment)
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("model, fragment", [("no-such-model", "'no-such-model'"), (PREDICTION, "prediction network")])
def test_inspect_bad_model(home, tmp_path, model, fragment):
    assert_one_line_error(inspect(tmp_path / "x.svg", model=model), 1, fragment)


def test_inspect_writes_in_the_style_hw_write_uses(tiny):
    """Same prime, same seed, same choice among samples: the inspected ink is the ink write_lines
    gives, and the window shown covers the new text only, not the prime's."""
    from pathlib import Path

    from hwcli.data.ink import offsets_to_strokes
    from hwcli.generate.priming import load_prime

    style = str(Path(__file__).parent / "fixtures" / "styles" / "hi.json")
    model = tiny.load()
    result = inspect_text(model, "hello", bias=0.5, seed=3, style=style)
    # A style of the user's ink: hw write steers its pen lifts (write_page's match_lifts).
    expected = sampler.write_lines(model, ["hello"], bias=0.5, seed=3, prime=load_prime(style, model),
                                   candidates=DEFAULT_CANDIDATES, match_lifts=True).lines[0]
    for a, b in zip(result.strokes, offsets_to_strokes(expected), strict=True):
        np.testing.assert_array_equal(a, b)
    assert result.phi.shape[1] == len("hello")
    unprimed = inspect_text(model, "hello", bias=0.5, seed=3, style="none")
    assert len(unprimed.phi) != len(result.phi) or not np.array_equal(unprimed.phi, result.phi)


def test_inspect_says_what_it_substituted(home, tmp_path):
    result = inspect(tmp_path / "a.svg", "caf\u00e9")
    assert result.exit_code == 0, result.output
    assert "note: wrote '\u00e9' as 'e'" in result.stderr
