"""Styles for priming (paper section 5.5): built-in named styles, the user's own ink files,
and dataset lines, all turned into a `Prime` in the model's own units.

User ink comes in any units and density (tablet pixels, screen points), so it
is scaled to the model's line height and resampled to its typical pen-down
step before the network sees it; both figures travel in the model's info
(`line_height`, `pen_step`), measured on its training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwcli import paths
from hwcli.data.ink import strokes_to_offsets
from hwcli.errors import DataError, UsageError


@dataclass
class Prime:
    """Strokes (stroke-3 offsets, source units) and their text, to write in their style."""

    offsets: np.ndarray  # (N, 3)
    text: str


# `--style none`: the model's own hand, unprimed, even where the model has a default style.
NO_STYLE = "none"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in paths.styles_dir().glob("*.json"))


def line_height(strokes: list[np.ndarray]) -> float:
    """10-90% range of y: close to the x-height, blind to a few ascenders and descenders."""
    y = np.concatenate([s[:, 1] for s in strokes])
    low, high = np.percentile(y, [10, 90])
    return float(high - low)


def resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` along the stroke's path (its ends kept)."""
    if len(stroke) < 2:
        return stroke
    lengths = np.r_[0.0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    if lengths[-1] < step:
        return stroke[[0, -1]]
    at = np.r_[np.arange(0.0, lengths[-1], step), lengths[-1]]
    return np.column_stack([np.interp(at, lengths, stroke[:, 0]), np.interp(at, lengths, stroke[:, 1])])


def fit_to_model(strokes: list[np.ndarray], info: dict) -> list[np.ndarray]:
    """Scale ink to the model's line height and resample it to the model's pen step."""
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
    return [resample(s, target_step) for s in scaled]


def load_prime(style: str, model, text: str | None = None) -> Prime:
    """A built-in style name, a .json/.inkml file, or `line:ID` (a line of the dataset file)."""
    from hwcli.data.inkfile import read_ink

    if style.startswith("line:"):
        return _dataset_prime(style[5:], model, text)
    builtin = paths.styles_dir() / f"{style}.json"
    source = builtin if builtin.is_file() else Path(style).expanduser()
    if not source.exists() and source.suffix == "":
        names = ", ".join(builtin_names()) or "none"
        raise UsageError(f"no style named {style!r} (built-in: {names}); or give a .json/.inkml file or line:ID")
    strokes, file_text = read_ink(source)
    # A transcription may span lines (InkML annotations often do): the prime is one line of text.
    prime_text = " ".join((text or file_text or "").split())
    if not prime_text:
        raise UsageError(f"{source} has no text: give the words it shows with --style-text")
    if source != builtin:  # built-in styles are training lines already in the model's units and pace
        strokes = fit_to_model(strokes, model.info)
    return _checked(Prime(strokes_to_offsets(strokes), prime_text), model)


def prime_for(style: str | None, model, text: str | None = None) -> Prime | None:
    """What to prime with: `style`, else the model's own default style (models/export.py); `none`: nothing."""
    style = model.info.get("default_style") if style is None else style
    return load_prime(style, model, text) if style and style != NO_STYLE else None


def _dataset_prime(line_id: str, model, text: str | None) -> Prime:
    from hwcli.data import dataset
    from hwcli.data.ink import coarsen

    data = dataset.load(model.info.get("dataset") or paths.default_dataset_path())
    i = data.index_of(line_id)
    return _checked(Prime(coarsen(data.line(i), int(model.info.get("stride", 1))), text or str(data.texts[i])), model)


def _checked(prime: Prime, model) -> Prime:
    from hwcli.data.alphabet import Alphabet

    missing = Alphabet(model.alphabet).missing(prime.text)
    if missing:
        raise UsageError(f"the style's text holds characters the model does not know: {' '.join(map(repr, missing))}")
    return prime
