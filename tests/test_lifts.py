"""Pen-lift matching (hwcli/generate/lifts.py): the steer's arithmetic, the shifted end-of-stroke
probability, and lines that lift the pen as often as their prime."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from test_sampling import steer_window

from hwcli.generate.lifts import LiftSteer, char_mask, lift_rate
from hwcli.generate.priming import Prime
from hwcli.generate.sampler import sample_mixture, write_lines
from hwcli.models import store


def test_lift_rate_counts_pen_lifts_per_written_character_spaces_left_out():
    offsets = np.zeros((10, 3), np.float32)
    offsets[[2, 5, 9], 2] = 1.0
    assert lift_rate([(offsets, "abc def")]) == 3 / 6
    assert lift_rate([(offsets, "abc def"), (offsets[:3], "ab")]) == 4 / 8  # lines pooled, not averaged


def test_the_steer_leaves_a_dead_zone_then_shifts_by_its_gain_up_to_its_limit():
    """rate 0.5, the new text after the space at position 3: at position 8 ("f"), 4 characters are
    written (the space at 6 is none), behind = 0.5 * 4 - lifts = [2, -1, -8]; less the one lift
    of slack either way [1, 0, -7]; times 0.5 [0.5, 0, -3.5]; held to 1.5. Before the new text
    (position 1) nothing is behind: 0."""
    steer = LiftSteer(0.5, ["abc de fg"] * 4, start=3, width=12)
    steer.lifts[:] = [0, 0, 3, 10]
    np.testing.assert_allclose(steer.shift(np.array([1, 8, 8, 8])), [0.0, 0.5, 0.0, -1.5])
    steer.count(np.array([True, False, True, True]))
    assert steer.lifts.tolist() == [1, 0, 4, 11]


def test_the_steer_leaves_everything_but_letters_alone():
    letters = char_mask(["ab 12:c", "x"], 9, str.isalpha)
    assert letters.tolist() == [[True, True, False, False, False, False, True, False, False],
                                [True, False, False, False, False, False, False, False, False]]
    steer = LiftSteer(2.0, ["ab 12:c", "x"], start=0, width=9)  # far behind past position 1: +1.5 on letters
    np.testing.assert_allclose(steer.shift(np.array([6, 1])), [1.5, 0.0])  # "c"; "x" is position 0
    np.testing.assert_allclose(steer.shift(np.array([3, 8])), [0.0, 0.0])  # "1"; past the end of "x"


def test_a_lift_shift_moves_the_end_of_stroke_probability_and_nothing_else():
    """e = 1 / (1 + exp(e_hat - shift)) (eq. 18 with the logit moved): e_hat = 0 gives 0.5, and
    shifts of +1 and -1 give 0.731 and 0.269; the same draws give the same pen movements."""
    y_hat = np.repeat(np.float32([[0.0, 0.0, 0.5, -0.3, 0.0, 0.0, 0.0]]), 40_000, 0)
    plain = sample_mixture(y_hat, 1, 0.0, np.random.default_rng(0))
    assert abs(plain[:, 2].mean() - 0.5) < 0.01
    for shift in (1.0, -1.0):
        moved = sample_mixture(y_hat, 1, 0.0, np.random.default_rng(0), np.full(len(y_hat), shift))
        assert abs(moved[:, 2].mean() - 1 / (1 + math.exp(-shift))) < 0.01
        np.testing.assert_array_equal(moved[:, :2], plain[:, :2])


def coin_flip_pen(model):
    """The window at 0.5 characters a step (steer_window) and e = 0.5 at every step: unsteered,
    a line lifts the pen about once a character."""
    model = steer_window(model, 0.5, pen_up=False)
    with torch.no_grad():
        model.network.output.weight[0].zero_()
        model.network.output.bias[0] = 0.0
    return model


def lifting_prime(text: str, lifts_per_char: float) -> Prime:
    """A straight prime the steered window reads exactly (2U + 2 points), lifting the pen
    `lifts_per_char` times a written character (spaces left out), evenly."""
    points = 2 * len(text) + 2
    offsets = np.zeros((points, 3), np.float32)
    offsets[:, 0] = 1.0
    lifts = max(1, round(lifts_per_char * len(text.replace(" ", ""))))
    offsets[np.linspace(points - 1, 0, lifts, endpoint=False).astype(int), 2] = 1.0
    return Prime(offsets, text)


def lifts_per_char(lines, texts) -> float:
    return sum(float(line[:, 2].sum()) for line in lines) / sum(len(t.replace(" ", "")) for t in texts)


def test_lines_lift_the_pen_as_often_as_their_prime(tiny):
    """Unsteered, about a lift a character (two steps at e = 0.5), spaces included: 1.2 a written
    character in these texts (25 of their 30 characters are written). Primed with a hand that
    lifts once in ten characters the steer holds e near 1 / (1 + e^1.5) = 0.18 on letters, about
    0.56 lifts a written character with the spaces' own; with one that lifts twice a character,
    near 0.82 (about 1.84)."""
    model = coin_flip_pen(tiny.load())
    texts = ["the quick brown fox jumps over", "a lazy dog by the old mill pond"] * 3
    prime_text = "abcdefghij klmnopqrs"
    rates = {}
    for name, rate in (("cursive", 0.1), ("print", 2.0)):
        prime = lifting_prime(prime_text, rate)
        assert abs(lift_rate(prime.hand_lines) - rate) < 0.06
        steered = write_lines(model, texts, seed=0, prime=prime, match_lifts=True)
        assert steered.prime.mismatch(model.network.config.steps_per_char) is None
        rates[name] = lifts_per_char(steered.lines, texts)
        rates[name + " unsteered"] = lifts_per_char(write_lines(model, texts, seed=0, prime=prime).lines, texts)
    assert 0.9 < rates["cursive unsteered"] < 1.5 and 0.9 < rates["print unsteered"] < 1.5, rates
    assert rates["cursive"] < 0.8 < 1.6 < rates["print"], rates


def test_no_steer_for_ink_whose_text_does_not_match(tiny):
    """9 points of a 20-character text: the window reads 4 characters, the reading says so, and
    the lines come out exactly as without matching."""
    model = coin_flip_pen(tiny.load())
    prime = lifting_prime("abcdefghij klmnopqrs", 2.0)
    prime = Prime(prime.offsets[:9], prime.text)
    steered = write_lines(model, ["hello there"], seed=1, prime=prime, match_lifts=True)
    assert steered.prime.mismatch(model.network.config.steps_per_char) is not None
    plain = write_lines(model, ["hello there"], seed=1, prime=prime)
    np.testing.assert_array_equal(steered.lines[0], plain.lines[0])


class Sampled(Exception):
    """Raised by the spy in place of sampling."""


def matched_lifts(monkeypatch, model, **options) -> bool:
    """What write_page asks write_lines for: match_lifts or not."""
    from hwcli.generate import page

    def spy(*args, match_lifts=False, **kwargs):
        raise Sampled(match_lifts)

    monkeypatch.setattr(page, "write_lines", spy)
    try:
        page.write_page("hello", model=model, seed=0, **options)
    except Sampled as asked:
        return asked.args[0]
    raise AssertionError("write_page did not sample")


def test_only_a_style_of_your_own_ink_is_steered(tiny, monkeypatch):
    model = tiny.load()
    ink = str(Path(__file__).parent / "fixtures" / "styles" / "hi.json")
    assert matched_lifts(monkeypatch, model, style=ink) is True
    assert matched_lifts(monkeypatch, model, style=ink, match_style=False) is False
    assert matched_lifts(monkeypatch, model, style="none") is False
    assert matched_lifts(monkeypatch, model, style=f"line:{tiny.line_id}") is True  # a dataset line is ink too
    shipped = store.load(None, "synthesis")  # the built-in styles are the shipped model's
    assert matched_lifts(monkeypatch, shipped, style="upright") is False  # written as the model writes it
    assert matched_lifts(monkeypatch, shipped) is False  # the default style, built in too
