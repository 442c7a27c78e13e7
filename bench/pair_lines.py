"""A trial, not a feature: a dataset that trains the synthesis network on what priming asks of
it. `hw write --style INK` appends the new text to the ink's own and the network carries on
after the ink (paper section 5.5). The network learnt from single lines and never saw one hand
run on for two lines' worth of text. Here each of a form's lines is paired with the next (one
writer, one session), set end to end on one line (line A, a word gap, line B) with the text
"A B". A form's odd line out stays alone. Train on it from the shipped model:

    python bench/pair_lines.py /tmp/pairs.npz [--dataset FILE]
    hw train synthesis --data /tmp/pairs.npz --init-from synthesis --name pairs --epochs 1 --lr 1e-4
    hw export pairs /tmp/pairs.pt --dataset DATASET --default-style upright   # the ink scale of single lines
    python bench/priming.py --model /tmp/pairs.pt

docs/model-card.md has what it measured.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hwcli import paths
from hwcli.data import dataset as datasets
from hwcli.data.iamondb import Line, form_of

GAP = 0.9  # the word gap between the two lines, in body heights (10-90 % of line A's y)
EDGE = 15  # percent of a line's points (by x) whose median y is its baseline's height there


def join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Stroke-3 offsets of two lines -> one line: B starts GAP body heights right of A's right
    end, moved up or down so that the height where B begins meets the height where A ends
    (whiteboard lines climb or fall)."""
    points_a, points_b = np.cumsum(a[:, :2], 0), np.cumsum(b[:, :2], 0)
    bottom, top = np.percentile(points_a[:, 1], [10, 90])
    end_a = np.median(points_a[points_a[:, 0] >= np.percentile(points_a[:, 0], 100 - EDGE), 1])
    start_b = np.median(points_b[points_b[:, 0] <= np.percentile(points_b[:, 0], EDGE), 1])
    points_b = points_b + [points_a[:, 0].max() + GAP * (top - bottom) - points_b[:, 0].min(), end_a - start_b]
    points = np.concatenate([points_a, points_b])
    steps = np.diff(points, axis=0, prepend=np.zeros((1, 2)))
    return np.column_stack([steps, np.concatenate([a[:, 2], b[:, 2]])]).astype(np.float32)


def paired(data: datasets.Dataset) -> datasets.Dataset:
    """Every form's lines with text, in order, joined two by two (each side of the split apart)."""
    forms: dict[tuple[str, int], list[int]] = {}
    for i in range(len(data)):
        if data.texts[i]:
            forms.setdefault((form_of(str(data.ids[i])), int(data.split[i])), []).append(i)
    lines, split = [], []
    for (form, part), members in sorted(forms.items()):
        members.sort(key=lambda i: str(data.ids[i]))
        for a, b in zip(members[::2], members[1::2] + [None]):
            if b is None:
                lines.append(Line(str(data.ids[a]), form, str(data.texts[a]), data.line(a).astype(np.float32)))
            else:
                lines.append(Line(f"{data.ids[a]}+{data.ids[b]}", form, f"{data.texts[a]} {data.texts[b]}",
                                  join(data.line(a), data.line(b))))
            split.append(part)
    kept = {k: v for k, v in data.meta.items() if k not in ("mean", "std", "alphabet_counts", "points")}
    return datasets.build(lines, np.array(split, np.uint8), {**kept, "paired_from": str(data.meta.get("source", ""))})


def main() -> None:
    parser = argparse.ArgumentParser(description="a dataset of each form's lines joined two by two on one line")
    parser.add_argument("out", type=Path, help="the paired dataset file to write (.npz)")
    parser.add_argument("--dataset", type=Path, help="the dataset to pair [default: the one hw preprocess wrote]")
    args = parser.parse_args()
    data = datasets.load(args.dataset or paths.default_dataset_path())
    out = paired(data)
    datasets.save(out, args.out)
    print(f"{len(data)} lines -> {len(out)} ({int((out.split == datasets.TRAIN).sum())} for training): {args.out}")


if __name__ == "__main__":
    main()
