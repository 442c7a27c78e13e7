"""Simple measures of a hand, for telling writers apart: slant, letter width against body height,
pen lifts per character, roundness, ascender and descender reach, pen travel per character.

Every figure is relative to the body height (the 10-90% range of y), so units and size do not
matter, and is taken on the line levelled (hwcli.render.layout.level): a line that climbs across
a whiteboard has a taller 10-90% range of y, which would change every figure, and `hw` lays its
own lines out level.

bench/priming.py ranks writers by the distance between these figures, measured against how
much one writer's lines vary (`within_writer_covariance`, `whitening`): a figure a writer keeps
from line to line (slant) tells writers apart, one that moves with the words of the line
(ascender reach) hardly does, and two figures that move together (width and pen travel) count
once. bench/style_yardstick.py measures it on real lines: a held-out line's form ranks 16 of
768 training forms (the metric fitted on the other half), where each figure divided by its
spread over all lines gives 41.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from hwcli.data.iamondb import form_of
from hwcli.data.ink import offsets_to_strokes
from hwcli.render.layout import level

NAMES = ("slant", "width_per_char", "lifts_per_char", "turning", "ascender", "descender", "travel_per_char")


def _resampled(stroke: np.ndarray, step: float) -> np.ndarray:
    lengths = np.r_[0.0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    if len(stroke) < 2 or lengths[-1] < step:
        return stroke[[0, -1]] if len(stroke) else stroke
    at = np.arange(0.0, lengths[-1], step)
    return np.column_stack([np.interp(at, lengths, stroke[:, 0]), np.interp(at, lengths, stroke[:, 1])])


def features(strokes: list[np.ndarray], text: str) -> np.ndarray:
    """Absolute strokes (y up) of one line and its text -> the figures of NAMES, on the line levelled."""
    strokes = level([np.asarray(s, np.float64) for s in strokes if len(s)])
    points = np.concatenate(strokes)
    p2, p10, p90, p98 = np.percentile(points[:, 1], [2, 10, 90, 98])
    body = max(p90 - p10, 1e-9)
    chars = max(1, len(text.replace(" ", "")))
    segments, turns, travel = [], [], 0.0
    for stroke in strokes:
        path = _resampled(stroke, body / 10)
        step = np.diff(path, axis=0)
        travel += float(np.hypot(*step.T).sum()) if len(step) else 0.0
        segments.append(step)
        if len(step) > 1:
            angle = np.arctan2(step[:, 1], step[:, 0])
            turns.append(np.abs(np.angle(np.exp(1j * np.diff(angle)))))
    step = np.concatenate(segments) if segments else np.zeros((0, 2))
    upright = np.abs(step[:, 1]) > np.abs(step[:, 0])  # near-vertical pen-down segments carry the slant
    slant = float(np.mean(step[upright, 0] / step[upright, 1])) if upright.any() else 0.0
    turning = float(np.concatenate(turns).mean()) if turns else 0.0
    width = np.ptp(points[:, 0]) / chars / body
    return np.array([slant, width, len(strokes) / chars, turning, (p98 - p90) / body, (p10 - p2) / body,
                     travel / chars / body])


def figures_by_form(data, split: int) -> dict[str, dict[int, np.ndarray]]:
    """The figures of every line of a dataset split, by form (one writer's session), by line index.
    A form stands for a writer: IAM-OnDB's line files carry no writer id."""
    forms = defaultdict(dict)
    for i in data.indices(split):
        forms[form_of(str(data.ids[i]))][int(i)] = features(offsets_to_strokes(data.line(int(i))), str(data.texts[i]))
    return dict(forms)


def within_writer_covariance(writers: list[np.ndarray]) -> np.ndarray:
    """Each writer's lines' figures (n, len(NAMES)) -> the pooled covariance of a line about its
    own writer's mean (writers with one line add nothing)."""
    deviations = [lines - lines.mean(0) for lines in writers if len(lines) >= 2]
    stacked = np.concatenate(deviations)
    return stacked.T @ stacked / (len(stacked) - len(deviations))


def whitening(covariance: np.ndarray) -> np.ndarray:
    """The symmetric matrix W with W @ covariance @ W.T = I: distances between figures mapped by
    it are Mahalanobis distances for that covariance."""
    values, vectors = np.linalg.eigh(covariance)
    return vectors @ np.diag(values**-0.5) @ vectors.T


def ranks(queries: dict[str, np.ndarray], profiles: dict[str, np.ndarray], metric: np.ndarray) -> dict[str, int]:
    """Each query's true writer's rank (1 = closest) among all profiles, by the distance between
    figures mapped by `metric` (whitening(...), or np.diag(1 / spread) for figures z-scored)."""
    names = list(profiles)
    table = np.stack([profiles[n] for n in names]) @ metric.T
    out = {}
    for writer, query in queries.items():
        distance = np.linalg.norm(table - query @ metric.T, axis=1)
        out[writer] = int((distance < distance[names.index(writer)]).sum()) + 1
    return out
