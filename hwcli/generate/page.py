"""Text to a page of handwriting: wrap, check the characters, sample every line as one
batch, set the lines on a common baseline grid. The library behind `hw write`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcli.config import DEFAULT_CANDIDATES, check
from hwcli.data.ink import offsets_to_strokes
from hwcli.errors import UsageError
from hwcli.generate import likeness
from hwcli.generate.sampler import write_lines


@dataclass
class Page:
    lines: list[str]  # the text of each line, after wrapping and substitution
    line_offsets: list[np.ndarray]  # stroke-3 ink per line (source units, y up); empty for blank lines
    strokes: list[np.ndarray]  # the placed page, absolute, y up
    substitutions: dict = field(default_factory=dict)
    style_mismatch: str | None = None  # the style's ink and its text seem not to match: what the window read
    glyphs: list = field(default_factory=list)  # characters the model lacks, drawn from the glyph font (glyphs.py)
    min_letter: float | None = None  # the model's smallest letter size (ink units): "." is not scaled up to a letter
    redrawn: list = field(default_factory=list)  # characters it has, redrawn from the font: their ink was a mere dot

    def save(self, path: Path, kind: str, *, stroke_width=None, color="black", page_width_mm=None, animate=False,
             margin_letters=None):
        if kind == "svg":
            from hwcli.render.svg import letter_size, write_svg

            margin = None if margin_letters is None else margin_letters * letter_size(self.strokes, self.min_letter)
            write_svg(path, self.strokes, stroke_width=stroke_width, color=color, margin=margin,
                      page_width_mm=page_width_mm, animate=animate, min_letter=self.min_letter)
        else:
            from hwcli.data.inkfile import write_ink

            write_ink(path, self.strokes, "\n".join(self.lines))


def write_page(text: str, model_name: str | None = None, bias: float | None = None, seed: int | None = None,
               style: str | None = None, style_text: str | None = None, width: int = 50,
               line_spacing: float = 3.0, substitute: bool = True, model=None, match_style: bool = True,
               candidates: int = DEFAULT_CANDIDATES) -> Page:
    """Sample `text` as handwriting. Validates everything before the model runs.

    Characters the model lacks are substituted (é -> e) or, when printable ASCII, drawn from
    the glyph font in the writer's size and slant (Page.glyphs names them); `substitute`
    False (--strict) refuses both. With a style of your ink, the lines take its slant, letter
    width and reach (likeness.py) and lift the pen as often (lifts.py) unless `match_style` is False. Each line is the best of
    `candidates` samples (sampler.write_lines). `bias` None: the style's default (priming.bias_for)."""
    from hwcli.data.alphabet import Alphabet
    from hwcli.render.layout import place_lines, wrap_text

    if not text.strip():
        raise UsageError("nothing to write: the text is empty")
    check("candidates", candidates)
    if model is None:
        from hwcli.models import store

        model = store.load(model_name, "synthesis")
    alphabet, substitutions, checked = Alphabet(model.alphabet), {}, []
    for paragraph in text.replace("\t", " ").splitlines():  # newlines break lines; they are not characters
        try:
            paragraph, replaced = alphabet.check_text(paragraph, substitute=substitute,
                                                      fallback=glyph_chars(alphabet) if substitute else "")
        except UsageError as error:
            if substitute:
                raise
            raise UsageError(f"{error} (strict: no substitutions and no characters from the glyph font)") from None
        checked.append(paragraph)
        substitutions.update(replaced)
    lines = wrap_text("\n".join(checked), width)
    from hwcli.generate.priming import bias_for, own_ink, prime_for

    prime = prime_for(style, model, style_text)
    bias = bias_for(prime, bias)
    matching = own_ink(prime) and match_style
    hand = likeness.measure(*map(list, zip(*prime.hand_lines))) if matching else None

    def sample(texts: list[str]):
        result = write_lines(model, texts, bias=bias, seed=seed, prime=prime, candidates=candidates,
                             match_lifts=matching)
        result.lines = likeness.match(result.lines, texts, hand, result.stroke_chars)
        return result

    written = [line for line in lines if line]
    drawn = sorted({c for line in lines for c in alphabet.missing(line)})
    if drawn:  # some characters come from the glyph font: pieces of ink and glyphs, set along each line
        result, line_offsets, redrawn = _write_with_glyphs(alphabet, lines, sample)
    else:
        result = sample(written) if written else None
        inks = iter(result.lines if result else ())
        line_offsets = [next(inks) if line else np.zeros((0, 3), np.float32) for line in lines]
        redrawn = []
    strokes, _ = place_lines([offsets_to_strokes(o) for o in line_offsets], line_spacing)
    mismatch = result.prime.mismatch(model.network.config.steps_per_char) if result and result.prime else None
    return Page(lines, line_offsets, strokes, substitutions, mismatch, glyphs=drawn, redrawn=redrawn, min_letter=min_letter(model))


# --- characters from the glyph font (generate/glyphs.py) ------------------------------------------

# A page of glyphs alone still needs the writer's size and slant: the model writes this word
# in the same batch, to be measured, never shown.
REFERENCE_TEXT = "minimum"
# A piece of model ink this short ("s", "1.", a quote) gives no baseline of its own: it is set
# where the font puts the same characters.
SHORT_PIECE = 3
# A piece whose ink spans less than this many x-heights, where the font's letters for the same
# text span at least twice that, came out as a dot (the model writes a lone "?" or capital
# between two glyphs badly): it is drawn from the font too, and said so.
DOT_PIECE = 0.3


