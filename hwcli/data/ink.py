"""Ink in two forms and the conversions between them.

* strokes: a list of (n, 2) float arrays of absolute pen positions, y up;
  the pen is down along each array and lifts between arrays.
* stroke-3 offsets: one (N, 3) array of rows (dx, dy, end_of_stroke), the
  paper's input vectors x_t (section 4). Row 0 holds (0, 0, e): each line
  starts at its own first point. end_of_stroke = 1 marks the last point of a
  stroke.

Also the removal of recording errors (section 4: "recording errors removed"),
whose rule and threshold are justified in docs/preprocessing.md.
"""

from __future__ import annotations

import numpy as np

# A step inside one stroke longer than this (whiteboard units, twice the
# height of a lower-case letter) is a recording error, not pen motion: the
# 99.5th percentile of the lines' largest in-stroke step is 407 and the 99.9th
# 552, while faulty lines jump 600-900 once (docs/preprocessing.md).
MAX_PEN_DOWN_STEP = 500.0


def as_points(points) -> np.ndarray:
    """Any sequence of (x, y) pairs (a list, an array, nested or flat) as an (n, 2) float64 array."""
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def strokes_to_offsets(strokes: list[np.ndarray]) -> np.ndarray:
    """Absolute strokes -> stroke-3 offsets (N, 3), float32."""
    strokes = [as_points(s) for s in strokes if len(s)]
    if not strokes:
        return np.zeros((0, 3), np.float32)
    points = np.concatenate(strokes)  # (N, 2)
    offsets = np.zeros((len(points), 3), np.float32)
    offsets[1:, :2] = np.diff(points, axis=0)
    ends = np.cumsum([len(s) for s in strokes]) - 1
    offsets[ends, 2] = 1.0
    return offsets


def offsets_to_strokes(offsets: np.ndarray, origin=(0.0, 0.0)) -> list[np.ndarray]:
    """Stroke-3 offsets -> absolute strokes, the first point at `origin`.

    A trailing stroke without an end mark is kept: sampling can stop mid-stroke.
    """
    offsets = np.asarray(offsets, dtype=np.float64)
    if len(offsets) == 0:
        return []
    points = np.cumsum(offsets[:, :2], axis=0) + np.asarray(origin, np.float64)
    ends = np.flatnonzero(offsets[:, 2] > 0.5) + 1
    return [s for s in np.split(points, ends) if len(s)]


def remove_recording_errors(strokes: list[np.ndarray], max_step: float = MAX_PEN_DOWN_STEP):
    """Repair in-stroke jumps longer than `max_step`.

    A single stray point (far from both neighbours, which are close to each
    other) is deleted; any other jump splits the stroke there, as if the pen
    had lifted, so the ink around it survives. Returns (strokes, repairs).
    """
    repaired, repairs = [], 0
    for stroke in strokes:
        stroke = np.asarray(stroke, dtype=np.float64)
        steps = np.hypot(*np.diff(stroke, axis=0).T) if len(stroke) > 1 else np.zeros(0)
        if not (steps > max_step).any():
            repaired.append(stroke)
            continue
        keep = np.ones(len(stroke), bool)
        for i in np.flatnonzero(steps > max_step) + 1:  # i: the point after the jump
            is_spike = (
                i + 1 < len(stroke)
                and steps[i] > max_step
                and np.hypot(*(stroke[i + 1] - stroke[i - 1])) <= max_step
            )
            if is_spike:
                keep[i] = False
                repairs += 1
        stroke = stroke[keep]
        steps = np.hypot(*np.diff(stroke, axis=0).T) if len(stroke) > 1 else np.zeros(0)
        cuts = np.flatnonzero(steps > max_step) + 1
        repairs += len(cuts)
        repaired.extend(part for part in np.split(stroke, cuts) if len(part))
    return repaired, repairs


def coarsen(offsets: np.ndarray, stride: int) -> np.ndarray:
    """Keep every `stride`-th point of each stroke and its last point: fewer, longer steps.

    The pen path and every pen lift survive; only the sampling density drops.
    """
    if stride <= 1 or len(offsets) == 0:
        return offsets
    kept = [s[np.unique(np.r_[np.arange(0, len(s), stride), len(s) - 1])] for s in offsets_to_strokes(offsets)]
    return strokes_to_offsets(kept)


def line_height(strokes: list[np.ndarray]) -> float:
    """10-90% range of y over every point: close to the x-height, blind to a few ascenders
    and descenders. What fits a user's ink to a model's scale (both measured this way)."""
    y = np.concatenate([s[:, 1] for s in strokes])
    low, high = np.percentile(y, [10, 90])
    return float(high - low)


def resample_in_time(stroke: np.ndarray, every: float) -> np.ndarray:
    """Points every `every` of the stroke's samples (interpolated between them; its ends kept):
    a pen's samples thinned or thickened evenly, so they stay close where the pen slowed."""
    if len(stroke) < 2:
        return stroke
    return _points_at(np.r_[np.arange(0.0, len(stroke) - 1, every), len(stroke) - 1],
                      np.arange(len(stroke), dtype=np.float64), stroke)


def resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` along the stroke's path (its ends kept)."""
    if len(stroke) < 2:
        return stroke
    lengths = np.r_[0.0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    if lengths[-1] < step:
        return stroke[[0, -1]]
    return _points_at(np.r_[np.arange(0.0, lengths[-1], step), lengths[-1]], lengths, stroke)


def _points_at(at: np.ndarray, along: np.ndarray, stroke: np.ndarray) -> np.ndarray:
    """The stroke's points interpolated at positions `at` of `along` (one value per point)."""
    return np.column_stack([np.interp(at, along, stroke[:, 0]), np.interp(at, along, stroke[:, 1])])
