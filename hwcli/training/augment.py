"""Training lines for the characters IAM-OnDB has too few of (Q 16, Z 6, & 1, ...) or none
(@, %, $, ...), so that a synthesis network with every printable ASCII character
(`hw train synthesis --alphabet ascii`) sees each of them often enough to learn it:

* the real lines that hold a rare character, repeated (round(RARE_TARGET / count) times,
  at most MAX_COPIES), so its real instances weigh as much as a common letter's;
* real lines with a glyph of the character set in at a word boundary (a new word, or
  glued to the word before or after, as in "50%" or "$5"), drawn from the Hershey
  glyph font (hwcli/generate/glyphs.py) in that line's own size and slant, at its
  point spacing, with a little jitter: GLYPH_LINES per character seen fewer than
  MIN_CHAR_COUNT times.

Word boundaries are found without an alignment: a pen lift after which every later
stroke lies right of everything before, by at least WORD_GAP x-heights. A line is used
only where those gaps are exactly as many as the spaces in its text.

All of it works on raw lines (stroke-3 offsets in source units, y up) before coarsening,
and is a pure function of its seed: a resumed run rebuilds the same lines.
"""

from __future__ import annotations

import numpy as np

from hwcli.data.alphabet import MIN_CHAR_COUNT, UNREADABLE_MARK
from hwcli.data.ink import offsets_to_strokes, resample, strokes_to_offsets

RARE_TARGET = 100  # a character seen n times: each line holding it is used about RARE_TARGET / n times
MAX_COPIES = 20  # no single line more often than this in an epoch
GLYPH_LINES = 80  # lines with a glyph set in, per character seen fewer than MIN_CHAR_COUNT times (40 learnt too little)
WORD_GAP = 0.6  # x-heights of blank between words
GLUED_GAP = 0.15  # x-heights between a glyph and the word it is glued to ("50%")
JITTER = 0.02  # x-heights: the standard deviation of the smoothed wobble added to a glyph's points
# Line texts with the unreadable-word mark `#` hold no real `#`: that character is learnt from glyphs only.
UNREADABLE_OTHER = "\0"


def copies_per_line(texts, counts: dict[str, int]) -> np.ndarray:
    """How many times each line is used: driven by its rarest character (1 for ordinary lines)."""
    copies = np.ones(len(texts), np.int64)
    for i, text in enumerate(texts):
        rarest = min((counts[c] for c in set(text) if c in counts and c != " "), default=RARE_TARGET)
        if 0 < rarest < RARE_TARGET:
            copies[i] = min(MAX_COPIES, max(1, round(RARE_TARGET / rarest)))
    return copies


def scarce_chars(alphabet_chars: str, counts: dict[str, int]) -> str:
    """The characters of the alphabet that get glyph lines: seen fewer than MIN_CHAR_COUNT times
    (the unreadable mark counts as never seen)."""
    return "".join(c for c in alphabet_chars if c != " " and
                   (c == UNREADABLE_MARK or counts.get(c, 0) < MIN_CHAR_COUNT))


def word_boundaries(strokes: list[np.ndarray], min_gap: float) -> list[int]:
    """Stroke indices k where a word starts: strokes[k:] all lie right of strokes[:k] by min_gap or more."""
    if not strokes:
        return []
    lefts = np.array([float(s[:, 0].min()) for s in strokes])
    rights = np.array([float(s[:, 0].max()) for s in strokes])
    right_so_far = np.maximum.accumulate(rights)[:-1]
    left_from_here = np.minimum.accumulate(lefts[::-1])[::-1][1:]
    return [k + 1 for k in np.flatnonzero(left_from_here - right_so_far >= min_gap)]


