"""Priming (paper section 5.5): `--style line:ID` from the model's dataset, the user's own ink as
JSON and as a hand-written InkML file (tests/fixtures/styles), fitting ink to the model's scale,
and every bad style file answered with one clear error line.
"""

# The session's tiny models (`tiny`, `home`) are conftest.py fixtures, built from synthetic lines.

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_sampling import (  # noqa: F401 - CLI helpers
    STRIDE,
    SYNTHESIS,
    assert_ok,
    assert_one_line_error,
    check_svg,
    hw,
)

from hwcli.data.inkfile import read_ink
from hwcli.errors import DataError, UsageError
from hwcli.generate.sampler import write_lines
from hwcli.data.ink import line_height
from hwcli.generate.priming import fit_to_model, load_prime, resample, resample_in_time

STYLES = Path(__file__).resolve().parent / "fixtures" / "styles"


def write(out, *args, text="hello", model=SYNTHESIS):
    return hw("write", text, "-o", out, "--model", model, "--seed", 1, *args)


# --- the library ------------------------------------------------------------------------------------


def test_json_and_inkml_fixtures_hold_the_same_ink():
    """hi.inkml is hi.json in screen coordinates (y down, 300 lower), its arch as first differences."""
    json_strokes, json_text = read_ink(STYLES / "hi.json")
    inkml_strokes, inkml_text = read_ink(STYLES / "hi.inkml")
    assert json_text == inkml_text == "hi"
    assert len(json_strokes) == len(inkml_strokes) == 4
    for a, b in zip(json_strokes, inkml_strokes):
        np.testing.assert_array_equal(a, b + [0.0, 300.0])


def test_a_dataset_line_primes_in_the_models_units(tiny):
    from hwcli.data import dataset
    from hwcli.data.ink import coarsen

    model = tiny.load()
    prime = load_prime(f"line:{tiny.line_id}", model)
    data = dataset.load(tiny.dataset)
    assert prime.text == tiny.line_text
    np.testing.assert_array_equal(prime.offsets, coarsen(data.line(data.index_of(tiny.line_id)), STRIDE))


@pytest.mark.parametrize("name", ["hi.json", "hi.inkml"])
def test_a_user_file_primes(tiny, name):
    prime = load_prime(str(STYLES / name), tiny.load())
    assert prime.text == "hi"
    assert prime.offsets.shape == (sum(len(s) for s in read_ink(STYLES / name)[0]), 3)
    assert prime.offsets[:, 2].sum() == 4  # four strokes, each ends once


def test_priming_changes_the_ink_and_json_equals_inkml(tiny):
    model = tiny.load()
    plain = write_lines(model, ["hello"], seed=2).lines[0]
    from_json = write_lines(model, ["hello"], seed=2, prime=load_prime(str(STYLES / "hi.json"), model)).lines[0]
    from_inkml = write_lines(model, ["hello"], seed=2, prime=load_prime(str(STYLES / "hi.inkml"), model)).lines[0]
    assert len(plain) != len(from_json) or not np.array_equal(plain, from_json)
    np.testing.assert_array_equal(from_json, from_inkml)  # offsets do not see where the ink sits


def test_user_ink_is_fitted_to_an_exported_models_scale(tiny):
    """The exported model carries its data's line height and pen step: user ink in any units is scaled
    to that height and resampled to that step before the network sees it."""
    from hwcli.models import checkpoint

    model = checkpoint.load(tiny.exported)
    target_height, target_step = model.info["line_height"], model.info["pen_step"]
    assert target_height > 0 and target_step > 0
    strokes, _ = read_ink(STYLES / "hi.json")
    for scale in (0.01, 1.0, 50.0):  # millimetres, whiteboard units, screen pixels at high DPI
        for timed in (True, False):
            fitted = fit_to_model([s * scale for s in strokes], model.info, timed)
            assert line_height(fitted) == pytest.approx(target_height, rel=0.05)
            steps = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in fitted if len(s) > 1])
            assert np.median(steps) == pytest.approx(target_step, rel=0.25)
            if not timed:  # along the path: no step longer than the model's
                assert steps.max() <= target_step * 1.0001


def _pen(slow: int, fast: int) -> np.ndarray:
    """A straight stroke sampled as a pen draws it: `slow` steps of 1, then `fast` steps of 3."""
    return np.column_stack([np.r_[np.arange(slow + 1.0), slow + 3.0 * np.arange(1, fast + 1)], np.zeros(slow + fast + 1)])


