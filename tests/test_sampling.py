"""Sampling (paper sections 4.1, 5.3-5.4) with models trained here, and `hw sample` through the CLI.

The session's tiny models (conftest.py: `tiny`, `home`) are a synthesis and a prediction
network trained for two steps on 16 synthetic lines, and the synthesis one exported as a
half-precision, shipped-style checkpoint; the CLI helpers here are shared by test_write_cli,
test_styles, test_inspect and test_models_cli.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_checks import assert_ok, assert_one_line_error  # noqa: F401 - re-exported to the other CLI tests
from conftest import PREDICTION, STRIDE, SYNTHESIS  # noqa: F401 - re-exported to the other tests
from typer.testing import CliRunner

from hwcli.cli import app
from hwcli.data.ink import offsets_to_strokes
from hwcli.errors import UsageError
from hwcli.generate import sampler
from hwcli.generate.priming import Prime
from hwcli.generate.sampler import MAX_PACE, sample_free, sample_mixture, write_lines
from hwcli.models import mdn

SVG_NS = "{http://www.w3.org/2000/svg}"

runner = CliRunner()


# --- CLI helpers ------------------------------------------------------------------------------------


def hw(*args, input: str | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def path_points(d: str) -> np.ndarray:
    """Absolute points of an svg.py path (M, Q, L; h moves by a dot's length) -> (n, 2)."""
    tokens = re.findall(rf"[MQLh]|{_NUMBER}", d)
    points, i, command = [], 0, None
    while i < len(tokens):
        if tokens[i] in "MQLh":
            command, i = tokens[i], i + 1
            continue
        if command == "h":
            points.append((points[-1][0] + float(tokens[i]), points[-1][1]))
            i += 1
        else:
            points.append((float(tokens[i]), float(tokens[i + 1])))
            i += 2
    return np.array(points).reshape(-1, 2)


def check_svg(path: Path):
    """Parse an ink SVG back: stroke-only paths inside a 4-number viewBox. Returns (root, paths)."""
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{SVG_NS}svg"
    view_box = [float(v) for v in root.get("viewBox").split()]
    assert len(view_box) == 4
    x, y, width, height = view_box
    assert width > 0 and height > 0
    paths = root.findall(f".//{SVG_NS}path")
    assert paths, "no <path> in the SVG"
    for element in paths:
        assert element.get("fill") == "none"
        assert element.get("stroke")
        points = path_points(element.get("d"))
        assert len(points)
        slack = 1e-6 * max(width, height)
        assert (points[:, 0] >= x - slack).all() and (points[:, 0] <= x + width + slack).all()
        assert (points[:, 1] >= y - slack).all() and (points[:, 1] <= y + height + slack).all()
    return root, paths


# --- seeds ------------------------------------------------------------------------------------------


def test_a_seed_reproduces_exactly_and_seeds_differ(tiny):
    model = tiny.load()
    a = write_lines(model, ["Good morning", "hello"], bias=0.5, seed=7).lines
    b = write_lines(model, ["Good morning", "hello"], bias=0.5, seed=7).lines
    c = write_lines(model, ["Good morning", "hello"], bias=0.5, seed=8).lines
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(len(x) != len(z) or not np.array_equal(x, z) for x, z in zip(a, c))


def test_no_seed_draws_fresh_ink(tiny):
    model = tiny.load()
    torch.manual_seed(0)
    a = write_lines(model, ["Good morning"]).lines[0]
    b = write_lines(model, ["Good morning"]).lines[0]
    assert len(a) != len(b) or not np.array_equal(a, b)


# --- bias (section 5.4) -----------------------------------------------------------------------------


def test_bias_shrinks_sigma_exactly_for_one_component():
    """One component: x1 = mu1 + exp(sigma_hat - b) n, so the spread falls by exp(-b) (eq. 61)."""
    y_hat = np.float32([[0.0, 0.0, 0.5, -0.3, math.log(2.0), math.log(0.5), 0.0]])  # e, pi, mu1, mu2, s1, s2, rho
    draws = 40_000
    rng = np.random.default_rng(0)
    spreads = {}
    for bias in (0.0, 1.0, 2.0):
        x = sample_mixture(np.repeat(y_hat, draws, 0), 1, bias, rng)
        spreads[bias] = x[:, :2].std(0)
        np.testing.assert_allclose(x[:, :2].mean(0), [0.5, -0.3], atol=0.02)
    for bias in (1.0, 2.0):
        np.testing.assert_allclose(spreads[bias] / spreads[0.0], [math.exp(-bias)] * 2, rtol=0.03)


def test_higher_bias_samples_closer_to_the_means():
    """Several components: the mean distance of a draw from its mixture's nearest mean falls as b rises."""
    torch.manual_seed(1)
    M = 5
    y_hat = torch.randn(1, 1 + 6 * M)
    y_hat[0, 1 + 3 * M : 1 + 5 * M] = 0.0  # sigma_hat: every sigma 1
    _, _, mu1, mu2, _, _, _ = mdn.split_params(y_hat, M)
    means = torch.stack([mu1[0], mu2[0]], 1)  # (M, 2)
    rng = np.random.default_rng(2)
    deviation = []
    for bias in (0.0, 0.5, 1.0, 2.0, 4.0):
        x = sample_mixture(np.repeat(y_hat.numpy(), 20_000, 0), M, bias, rng)[:, :2]
        deviation.append(float(torch.cdist(torch.from_numpy(x), means).min(1).values.mean()))
    assert deviation == sorted(deviation, reverse=True), deviation
    assert deviation[-1] < 0.1 * deviation[0]


def test_higher_bias_gives_lower_spread_through_write_lines(tiny):
    model = tiny.load()
    mean, std = model.mean.numpy(), model.std.numpy()

    def spread(bias: float) -> float:
        lines = write_lines(model, ["Good morning"] * 8, bias=bias, seed=3).lines
        steps = np.concatenate([(line[1:, :2] - mean) / std for line in lines])  # normalised offsets
        return float(steps.std(0).mean())

    spreads = [spread(b) for b in (0.0, 1.0, 3.0)]
    assert spreads[0] > spreads[1] > spreads[2], spreads


# --- stopping (section 5.3) -------------------------------------------------------------------------


def cap(model, text: str) -> int:
    """The longest a line may be: MAX_PACE times the data's pace, per character (plus the first step)."""
    return int(MAX_PACE * model.network.config.steps_per_char * len(text)) + 1


@pytest.mark.parametrize("bias", [0.0, 2.0])
def test_lines_never_exceed_the_cap(tiny, bias):
    model = tiny.load()
    texts = ["a", "Good morning", "hello there how are you", "I"]
    for seed in range(6):
        w = write_lines(model, texts, bias=bias, seed=seed, return_phi=True)
        for text, line, phi, rule in zip(texts, w.lines, w.windows, w.stopped_by_rule):
            assert 1 <= len(line) <= cap(model, text), (text, len(line))
            assert phi.shape == (len(line), len(text))
            assert isinstance(rule, bool)
            if not rule:  # cut by the cap, not by the rule
                assert len(line) == cap(model, text)


def steer_window(model, speed: float, pen_up: bool = True):
    """Make the window move exactly `speed` characters per step, whatever the network sees:
    alpha = beta = 1 for every component, kappa += speed (eqs. 48-51); and, with `pen_up`,
    every sampled point ends a stroke (e = sigmoid(30), eq. 18)."""
    layer = model.network.window_layer
    K = layer.K
    with torch.no_grad():
        layer.window.weight.zero_()
        layer.window.bias[: 2 * K] = 0.0
        layer.window.bias[2 * K :] = math.log(speed)
        if pen_up:
            model.network.output.weight[0].zero_()
            model.network.output.bias[0] = -30.0
    return model


def test_the_rule_fires_when_the_window_passes_the_last_character(tiny):
    """kappa after t+1 steps is (t+1)/2: phi(U+1) first beats every phi(u) when kappa > U + 1/2,
    at step t = 2U+1; the pen is up, so the line ends right there."""
    model = steer_window(tiny.load(), 0.5)
    texts = ["ab", "hello", "Good morning"]
    w = write_lines(model, texts, seed=0, return_phi=True)
    assert w.stopped_by_rule == [True, True, True]
    for text, line, phi in zip(texts, w.lines, w.windows):
        U = len(text)
        assert len(line) == 2 * U + 2 < cap(model, text)
        assert phi[-1].argmax() == U - 1  # at the end the last character holds the window


def test_the_pen_may_finish_its_stroke_after_the_rule(tiny):
    """With the pen down the line goes on after the rule fires, but not past FINISH_PACE characters' worth."""
    from hwcli.generate.sampler import FINISH_PACE

    model = steer_window(tiny.load(), 0.5, pen_up=False)
    with torch.no_grad():
        model.network.output.weight[0].zero_()
        model.network.output.bias[0] = 30.0  # e = sigmoid(-30): the pen never lifts
    w = write_lines(model, ["hello"], seed=0)
    lines, stopped = w.lines, w.stopped_by_rule
    finish = max(1, int(FINISH_PACE * model.network.config.steps_per_char))
    assert stopped == [True]
    assert len(lines[0]) == (2 * 5 + 1) + finish + 1
    assert lines[0][-1, 2] == 1.0  # the line's last stroke is closed


def test_a_window_that_never_arrives_is_cut_at_the_cap(tiny):
    model = steer_window(tiny.load(), 1e-3)
    texts = ["ab", "hello there"]
    w = write_lines(model, texts, seed=0)
    lines, stopped = w.lines, w.stopped_by_rule
    assert stopped == [False, False]
    assert [len(line) for line in lines] == [cap(model, t) for t in texts]


def test_a_line_cut_at_its_cap_is_not_reported_as_stopped_by_the_rule(tiny):
    """In a batch the short line stops at its cap (step 35) while the long one goes on; the window of
    the short line passes its end later (step 50), which must not mark it as stopped by the rule."""
    model = steer_window(tiny.load(), 0.05)
    model.network.config.steps_per_char = 5.8  # cap("ab") = 35 < 2.5 / 0.05 = 50 < cap(long line)
    texts = ["ab", "hello there how are you"]
    w = write_lines(model, texts, seed=0)
    lines, stopped = w.lines, w.stopped_by_rule
    assert len(lines[0]) == cap(model, "ab") == 35
    assert len(lines[1]) > 50
    assert stopped[0] is False


def force_phi_past_the_end(monkeypatch, from_step: int) -> None:
    """From step `from_step` (0-based) on, the position past the end holds all the window's weight."""
    original = sampler.Stepper.step
    calls = {"n": 0}

    def step(self, x):
        y_hat, phi = original(self, x)
        calls["n"] += 1
        if calls["n"] > from_step:
            phi = np.zeros_like(phi)
            phi[:, -1] = 1.0
        return y_hat, phi

    monkeypatch.setattr(sampler.Stepper, "step", step)


def test_forced_phi_past_the_end_fires_the_rule(tiny, monkeypatch):
    """The rule reads phi only: from step 9 on, give the position past the end all the weight."""
    force_phi_past_the_end(monkeypatch, 9)
    model = steer_window(tiny.load(), 1e-3)  # on its own, it would never stop
    w = write_lines(model, ["Good morning"], seed=0)
    lines, stopped = w.lines, w.stopped_by_rule
    assert stopped == [True]
    assert len(lines[0]) == 10  # the pen is up at every step: the line ends where the rule fires


@pytest.mark.parametrize("pen_ups,length", [((8, 12), 9), ((5, 12), 13)])
def test_a_stroke_begun_just_before_the_rule_fires_is_dropped(tiny, monkeypatch, pen_ups, length):
    """The rule fires at step 9. A stroke begun one point before (pen up at step 8) belongs to no
    character: the line ends at that pen-up. One of four points (pen up at 5) is finished: to step 12."""
    force_phi_past_the_end(monkeypatch, 9)
    original_sample, draws = sample_mixture, {"n": 0}

    def sample(*args):
        x = original_sample(*args)
        x[:, 2] = float(draws["n"] in pen_ups)
        draws["n"] += 1
        return x

    monkeypatch.setattr(sampler, "sample_mixture", sample)
    model = steer_window(tiny.load(), 1e-3, pen_up=False)
    w = write_lines(model, ["Good morning"], seed=0)
    lines, stopped = w.lines, w.stopped_by_rule
    assert stopped == [True]
    assert len(lines[0]) == length
    assert lines[0][-1, 2] == 1.0


# --- candidates: the most usual of several samples -------------------------------------------------


def test_dwell_counts_the_steps_the_window_holds_each_character(tiny):
    """kappa = (t+1)/2 (steered): the first character holds the window for 3 steps, each later one
    for 2, and the step past the end is no character's."""
    model = steer_window(tiny.load(), 0.5)
    w = write_lines(model, ["ab", "hello"], seed=0)
    assert [d.tolist() for d in w.dwell] == [[3, 2], [3, 2, 2, 2, 2]]
    from hwcli.generate.priming import load_prime

    style = Path(__file__).parent / "fixtures" / "styles" / "hi.json"
    primed = write_lines(tiny.load(), ["hello"], seed=0, prime=load_prime(str(style), tiny.load()))
    assert len(primed.dwell[0]) == len("hello")  # the prime's characters are not counted


def test_the_most_typical_candidate_is_nearest_the_median_dwell():
    """Median dwell [2, 3, 2]: |log(3/4)| for the first, |log(10/4)| for the second, 0 for the third."""
    from hwcli.generate.sampler import Written, _most_typical

    dwell = [np.array(d) for d in ([2, 2, 2], [2, 9, 2], [2, 3, 2], [4, 4], [4, 4], [1, 1])]
    lines = [np.full((k + 1, 3), k, np.float32) for k in range(6)]
    kept = _most_typical(Written(lines, [True] * 6, prime=None, dwell=dwell), 3)
    assert [int(line[0, 0]) for line in kept.lines] == [2, 3]  # a tie keeps the first
    assert [d.tolist() for d in kept.dwell] == [[2, 3, 2], [4, 4]]


def test_samples_that_stalled_at_their_start_are_passed_over_unless_all_did():
    """Pace 10: of [40, 2], [50, 2], [45, 2], [9, 2], [11, 2] the first is the median (40), but
    three stalled on the first character (over 30 steps); of the two that did not, the one
    nearer the median is kept. Without the pace, or when all stall, the median rule alone."""
    from hwcli.generate.sampler import Written, _most_typical

    dwell = [np.array([d, 2]) for d in (40, 50, 45, 9, 11)]
    lines = [np.full((k + 1, 3), k, np.float32) for k in range(5)]
    written = Written(lines, [True] * 5, prime=None, dwell=dwell)
    assert int(_most_typical(written, 5, pace=10.0).lines[0][0, 0]) == 4
    assert int(_most_typical(written, 5).lines[0][0, 0]) == 0
    assert int(_most_typical(written, 5, pace=1.0).lines[0][0, 0]) == 0  # every one over 3 steps


def test_candidates_keep_the_sample_closest_to_the_median_dwell(tiny):
    """candidates=3 samples each text three times in one batch (the same draws as the texts given
    three times each) and keeps the one whose dwell is nearest the median, character by character."""
    model = tiny.load()
    texts = ["Good morning", "hello"]
    plain = write_lines(model, [t for t in texts for _ in range(3)], bias=0.5, seed=11)
    chosen = write_lines(model, texts, bias=0.5, seed=11, candidates=3)
    for i in range(len(texts)):
        rows = plain.dwell[3 * i : 3 * i + 3]
        median = [sorted(column)[1] for column in zip(*rows)]
        score = [sum(abs(math.log((d + 1) / (m + 1))) for d, m in zip(row, median)) for row in rows]
        best = 3 * i + min(range(3), key=lambda k: (score[k], k))
        np.testing.assert_array_equal(chosen.lines[i], plain.lines[best])


# --- batches, shapes, refusals ----------------------------------------------------------------------


def test_a_batch_gives_one_ink_per_line(tiny):
    model = tiny.load()
    texts = ["a", "Good morning", "hello", "I", "to you"]
    lines = write_lines(model, texts, bias=1.0, seed=0).lines
    assert len(lines) == len(texts)
    for line in lines:
        assert line.ndim == 2 and line.shape[1] == 3 and line.dtype == np.float32
        assert np.isfinite(line).all()
        assert set(np.unique(line[:, 2])) <= {0.0, 1.0}
        assert line[-1, 2] == 1.0  # the last stroke ends where the line ends


def test_priming_keeps_the_cap_of_the_new_text(tiny):
    from hwcli.data import dataset

    model = tiny.load()
    data = dataset.load(tiny.dataset)
    i = data.index_of(tiny.line_id)
    from hwcli.data.ink import coarsen

    prime = Prime(coarsen(data.line(i), STRIDE), str(data.texts[i]))
    primed = write_lines(model, ["hello", "Good morning"], seed=4, prime=prime).lines
    plain = write_lines(model, ["hello", "Good morning"], seed=4).lines
    for text, line in zip(["hello", "Good morning"], primed):
        assert len(line) <= cap(model, text)
    assert any(len(a) != len(b) or not np.array_equal(a, b) for a, b in zip(primed, plain))


def straight_prime(points: int, text: str) -> Prime:
    """A prime of `points` pen-down points moving right, ending with a pen-up."""
    offsets = np.zeros((points, 3), np.float32)
    offsets[:, 0] = 1.0
    offsets[-1, 2] = 1.0
    return Prime(offsets, text)


def test_the_prime_reading_says_how_far_the_window_read_the_ink(tiny):
    """At 0.5 characters a step the window holds character round(kappa) after kappa = 0.5 t: a prime
    of 2U + 2 points reads all U characters; 9 points of a 20-character text read only 4 of them."""
    model = steer_window(tiny.load(), 0.5)
    pace = model.network.config.steps_per_char
    text = "abcdefghij klmnopqrs"
    matched = write_lines(model, ["hi"], seed=0, prime=straight_prime(2 * len(text) + 2, text)).prime
    assert (matched.length, matched.reached) == (20, 20)
    assert matched.mismatch(pace) is None
    short = write_lines(model, ["hi"], seed=0, prime=straight_prime(9, text)).prime
    assert (short.length, short.reached) == (20, 4)
    assert "read only 4 of the style text's 20 characters" in short.mismatch(pace)


def test_each_stroke_keeps_the_character_the_window_began_it_on(tiny):
    """stroke_chars: one per stroke of the finished line, the window's focus at the stroke's
    first point, counted in the new text (the prime's text and its space before it)."""
    model = steer_window(tiny.load(), 0.5)
    w = write_lines(model, ["hello"], seed=0, prime=straight_prime(17, "abcdefgh"), return_phi=True)
    strokes = offsets_to_strokes(w.lines[0])
    firsts = np.cumsum([0] + [len(s) for s in strokes[:-1]])
    assert len(w.stroke_chars[0]) == len(strokes) > 1
    focus = w.windows[0].argmax(1)[firsts] - len("abcdefgh ")  # the windows hold no "past the end"
    np.testing.assert_array_equal(w.stroke_chars[0][:-1], focus[:-1])
    assert w.stroke_chars[0][-1] == len("hello")  # the last point: the window past the end
    kept = write_lines(model, ["hello", "ab"], seed=0, candidates=3)
    assert [len(c) for c in kept.stroke_chars] == [len(offsets_to_strokes(line)) for line in kept.lines]


def test_strokes_that_write_the_prime_again_are_cut(tiny):
    """The steered window (0.5 characters a step, every point a stroke of its own) has read 8 steps
    of a 9-point prime of 8 characters: kappa = 4, on the prime's 4th letter. Writing, it holds
    index 8 (the space) or less while kappa <= 9.5, the first 11 points: they write the prime's
    text again and are cut. Uncut the line would end when kappa passes 14.5 (the 14 characters of
    "abcdefgh hello"), after 22 points; 11 are left, and the first holds the new text."""
    model = steer_window(tiny.load(), 0.5)
    w = write_lines(model, ["hello"], seed=0, prime=straight_prime(9, "abcdefgh"), return_phi=True)
    assert len(w.lines[0]) == len(w.windows[0]) == len(w.predictions[0]) == 22 - 11
    assert w.windows[0][0].argmax() == 9  # "h", the new text's first character
    assert w.stopped_by_rule == [True]
    # Read to its last letter (17 points, kappa = 8): 3 points of 14 are written on "h" and the space.
    read_to_the_end = write_lines(model, ["hello"], seed=0, prime=straight_prime(17, "abcdefgh"), return_phi=True)
    assert len(read_to_the_end.lines[0]) == 14 - 3
    assert len(write_lines(model, ["hello"], seed=0).lines[0]) == 2 * 5 + 2  # no prime: nothing cut


def test_a_cut_keeps_the_pen_where_it_was():
    from hwcli.generate.sampler import _cut

    x = np.array([[1.0, 2.0, 0], [3.0, -1.0, 1], [0.5, 0.5, 0], [2.0, 2.0, 1]], np.float32)
    cut = _cut(x, 2)
    np.testing.assert_allclose(np.cumsum(cut[:, :2], 0), np.cumsum(x[:, :2], 0)[2:])
    assert cut[:, 2].tolist() == [0, 1]
    assert _cut(x, 0) is x


def test_of_several_lines_the_best_read_one_primes(tiny):
    """At 0.5 characters a step: 9 points read 4 of 20 characters, 200 points run far past the end,
    42 points read them exactly; best_prime takes the last, whatever the order."""
    from hwcli.generate.sampler import best_prime

    model = steer_window(tiny.load(), 0.5)
    text = "abcdefghij klmnopqrs"
    short, long, exact = (straight_prime(n, text) for n in (9, 200, 2 * len(text) + 2))
    assert best_prime(model, [short, long, exact]) is exact
    assert best_prime(model, [exact, long]) is exact
    assert best_prime(model, [short]) is short


def test_a_prime_with_far_more_ink_than_text_is_reported():
    from hwcli.generate.sampler import PrimeReading

    focus = np.r_[np.zeros(10, int), np.ones(10, int), np.full(100, 2)]  # past the end (2) for 100 steps
    reading = PrimeReading.of(focus, 2)
    assert (reading.reached, reading.early_steps) == (2, 100)
    assert "well before its ink ended" in reading.mismatch(10.0)
    assert PrimeReading.of(focus[:25], 2).mismatch(10.0) is None


def test_write_lines_refuses_a_prediction_model_and_empty_text(tiny):
    with pytest.raises(UsageError, match="prediction network"):
        write_lines(tiny.load(PREDICTION), ["hello"])
    model = tiny.load()
    for texts in ([], [""], ["hello", "  "]):
        with pytest.raises(UsageError, match="empty"):
            write_lines(model, texts)


def test_sample_free_shapes_and_seeds(tiny):
    model = tiny.load(PREDICTION)
    lines = sample_free(model, steps=25, lines=3, bias=0.5, seed=1)
    assert len(lines) == 3
    for line in lines:
        assert line.shape == (25, 3) and line.dtype == np.float32 and line[-1, 2] == 1.0
    again = sample_free(model, steps=25, lines=3, bias=0.5, seed=1)
    for a, b in zip(lines, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(lines[0], sample_free(model, steps=25, seed=2)[0])


def test_sample_free_refuses_bad_input(tiny):
    with pytest.raises(UsageError, match="synthesis network"):
        sample_free(tiny.load(), steps=5)
    for steps, lines in ((0, 1), (5, 0)):
        with pytest.raises(UsageError):
            sample_free(tiny.load(PREDICTION), steps=steps, lines=lines)


# --- `hw sample` ------------------------------------------------------------------------------------


def test_sample_cli_writes_svg(home, tmp_path):
    out = tmp_path / "free.svg"
    result = hw("sample", "-o", out, "--model", PREDICTION, "--steps", 60, "--seed", 1)
    assert_ok(result)
    check_svg(out)
    again = tmp_path / "again.svg"
    assert_ok(hw("sample", "-o", again, "--model", PREDICTION, "--steps", 60, "--seed", 1))
    assert again.read_bytes() == out.read_bytes()
    other = tmp_path / "other.svg"
    assert_ok(hw("sample", "-o", other, "--model", PREDICTION, "--steps", 60, "--seed", 2))
    assert other.read_bytes() != out.read_bytes()


@pytest.mark.parametrize("suffix", [".json", ".inkml"])
def test_sample_cli_writes_strokes(home, tmp_path, suffix):
    from hwcli.data.inkfile import read_ink

    out = tmp_path / f"free{suffix}"
    assert_ok(hw("sample", "-o", out, "--model", PREDICTION, "--steps", 40, "--seed", 3, "--bias", 1))
    strokes, text = read_ink(out)
    assert sum(len(s) for s in strokes) == 40 and text is None


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--model", SYNTHESIS], 1, "synthesis network"),
        (["--model", "no-such-model"], 1, "'no-such-model'"),
        ([], 1, "'prediction'"),  # no default prediction model installed
        (["--model", PREDICTION, "--steps", 0], 2, "--steps"),
        (["--model", PREDICTION, "--bias", -1], 2, "--bias"),
    ],
)
def test_sample_cli_bad_input(home, tmp_path, args, code, fragment):
    assert_one_line_error(hw("sample", "-o", tmp_path / "x.svg", *args), code, fragment)
    assert not (tmp_path / "x.svg").exists()


def test_sample_cli_bad_extension(home, tmp_path):
    assert_one_line_error(hw("sample", "-o", tmp_path / "x.png", "--model", PREDICTION), 2, "x.png")


def test_sample_cli_json_is_not_a_picture(home, tmp_path):
    """The JSON written by `hw sample` is stroke data a program can load (no SVG inside)."""
    out = tmp_path / "free.json"
    assert_ok(hw("sample", "-o", out, "--model", PREDICTION, "--steps", 10, "--seed", 0))
    document = json.loads(out.read_text())
    assert document["y_down"] is False and len(document["strokes"]) >= 1
