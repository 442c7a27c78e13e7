"""Make a trained model shippable: half-precision weights, no optimiser state, the
ink scale of its training data (for fitting user style ink) and, optionally, the
built-in style `hw write` primes it with when the user names none.

    python -m hwcli.models.export NAME OUT.pt [--dataset FILE] [--default-style STYLE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hwcli.data.dataset import TRAIN
from hwcli.data.dataset import load as load_dataset
from hwcli.data.ink import coarsen, offsets_to_strokes
from hwcli.models import checkpoint, store


def ink_scale(dataset_path: Path, stride: int, lines: int = 2000) -> dict:
    """Median line height (10-90% y range) and median pen-down step of training lines, source units."""
    from hwcli.generate.priming import line_height

    data = load_dataset(dataset_path)
    indices = data.indices(TRAIN)[:lines]
    heights, steps = [], []
    for i in indices:
        offsets = coarsen(data.line(i), stride)
        strokes = offsets_to_strokes(offsets)
        heights.append(line_height(strokes))
        steps.extend(np.hypot(*np.diff(s, axis=0).T) for s in strokes if len(s) > 1)
    return {"line_height": float(np.median(heights)), "pen_step": float(np.median(np.concatenate(steps)))}


def export(name: str, out: Path, dataset_path: Path | None = None, default_style: str | None = None) -> dict:
    from hwcli.generate.priming import builtin_names

    if default_style and default_style not in builtin_names():
        raise SystemExit(f"no built-in style {default_style!r} (built-in: {', '.join(builtin_names())})")
    entry = store.find(name)
    folder = entry.path.parent
    source = folder / "best.pt" if (folder / "best.pt").is_file() else entry.path
    ckpt = checkpoint.read(source)
    info = dict(ckpt.get("info") or {})
    dataset_path = Path(dataset_path or info["dataset"])
    if ckpt["kind"] == "synthesis" or info.get("source", "").lower().endswith("iam-ondb"):
        info.update(ink_scale(dataset_path, int(info.get("stride", 1))))
    info["dataset"] = ""  # the user's machine has its own (or none)
    if default_style:
        info["default_style"] = default_style
    network = checkpoint.build_network(ckpt["kind"], ckpt["config"])
    network.load_state_dict(ckpt["state_dict"])
    shipped = checkpoint.checkpoint_dict(network, ckpt["alphabet"], ckpt["mean"], ckpt["std"], info, None, half=True)
    checkpoint.save(out, shipped)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("out", type=Path)
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--default-style", help="built-in style for `hw write` when the user names none")
    args = parser.parse_args()
    info = export(args.name, args.out, args.dataset, args.default_style)
    keys = ("epochs", "steps", "best_validation", "line_height", "pen_step", "default_style")
    print({k: info[k] for k in keys if k in info})


if __name__ == "__main__":
    main()