def test_resample_in_time_keeps_where_the_pen_slowed():
    stroke = _pen(8, 8)
    out = resample_in_time(stroke, 0.5)  # twice the samples
    index = np.arange(0.0, 16.0, 0.5)
    np.testing.assert_allclose(out[:-1, 0], np.interp(index, np.arange(17.0), stroke[:, 0]))
    np.testing.assert_array_equal(out[-1], stroke[-1])
    steps = np.diff(out[:, 0])
    np.testing.assert_allclose(steps[:16], 0.5)
    np.testing.assert_allclose(steps[16:], 1.5)  # still three times as fast
    assert len(resample_in_time(stroke, 4.0)) == 5  # thinned: every fourth sample and the end


def test_timed_ink_keeps_its_pace_and_untimed_or_sparse_ink_is_resampled_along_its_path():
    step = 0.5
    info = {"line_height": 10.0, "pen_step": step}
    upright = _pen(20, 20)[:, ::-1]  # drawn upwards, slowly then fast
    pen = [upright, upright + [5.0, 0.0]]
    timed = fit_to_model(pen, info)
    steps = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in timed])
    assert np.median(steps) == pytest.approx(step, rel=0.35)
    assert steps.max() / steps.min() == pytest.approx(3.0, rel=0.1)  # the pen's pace kept
    for path in (fit_to_model(pen, info, timed=False), fit_to_model([s[::10] for s in pen], info)):
        steps = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in path])
        assert steps.max() <= step * 1.0001  # one pace: every point a pen step apart


def test_without_a_scale_user_ink_is_kept_as_is(tiny):
    strokes, _ = read_ink(STYLES / "hi.json")
    fitted = fit_to_model(strokes, {})
    for a, b in zip(fitted, strokes):
        np.testing.assert_array_equal(a, b)


def test_resample_keeps_both_ends():
    stroke = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 7.0]])
    points = resample(stroke, 2.0)
    np.testing.assert_array_equal(points[0], stroke[0])
    np.testing.assert_array_equal(points[-1], stroke[-1])
    assert np.hypot(*np.diff(points, axis=0).T).max() <= 2.0 + 1e-9


def test_a_transcription_over_several_lines_is_one_line_of_text(tiny):
    assert read_ink(STYLES / "multiline.inkml")[1] == "hi\n    hi"
    assert load_prime(str(STYLES / "multiline.inkml"), tiny.load()).text == "hi hi"


def _two_lines(path: Path, texts: str, widen: float = 1.5) -> Path:
    """hi.json's ink written "hi hi", then again below it and `widen` times as wide: a user's file
    of two lines of ink, one under the other, with the text `texts`."""
    import json

    strokes, _ = read_ink(STYLES / "hi.json")
    line = strokes + [s + [250.0, 0.0] for s in strokes]
    below = [s * [widen, 1.0] - [0.0, 700.0] for s in line]
    path.write_text(json.dumps({"text": texts, "strokes": [s.tolist() for s in line + below]}))
    return path


def test_a_file_of_several_lines_primes_with_one_and_measures_the_hand_on_all(tiny, tmp_path):
    """Read as one line, two lines of ink one under the other would be squashed to one line's
    height; each is fitted on its own, the network reads one, and the hand is all of them."""
    from hwcli.data.ink import offsets_to_strokes
    from hwcli.models import checkpoint

    model = checkpoint.load(tiny.exported)
    prime = load_prime(str(_two_lines(tmp_path / "two.json", "hi hi\nhi hi")), model)
    assert prime.text == "hi hi"
    assert [text for _, text in prime.hand_lines] == ["hi hi", "hi hi"]
    widths = []
    for offsets, _ in prime.hand_lines:
        strokes = offsets_to_strokes(offsets)
        assert len(strokes) == 8
        assert line_height(strokes) == pytest.approx(model.info["line_height"], rel=0.05)
        widths.append(np.ptp(np.concatenate(strokes)[:, 0]))
    assert widths[1] / widths[0] == pytest.approx(1.5, rel=0.05)  # the lines kept apart, each as drawn
    assert any(np.array_equal(prime.offsets, offsets) for offsets, _ in prime.hand_lines)
    one = load_prime(str(STYLES / "hi.json"), model)
    assert one.lines is None and one.hand_lines == [(one.offsets, one.text)]


