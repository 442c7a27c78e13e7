"""`hw write` through Typer's CliRunner with the session's tiny models: SVG parsed back, stroke
files read back, line breaks and wrapping, the character policy, seeds, page options, and bad
input answered with one 'error:' line (exit 1, or 2 for usage errors) and no traceback.
"""

# The session's tiny models (`tiny`, `home`) are conftest.py fixtures, built from synthetic lines.

from __future__ import annotations

import numpy as np
import pytest
from test_sampling import (  # noqa: F401 - CLI helpers
    PREDICTION,
    SVG_NS,
    SYNTHESIS,
    assert_ok,
    assert_one_line_error,
    check_svg,
    hw,
    path_points,
)

from hwcli.data.inkfile import read_ink
from hwcli.generate.page import write_page


def write(out, text="Good morning", *args, model=SYNTHESIS, input=None):
    return hw("write", text, "-o", out, "--model", model, *args, input=input)


def test_write_svg_parses_back(home, tmp_path):
    out = tmp_path / "out.svg"
    result = write(out, "Good morning", "--seed", 1)
    assert_ok(result)
    assert f"wrote {out}" in result.stderr.replace("\n", "")
    assert result.stdout == ""
    root, paths = check_svg(out)
    assert all(p.get("stroke") == "black" and p.get("stroke-linecap") == "round" for p in paths)
    assert not root.get("width").endswith("mm")


def test_several_outputs_at_once_hold_the_same_ink(home, tmp_path):
    svg, js, inkml = tmp_path / "a.svg", tmp_path / "a.json", tmp_path / "a.inkml"
    assert_ok(write(svg, "Good morning", "--seed", 2, "-o", js, "-o", inkml))
    _, paths = check_svg(svg)
    from_json, text_json = read_ink(js)
    from_inkml, text_inkml = read_ink(inkml)
    assert text_json == text_inkml == "Good morning"
    assert len(from_json) == len(from_inkml) == len(paths)  # one path per stroke
    for a, b in zip(from_json, from_inkml):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_strokes_match_the_library(home, tiny, tmp_path):
    """The CLI is a thin layer: its JSON holds exactly what write_page returns for the same seed."""
    out = tmp_path / "page.json"
    assert_ok(write(out, "Good morning", "--seed", 5, "--bias", "1.5"))
    page = write_page("Good morning", model=tiny.load(), seed=5, bias=1.5)
    strokes, text = read_ink(out)
    assert text == "\n".join(page.lines)
    assert len(strokes) == len(page.strokes)
    for a, b in zip(strokes, page.strokes):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_seeds_reproduce_and_differ(home, tmp_path):
    a, b, c = tmp_path / "a.svg", tmp_path / "b.svg", tmp_path / "c.svg"
    for out, seed in ((a, 3), (b, 3), (c, 4)):
        assert_ok(write(out, "hello", "--seed", seed))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_bias_changes_the_ink(home, tmp_path):
    low, high = tmp_path / "low.json", tmp_path / "high.json"
    assert_ok(write(low, "hello", "--seed", 3, "--bias", "0"))
    assert_ok(write(high, "hello", "--seed", 3, "--bias", "3"))
    assert read_ink(low)[0][0].tolist() != read_ink(high)[0][0].tolist()


# --- lines ------------------------------------------------------------------------------------------


def line_medians(page) -> list[float]:
    """Median y of each written line's ink on the page (y up)."""
    from hwcli.data.ink import offsets_to_strokes

    counts = [len(offsets_to_strokes(o)) for o in page.line_offsets]
    strokes, medians = iter(page.strokes), []
    for count in counts:
        points = [next(strokes) for _ in range(count)]
        if points:
            medians.append(float(np.median(np.concatenate(points)[:, 1])))
    return medians


def test_lines_are_stacked_top_to_bottom(tiny):
    page = write_page("Good\nmorning\n\nto you", model=tiny.load(), seed=1)
    assert page.lines == ["Good", "morning", "", "to you"]
    assert len(page.line_offsets[2]) == 0  # a blank line stays blank
    medians = line_medians(page)
    assert len(medians) == 3 and medians[0] > medians[1] > medians[2], medians


