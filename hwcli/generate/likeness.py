"""Matching the writer's slant, letter width and ascender and descender reach (issue #14):
priming carries a hand's letter forms only loosely, so after sampling, the written lines are
sheared, widened and stretched above and below the body to the figures measured on the
style's own ink.

Both hands are measured alike: slant and width by glyphs.measure_writer (the length-weighted
slant of upright strokes; the ink's width, with the slant taken out, against the same text
set in the glyph font at equal height), the reach by percentiles of y on each line, relative to its body (the 10-90%
range). The slant and width change is the linear map

    x' = k * (x - s_out * y) + s_style * y,    k = width_style / width_out

(it takes out the output's slant, scales its widths, puts in the style's), and the reach
change moves only points above the body's top or below its bottom, scaled away from it. Each
written line is levelled first, as `measure` takes it and as the page lays it out.
Pen lifts, the order of points and the body of the letters are untouched. Last, the gaps
between words are scaled to the style's: its median word gap against its body height, each
line's gaps by one factor (`respace`). That moves the line's width with its gaps, so the width
is measured and set again, the gaps kept, until it is the one aimed at.

The slant and word gap aimed at are the style's; the width and reach go part of the way
from the written hand's to the style's (`aim`, `style_weight`), as one line of ink is a rough
measure of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwcli.data.ink import offsets_to_strokes, strokes_to_offsets
from hwcli.generate import glyphs
from hwcli.render.layout import level

# Each change is held within these factors: a figure measured wrongly (a line of capitals, a
# lone word) must not squash or stretch the writing past legibility.
WIDTH_RANGE = (0.75, 1.33)
REACH_RANGE = (0.67, 1.5)
BODY = (10, 90)  # percentiles of y: the body of the letters
REACH = (2, 98)  # percentiles of y: how far descenders and ascenders go
# Word gaps change by at most these factors: a gap misjudged (a joined hand's words that
# overlap) must not tear a line apart or run its words together.
GAP_RANGE = (0.5, 2.0)
# The width is set again after the words are respaced, until it is this close (log ratio) or
# after this many passes more.
WIDTH_SETTLED = 0.01
WIDTH_PASSES = 3
ONE_LINE_WEIGHT = 0.5  # style_weight: chosen on the selection writers (docs/model-card.md)


@dataclass(frozen=True)
class Hand:
    writer: glyphs.Writer  # slant and width
    ascender: float  # (p98 - p90) / body
    descender: float  # (p10 - p2) / body
    word_gap: float | None = None  # median gap between words / body; None: no gap seen
    lines: int = 1  # the lines of ink it was measured on


def _reach(strokes: list[np.ndarray]) -> tuple[float, float, float, float] | None:
    """(p2, p10, p90, p98) of a line's y, or None for a flat line."""
    y = np.concatenate(strokes)[:, 1]
    low, bottom, top, high = np.percentile(y, [REACH[0], BODY[0], BODY[1], REACH[1]])
    return (low, bottom, top, high) if top > bottom else None


def measure(lines: list[np.ndarray], texts: list[str], spacing: bool = True) -> Hand | None:
    """One hand's figures from stroke-3 lines (y up) and their texts (None: too little ink).
    `spacing` False leaves out the word gap (None): `match` respaces each line by its own."""
    pieces = [(level(strokes), text) for offsets, text in zip(lines, texts)
              if len(offsets) > 1 and (strokes := offsets_to_strokes(offsets))]
    if sum(len(t.replace(" ", "")) for _, t in pieces) < glyphs.MIN_CHARS:
        return None
    reached = [(strokes, text, r) for strokes, text in pieces if (r := _reach(strokes))]
    if not reached:
        return None
    low, bottom, top, high = np.array([r for _, _, r in reached]).T
    body = top - bottom
    slanted = glyphs.measure_writer(pieces)
    # The width is measured upright: a slant widens a line by its height, and the map below
    # scales the widths after taking the slant out.
    upright = [([s @ np.array([[1.0, 0.0], [-slanted.slant, 1.0]]) for s in strokes], text) for strokes, text in pieces]
    width = glyphs.measure_writer(upright).x_scale
    gaps = [g / (r[2] - r[1]) for strokes, text, r in reached for g in word_gaps(strokes, text)[1]] if spacing else []
    return Hand(glyphs.Writer(slanted.x_height, slanted.slant, width), float(np.mean((high - top) / body)),
                float(np.mean((bottom - low) / body)), float(np.median(gaps)) if gaps else None, len(pieces))