def test_the_hand_is_measured_on_every_line_of_a_file(home, tmp_path, monkeypatch):
    from hwcli.generate import likeness
    from hwcli.generate.page import write_page

    measured = []
    real_measure = likeness.measure
    monkeypatch.setattr(likeness, "measure", lambda lines, texts, **options: measured.append(list(texts))
                        or real_measure(lines, texts, **options))
    write_page("hello", SYNTHESIS, style=str(_two_lines(tmp_path / "two.json", "hi hi\nhi hi")), seed=1, candidates=1)
    assert measured[0] == ["hi hi", "hi hi"]  # the style's hand; then the written lines'
    assert measured[1] == ["hello"]


def test_write_with_a_file_of_two_lines(home, tmp_path):
    out = tmp_path / "two.svg"
    assert_ok(write(out, "--style", _two_lines(tmp_path / "two.json", "hi hi\nhi hi")))
    check_svg(out)
    bad = _two_lines(tmp_path / "three.json", "hi hi\nhi hi\nhi")
    assert_one_line_error(write(out := tmp_path / "x.svg", "--style", bad), 1,
                          "the text has 3 lines but the ink shows 2", "one line of text per line of ink")
    assert not out.exists()
    short = _two_lines(tmp_path / "short.json", "hi hi\na")
    assert_one_line_error(write(out, "--style", short), 2, "short.json, line 2", "'a' is too short")
    assert not out.exists()


def test_library_errors(tiny):
    model = tiny.load()
    with pytest.raises(DataError, match="no strokes"):
        load_prime(str(STYLES / "onepoint.json"), model)
    with pytest.raises(UsageError, match="--style-text"):
        load_prime(str(STYLES / "notext.json"), model)
    assert load_prime(str(STYLES / "notext.json"), model, "hi").text == "hi"
    with pytest.raises(UsageError, match="characters the model cannot write: \u20ac"):
        load_prime(str(STYLES / "notext.json"), model, "hi \u20ac")


@pytest.mark.parametrize("style", ["hi.json", "hi.inkml"])
def test_style_text_is_refused_for_ink_with_its_own_text(tiny, style):
    """Another text for ink that has one misaligns the window from the first letter: refused."""
    with pytest.raises(UsageError, match="--style-text is for ink without text"):
        load_prime(str(STYLES / style), tiny.load(), "hello")


def test_style_text_needs_a_style_file(tiny):
    from hwcli.generate.priming import prime_for

    with pytest.raises(UsageError, match="give the file too"):
        prime_for(None, tiny.load(), "hello")
    with pytest.raises(UsageError, match="not --style none"):
        prime_for("none", tiny.load(), "hello")
    with pytest.raises(UsageError, match="dataset line"):
        load_prime(f"line:{tiny.line_id}", tiny.load(), "hello")


# --- `hw write --style` -----------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["hi.json", "hi.inkml", "multiline.inkml"])
def test_write_with_a_style_file(home, tmp_path, style):
    out = tmp_path / "styled.svg"
    assert_ok(write(out, "--style", STYLES / style))
    check_svg(out)


def test_write_with_a_dataset_line(home, tiny, tmp_path):
    out, again = tmp_path / "line.svg", tmp_path / "again.svg"
    assert_ok(write(out, "--style", f"line:{tiny.line_id}"))
    assert_ok(write(again, "--style", f"line:{tiny.line_id}"))
    check_svg(out)
    assert out.read_bytes() == again.read_bytes()
    plain = tmp_path / "plain.svg"
    assert_ok(write(plain))
    assert plain.read_bytes() != out.read_bytes()


def test_your_own_ink_is_written_at_the_style_bias_and_the_model_s_own_hand_at_the_default(home, tmp_path):
    """No --bias: config.DEFAULT_STYLE_BIAS with a style of the user's ink, DEFAULT_BIAS without one;
    a --bias given wins either way."""
    from hwcli.config import DEFAULT_BIAS, DEFAULT_STYLE_BIAS

    assert DEFAULT_STYLE_BIAS != DEFAULT_BIAS
    ink = {}
    for name, args in {"styled": ["--style", STYLES / "hi.json"],
                       "styled at style bias": ["--style", STYLES / "hi.json", "--bias", DEFAULT_STYLE_BIAS],
                       "styled at default bias": ["--style", STYLES / "hi.json", "--bias", DEFAULT_BIAS],
                       "plain": [], "plain at default bias": ["--bias", DEFAULT_BIAS],
                       "plain at style bias": ["--bias", DEFAULT_STYLE_BIAS]}.items():
        out = tmp_path / f"{name}.json"
        assert_ok(write(out, *args))
        ink[name] = out.read_bytes()
    assert ink["styled"] == ink["styled at style bias"] != ink["styled at default bias"]
    assert ink["plain"] == ink["plain at default bias"] != ink["plain at style bias"]