def glyph_ink(char: str, font, x_height: float, slant: float, x_scale: float, step: float, left: float,
              baseline: float, rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """`char` as pen strokes at the writer's measures, jittered, points `step` apart: (strokes, right edge)."""
    height = x_height * rng.uniform(0.9, 1.1)
    scale = x_scale * rng.uniform(0.85, 1.15)
    shear = slant + rng.normal(0.0, 0.08)
    strokes = []
    for stroke in font.draw(char, height, shear, scale, origin=(left, baseline)):
        stroke = resample(stroke, step)
        wobble = rng.normal(0.0, JITTER * x_height, stroke.shape)
        if len(stroke) >= 3:  # smoothed: a hand wavers, it does not jump from point to point
            kernel = np.ones(3) / 3
            wobble = np.column_stack([np.convolve(wobble[:, j], kernel, mode="same") for j in range(2)])
        strokes.append(stroke + wobble)
    right = max(float(s[:, 0].max()) for s in strokes) if strokes else left
    return strokes, max(right, left + font.advance(char) * height * scale * 0.5)


def _measures(strokes: list[np.ndarray], text: str, font):
    """(x_height, slant, x_scale, baseline, point step) of a real line, or None."""
    from hwcli.generate.glyphs import measure_writer

    writer = measure_writer([(strokes, text)], font)
    if writer is None or writer.x_height <= 0:
        return None
    set_strokes, _ = font.set_text(text)
    font_low = np.percentile(np.concatenate(set_strokes)[:, 1], 10) if set_strokes else 0.0
    ink_low = np.percentile(np.concatenate(strokes)[:, 1], 10)
    steps = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in strokes if len(s) > 1] or [np.zeros(1)])
    step = float(np.median(steps[steps > 0])) if (steps > 0).any() else writer.x_height / 10
    return writer.x_height, writer.slant, writer.x_scale, float(ink_low - font_low * writer.x_height), step


def glyph_line(offsets: np.ndarray, text: str, char: str, font, rng: np.random.Generator):
    """A real line with `char` set in at one of its word boundaries: (offsets, text), or None when
    the line's word gaps do not match its spaces."""
    strokes = offsets_to_strokes(offsets)
    words = text.split(" ")
    if not strokes or "" in words:
        return None
    measures = _measures(strokes, text.replace(UNREADABLE_OTHER, "x"), font)
    if measures is None:
        return None
    x_height, slant, x_scale, baseline, step = measures
    starts = word_boundaries(strokes, WORD_GAP * x_height)
    if len(starts) != len(words) - 1:
        return None
    cuts = [0, *starts, len(strokes)]  # word j is strokes[cuts[j]:cuts[j+1]]
    j = int(rng.integers(len(words)))  # the word the glyph goes beside
    mode = rng.choice(["after", "before", "apart"])
    glued, apart = GLUED_GAP * x_height, WORD_GAP * x_height * rng.uniform(1.0, 1.6)
    word = strokes[cuts[j]:cuts[j + 1]]
    if mode == "before":  # the glyph takes the word's place; the word and the rest move right
        at, left, after_gap = cuts[j], min(float(s[:, 0].min()) for s in word), glued
        words[j] = char + words[j]
    else:  # after the word, glued to it or as a word of its own; the rest moves right
        at, after_gap = cuts[j + 1], apart
        left = max(float(s[:, 0].max()) for s in word) + (glued if mode == "after" else apart)
        if mode == "after":
            words[j] = words[j] + char
        else:
            words.insert(j + 1, char)
    ink, right = glyph_ink(char, font, x_height, slant, x_scale, step, left, baseline, rng)
    rest = strokes[at:]
    if rest:
        shift = right + after_gap - min(float(s[:, 0].min()) for s in rest)
        rest = [s + [max(shift, 0.0), 0.0] for s in rest]
    return strokes_to_offsets(strokes[:at] + ink + rest), " ".join(words)


def augment(lines: list[np.ndarray], texts: list[str], alphabet_chars: str, counts: dict[str, int],
            seed: int) -> tuple[list[np.ndarray], list[str]]:
    """The extra training lines for the rare characters: repeated real lines, then glyph lines."""
    from hwcli.generate import glyphs

    font = glyphs.load()
    extra_lines, extra_texts = [], []
    for i, n in enumerate(copies_per_line(texts, counts)):
        extra_lines += [lines[i]] * (int(n) - 1)
        extra_texts += [texts[i]] * (int(n) - 1)
    rng = np.random.default_rng(seed)
    for char in scarce_chars(alphabet_chars, counts):
        if not font.has(char):
            continue
        made, tries = 0, 0
        while made < GLYPH_LINES and tries < 20 * GLYPH_LINES:
            tries += 1
            i = int(rng.integers(len(lines)))
            new = glyph_line(lines[i], texts[i], char, font, rng)
            if new is not None:
                extra_lines.append(new[0].astype(np.float32))
                extra_texts.append(new[1])
                made += 1
    return extra_lines, extra_texts