def word_gaps(strokes: list[np.ndarray], text: str, chars: np.ndarray | None = None) -> tuple[list[int], list[float]]:
    """Where a line's words start (stroke indices) and the gaps before them. A gap is the room
    between all the ink so far and a stroke that begins right of it; strokes are in writing
    order, so a dot or bar added to a word after it never opens one. Punctuation set apart in
    the text ("kitchen , again", as IAM-OnDB transcribes) is no word: it is written against
    the word before it.

    With `chars` (the character each stroke began on, as the sampler's window saw it), each
    word after the first starts at the first gap once the window has reached the space before
    it: a comma written a little apart ("O'Brien ,") is no word, and a print hand's gaps inside
    a word are not taken for the narrower gaps between words. Without (the user's ink), the
    widest gaps are taken, one for each word."""
    starts = [i for i, c in enumerate(text) if c != " " and (i == 0 or text[i - 1] == " ")]
    words = [i for i in starts[1:] if any(c.isalnum() for c in text[i:].split(" ", 1)[0])]
    if not words or len(strokes) < 2:
        return [], []
    right = np.maximum.accumulate([float(s[:, 0].max()) for s in strokes])
    gaps = np.array([float(strokes[i + 1][:, 0].min()) - right[i] for i in range(len(strokes) - 1)])
    if chars is None:
        chosen = sorted(i for i in np.argsort(-gaps, kind="stable")[: len(words)] if gaps[i] > 0)
    else:
        chosen, i = [], 0
        for start in words:  # the space before the word is `start - 1`
            while i < len(gaps) and not (chars[i + 1] >= start - 1 and gaps[i] > 0):
                i += 1
            if i == len(gaps):
                break
            chosen.append(i)
            i += 1
    return [int(i) + 1 for i in chosen], [float(gaps[i]) for i in chosen]


def respace(strokes: list[np.ndarray], text: str, word_gap: float | None,
            chars: np.ndarray | None = None) -> list[np.ndarray]:
    """A line with its word gaps scaled by one factor, so that their median against its body
    height is `word_gap` (within GAP_RANGE); each word moves, its letters as they were. The body
    is the levelled line's, as `measure` takes the style's: on a long line a slight slope
    stretches the 10-90 % range of y."""
    reach = _reach(level(strokes)) if word_gap else None
    starts, gaps = word_gaps(strokes, text, chars) if reach else ([], [])
    if not gaps:
        return strokes
    factor = float(np.clip(word_gap * (reach[2] - reach[1]) / np.median(gaps), *GAP_RANGE))
    shift = np.zeros(len(strokes))
    for start, gap in zip(starts, gaps):
        shift[start:] += (factor - 1.0) * gap
    return [stroke + [move, 0.0] for stroke, move in zip(strokes, shift)]


def matching_map(written: glyphs.Writer, style: glyphs.Writer) -> np.ndarray:
    """The (2, 2) map (row vectors: p @ M) taking the written hand's slant and width to the style's."""
    k = float(np.clip(style.x_scale / written.x_scale, *WIDTH_RANGE))
    unslant = np.array([[1.0, 0.0], [-written.slant, 1.0]])
    widen_and_slant = np.array([[k, 0.0], [style.slant, 1.0]])
    return unslant @ widen_and_slant


def _ratio(want: float, have: float, weight: float = 1.0) -> float:
    return float(np.clip((want / have) ** weight, *REACH_RANGE)) if have > 0 and want > 0 else 1.0


def stretch_reach(strokes: list[np.ndarray], up: float, down: float) -> list[np.ndarray]:
    """Points above the line's body scaled away from its top by `up`, below it from its bottom by `down`."""
    reach = _reach(strokes)
    if reach is None:
        return strokes
    _, bottom, top, _ = reach
    out = []
    for stroke in strokes:
        y = stroke[:, 1]
        moved = stroke.copy()
        moved[:, 1] = np.where(y > top, top + (y - top) * up, np.where(y < bottom, bottom + (y - bottom) * down, y))
        out.append(moved)
    return out


