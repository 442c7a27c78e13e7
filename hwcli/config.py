"""Defaults and option ranges: the one source the CLI and the library read.

Torch-free and numpy-free (plain Python), so `hw --help` can show every
default and range without importing either. The library checks its
parameters with `check(name, value)` (a UsageError naming the parameter);
the CLI shows the same ranges in `--help` and maps each parameter to its
flag (`Range.flag`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from hwcli.errors import UsageError

# --- generation -------------------------------------------------------------------------------------

# The bias `hw write` and `hw inspect` use unless told otherwise: of 0.5, 0.75 and 1.0 it gave the
# shipped model the lowest character error rate on the selection sentences (bench/choose_bias.py,
# docs/model-card.md); higher reads a little better still but every letter comes out alike.
DEFAULT_BIAS = 1.0
# With a style of the user's own ink (a file, a style they added, line:ID) the bias is higher: on
# 40 unseen writers apart from the benchmark's (bench/priming.py --selection, 3 seeds) 1.5 read
# at mean CER 0.040 against 0.046 at 1.0, and looked as much like each writer (geometric mean
# style rank 22.1 against 21.9); the benchmark's writers agree (docs/model-card.md). The
# model's own and the built-in styles keep DEFAULT_BIAS, which they were chosen at.
DEFAULT_STYLE_BIAS = 1.5
# `hw write` samples each line this many times, as one batch, and keeps the one whose window
# spent the most usual number of steps on each character (sampler._most_typical; DEVIATION: the
# paper samples once). On the selection set (bench/choose_candidates.py) five read best of 1-5
# (mean CER 0.043 against 0.070 for one), at 0.06 s more for a short line (docs/model-card.md).
DEFAULT_CANDIDATES = 5
# `hw sample` draws from the raw distribution unless told otherwise (paper section 4.1).
DEFAULT_SAMPLE_BIAS = 0.0
# `hw sample --steps`: pen points of a prediction network's free ink (a line or two of handwriting).
DEFAULT_SAMPLE_STEPS = 700
# A signature model's sample ends at its first pen-up after this many points: the median length
# of the SVC2004 task 2 genuine signatures it was trained on (166 points; 5-95%: 100-306).
SIGNATURE_POINTS = 166
# ... and with no --steps it is cut at this many points if the pen never lifts.
SIGNATURE_MAX_STEPS = 3 * SIGNATURE_POINTS
# `hw write --width`: wrap lines at this many characters.
DEFAULT_WIDTH = 50
# `hw write --line-spacing`: baseline to baseline, in line heights (render/layout.py).
DEFAULT_LINE_SPACING = 3.0
# Default margin around the ink, in letter sizes (render/svg.py).
DEFAULT_MARGIN_LETTERS = 0.5
DEFAULT_COLOR = "black"

# --- training ---------------------------------------------------------------------------------------

# Paper-rate IAM-OnDB lines have ~16 points per character; every second point keeps the
# letter shapes and halves the time steps (DEVIATION, docs/training.md).
DEFAULT_STRIDE = 2
DEFAULT_LR = 1e-3  # Adam's usual rate; it trained the shipped models (docs/training.md)


@dataclass(frozen=True)
class TrainDefaults:
    """The defaults of hwcli.training.loop.TrainOptions and of `hw train` (a test keeps them equal)."""

    epochs: int = 30
    batch_size: int = 32
    optimizer: str = "adam"
    seed: int = 0
    max_steps: int = 0
    hidden: int = 400  # paper: 400 cells per layer
    layers: int = 3  # paper: 3
    mixtures: int = 20  # paper: M = 20
    window_mixtures: int = 10  # paper: K = 10
    stride: int = DEFAULT_STRIDE
    # bf16 autocast where the hardware has it (AVX-512 BF16 or AMX, CUDA 8.0+): on the full data its
    # validation loss per epoch matched float32's over 3 epochs (docs/performance.md)
    precision: str = "auto"


TRAIN = TrainDefaults()


# --- ranges -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """The values a numeric parameter may take: finite, within [low, high] (or (low, high] when
    `low_open`), whole when `integer`. `flag` is its name on the command line."""

    flag: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    low_open: bool = False
    excluded: tuple = ()  # values inside the range that still mean nothing

    def describe(self) -> str:
        return self._describe() + self._exceptions()

    def _exceptions(self) -> str:
        return "".join(f" except {_fmt(v)}" for v in self.excluded)

    def _describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            if self.low_open:
                return f"{kind} > {_fmt(self.low)} and <= {_fmt(self.high)}"
            return f"{kind} from {_fmt(self.low)} to {_fmt(self.high)}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {_fmt(self.low)}"
        return f"{kind} <= {_fmt(self.high)}" if self.high is not None else f"a finite {kind[2:]}"

    def short(self) -> str:
        """For --help: `0 to 10`, `> 0 to 100`."""
        low = "" if self.low is None else (f"> {_fmt(self.low)}" if self.low_open else _fmt(self.low))
        high = "" if self.high is None else _fmt(self.high)
        span = f"{low} to {high}" if low and high else (low or f"<= {high}")
        return span + self._exceptions()

    def ok(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.integer and not isinstance(value, numbers.Integral):
            return False
        value = float(value) if not self.integer else value
        if not self.integer and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if value in self.excluded:
            return False
        return self.high is None or value <= self.high


def _fmt(value: float) -> str:
    if value == 2**32 - 1:
        return "2**32 - 1"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


# The most pen points `hw sample` draws in one go (a page or so of free ink; a few seconds).
MAX_SAMPLE_STEPS = 20_000

RANGES: dict[str, Range] = {
    # generation
    "bias": Range("--bias", 0.0, 10.0),  # beyond ~10 every mixture is a point: nothing more changes
    "seed": Range("--seed", 0, 2**32 - 1, integer=True),  # numpy and torch seeds are 32-bit
    # each one a row of the sampling batch; of two, neither is the more usual (no median)
    "candidates": Range("--candidates", 1, 16, integer=True, excluded=(2,)),
    "steps": Range("--steps", 1, MAX_SAMPLE_STEPS, integer=True),
    "width": Range("--width", 1, 1000, integer=True),
    "line_spacing": Range("--line-spacing", 0.0, 100.0, low_open=True),
    "margin": Range("--margin", 0.0, 100.0),  # in letter sizes
    "stroke_width": Range("--stroke-width", 0.0, 1e6, low_open=True),  # ink units (the data's own)
    "page_width": Range("--page-width", 0.0, 100_000.0, low_open=True),  # mm: up to 100 m
    # training
    "epochs": Range("--epochs", 1, 100_000, integer=True),
    "batch_size": Range("--batch-size", 1, 65_536, integer=True),
    "lr": Range("--lr", 0.0, 10.0, low_open=True),
    "max_steps": Range("--max-steps", 0, 10**12, integer=True),
    "stride": Range("--stride", 1, 100, integer=True),
    "hidden": Range("--hidden", 1, 8192, integer=True),
    "layers": Range("--layers", 1, 32, integer=True),
    "mixtures": Range("--mixtures", 1, 1000, integer=True),
    "window_mixtures": Range("--window-mixtures", 1, 1000, integer=True),
    "workers": Range("--workers", 1, 256, integer=True),
    "threads": Range("--threads", 1, 1024, integer=True),
}


def check(name: str, value, flag: bool = False):
    """`value` if it is in the range of parameter `name`, else UsageError naming it
    (by its flag when `flag`). None passes: it means "the default"."""
    if value is None:
        return value
    spec = RANGES[name]
    if not spec.ok(value):
        label = spec.flag if flag else name
        raise UsageError(f"{label} must be {spec.describe()}, not {value!r}")
    return value
