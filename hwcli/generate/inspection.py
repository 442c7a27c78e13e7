"""What the synthesis network did while writing: the window's alignment (paper Fig. 13),
the density of the next pen position (Fig. 10) and a plain summary. Behind `hw inspect`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hwcli.config import DEFAULT_CANDIDATES
from hwcli.data.ink import offsets_to_strokes
from hwcli.models import mdn

# A character the window dwells on this many times longer than the median
# character is reported as a lag.
LAG_FACTOR = 3.0
DENSITY_GRID = (60, 400)  # (rows, columns) of the density image


@dataclass
class Inspection:
    text: str
    strokes: list  # absolute, y up, source units
    phi: np.ndarray  # (T, U)
    density: tuple  # (grid (ny, nx), (x_min, x_max, y_min, y_max))
    stopped_by_rule: bool
    steps_per_char: float
    skipped: list  # characters never in focus: (index, char)
    lagged: list  # characters the window dwelt on too long: (index, char, steps)
    substitutions: dict  # characters written as another (as hw write notes them)


def focus_report(phi: np.ndarray, text: str):
    """Which character holds the window's largest weight at each step; skipped and lagged characters."""
    focus = phi.argmax(1)  # (T,)
    dwell = np.bincount(focus, minlength=len(text))[: len(text)]
    skipped = [(u, text[u]) for u in range(len(text)) if dwell[u] == 0 and not text[u].isspace()]
    typical = np.median(dwell[dwell > 0]) if (dwell > 0).any() else 0
    lagged = [(u, text[u], int(dwell[u])) for u in range(len(text)) if typical and dwell[u] > LAG_FACTOR * typical]
    return skipped, lagged


@torch.no_grad()
def next_point_density(model, offsets: np.ndarray, predictions: np.ndarray, grid=DENSITY_GRID):
    """Sum over steps of the predicted density of the next pen position, on a grid over the ink.
    predictions (T, 1+6M): the sampler's y_hat at each step, the one point t was drawn from."""
    net = model.network
    positions = np.cumsum(offsets[:, :2], axis=0)  # (T, 2) pen positions
    low, high = positions.min(0), positions.max(0)
    # A margin around the ink; a line that never moved still gets an area to plot.
    pad = 0.05 * (high - low).max() or float(model.std.max())
    xs = np.linspace(low[0] - pad, high[0] + pad, grid[1])
    ys = np.linspace(low[1] - pad, high[1] + pad, grid[0])
    points = torch.as_tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
    total = torch.zeros(len(points))
    mean, std = model.mean, model.std
    reach = 6.0 * float(std.max())  # the next point lies within a few std of the current one
    for t in range(len(offsets) - 1):
        near = (points - torch.as_tensor(positions[t], dtype=torch.float32)).abs().max(1).values < reach
        if not near.any():
            continue
        step = (points[near] - torch.as_tensor(positions[t], dtype=torch.float32) - mean) / std
        y_hat = torch.from_numpy(predictions[t + 1])  # what the point after step t was drawn from
        total[near] += mdn.density(y_hat, net.config.mixtures, step) / float(std[0] * std[1])
    return total.view(grid).numpy(), (xs[0], xs[-1], ys[0], ys[-1])


def inspect_text(model, text: str, bias: float | None = None, seed: int | None = None,
                 style: str | None = None, style_text: str | None = None,
                 candidates: int = DEFAULT_CANDIDATES) -> Inspection:
    """Write one line as `hw write` does (same characters, same style, same choice among
    `candidates` samples) and trace the window."""
    from hwcli.data.alphabet import Alphabet, shown_chars
    from hwcli.errors import UsageError
    from hwcli.generate.page import glyph_chars
    from hwcli.generate.priming import bias_for, own_ink, prime_for
    from hwcli.generate.sampler import write_lines

    alphabet = Alphabet(model.alphabet)
    text, substitutions = alphabet.check_text(" ".join(text.split()), fallback=glyph_chars(alphabet))
    drawn = alphabet.missing(text)
    if drawn:  # hw write draws these from the glyph font; there is no window over them to show
        raise UsageError(f"hw inspect shows the model's own writing, and it has no {shown_chars(drawn)} "
                         "(hw write draws them from the glyph font); inspect text without them")
    prime = prime_for(style, model, style_text)
    written = write_lines(model, [text], bias=bias_for(prime, bias), seed=seed, prime=prime, return_phi=True, candidates=candidates,
                          match_lifts=own_ink(prime))
    # After a prime the window runs over "prime text + space + text": show the text's own columns.
    offsets, phi = written.lines[0], written.windows[0][:, len(written.windows[0][0]) - len(text):]
    skipped, lagged = focus_report(phi, text)
    return Inspection(text, offsets_to_strokes(offsets), phi, next_point_density(model, offsets, written.predictions[0]),
                      written.stopped_by_rule[0], len(offsets) / len(text), skipped, lagged, substitutions)
