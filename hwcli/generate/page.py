"""Text to a page of handwriting: wrap, check the characters, sample every line as one
batch, set the lines on a common baseline grid. The library behind `hw write`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcli.data.ink import offsets_to_strokes
from hwcli.errors import UsageError
from hwcli.generate.sampler import DEFAULT_BIAS


@dataclass
class Page:
    lines: list[str]  # the text of each line, after wrapping and substitution
    line_offsets: list[np.ndarray]  # stroke-3 ink per line (source units, y up); empty for blank lines
    strokes: list[np.ndarray]  # the placed page, absolute, y up
    substitutions: dict = field(default_factory=dict)

    def save(self, path: Path, kind: str, *, stroke_width=None, color="black", page_width_mm=None, animate=False,
             margin_letters=None):
        if kind == "svg":
            from hwcli.render.svg import letter_size, write_svg

            margin = None if margin_letters is None else margin_letters * letter_size(self.strokes)
            write_svg(path, self.strokes, stroke_width=stroke_width, color=color, margin=margin,
                      page_width_mm=page_width_mm, animate=animate)
        else:
            from hwcli.data.inkfile import write_ink

            write_ink(path, self.strokes, "\n".join(self.lines))


def write_page(text: str, model_name: str | None = None, bias: float = DEFAULT_BIAS, seed: int | None = None,
               style: str | None = None, style_text: str | None = None, width: int = 50,
               line_spacing: float = 3.0, substitute: bool = True, model=None) -> Page:
    """Sample `text` as handwriting. Validates everything before the model runs."""
    from hwcli.data.alphabet import Alphabet
    from hwcli.render.layout import place_lines, wrap_text

    if not text.strip():
        raise UsageError("nothing to write: the text is empty")
    if model is None:
        from hwcli.models import store

        model = store.load(model_name, "synthesis")
    alphabet, substitutions, checked = Alphabet(model.alphabet), {}, []
    for paragraph in text.replace("\t", " ").splitlines():  # newlines break lines; they are not characters
        paragraph, replaced = alphabet.check_text(paragraph, substitute=substitute)
        checked.append(paragraph)
        substitutions.update(replaced)
    lines = wrap_text("\n".join(checked), width)
    from hwcli.generate.priming import prime_for

    prime = prime_for(style, model, style_text)
    from hwcli.generate.sampler import write_lines

    written = [line for line in lines if line]
    inks = iter(write_lines(model, written, bias=bias, seed=seed, prime=prime).lines if written else ())
    line_offsets = [next(inks) if line else np.zeros((0, 3), np.float32) for line in lines]
    strokes, _ = place_lines([offsets_to_strokes(o) for o in line_offsets], line_spacing)
    return Page(lines, line_offsets, strokes, substitutions)
