"""Page layout: wrap text into lines, then set the generated lines on a page.

The synthesis network writes one line at a time (section 5 of the paper
trains and samples single lines), and each line drifts its own way: its
baseline slopes up or down and starts at its own height. `place_lines`
straightens every line on its own baseline, aligns the left edges and stacks
the lines at an even pitch, so a page looks ruled.

numpy only; strokes as in hwcli/data/ink.py (list of (n, 2) arrays, y up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwcli.data.ink import as_points
from hwcli.errors import UsageError

# Baseline estimate: the line is cut into windows this many line heights wide
# (about two letters), and each window's lower ink is summarised by this
# percentile of y. Letters dwell at the bottom of their curves, so the 10th
# percentile sits close to the baseline; descenders (g, p, y) pull a few
# windows down, and the robust (Theil-Sen) fit through the windows ignores
# them as long as they are fewer than about a quarter of the windows.
BASELINE_WINDOW_HEIGHTS = 1.5
BASELINE_PERCENTILE = 10.0
# Fewer windows than this give no trustworthy slope: the line is kept level
# and only its offset is removed (a word or two).
MIN_WINDOWS_FOR_SLOPE = 3
# A window needs a few points for a percentile to mean anything.
MIN_POINTS_PER_WINDOW = 3
# The line height unit: the 10-90% range of y of the ink, close to the
# x-height and untouched by the few points of ascenders and descenders.
HEIGHT_PERCENTILES = (10.0, 90.0)
# Baseline to baseline, in line heights: lower-case letters take about one,
# ascenders and descenders about one more between them, and the rest is air.
DEFAULT_LINE_SPACING = 3.0


@dataclass(frozen=True)
class LineBox:
    """Where one line ended up on the page, in ink units, y up."""

    left: float
    bottom: float
    right: float
    top: float
    baseline: float  # y of the line's baseline after placement


def wrap_text(text: str, width_chars: int) -> list[str]:
    """Split text into lines of at most `width_chars` characters.

    A newline in the text always breaks the line (a blank line stays as an
    empty string); longer lines break at spaces; a single word longer than
    the width stays whole on a line of its own. Runs of spaces between words
    collapse to one; blank lines before the first and after the last line of
    text are dropped.
    """
    if not isinstance(width_chars, int) or width_chars < 1:
        raise UsageError(
            f"line width must be a whole number of characters >= 1, not {width_chars!r}"
        )
    lines: list[str] = []
    for paragraph in text.strip().splitlines():
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        current = words[0]
        for word in words[1:]:
            if len(current) + 1 + len(word) <= width_chars:
                current += " " + word
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines


def place_lines(
    lines_of_strokes: list[list[np.ndarray]],
    line_spacing: float = DEFAULT_LINE_SPACING,
    margin_left: float = 0.0,
    *,
    line_height: float | None = None,
    straighten: bool = True,  # False: keep each line's slope, align only its start
) -> tuple[list[np.ndarray], list[LineBox]]:
    """Set independently generated lines on one page.

    Each line is rotated so its estimated baseline is level, moved so the
    baseline is at y = -k * pitch (k = 0, 1, ... from the top; y up, so the
    page grows downwards from y = 0) and its leftmost ink is at x =
    `margin_left`. pitch = `line_spacing` * line height, the line height
    being estimated from all the lines together (10-90% range of y) unless
    given. An empty line (no strokes) keeps its place on the page, blank.

    Returns (the page's strokes, in line order, and one LineBox per line).
    """
    if not np.isfinite(line_spacing) or line_spacing <= 0:
        raise UsageError(f"line spacing must be a positive number, not {line_spacing}")
    lines = [
        [as_points(s) for s in strokes if len(s)]
        for strokes in lines_of_strokes
    ]
    levelled = [level(strokes, rotate=straighten) if strokes else [] for strokes in lines]
    if line_height is None:
        line_height = _line_height(levelled)
    elif not np.isfinite(line_height) or line_height <= 0:
        raise UsageError(f"line height must be a positive number, not {line_height}")
    pitch = line_spacing * line_height

    page: list[np.ndarray] = []
    boxes: list[LineBox] = []
    for k, strokes in enumerate(levelled):
        baseline = -k * pitch
        if not strokes:
            blank = (margin_left, baseline, margin_left, baseline, baseline)
            boxes.append(LineBox(*map(float, blank)))
            continue
        points = np.concatenate(strokes)  # (N, 2)
        shift = np.array([margin_left - points[:, 0].min(), baseline])
        placed = [s + shift for s in strokes]
        page.extend(placed)
        low, high = points.min(0) + shift, points.max(0) + shift
        boxes.append(LineBox(*map(float, (low[0], low[1], high[0], high[1], baseline))))
    return page, boxes


def estimate_baseline(points: np.ndarray, height: float | None = None) -> tuple[float, float]:
    """Robust straight baseline y = intercept + slope * x through the lower ink of one line.

    The line is cut into windows along x; each window gives (median x, low
    percentile of y); a Theil-Sen fit (median of pairwise slopes, then the
    median intercept) goes through those. Returns (slope, intercept).
    """
    points = as_points(points)
    if height is None:
        height = _spread(points[:, 1])
    x = points[:, 0]
    width = x.max() - x.min()
    window = BASELINE_WINDOW_HEIGHTS * height if height > 0 else width / 8
    count = int(np.ceil(width / window)) if window > 0 else 1
    edges = np.linspace(x.min(), x.max(), max(count, 1) + 1)
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    xs, ys = [], []
    for w in range(len(edges) - 1):
        inside = index == w
        if inside.sum() >= MIN_POINTS_PER_WINDOW:
            xs.append(np.median(x[inside]))
            ys.append(np.percentile(points[inside, 1], BASELINE_PERCENTILE))
    if len(xs) < MIN_WINDOWS_FOR_SLOPE:
        return 0.0, float(np.percentile(points[:, 1], BASELINE_PERCENTILE))
    xs, ys = np.array(xs), np.array(ys)
    i, j = np.triu_indices(len(xs), k=1)
    dx = xs[j] - xs[i]
    usable = dx > 0
    slope = float(np.median((ys[j] - ys[i])[usable] / dx[usable])) if usable.any() else 0.0
    intercept = float(np.median(ys - slope * xs))
    return slope, intercept


def level(strokes: list[np.ndarray], rotate: bool = True) -> list[np.ndarray]:
    """Rotate a line so its baseline is horizontal and lies on y = 0.

    With `rotate` False the slope is left alone: only the baseline's height
    (at the line's start) is moved to y = 0.
    """
    points = np.concatenate(strokes)  # (N, 2)
    slope, intercept = estimate_baseline(points)
    if not rotate:
        return [s - [0.0, intercept + slope * points[:, 0].min()] for s in strokes]
    theta = np.arctan(slope)
    cos, sin = np.cos(theta), np.sin(theta)
    # Rotating by -theta about the origin takes the baseline y = c + s x to the
    # level line y = c cos(theta): rotation keeps the letters' shapes, where
    # subtracting s x (a shear) would change their slant.
    rotation = np.array([[cos, -sin], [sin, cos]])  # row vectors: p @ R = R(-theta) p
    offset = np.array([0.0, intercept * cos])
    return [s @ rotation - offset for s in strokes]


def _line_height(lines: list[list[np.ndarray]]) -> float:
    """The 10-90% range of y over the ink of all lines, each already on y = 0."""
    ys = [s[:, 1] for strokes in lines for s in strokes]
    height = _spread(np.concatenate(ys)) if ys else 0.0
    if height > 0:
        return height
    # Flat ink (a dash, dots on one row): fall back to its width, then to 1.
    xs = [s[:, 0] for strokes in lines for s in strokes]
    width = float(np.ptp(np.concatenate(xs))) if xs else 0.0
    return width if width > 0 else 1.0


def _spread(values: np.ndarray) -> float:
    low, high = np.percentile(values, HEIGHT_PERCENTILES)
    return float(high - low)
