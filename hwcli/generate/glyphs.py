"""The glyph fallback: characters the model lacks (Q, Z, &, @, ...) drawn from a single-stroke
Hershey font in the writer's own size and slant, instead of being refused.

The asset (hwcli/assets/glyphs/<font>.json, built by bench/make_glyphs.py) holds every
printable ASCII character as pen strokes in units of the font's x-height, y up, baseline
at y = 0, x = 0 at the left bearing, upright. Three characters people write that ASCII lacks
(the pound and euro signs and the degree sign: prices, temperatures) are drawn here in the
same units and manner (`DRAWN_HERE`). `draw` maps a glyph by the affine map

    x' = x_scale * x_height * x + slant * x_height * y,    y' = x_height * y

and `measure_writer` finds x_height, slant and x_scale from ink the model wrote, by
comparing it with the same text set in the font (so both sides are measured alike).

numpy only; strokes as in hwcli/data/ink.py (lists of (n, 2) arrays, y up).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from hwcli.data.ink import as_points, line_height, resample

GLYPH_DIR = Path(__file__).resolve().parents[1] / "assets" / "glyphs"
# The font chosen by bench/glyph_fonts.py (docs/model-card.md, "Characters drawn from glyphs").
DEFAULT_FONT = "futural"
# The writer's size: the 10-90% range of y (hwcli/data/ink.py's line_height), of the ink
# against the same text set in the font, both resampled by arc length.
RESAMPLE_STEPS = 40  # resampling step: this many per height unit
# Near-vertical pen-down pieces (|dx| < |dy| / 2, judged after taking out the slant found so
# far) give the slant (shear dx/dy): the length-weighted median of their directions.
STEEP = 2.0
SLANT_ROUNDS = 6
SLANT_RANGE = (-0.5, 0.8)
X_SCALE_RANGE = (0.6, 1.6)  # the writer's letters against the font's: narrower or wider
# A writer measured from fewer characters than this is not trusted for width and slant:
# the defaults below stand in.
MIN_CHARS = 4
# Gap between a model-written piece and a glyph, in x-heights (a glyph brings its own bearings).
PIECE_GAP = 0.15


@dataclass(frozen=True)
class Writer:
    """The writer's measures, in the ink's own units."""

    x_height: float  # one font x-height in ink units
    slant: float = 0.0  # shear dx/dy of upright strokes
    x_scale: float = 1.0  # the writer's widths / the font's, at equal height


def _drawn_here(glyphs: dict[str, tuple[float, list[np.ndarray]]]) -> dict[str, tuple[float, list[np.ndarray]]]:
    """The pound, euro and degree signs in the font's units (x-height 1, capitals 1.5, single
    strokes): the euro is the font's own C with two bars through it, the degree sign its o,
    small and raised to the capitals' top."""
    c_advance, c_strokes = glyphs["C"]
    o_advance, o_strokes = glyphs["o"]
    euro = [s + [0.15, 0.0] for s in c_strokes] + [np.array([[0.05, 0.93], [1.05, 0.93]]),
                                                   np.array([[0.05, 0.6], [0.95, 0.6]])]
    pound = [np.array([[1.25, 1.21], [1.18, 1.38], [1.04, 1.48], [0.86, 1.5], [0.7, 1.45], [0.59, 1.33],
                       [0.54, 1.14], [0.54, 0.5], [0.49, 0.22], [0.36, 0.06], [0.25, 0.0], [1.3, 0.0]]),
             np.array([[0.22, 0.75], [0.98, 0.75]])]
    o_left = min(float(s[:, 0].min()) for s in o_strokes)
    degree = [(s - [o_left, 0.0]) * 0.4 + [0.2, 1.1] for s in o_strokes]
    return {"\u00a3": (1.5, pound), "\u20ac": (c_advance + 0.15, euro),
            "\u00b0": (0.2 + 0.4 * (o_advance - o_left) + 0.1, degree)}


DRAWN_HERE = "\u00a3\u20ac\u00b0"  # pound, euro, degree (_drawn_here)