@pytest.mark.parametrize("text", ["Good\\nmorning", "Good\nmorning", "Good\r\nmorning\n"])
def test_line_breaks_literal_and_real(home, tmp_path, text):
    out = tmp_path / "lines.json"
    assert_ok(write(out, text, "--seed", 1))
    _, written = read_ink(out)
    assert written == "Good\nmorning"
    svg = tmp_path / "lines.svg"
    assert_ok(write(svg, text, "--seed", 1))
    _, paths = check_svg(svg)
    first, last = (float(np.median(pts[:, 1])) for pts in map(_points, (paths[0], paths[-1])))
    assert first < last  # SVG y grows down: the first line's ink sits above the second's


def _points(path):
    return path_points(path.get("d"))


def test_width_wraps(home, tmp_path):
    out = tmp_path / "wrapped.json"
    assert_ok(write(out, "Good morning to you", "--width", 8, "--seed", 1))
    assert read_ink(out)[1] == "Good\nmorning\nto you"


def test_text_from_stdin(home, tmp_path):
    out = tmp_path / "stdin.json"
    assert_ok(write(out, "-", "--seed", 1, input="Good\nmorning\n"))
    assert read_ink(out)[1] == "Good\nmorning"


def test_text_from_a_file(home, tmp_path):
    source = tmp_path / "text.txt"
    source.write_text("Good morning\r\nhello\r\n", encoding="utf-8")
    out = tmp_path / "file.json"
    assert_ok(write(out, f"@{source}", "--seed", 1))
    assert read_ink(out)[1] == "Good morning\nhello"


# --- the character policy ---------------------------------------------------------------------------


def test_substitution_prints_a_note_and_writes(home, tiny, tmp_path):
    assert "'" in tiny.alphabet and "e" in tiny.alphabet and "\u2019" not in tiny.alphabet
    out = tmp_path / "sub.json"
    result = write(out, "it\u2019s caf\u00e9", "--seed", 1)
    assert_ok(result)
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert any("\u2019" in line for line in notes) and any("\u00e9" in line for line in notes), result.stderr
    assert read_ink(out)[1] == "it's cafe"


def test_strict_refuses_what_it_would_substitute(home, tmp_path):
    out = tmp_path / "strict.svg"
    assert_one_line_error(write(out, "caf\u00e9", "--strict"), 2, "'\u00e9'")
    assert not out.exists()


def test_a_character_the_model_cannot_write_is_named(home, tmp_path):
    out = tmp_path / "copyright.svg"
    assert_one_line_error(write(out, "hello \u00a9"), 2, "'\u00a9'")
    assert_one_line_error(write(out, "hello\nyou \u00a9"), 2, "'\u00a9'")  # on a later line too
    assert not out.exists()


# --- page options -----------------------------------------------------------------------------------


def test_page_width_sets_millimetres(home, tmp_path):
    out = tmp_path / "page.svg"
    assert_ok(write(out, "hello", "--page-width", 120, "--seed", 1))
    root, _ = check_svg(out)
    assert root.get("width") == "120mm"
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert root.get("height").endswith("mm")
    assert float(root.get("height")[:-2]) == pytest.approx(120 * height / width, rel=1e-4)


def test_margin_widens_the_view_box_by_letter_sizes(home, tmp_path):
    from hwcli.data.inkfile import read_ink
    from hwcli.render.svg import letter_size

    boxes = {}
    for margin in (0, 2):
        out = tmp_path / f"m{margin}.svg"
        assert_ok(write(out, "hello", "--seed", 1, "--margin", margin, "--stroke-width", 0.1))
        root, _ = check_svg(out)
        boxes[margin] = [float(v) for v in root.get("viewBox").split()]
    assert_ok(write(tmp_path / "ink.json", "hello", "--seed", 1))
    strokes, _ = read_ink(tmp_path / "ink.json")
    size = letter_size(strokes)
    assert boxes[2][2] - boxes[0][2] == pytest.approx(4 * size, rel=1e-3)  # 2 letter sizes on each side
    assert boxes[2][0] == pytest.approx(boxes[0][0] - 2 * size, rel=1e-3)


