"""Styles for priming (paper section 5.5): built-in named styles, the user's own ink files,
and dataset lines, all turned into a `Prime` in the model's own units.

User ink comes in any units and density (tablet pixels, screen points), so it
is scaled to the model's line height and resampled to its typical pen-down
step before the network sees it (in time where the ink has the pen's timing,
fit_to_model); both figures travel in the model's info (`line_height`,
`pen_step`), measured on its training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwcli import paths
from hwcli.config import DEFAULT_BIAS, DEFAULT_STYLE_BIAS
from hwcli.data.ink import line_height, resample, resample_in_time, strokes_to_offsets
from hwcli.errors import DataError, UsageError
from hwcli.generate import library
from hwcli.generate.library import builtin_names


@dataclass
class Prime:
    """Strokes (stroke-3 offsets, source units) and their text, to write in their style."""

    offsets: np.ndarray  # (N, 3)
    text: str
    # The writing takes this ink's slant, width and reach (likeness.py). Built-in styles are
    # written as the model writes them: they were chosen by the legibility of exactly that.
    match: bool = True
    # Every line of the style's ink (offsets, text), this one among them, where it has
    # several: the network reads one line, the hand's figures are measured on them all.
    lines: list[tuple[np.ndarray, str]] | None = None

    @property
    def hand_lines(self) -> list[tuple[np.ndarray, str]]:
        return self.lines or [(self.offsets, self.text)]


# `--style none`: the model's own hand, unprimed, even where the model has a default style.
NO_STYLE = "none"


# Ink whose points are the pen's own samples (JSON, InkML, a capture) is resampled in time:
# its points thinned or thickened evenly, to the model's median pen step, so they stay close
# where the pen slowed, as in the ink the model learnt from. Resampled along its path instead
# (every point a pen step apart, as if written at one speed), 40 unseen writers' ink primed
# writing that read worse and looked less like them (docs/model-card.md). Ink with no timing
# (SVG paths) or too sparse to carry any (a median step over SPARSE pen steps: vertices of a
# drawing) is resampled along its path.
SPARSE = 2.0


def fit_to_model(strokes: list[np.ndarray], info: dict, timed: bool = True) -> list[np.ndarray]:
    """Scale ink to the model's line height and resample it to the model's pen step: in time
    where it is `timed` (its points are in the order and at the rate the pen drew them) and
    dense enough, else along its path."""
    strokes = [np.asarray(s, np.float64) for s in strokes if len(s)]
    if not strokes or sum(len(s) for s in strokes) < 2:
        raise DataError("the style ink holds no strokes")
    target_height, target_step = info.get("line_height"), info.get("pen_step")
    if not target_height or not target_step:
        return strokes
    height = line_height(strokes)
    if height <= 0:
        raise DataError("the style ink is flat: it has no height to learn a style from")
    scaled = [s * (target_height / height) for s in strokes]
    steps = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in scaled if len(s) > 1] or [np.zeros(0)])
    steps = steps[steps > 0]  # repeated samples say nothing of the pen's pace
    median = float(np.median(steps)) if len(steps) else np.inf
    if timed and median <= SPARSE * target_step:
        return [resample_in_time(s, target_step / median) for s in scaled]
    return [resample(s, target_step) for s in scaled]


def load_prime(style: str, model, text: str | None = None) -> Prime:
    """A style name (yours, then built-in), a .json/.inkml/.svg file, or `line:ID` (a dataset line).
    `text` (--style-text) is the words of ink that has none; ink with its own text refuses it."""
    from hwcli.data.inkfile import read_ink

    if style.startswith("line:"):
        _refuse_text(text, f"dataset line {style[5:]}")
        return _dataset_prime(style[5:], model)
    builtin = paths.styles_dir() / f"{style}.json"
    # The user's library first (hw styles add): their own style of a name wins, as their models do.
    mine = library.find(style)
    source = mine or (builtin if builtin.is_file() else Path(style).expanduser())
    if not source.exists() and source.suffix == "":
        names = ", ".join(builtin_names()) or "none"
        yours = ", ".join(library.library_names()) or "none"
        raise UsageError(f"no style named {style!r} (built-in: {names}; yours: {yours}); "
                         "or give a .json/.inkml/.svg file or line:ID")
    if mine:
        _refuse_text(text, f"style {style}")
        stored = library.read_style(mine)
        return _from_lines(stored.lines, model, f"style {style}", timed=stored.timed)
    strokes, file_text = read_ink(source)
    if file_text and file_text.strip():
        _refuse_text(text, str(source))
    if not " ".join((text or file_text or "").split()):
        raise UsageError(f"{source} has no text: give the words it shows with --style-text")
    if source == builtin:  # built-in styles are training lines already in the model's units and pace
        return _checked(Prime(strokes_to_offsets(strokes), " ".join(file_text.split()), match=False), model)
    # Ink of several lines, one under the other, read as one line would reach the model squashed
    # to a line's height: it is split into its lines as `hw styles add` splits it. A
    # transcription that spans lines over one line of ink (InkML annotations often do) stays one line.
    lines = library.split_lines(source, strokes, file_text, text, hint="give the ink one line of text per line of ink")
    return _from_lines(lines, model, str(source), timed=source.suffix.lower() != ".svg")


def _from_lines(lines: list[library.Line], model, source: str, timed: bool) -> Prime:
    """The line of a writer's ink the window reads best, to prime with, carrying all of them."""
    from hwcli.generate.sampler import best_prime

    primes = [_checked(Prime(strokes_to_offsets(fit_to_model(line.strokes, model.info, timed)), " ".join(line.text.split())),
                       model, f"{source}, line {n}" if len(lines) > 1 else "the style")
              for n, line in enumerate(lines, 1)]
    best = best_prime(model, primes)
    return Prime(best.offsets, best.text, lines=[(p.offsets, p.text) for p in primes] if len(primes) > 1 else None)