class GlyphFont:
    def __init__(self, data: dict):
        self.name = data["font"]
        self.notice = data["notice"]
        self.cap_height = float(data["cap_height"])
        self._glyphs = {c: (float(g["advance"]), [as_points(s) for s in g["strokes"]])
                        for c, g in data["glyphs"].items()}
        self._glyphs |= {c: glyph for c, glyph in _drawn_here(self._glyphs).items() if c not in self._glyphs}

    @property
    def chars(self) -> str:
        return "".join(sorted(self._glyphs))

    def has(self, char: str) -> bool:
        return char in self._glyphs

    def advance(self, char: str) -> float:
        """The glyph's width from left to right bearing, in x-heights."""
        return self._glyphs[char][0]

    def strokes(self, char: str) -> list[np.ndarray]:
        """The glyph in font units (copies)."""
        return [s.copy() for s in self._glyphs[char][1]]

    def draw(self, char: str, x_height: float, slant: float = 0.0, x_scale: float = 1.0,
             origin=(0.0, 0.0)) -> list[np.ndarray]:
        """`char` as strokes: x-height `x_height`, sheared by `slant` (dx/dy), widened by
        `x_scale`, its left bearing at origin[0] and its baseline at origin[1]."""
        if char not in self._glyphs:
            raise KeyError(f"the glyph font {self.name} has no {char!r}")
        matrix = x_height * np.array([[x_scale, 0.0], [slant, 1.0]])  # row vectors: p @ M
        return [s @ matrix + np.asarray(origin, np.float64) for s in self._glyphs[char][1]]

    def set_text(self, text: str) -> tuple[list[np.ndarray], float]:
        """`text` in font units, glyph after glyph by their advances: (strokes, width)."""
        strokes, x = [], 0.0
        for char in text:
            strokes += self.draw(char, 1.0, origin=(x, 0.0))
            x += self.advance(char)
        return strokes, x


def load(font: str | None = None) -> GlyphFont:
    """The glyph font `font` (default DEFAULT_FONT) from GLYPH_DIR, read once."""
    return _load(GLYPH_DIR / f"{font or DEFAULT_FONT}.json")


@lru_cache(maxsize=None)
def _load(path: Path) -> GlyphFont:
    return GlyphFont(json.loads(path.read_text(encoding="utf-8")))


def draw(char: str, x_height: float, slant: float = 0.0, x_scale: float = 1.0, origin=(0.0, 0.0),
         font: str | None = None) -> list[np.ndarray]:
    """`char` drawn from the glyph font (see GlyphFont.draw)."""
    return load(font).draw(char, x_height, slant, x_scale, origin)


def _spread(strokes: list[np.ndarray], unit: float) -> float:
    """The 10-90% range of y over points every unit / RESAMPLE_STEPS along the strokes: density-free."""
    return line_height([resample(s, unit / RESAMPLE_STEPS) for s in strokes])


def slant_of(strokes: list[np.ndarray]) -> float | None:
    """dx/dy of the near-vertical pen-down pieces, summed over their lengths (None: none found)."""
    parts = [np.diff(s, axis=0) for s in strokes if len(s) > 1]
    if not parts:
        return None
    d = np.concatenate(parts)
    d = d * np.where(d[:, 1:2] < 0, -1.0, 1.0)  # every piece pointing up
    slant = 0.0
    # "Near-vertical" is judged after taking out the slant found so far, so that the window
    # of directions sits symmetric about the writer's upright and does not bias the estimate.
    for _ in range(SLANT_ROUNDS):
        dx = d[:, 0] - slant * d[:, 1]
        steep = d[:, 1] > STEEP * np.abs(dx)
        if not steep.any() or d[steep, 1].sum() <= 0:
            return None if slant == 0.0 else slant
        # the length-weighted median of dx/dy: upright strokes dominate, curves' flanks do not pull
        ratio, weight = dx[steep] / d[steep, 1], np.hypot(dx[steep], d[steep, 1])
        order = np.argsort(ratio)
        cumulative = np.cumsum(weight[order])
        slant += float(ratio[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])
    return slant


def measure_writer(pieces: list[tuple[list[np.ndarray], str]], font: GlyphFont | None = None) -> Writer | None:
    """The writer's x-height, slant and width from model-written pieces (strokes on a level
    baseline, the text each shows), against the same texts set in the font. None: no ink."""
    font = font or load()
    pieces = [(s, t) for s, t in pieces if s and any(len(p) for p in s) and t.strip()]
    if not pieces:
        return None
    ink = [p for s, _ in pieces for p in s]
    points = np.concatenate(ink)
    rough = line_height(ink) or float(np.ptp(points[:, 0])) or 1.0
    typeset = []
    widths_ink, widths_font = 0.0, 0.0
    for strokes, text in pieces:
        set_strokes, _ = font.set_text(text)
        typeset += set_strokes
        ink_x = np.concatenate(strokes)[:, 0]
        font_x = np.concatenate(set_strokes)[:, 0] if set_strokes else np.zeros(1)
        widths_ink += float(np.ptp(ink_x))
        widths_font += float(np.ptp(font_x))
    font_height = _spread(typeset, 1.0) if typeset else 0.0
    ink_height = _spread(ink, rough)
    if font_height <= 0 or ink_height <= 0:
        x_height = rough
    else:
        x_height = ink_height / font_height
    chars = sum(len(t.replace(" ", "")) for _, t in pieces)
    slant, x_scale = 0.0, 1.0
    if chars >= MIN_CHARS:
        measured = slant_of(ink)
        slant = float(np.clip(measured, *SLANT_RANGE)) if measured is not None else 0.0
        if widths_font > 0 and widths_ink > 0:
            x_scale = float(np.clip(widths_ink / (widths_font * x_height), *X_SCALE_RANGE))
    return Writer(x_height, slant, x_scale)