def test_negative_margin_is_refused(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", "hello", "--margin", -1), 2, "--margin")


def test_animate_adds_the_animation(home, tmp_path):
    plain, animated = tmp_path / "plain.svg", tmp_path / "animated.svg"
    assert_ok(write(plain, "hello", "--seed", 1))
    assert_ok(write(animated, "hello", "--seed", 1, "--animate"))
    _, paths = check_svg(animated)
    assert all(p.get("class") == "hw-stroke" and p.get("pathLength") == "1" for p in paths)
    assert all("animation-delay" in p.get("style") for p in paths)
    root, _ = check_svg(animated)
    styles = "".join(s.text or "" for s in root.iter(f"{SVG_NS}style"))
    assert "@keyframes" in styles
    _, plain_paths = check_svg(plain)
    assert all(p.get("class") is None for p in plain_paths)


def test_stroke_options(home, tmp_path):
    out = tmp_path / "styled.svg"
    assert_ok(write(out, "hello", "--seed", 1, "--color", "navy", "--stroke-width", 2.5))
    _, paths = check_svg(out)
    assert all(p.get("stroke") == "navy" and p.get("stroke-width") == "2.5" for p in paths)


# --- models -----------------------------------------------------------------------------------------


def test_a_half_precision_shipped_model_writes(home, tiny, tmp_path):
    import torch

    stored = torch.load(tiny.exported, weights_only=True)
    assert all(v.dtype == torch.float16 for v in stored["state_dict"].values() if v.is_floating_point())
    assert stored["training"] is None
    out = tmp_path / "half.svg"
    assert_ok(write(out, "Good morning", "--seed", 1, model=tiny.exported))
    check_svg(out)


def test_the_default_model_is_the_shipped_one(home, tiny, tmp_path, monkeypatch):
    out = tmp_path / "default.svg"
    assert_one_line_error(hw("write", "hello", "-o", out), 1, "'synthesis'")  # none installed
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tiny.shipped)
    assert_ok(hw("write", "hello", "-o", out, "--seed", 1))
    check_svg(out)


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\\n", "\n\n"])
def test_empty_text(home, tmp_path, text):
    assert_one_line_error(write(tmp_path / "x.svg", text), 2, "empty")


def test_empty_stdin(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", "-", input=""), 2, "empty")


def test_unreadable_text_file(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", f"@{tmp_path / 'missing.txt'}"), 1, "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert_one_line_error(write(tmp_path / "x.svg", f"@{binary}"), 1, "binary.txt")


def test_unknown_model_is_named(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", "hello", model="no-such-model"), 1, "'no-such-model'", SYNTHESIS)


def test_a_prediction_model_cannot_write(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", "hello", model=PREDICTION), 1, "prediction network")


@pytest.mark.parametrize("name", ["out.pdf", "out", "out.png"])
def test_bad_output_extension(home, tmp_path, name):
    good = tmp_path / "good.svg"
    assert_one_line_error(write(tmp_path / name, "hello", "-o", good), 2, name)
    assert not good.exists()  # checked before anything is written


@pytest.mark.parametrize(
    "args, fragment",
    [(["--bias", "-0.5"], "--bias"), (["--width", "0"], "width"), (["--page-width", "-3"], "--page-width")],
)
def test_bad_numbers(home, tmp_path, args, fragment):
    assert_one_line_error(write(tmp_path / "x.svg", "hello", *args), 2, fragment)


def test_cli_default_bias_is_the_library_default():
    """One source (hwcli/config.py): the CLI leaves the bias unset, as write_page does, and
    priming.bias_for picks config's default for the style (tests/test_styles.py)."""
    import inspect

    import typer.main

    from hwcli import config
    from hwcli.cli import app
    from hwcli.generate import sampler
    from hwcli.generate.page import write_page

    assert sampler.DEFAULT_BIAS is config.DEFAULT_BIAS
    for name in ("write", "inspect"):
        command = typer.main.get_command(app).commands[name]
        assert {p.name: p.default for p in command.params}["bias"] is None
    assert inspect.signature(write_page).parameters["bias"].default is None
