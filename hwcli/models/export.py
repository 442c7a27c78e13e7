"""Make a trained model shippable: half-precision weights, no optimiser state, the
ink scale of its training data (for fitting user style ink) and, optionally, the
built-in style `hw write` primes it with when the user names none.

From the command line: `hw export NAME OUT.pt [--dataset FILE] [--default-style STYLE]`.
From Python:

    from hwcli.models.export import export
    info = export("synth256", Path("synthesis.pt"), default_style="upright")

Raises the project's errors (ModelError, DataError, UsageError), never exits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwcli import paths
from hwcli.data.dataset import TRAIN
from hwcli.data.dataset import load as load_dataset
from hwcli.data.ink import coarsen, line_height, offsets_to_strokes
from hwcli.errors import DataError, UsageError
from hwcli.models import checkpoint, store

# What a shipped model carries beyond a checkpoint's training summary.
SCALE_KEYS = ("line_height", "pen_step")


def ink_scale(dataset_path: Path, stride: int, lines: int = 2000) -> dict:
    """Median line height (10-90% y range) and median pen-down step of training lines, source units."""
    data = load_dataset(dataset_path)
    indices = data.indices(TRAIN)[:lines]
    if not len(indices):
        raise DataError(f"{dataset_path} has no training lines to measure the ink scale from")
    heights, steps = [], []
    for i in indices:
        offsets = coarsen(data.line(i), stride)
        strokes = offsets_to_strokes(offsets)
        heights.append(line_height(strokes))
        steps.extend(np.hypot(*np.diff(s, axis=0).T) for s in strokes if len(s) > 1)
    return {"line_height": float(np.median(heights)), "pen_step": float(np.median(np.concatenate(steps)))}


def builtin_style(name: str) -> str:
    """`name` if it is a built-in style (a file in the package's styles folder), else UsageError."""
    known = paths.builtin_style_names()
    if name not in known:
        raise UsageError(f"no built-in style {name!r} (built-in: {', '.join(known) or 'none'})")
    return name


def export(name: str, out: Path, dataset_path: Path | None = None, default_style: str | None = None) -> dict:
    """Write model `name` (a name `hw models` lists, or a .pt file) to `out` as a shipped model.

    The user model's best.pt is taken when it has one. A synthesis model (and an IAM-OnDB one) is
    measured on `dataset_path`, by default the dataset it was trained on; a model exported before
    keeps its scale when no dataset is at hand. Returns the info the shipped file carries.
    """
    out = Path(out)
    if default_style:
        builtin_style(default_style)
    if out.is_dir():
        raise UsageError(f"{out} is a folder; name the file to write, e.g. {out / 'synthesis.pt'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"cannot make the folder {out.parent} for {out.name}: {error.strerror or error}") from None
    entry = store.find(name)
    folder = entry.path.parent
    source = folder / "best.pt" if not entry.shipped and (folder / "best.pt").is_file() else entry.path
    ckpt = checkpoint.read(source)
    info = dict(ckpt.get("info") or {})
    if ckpt.get("kind") == "synthesis" or str(info.get("source", "")).lower().endswith("iam-ondb"):
        dataset = dataset_path or info.get("dataset")
        if dataset:
            if not Path(dataset).is_file():
                how = "" if dataset_path else f" (the dataset {source} was trained on); pass --dataset FILE"
                raise DataError(f"no dataset file at {dataset}{how}")
            info.update(ink_scale(Path(dataset), int(info.get("stride", 1))))
        elif not all(key in info for key in SCALE_KEYS):
            raise UsageError(f"{source} names no dataset to measure its ink scale on; pass --dataset FILE")
    info["dataset"] = ""  # the user's machine has its own (or none)
    if default_style:
        info["default_style"] = default_style
    network = checkpoint.network_of(ckpt)
    shipped = checkpoint.checkpoint_dict(network, ckpt["alphabet"], ckpt["mean"], ckpt["std"], info, None, half=True)
    checkpoint.save(out, shipped)
    return info
