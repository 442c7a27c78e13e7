"""Ink -> SVG: one smooth path per pen stroke, for browsers, editors and pen plotters.

* Each stroke is one <path>: quadratic Bezier segments through the midpoints
  of consecutive points, with the points as control points, so the curve is
  smooth (tangent-continuous) and still passes through the first and last
  points. A one-point stroke becomes a dot: a tiny segment whose round caps
  draw a disc of the stroke's width.
* Stroke only: fill="none", round caps and joins, the style on every path
  and no groups or transforms, so vpype / AxiDraw see one path per stroke.
* y is flipped in the coordinates (ink has y up, SVG y down) and the viewBox
  is the ink's extent plus a margin; `page_width_mm` gives the picture a
  physical size, the height following the aspect ratio (else a pixel size
  that makes a letter LETTER_PX tall).
* `animate=True` adds CSS that draws the strokes in writing order: each path
  has pathLength="1", is dashed away, and un-dashes over a time proportional
  to its length, starting when the strokes before it have been drawn.
  Viewers without CSS animation (plotters, most editors) see the finished ink.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np

from hwcli.atomic import atomic_write
from hwcli.config import DEFAULT_MARGIN_LETTERS
from hwcli.data.ink import as_points
from hwcli.errors import DataError, UsageError

# Default pen width as a fraction of the ink's letter size (the median extent
# of a stroke): a 0.5 mm pen on letters about 8 mm tall.
STROKE_WIDTH_PER_LETTER = 0.06
# Default margin around the ink, in letter sizes (hwcli.config, the one source of defaults).
MARGIN_LETTERS = DEFAULT_MARGIN_LETTERS
# Without a physical size, the picture's pixel size puts a letter at this
# many pixels: readable on a screen, a page of 60-letter lines ~2000 px wide.
LETTER_PX = 32.0
# Writing speed of the animation: letter sizes of pen travel per second
# (about three letters a second, a little over three letter sizes of trace each).
ANIMATION_LETTERS_PER_SECOND = 10.0
# Coordinates are written to this fraction of the ink's extent: far below
# what any screen or plotter resolves, and it keeps the file small.
RESOLUTION = 1e-5
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
ANIMATION_CSS = """
.hw-stroke {
  stroke-dasharray: 1 1;
  animation-name: hw-write;
  animation-timing-function: linear;
  animation-fill-mode: both;
}
@keyframes hw-write {
  from { stroke-dashoffset: 1; stroke-opacity: 0; }
  0.01% { stroke-opacity: 1; }
  to { stroke-dashoffset: 0; stroke-opacity: 1; }
}
@media (prefers-reduced-motion: reduce) {
  .hw-stroke { animation: none; stroke-dasharray: none; }
}
"""


def svg_string(
    strokes: list[np.ndarray],
    *,
    stroke_width: float | None = None,
    color: str = "black",
    margin: float | None = None,
    page_width_mm: float | None = None,
    animate: bool = False,
    duration_s: float | None = None,
    min_letter: float | None = None,
) -> str:
    """The <svg> element for `strokes` (list of (n, 2) arrays, y up), as text.

    No XML declaration, so it can go inline into HTML; write_svg adds one.

    stroke_width and margin are in ink units; None picks them from the ink's
    letter size. duration_s is the animation's total time (None: a steady
    writing speed). min_letter (ink units) is the smallest letter size to
    assume: ink of only a full stop or a dash would otherwise be scaled up to
    the height of a letter (the writer's model knows its letter size:
    generate/page.py).
    """
    import svgwrite

    strokes = [as_points(s) for s in strokes]
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        raise DataError("nothing to draw: the ink has no strokes")
    points = np.concatenate(strokes)  # (N, 2)
    if not np.isfinite(points).all():
        raise DataError("cannot draw ink with a point that is not a finite number")
    size = letter_size(strokes, min_letter)
    if stroke_width is None:
        stroke_width = STROKE_WIDTH_PER_LETTER * size
    if margin is None:
        margin = MARGIN_LETTERS * size + stroke_width
    _check_positive("stroke width", stroke_width)
    _check_positive("margin", margin, allow_zero=True)
    if page_width_mm is not None:
        _check_positive("page width", page_width_mm)
    if duration_s is not None:
        _check_positive("animation duration", duration_s)

    low, high = points.min(0), points.max(0)
    width, height = high - low + 2 * margin
    if width <= 0 or height <= 0:  # one dot and no margin: give it room for its caps
        margin += stroke_width
        width, height = high - low + 2 * margin
    decimals = max(0, math.ceil(-math.log10(RESOLUTION * max(width, height))))
    fmt = _formatter(decimals)
    # Rounded outwards to the printed precision, so the rounded path coordinates stay inside.
    step = 10.0**-decimals
    x0, y0 = (math.floor(v / step) * step for v in (low[0] - margin, -high[1] - margin))
    x1, y1 = (math.ceil(v / step) * step for v in (high[0] + margin, -low[1] + margin))
    view_box = " ".join(fmt(v) for v in (x0, y0, x1 - x0, y1 - y0))

    if page_width_mm is None:  # screen size: letters LETTER_PX tall, whatever the ink's units
        px = LETTER_PX / size
        drawing_size = (f"{width * px:.6g}", f"{height * px:.6g}")
    else:
        drawing_size = (f"{page_width_mm:g}mm", f"{page_width_mm * height / width:.6g}mm")
    drawing = svgwrite.Drawing(size=drawing_size, viewBox=view_box, profile="full", debug=False)

    lengths = np.array([_length(s) for s in strokes])
    if animate:
        drawing.defs.add(drawing.style(ANIMATION_CSS))
        total = lengths.sum()
        if duration_s is None:
            duration_s = max(total / (ANIMATION_LETTERS_PER_SECOND * size), 0.1)
        seconds_per_unit = duration_s / total if total > 0 else 0.0
        starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]]) * seconds_per_unit

    dot = 10 ** -decimals  # the shortest segment the formatting keeps
    for index, stroke in enumerate(strokes):
        path = drawing.path(
            d=path_data(stroke * [1.0, -1.0], fmt, dot),
            fill="none",
            stroke=color,
            stroke_width=f"{stroke_width:.6g}",
            stroke_linecap="round",
            stroke_linejoin="round",
        )
        if animate:
            path["class"] = "hw-stroke"
            path["pathLength"] = "1"
            path["style"] = (
                f"animation-delay:{starts[index]:.3f}s;"
                f"animation-duration:{lengths[index] * seconds_per_unit:.3f}s"
            )
        drawing.add(path)
    return drawing.tostring()


def write_svg(
    path: str | os.PathLike,
    strokes: list[np.ndarray],
    *,
    stroke_width: float | None = None,
    color: str = "black",
    margin: float | None = None,
    page_width_mm: float | None = None,
    animate: bool = False,
    duration_s: float | None = None,
    min_letter: float | None = None,
) -> None:
    """Write the ink as a standalone SVG file (see svg_string), atomically."""
    content = svg_string(
        strokes,
        stroke_width=stroke_width,
        color=color,
        margin=margin,
        page_width_mm=page_width_mm,
        animate=animate,
        duration_s=duration_s,
        min_letter=min_letter,
    )
    with atomic_write(Path(path), "w") as handle:
        handle.write(XML_DECLARATION + content + "\n")


def path_data(points: np.ndarray, fmt=None, dot: float = 1e-3) -> str:
    """SVG path data through `points` (SVG coordinates): M, then Q through midpoints.

    Segment i runs from the midpoint of (p[i-1], p[i]) to the midpoint of
    (p[i], p[i+1]) with p[i] as its control point; the first starts at p[0]
    and a final L reaches the last point.
    """
    fmt = fmt or _formatter(3)
    points = as_points(points)
    xy = lambda p: f"{fmt(p[0])} {fmt(p[1])}"  # noqa: E731
    first = points[0]
    if len(points) == 1:
        return f"M{xy(first)} h{fmt(dot)}"
    if len(points) == 2:
        return f"M{xy(first)} L{xy(points[1])}"
    middles = (points[1:-1] + points[2:]) / 2  # (n-2, 2)
    parts = [f"M{xy(first)}"]
    parts += [f"Q{xy(c)} {xy(m)}" for c, m in zip(points[1:-1], middles)]
    parts.append(f"L{xy(points[-1])}")
    return " ".join(parts)


def letter_size(strokes: list[np.ndarray], min_letter: float | None = None) -> float:
    """The ink's scale: the median extent (larger side) of its multi-point strokes, and at
    least `min_letter` when given.

    Strokes are roughly letters or letter parts, so this tracks the writing's
    size whatever its units; 1.0 when the ink is only dots (or `min_letter`).
    """
    extents = [np.ptp(as_points(s), axis=0).max() for s in strokes if len(s) > 1]
    extents = [e for e in extents if e > 0]
    size = float(np.median(extents)) if extents else None
    if min_letter is not None and min_letter > 0 and math.isfinite(min_letter):
        return max(size or 0.0, float(min_letter))
    return size if size is not None else 1.0


def _length(stroke: np.ndarray) -> float:
    return float(np.hypot(*np.diff(stroke, axis=0).T).sum()) if len(stroke) > 1 else 0.0


def _formatter(decimals: int):
    def fmt(value: float) -> str:
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text

    return fmt


def _check_positive(name: str, value, allow_zero: bool = False) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise UsageError(f"{name} must be a number {bound}, not {value!r}")