def match(lines: list[np.ndarray], texts: list[str], style: Hand | None,
          stroke_chars: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """The written lines (stroke-3, y up) in the style's slant and word spacing, their width and
    reach brought toward the style's (`aim`); as they are when either hand cannot be measured. `stroke_chars` (sampler.Written's), where
    given, tells where each line's words begin."""
    written = measure(lines, texts, spacing=False) if style is not None else None
    if written is None:
        return lines
    target = aim(written, style)
    chars = stroke_chars if stroke_chars is not None else [None] * len(lines)
    out = _matched_once(lines, texts, written, target, chars, [style.word_gap] * len(lines))
    # Respacing the words after the width is set moves the line's width with its gaps (by up
    # to a fifth on the benchmark's writers). So the width is set again, each line keeping the
    # gaps it was given, until it settles.
    for _ in range(WIDTH_PASSES):
        now = measure(out, texts, spacing=False)
        if now is None or abs(np.log(now.writer.x_scale / target.writer.x_scale)) < WIDTH_SETTLED:
            break
        gaps = [line_word_gap(offsets_to_strokes(offsets), text, c) if len(offsets) > 1 else None
                for offsets, text, c in zip(out, texts, chars)]
        out = _matched_once(out, texts, now, target, chars, gaps)
    return out


def aim(written: Hand, style: Hand) -> Hand:
    """The figures `match` sets, pass after pass: the style's slant and word gap; its width and
    reach weighed with the written hand's (`style_weight`), in log ratio, each held within its
    range (WIDTH_RANGE, REACH_RANGE) of the written hand's."""
    weight = style_weight(style.lines)
    x_scale = written.writer.x_scale * float(np.clip((style.writer.x_scale / written.writer.x_scale) ** weight, *WIDTH_RANGE))
    return Hand(glyphs.Writer(style.writer.x_height, style.writer.slant, x_scale),
                written.ascender * _ratio(style.ascender, written.ascender, weight),
                written.descender * _ratio(style.descender, written.descender, weight), style.word_gap, style.lines)


def style_weight(lines: int) -> float:
    """How far toward the style's width and reach the writing goes, from `lines` lines of its
    ink: a line's width and reach move with its words, so one line is a noisy measure of the
    hand, and the writing primed with it already carries part of the hand. Taking both as
    equally good guesses of the hand (ONE_LINE_WEIGHT = 0.5), n lines weigh n / (n + 1)."""
    return lines * ONE_LINE_WEIGHT / (1 + (lines - 1) * ONE_LINE_WEIGHT)


def line_word_gap(strokes: list[np.ndarray], text: str, chars: np.ndarray | None = None) -> float | None:
    """A line's median word gap against its levelled body, as `respace` sets it (None: no gap)."""
    reach = _reach(level(strokes))
    gaps = word_gaps(strokes, text, _fitting(chars, strokes))[1] if reach else []
    return float(np.median(gaps)) / (reach[2] - reach[1]) if gaps else None


def _fitting(chars: np.ndarray | None, strokes: list[np.ndarray]) -> np.ndarray | None:
    """The sampler's character per stroke, where it still fits the line's strokes."""
    return chars if chars is not None and len(chars) == len(strokes) else None


def _matched_once(lines: list[np.ndarray], texts: list[str], written: Hand, target: Hand,
                  chars: list[np.ndarray | None], gaps: list[float | None]) -> list[np.ndarray]:
    """Each line mapped from the written hand's figures to the target's, its words spaced to its gap in `gaps`."""
    transform = matching_map(written.writer, target.writer)
    up, down = _ratio(target.ascender, written.ascender), _ratio(target.descender, written.descender)
    out = []
    for offsets, text, line_chars, gap in zip(lines, texts, chars, gaps):
        if len(offsets) < 2:
            out.append(offsets)
            continue
        # Levelled first, as the page will lay it out and as `measure` took both hands: on a line
        # that climbs, the climb would count as body and the maps would miss their figures.
        strokes = stretch_reach(level(offsets_to_strokes(offsets)), up, down)
        moved = [s @ transform for s in strokes]
        moved = strokes_to_offsets(respace(moved, text, gap, _fitting(line_chars, strokes))).astype(offsets.dtype)
        moved[0, :2] += offsets[0, :2] - moved[0, :2]  # the line starts where it did
        out.append(moved)
    return out
