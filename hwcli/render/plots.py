"""Figures for `hw inspect`, as SVG (svgwrite, no plotting library).

* The soft window of the synthesis network (paper section 5, eq. 46-47):
  the weights phi(t, u) of every character u at every time step t as a heat
  map, the text's characters down the side, time along the bottom, with the
  handwriting below it (the paper's Fig. 13).
* Optionally the density of the next pen position (the mixture of eq. 23)
  over the page, as a heat map under the strokes (the paper's Fig. 10).

A figure is drawn in pixels: ink coordinates are mapped to pixels here,
y flipped, so the file has no transforms except for the rotated axis title.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from hwcli.atomic import atomic_write
from hwcli.data.ink import as_points
from hwcli.errors import DataError, UsageError
from hwcli.render.svg import XML_DECLARATION, path_data

# Heat colours: white for zero, through yellow, orange and red to a dark red
# (a sequential map like ColorBrewer's YlOrRd), so empty cells need no
# drawing and a page of white stays white.
HEAT_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
HEAT_RGB = np.array(
    [
        [255, 255, 255],
        [255, 237, 160],
        [254, 153, 41],
        [215, 48, 31],
        [103, 0, 13],
    ],
    dtype=np.float64,
)
# Cells below this fraction of the maximum are left white: invisible anyway,
# and skipping them keeps files small (phi and the density are both sparse).
MIN_VISIBLE = 0.01
# At most this many time columns in the heat map: longer samples are pooled
# (mean over neighbouring steps), a column stays wider than a pixel.
MAX_TIME_COLUMNS = 400
FIGURE_WIDTH_PX = 900
LABEL_COLUMN_PX = 56
PAD_PX = 12
AXIS_PX = 34  # below the heat map: tick labels and the axis title
MAX_ROW_PX, MIN_ROW_PX = 14.0, 4.0
MAX_INK_HEIGHT_PX = 600.0
FONT = "sans-serif"
GREY = "#777777"


def heat_colors(values: np.ndarray) -> list[str]:
    """Colours "#rrggbb" for values in [0, 1] (clipped), by linear interpolation of HEAT_RGB."""
    values = np.clip(np.asarray(values, dtype=np.float64).ravel(), 0.0, 1.0)
    channels = [np.interp(values, HEAT_STOPS, HEAT_RGB[:, c]) for c in range(3)]
    rgb = np.rint(np.stack(channels, axis=1)).astype(int)  # (n, 3)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb]


def attention_svg_string(
    strokes: list[np.ndarray],
    phi: np.ndarray,
    text: str,
    density: tuple[np.ndarray, tuple[float, float, float, float]] | None = None,
) -> str:
    """The attention figure as an <svg> element (text).

    strokes: the sample (list of (n, 2) arrays, y up). phi: (T, U) window
    weights, U == len(text). density: optional (grid, extent) where grid is
    (ny, nx) and extent (x_min, x_max, y_min, y_max) in ink units; row 0 of
    the grid is the bottom (lowest y), as with matplotlib's origin="lower".
    """
    import svgwrite

    phi = np.asarray(phi, dtype=np.float64)
    if phi.ndim != 2 or phi.shape[0] == 0:
        raise UsageError(f"phi must be a (T, U) array with T >= 1, not of shape {phi.shape}")
    if phi.shape[1] != len(text):
        raise UsageError(
            f"phi has {phi.shape[1]} characters (columns) but the text {text!r} has {len(text)}"
        )
    if not np.isfinite(phi).all():
        raise DataError("phi holds values that are not finite numbers; the sample is broken")
    strokes = [as_points(s) for s in strokes]
    strokes = [s for s in strokes if len(s)]
    if density is not None:
        density = _check_density(density)

    width = FIGURE_WIDTH_PX
    plot_left, plot_width = LABEL_COLUMN_PX, width - LABEL_COLUMN_PX - PAD_PX
    steps, characters = phi.shape  # (T, U)
    row = min(MAX_ROW_PX, max(MIN_ROW_PX, 360.0 / max(characters, 1)))
    heat_top = PAD_PX + 16  # room for the title
    heat_height = row * characters
    ink_top = heat_top + heat_height + AXIS_PX + 28

    ink_box, scale, ink_height = _ink_frame(strokes, density, plot_width)
    height = ink_top + ink_height + PAD_PX
    drawing = svgwrite.Drawing(
        size=(f"{width}", f"{_r(height)}"),
        viewBox=f"0 0 {width} {_r(height)}",
        profile="full",
        debug=False,
    )
    drawing.add(drawing.rect((0, 0), (width, _r(height)), fill="white"))

    # -- the window weights: characters down, time across
    _title(drawing, "attention window \u03c6(t, u)", plot_left, heat_top - 6)
    columns = min(steps, MAX_TIME_COLUMNS)
    edges = np.linspace(0, steps, columns + 1).round().astype(int)
    pooled = np.add.reduceat(np.clip(phi, 0, None), edges[:-1], axis=0)  # (C, U)
    pooled /= np.diff(edges)[:, None]
    peak = pooled.max()
    cell = plot_width / columns
    if peak > 0:
        shown = np.argwhere(pooled >= MIN_VISIBLE * peak)  # (k, 2): column, character
        colours = heat_colors(pooled[shown[:, 0], shown[:, 1]] / peak)
        for (c, u), colour in zip(shown, colours):
            drawing.add(
                drawing.rect(
                    (_r(plot_left + c * cell), _r(heat_top + u * row)),
                    (_r(cell + 0.05), _r(row + 0.05)),  # overlap a hair: no seams
                    fill=colour,
                )
            )
    drawing.add(
        drawing.rect(
            (plot_left, _r(heat_top)), (plot_width, _r(heat_height)),
            fill="none", stroke=GREY, stroke_width=0.8,
        )
    )
    label_every = max(1, math.ceil(8.0 / row))  # keep labels at least 8 px apart
    font_size = min(12.0, max(row * 0.85, 7.0))
    for u in range(0, characters, label_every):
        shown_char = "\u2423" if text[u] == " " else text[u]  # ␣ for a space
        drawing.add(
            drawing.text(
                shown_char,
                insert=(plot_left - 5, _r(heat_top + (u + 0.5) * row + font_size * 0.35)),
                text_anchor="end", font_size=_r(font_size), font_family="monospace",
            )
        )
    axis_y = heat_top + heat_height
    for t in _ticks(steps):
        x = plot_left + plot_width * t / steps
        drawing.add(drawing.line((_r(x), _r(axis_y)), (_r(x), _r(axis_y + 4)), stroke=GREY))
        drawing.add(
            drawing.text(
                str(t), insert=(_r(x), _r(axis_y + 15)),
                text_anchor="middle", font_size=10, font_family=FONT,
            )
        )
    drawing.add(
        drawing.text(
            "time step t", insert=(_r(plot_left + plot_width / 2), _r(axis_y + AXIS_PX - 4)),
            text_anchor="middle", font_size=11, font_family=FONT,
        )
    )
    label_x, label_y = 14, heat_top + heat_height / 2
    drawing.add(
        drawing.text(
            "character u", insert=(label_x, _r(label_y)), text_anchor="middle",
            font_size=11, font_family=FONT, transform=f"rotate(-90 {label_x} {_r(label_y)})",
        )
    )

    # -- the handwriting, over the density when there is one
    title = "sample over the density of the next point" if density is not None else "sample"
    _title(drawing, title, plot_left, ink_top - 8)
    (x_min, x_max, y_min, y_max) = ink_box
    to_px = lambda xy: np.column_stack(  # noqa: E731  ink (y up) -> figure pixels (y down)
        (plot_left + (xy[:, 0] - x_min) * scale, ink_top + (y_max - xy[:, 1]) * scale)
    )
    if density is not None:
        _draw_density(drawing, density, to_px, scale)
    pen = max(1.0, min(2.0, 0.004 * plot_width))
    for stroke in strokes:
        drawing.add(
            drawing.path(
                d=path_data(to_px(stroke), _r, dot=0.01),
                fill="none", stroke="black", stroke_width=_r(pen),
                stroke_linecap="round", stroke_linejoin="round",
            )
        )
    return drawing.tostring()


def attention_svg(
    path: str | os.PathLike,
    strokes: list[np.ndarray],
    phi: np.ndarray,
    text: str,
    density: tuple[np.ndarray, tuple[float, float, float, float]] | None = None,
) -> None:
    """Write the attention figure (see attention_svg_string) to `path`, atomically."""
    content = attention_svg_string(strokes, phi, text, density)
    with atomic_write(Path(path), "w") as handle:
        handle.write(XML_DECLARATION + content + "\n")


def _check_density(density):
    try:
        grid, extent = density
    except (TypeError, ValueError) as error:
        raise UsageError("density must be a pair (grid, (x_min, x_max, y_min, y_max))") from error
    grid = np.asarray(grid, dtype=np.float64)
    extent = tuple(float(v) for v in extent)
    if grid.ndim != 2 or grid.size == 0:
        raise UsageError(
            f"the density grid must be a non-empty 2-D array, not of shape {grid.shape}"
        )
    if len(extent) != 4 or not all(map(math.isfinite, extent)):
        raise UsageError(f"the density extent must be 4 finite numbers, not {extent}")
    if extent[1] <= extent[0] or extent[3] <= extent[2]:
        raise UsageError(f"the density extent {extent} is empty: need x_min < x_max, y_min < y_max")
    if not np.isfinite(grid).all():
        raise DataError("the density grid holds values that are not finite numbers")
    return grid, extent


def _ink_frame(strokes, density, plot_width):
    """The ink area (union of the strokes and the density extent), its scale and pixel height."""
    boxes = []
    if strokes:
        points = np.concatenate(strokes)
        boxes.append((*points.min(0), *points.max(0)))  # x0, y0, x1, y1
    if density is not None:
        x0, x1, y0, y1 = density[1]
        boxes.append((x0, y0, x1, y1))
    if not boxes:
        return (0.0, 1.0, 0.0, 1.0), 1.0, 40.0
    boxes = np.array(boxes)
    x_min, y_min = boxes[:, :2].min(0)
    x_max, y_max = boxes[:, 2:].max(0)
    span_x, span_y = max(x_max - x_min, 1e-9), max(y_max - y_min, 1e-9)
    scale = min(plot_width / span_x, MAX_INK_HEIGHT_PX / span_y)
    return (x_min, x_max, y_min, y_max), scale, span_y * scale


def _draw_density(drawing, density, to_px, scale):
    grid, (x0, x1, y0, y1) = density
    ny, nx = grid.shape
    dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
    # Square root: the mixture is sharply peaked, and its tails show where
    # the other components put their weight.
    values = np.sqrt(np.clip(grid, 0, None))
    peak = values.max()
    if peak <= 0:
        return
    shown = np.argwhere(values >= MIN_VISIBLE * peak)  # (k, 2): row i (y), column j (x)
    colours = heat_colors(values[shown[:, 0], shown[:, 1]] / peak)
    corners = np.column_stack((x0 + shown[:, 1] * dx, y0 + (shown[:, 0] + 1) * dy))
    corners = to_px(corners)  # top-left corners in pixels
    w, h = _r(dx * scale + 0.05), _r(dy * scale + 0.05)
    for (px, py), colour in zip(corners, colours):
        drawing.add(drawing.rect((_r(px), _r(py)), (w, h), fill=colour))


def _title(drawing, text, x, y):
    drawing.add(
        drawing.text(text, insert=(x, _r(y)), font_size=12, font_family=FONT, fill="#333333")
    )


def _ticks(steps: int) -> list[int]:
    """Round tick positions 0, step, 2 step, ... < steps, about 5 to 10 of them."""
    raw = max(steps / 8.0, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, steps, int(step))) or [0]


def _r(value: float) -> str:
    """Pixels to two decimals, without trailing zeros."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
