"""Simple measures of a hand, for telling writers apart: slant, letter width against body height,
pen lifts per character, roundness, ascender and descender reach, pen travel per character.

Every figure is relative to the body height (the 10-90% range of y), so units and size do not
matter, and is taken on the line levelled (hwcli.render.layout.level): a line that climbs across
a whiteboard has a taller 10-90% range of y, which would change every figure, and `hw` lays its
own lines out level. bench/priming.py ranks writers by the distance between these figures.
"""

from __future__ import annotations

import numpy as np

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


def ranks(queries: dict[str, np.ndarray], profiles: dict[str, np.ndarray], scale: np.ndarray) -> dict[str, int]:
    """Each query's true writer's rank (1 = closest) among all profiles, by z-scored distance."""
    names = list(profiles)
    table = np.stack([profiles[n] for n in names]) / scale
    out = {}
    for writer, query in queries.items():
        distance = np.linalg.norm(table - query / scale, axis=1)
        out[writer] = int((distance < distance[names.index(writer)]).sum()) + 1
    return out