def _refuse_text(text: str | None, what: str) -> None:
    # Replacing the words of ink that has its own misaligns the window from the first letter.
    if text is not None:
        raise UsageError(f"--style-text is for ink without text, and {what} has its own; leave it out")


def prime_for(style: str | None, model, text: str | None = None) -> Prime | None:
    """What to prime with: `style`, else the model's own default style (models/export.py); `none`: nothing."""
    if style is None and text is not None:
        raise UsageError("--style-text names the words of a --style ink file; give the file too")
    style = model.info.get("default_style") if style is None else style
    if style == NO_STYLE and text is not None:
        raise UsageError("--style-text needs a --style ink file, not --style none")
    return load_prime(style, model, text) if style and style != NO_STYLE else None


def own_ink(prime: Prime | None) -> bool:
    """Whether `prime` is the user's own ink (a file, a library style, a dataset line): written
    at the style bias, matched to its hand and lifting the pen as often. Built-in styles and no
    style are written as the model writes."""
    return prime is not None and prime.match


def bias_for(prime: Prime | None, bias: float | None) -> float:
    """`bias` where given, else the default for the style: higher for the user's own ink (config)."""
    if bias is not None:
        return bias
    return DEFAULT_STYLE_BIAS if own_ink(prime) else DEFAULT_BIAS


def _dataset_prime(line_id: str, model) -> Prime:
    from hwcli.data import dataset
    from hwcli.data.ink import coarsen

    data = dataset.load(model.info.get("dataset") or paths.default_dataset_path())
    i = data.index_of(line_id)
    return _checked(Prime(coarsen(data.line(i), int(model.info.get("stride", 1))), str(data.texts[i])), model)


def _checked(prime: Prime, model, where: str = "the style") -> Prime:
    from hwcli.data.alphabet import Alphabet

    library.check_text_length(prime.text, where)  # as `hw styles add` checks it
    missing = Alphabet(model.alphabet).missing(prime.text)
    if missing:
        raise UsageError(f"{where}: its text holds characters the model cannot write: {' '.join(missing)}")
    return prime