def glyph_chars(alphabet) -> str:
    """The characters the glyph font draws for a model with this alphabet: those it lacks."""
    from hwcli.generate import glyphs

    return "".join(c for c in glyphs.load().chars if c not in alphabet.chars and c != " ")


def split_pieces(line: str, known: str) -> list[tuple[str, str]]:
    """A line -> ("ink", text) runs the model writes, ("glyph", char) and ("space", spaces),
    in order; ink runs neither start nor end with a space."""
    pieces: list[tuple[str, str]] = []
    run = ""

    def flush(run: str) -> None:
        core = run.strip(" ")
        lead = run[: len(run) - len(run.lstrip(" "))]
        trail = run[len(run.rstrip(" ")):] if core else ""
        for kind, text in (("space", lead), ("ink", core), ("space", trail)):
            if text:
                pieces.append((kind, text))

    for char in line:
        if char in known or char == " ":
            run += char
            continue
        flush(run)
        run = ""
        pieces.append(("glyph", char))
    flush(run)
    return pieces


def _write_with_glyphs(alphabet, lines: list[str], sample):
    """Lines holding characters the model lacks: every run of characters it knows is sampled,
    all runs of the page as one batch by `sample(texts)` (one seed, one prime: one hand); the glyphs are drawn in
    the size, slant and width measured from that ink, and the pieces set along the baseline.
    A piece whose ink is a mere dot is drawn from the font as well.
    Returns (the sampler's result, stroke-3 offsets per line, the characters so redrawn)."""
    from hwcli.data.ink import strokes_to_offsets
    from hwcli.generate import glyphs
    from hwcli.render.layout import level

    font = glyphs.load()
    plans = [split_pieces(line, alphabet.chars) for line in lines]
    texts = [text for plan in plans for kind, text in plan if kind == "ink"]
    shown = len(texts)
    if not texts:
        texts = [REFERENCE_TEXT if not alphabet.missing(REFERENCE_TEXT) else alphabet.chars.replace(" ", "")[-8:]]
    result = sample(texts)
    inks = [level(strokes) if (strokes := offsets_to_strokes(o)) else [] for o in result.lines]
    writer = glyphs.measure_writer(list(zip(inks, texts)), font) or glyphs.Writer(1.0)

    def extent(ink):
        points = np.concatenate(ink) if ink else np.zeros((1, 2))
        return float(np.ptp(points, axis=0).max())

    dots = {i for i, text in enumerate(texts[:shown])
            if extent(inks[i]) < DOT_PIECE * writer.x_height and extent(font.set_text(text)[0]) >= 2 * DOT_PIECE}
    if dots and len(dots) < len(texts):  # measured again without them
        kept = [(ink, t) for i, (ink, t) in enumerate(zip(inks, texts)) if i not in dots]
        writer = glyphs.measure_writer(kept, font) or writer
    for i, text in enumerate(texts):  # short pieces: on the baseline the font gives them
        if len(text) <= SHORT_PIECE and inks[i]:
            set_strokes, _ = font.set_text(text)
            want = writer.x_height * min(float(s[:, 1].min()) for s in set_strokes) if set_strokes else 0.0
            low = min(float(s[:, 1].min()) for s in inks[i])
            inks[i] = [s + [0.0, want - low] for s in inks[i]]
    pieces = iter(enumerate(inks[:shown]))
    redrawn = sorted({c for i in dots for c in texts[i] if c != " "})
    gap = glyphs.PIECE_GAP * writer.x_height
    line_offsets = []
    for plan in plans:
        strokes, cursor, last = [], 0.0, None
        for kind, text in plan:
            index, ink = next(pieces) if kind == "ink" else (None, None)
            if kind == "space":
                cursor += len(text) * font.advance(" ") * writer.x_height * writer.x_scale
            elif kind == "glyph" or index in dots:
                cursor += gap if last == "ink" else 0.0
                for char in text:
                    strokes += font.draw(char, writer.x_height, writer.slant, writer.x_scale, origin=(cursor, 0.0))
                    cursor += font.advance(char) * writer.x_height * writer.x_scale
                kind = "glyph"
            else:
                if not ink:
                    continue
                cursor += gap if last == "glyph" else 0.0
                left = min(float(s[:, 0].min()) for s in ink)
                shift = cursor - left
                strokes += [s + [shift, 0.0] for s in ink]
                cursor = max(float(s[:, 0].max()) for s in ink) + shift
            last = kind
        line_offsets.append(strokes_to_offsets(strokes) if strokes else np.zeros((0, 3), np.float32))
    return result, line_offsets, redrawn


# The smallest letter size a page assumes, as a fraction of the model's line height (model.info,
# measured on its training lines): ink of only "." or "-" keeps its size beside letters instead of
# being scaled up to one. Below every real line's letter size (0.5-0.9 of the line height), so
# pages of words are drawn as before.
MIN_LETTER_PER_LINE_HEIGHT = 0.4


def min_letter(model) -> float | None:
    height = (getattr(model, "info", None) or {}).get("line_height")
    return MIN_LETTER_PER_LINE_HEIGHT * float(height) if height else None