def test_bias_for():
    from hwcli.config import DEFAULT_BIAS, DEFAULT_STYLE_BIAS
    from hwcli.generate.priming import Prime, bias_for, own_ink

    mine, builtin = Prime(np.zeros((2, 3)), "hi"), Prime(np.zeros((2, 3)), "hi", match=False)
    assert own_ink(mine) and not own_ink(builtin) and not own_ink(None)
    assert bias_for(mine, None) == DEFAULT_STYLE_BIAS
    assert bias_for(builtin, None) == bias_for(None, None) == DEFAULT_BIAS
    assert bias_for(mine, 0.25) == bias_for(builtin, 0.25) == bias_for(None, 0.25) == 0.25
    assert bias_for(mine, 0.0) == 0.0  # zero is a bias given, not a missing one


def test_write_with_style_text(home, tmp_path):
    out = tmp_path / "notext.svg"
    assert_ok(write(out, "--style", STYLES / "notext.json", "--style-text", "hi"))
    check_svg(out)


def test_an_exported_model_scales_the_style_and_writes(home, tiny, tmp_path):
    out = tmp_path / "half.svg"
    assert_ok(write(out, "--style", STYLES / "hi.inkml", model=tiny.exported))
    check_svg(out)


@pytest.mark.parametrize(
    "style, code, fragments",
    [
        ("nostrokes.json", 1, ["nostrokes.json", "no strokes"]),
        ("nostrokes.inkml", 1, ["nostrokes.inkml", "no strokes"]),
        ("onepoint.json", 1, ["no strokes"]),
        ("malformed.json", 1, ["malformed.json", "not valid JSON"]),
        ("malformed.inkml", 1, ["malformed.inkml", "not valid XML"]),
        ("missing.json", 1, ["missing.json"]),
        ("notext.json", 2, ["notext.json", "--style-text"]),
    ],
)
def test_bad_style_files(home, tmp_path, style, code, fragments):
    out = tmp_path / "x.svg"
    assert_one_line_error(write(out, "--style", STYLES / style), code, *fragments)
    assert not out.exists()


def test_a_style_of_one_character_is_refused_as_the_library_refuses_it(home, tmp_path):
    one = tmp_path / "one.json"
    one.write_text('{"text": "a", "strokes": [[[10, 10], [12, 20], [15, 10]]]}')
    out = tmp_path / "x.svg"
    assert_one_line_error(write(out, "--style", one), 2, "'a' is too short", "at least 2 characters")
    assert not out.exists()
    assert_one_line_error(write(out, "--style", STYLES / "notext.json", "--style-text", "a"), 2, "too short")


def test_a_style_that_is_no_file_and_no_name(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", "--style", "no-such-style"), 2, "'no-such-style'")


def test_a_style_file_of_another_kind(home, tmp_path):
    text = tmp_path / "style.txt"
    text.write_text("hi")
    assert_one_line_error(write(tmp_path / "x.svg", "--style", text), 1, "style.txt", ".json")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert_one_line_error(write(tmp_path / "x.svg", "--style", folder), 1, "folder.json", "folder")


def test_an_unreadable_style_file(home, tmp_path, monkeypatch):
    style = tmp_path / "locked.json"
    style.write_text((STYLES / "hi.json").read_text())
    original = Path.read_bytes

    def read_bytes(self):
        if self == style:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert_one_line_error(write(tmp_path / "x.svg", "--style", style), 1, "locked.json", "Permission denied")


def test_garbage_bytes_in_a_style_file(home, tmp_path):
    style = tmp_path / "garbage.json"
    style.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert_one_line_error(write(tmp_path / "x.svg", "--style", style), 1, "garbage.json")


def test_style_text_the_model_cannot_write(home, tmp_path):
    assert_one_line_error(
        write(tmp_path / "x.svg", "--style", STYLES / "notext.json", "--style-text", "hi \u20ac"), 2, "cannot write: \u20ac"
    )


def test_unknown_dataset_line(home, tmp_path):
    assert_one_line_error(write(tmp_path / "x.svg", "--style", "line:no-such-line"), 1, "'no-such-line'")


def test_dataset_line_without_a_dataset(home, tiny, tmp_path):
    """An exported model forgets its training data's path: line:ID then needs the default dataset."""
    assert_one_line_error(
        write(tmp_path / "x.svg", "--style", f"line:{tiny.line_id}", model=tiny.exported), 1, "hw preprocess"
    )
