"""Matching the writer's slant and letter width (issue #14): priming carries a hand's letter
forms only loosely, so after sampling, the written lines are sheared and widened to the slant
and width measured on the style's own ink.

Both hands are measured alike (glyphs.measure_writer: the length-weighted slant of upright
strokes, and the ink's width against the same text set in the glyph font at equal height),
and the change is the linear map

    x' = k * (x - s_out * y) + s_style * y,    y' = y,    k = width_style / width_out

which takes out the output's slant, scales its widths and puts in the style's slant. It is
linear, so it applies to stroke-3 offsets as they are; heights and pen lifts are untouched.
"""

from __future__ import annotations

import numpy as np

from hwcli.data.ink import offsets_to_strokes
from hwcli.generate import glyphs
from hwcli.render.layout import level

# The width change is held within this factor either way: a width measured wrongly (a line of
# capitals, a lone word) must not squash or stretch the writing past legibility.
WIDTH_RANGE = (0.75, 1.33)


def measure(lines: list[np.ndarray], texts: list[str]) -> glyphs.Writer | None:
    """One hand's slant and width from stroke-3 lines (y up) and their texts (None: too little ink)."""
    pieces = [(level(strokes), text) for offsets, text in zip(lines, texts)
              if len(offsets) > 1 and (strokes := offsets_to_strokes(offsets))]
    chars = sum(len(t.replace(" ", "")) for _, t in pieces)
    if chars < glyphs.MIN_CHARS:
        return None
    return glyphs.measure_writer(pieces)


def matching_map(written: glyphs.Writer, style: glyphs.Writer) -> np.ndarray:
    """The (2, 2) map (row vectors: p @ M) taking the written hand's slant and width to the style's."""
    k = float(np.clip(style.x_scale / written.x_scale, *WIDTH_RANGE))
    unslant = np.array([[1.0, 0.0], [-written.slant, 1.0]])
    widen_and_slant = np.array([[k, 0.0], [style.slant, 1.0]])
    return unslant @ widen_and_slant


def match(lines: list[np.ndarray], texts: list[str], style: glyphs.Writer | None) -> list[np.ndarray]:
    """The written lines (stroke-3, y up) in the style's slant and width; as they are when
    either hand cannot be measured."""
    written = measure(lines, texts) if style is not None else None
    if written is None:
        return lines
    transform = matching_map(written, style)
    out = []
    for offsets in lines:
        moved = offsets.copy()
        moved[:, :2] = offsets[:, :2] @ transform.astype(offsets.dtype)
        out.append(moved)
    return out
