"""Ink forms (hwcli/data/ink.py): stroke-3 offsets both ways, and recording-error repair."""

import numpy as np
import pytest

from hwcli.data.ink import (
    MAX_PEN_DOWN_STEP,
    offsets_to_strokes,
    remove_recording_errors,
    strokes_to_offsets,
)


def test_offsets_by_hand():
    strokes = [np.array([[0, 0], [3, 4]]), np.array([[10, 0], [10, 1], [12, 1]])]
    expected = np.array(
        [
            [0, 0, 0],  # each line starts at its own first point
            [3, 4, 1],  # end of the first stroke
            [7, -4, 0],  # the pen-up move to the next stroke
            [0, 1, 0],
            [2, 0, 1],
        ],
        np.float32,
    )
    offsets = strokes_to_offsets(strokes)
    assert offsets.dtype == np.float32
    np.testing.assert_array_equal(offsets, expected)


def test_round_trip_random_strokes():
    rng = np.random.default_rng(0)
    strokes = [rng.integers(-2000, 2000, size=(n, 2)).astype(np.float64) for n in (1, 5, 2, 17)]
    back = offsets_to_strokes(strokes_to_offsets(strokes), origin=strokes[0][0])
    assert [len(s) for s in back] == [len(s) for s in strokes]
    for a, b in zip(back, strokes):
        np.testing.assert_allclose(a, b)
    # Points back from offsets are the cumulative sum, starting at the origin.
    offsets = strokes_to_offsets(strokes)
    np.testing.assert_allclose(np.cumsum(offsets[:, :2], 0) + strokes[0][0], np.concatenate(strokes))


def test_empty_and_unfinished():
    assert strokes_to_offsets([]).shape == (0, 3)
    assert strokes_to_offsets([np.zeros((0, 2))]).shape == (0, 3)
    assert offsets_to_strokes(np.zeros((0, 3))) == []
    # Sampling may stop mid-stroke: the trailing points still form a stroke.
    open_end = np.array([[0, 0, 0], [1, 1, 1], [2, 0, 0], [1, 0, 0]], np.float32)
    strokes = offsets_to_strokes(open_end)
    assert [len(s) for s in strokes] == [2, 2]
    np.testing.assert_allclose(strokes[1], [[3, 1], [4, 1]])


def test_clean_strokes_are_untouched():
    strokes = [np.array([[0, 0], [100, 0], [200, 50]]), np.array([[2000, 0], [2010, 5]])]
    repaired, repairs = remove_recording_errors(strokes)
    assert repairs == 0
    assert len(repaired) == 2
    for a, b in zip(repaired, strokes):
        np.testing.assert_array_equal(a, b)


def test_a_stray_point_is_deleted():
    stroke = np.array([[0, 0], [10, 0], [15, 800], [20, 0], [30, 0]], float)
    repaired, repairs = remove_recording_errors([stroke])
    assert repairs == 1
    assert len(repaired) == 1
    np.testing.assert_array_equal(repaired[0], [[0, 0], [10, 0], [20, 0], [30, 0]])


def test_a_jump_splits_the_stroke():
    # The pen stays far away after the jump: not a stray point, so both parts survive.
    stroke = np.array([[0, 0], [10, 0], [700, 0], [710, 0], [720, 5]], float)
    repaired, repairs = remove_recording_errors([stroke])
    assert repairs == 1
    assert [len(s) for s in repaired] == [2, 3]
    np.testing.assert_array_equal(np.concatenate(repaired), stroke)


def test_a_jump_at_the_stroke_end_splits_it():
    stroke = np.array([[0, 0], [10, 0], [20, 0], [900, 0]], float)
    repaired, repairs = remove_recording_errors([stroke])
    assert repairs == 1
    assert [len(s) for s in repaired] == [3, 1]


def test_threshold_is_strict_and_configurable():
    at_limit = np.array([[0, 0], [MAX_PEN_DOWN_STEP, 0]])
    assert remove_recording_errors([at_limit])[1] == 0
    assert remove_recording_errors([at_limit], max_step=MAX_PEN_DOWN_STEP - 1)[1] == 1


@pytest.mark.parametrize("n_spikes", [1, 2])
def test_offsets_after_repair_hold_no_long_pen_down_step(n_spikes):
    stroke = np.array([[0, 0], [10, 0], [10, 900], [20, 0], [30, 0], [30, -900], [40, 0]][: 4 + 3 * (n_spikes - 1)], float)
    repaired, repairs = remove_recording_errors([stroke])
    assert repairs == n_spikes
    offsets = strokes_to_offsets(repaired)
    pen_down = np.ones(len(offsets), bool)
    pen_down[0] = False
    pen_down[1:] = offsets[:-1, 2] == 0  # a step is pen-down unless the previous point ended a stroke
    assert (np.hypot(offsets[pen_down, 0], offsets[pen_down, 1]) <= MAX_PEN_DOWN_STEP).all()
