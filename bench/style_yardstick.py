"""How well the style figures (bench/style_features.py) tell real writers apart, by each way
of measuring the distance between them: the yardstick bench/priming.py ranks `hw`'s output by.

Each form (one writer's session) with 3 or more lines gives its first line as a query; every
form's profile is the mean of its other lines. A query's rank is its own form's place among all
profiles (1 = closest). The metrics:

* `total_spread`: each figure divided by its spread over all lines (the yardstick until 2026-12-05);
* `writer_spread`: each figure divided by how much one writer's lines vary in it;
* `within_writer`: Mahalanobis distance for the within-writer covariance (what bench/priming.py uses).

Training forms are measured with the metric fitted on the other half of them (forms alternately
in two halves, each half measured with the other's fit); validation forms with the fit on all
training forms, as bench/priming.py does.

    python bench/style_yardstick.py [--dataset FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from style_features import figures_by_form, ranks, whitening, within_writer_covariance  # noqa: E402

from hwcli import paths  # noqa: E402
from hwcli.data import dataset  # noqa: E402


def metrics(forms: dict[str, dict[int, np.ndarray]]) -> dict[str, np.ndarray]:
    """The three metrics, fitted on these forms' lines."""
    covariance = within_writer_covariance([np.stack(list(lines.values())) for lines in forms.values()])
    every_line = np.stack([f for lines in forms.values() for f in lines.values()])
    return {"total_spread": np.diag(1 / every_line.std(0)),
            "writer_spread": np.diag(1 / np.sqrt(np.diag(covariance))),
            "within_writer": whitening(covariance)}


def identification_ranks(forms: dict[str, dict[int, np.ndarray]], metric: np.ndarray) -> list[int]:
    """Each form's first line's rank among all forms' profiles (the mean of their other lines)."""
    queries, profiles = {}, {}
    for form, lines in forms.items():
        held = next(iter(lines)) if len(lines) >= 3 else None
        profiles[form] = np.mean([figures for i, figures in lines.items() if i != held], 0)
        if held is not None:
            queries[form] = lines[held]
    return list(ranks(queries, profiles, metric).values())


def summary(ranks_: list[int], writers: int) -> dict:
    ranks_ = np.array(ranks_, float)
    return {"queries": len(ranks_), "among": writers, "median_rank": float(np.median(ranks_)),
            "geometric_mean_rank": round(float(np.exp(np.log(ranks_).mean())), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description="how well each style yardstick tells real writers apart")
    parser.add_argument("--dataset", type=Path)
    args = parser.parse_args()
    data = dataset.load(args.dataset or paths.default_dataset_path())
    training = figures_by_form(data, dataset.TRAIN)
    validation = figures_by_form(data, dataset.VALIDATION)
    names = sorted(training)
    halves = [{n: training[n] for n in names[k::2]} for k in (0, 1)]
    fitted = [metrics(half) for half in halves]
    on_all = metrics(training)
    report = {}
    for name in on_all:
        # Each half is ranked among its own forms only, so both halves' ranks are out of half the forms.
        crossed = [r for k in (0, 1) for r in identification_ranks(halves[k], fitted[1 - k][name])]
        report[name] = {"training_halves_crossed": summary(crossed, len(halves[0])),
                        "validation": summary(identification_ranks(validation, on_all[name]), len(validation))}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
