"""How well the independent judge reads each character in *real* handwriting: the yardstick
for `bench/legibility.py --per-char` on hw's own writing.

Reads every IAM-OnDB line of the preprocessed dataset (`hw preprocess`), both splits, with
the judge in ../shared/tools/legibility, and counts per character how often its reading
has that character in place (the same alignment as bench/legibility.py). The judge was
trained on the training split and never on the validation split, so the two are reported
apart. Lines holding `#` (the transcribers' unreadable word) are left out, as the judge's
own training left them out.

With --line-starts it reads every validation line instead and reports how often the judge
misreads a line's first and second character (all lines, and those that begin with a
capital): the yardstick for the line starts of hw's writing (bench/pool_priming.py).

    python bench/judge_real_chars.py [--dataset FILE] [--chars "QXZ&+/[]0123456789"] [--line-starts] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hwcli.data import dataset as datasets
from hwcli.data.ink import offsets_to_strokes
from hwcli.paths import default_dataset_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from legibility import JUDGE, char_readings, first_chars_misread  # noqa: E402
from priming import y_down  # noqa: E402

DEFAULT_CHARS = "QXZ&+/[]0123456789"
SPLITS = {datasets.TRAIN: "judge's training lines", datasets.VALIDATION: "validation lines (unseen by the judge)"}


def counts_per_char(intended: list[str], read: list[str], chars: str) -> dict[str, list[int]]:
    """{char: [read right, seen]} over the pairs, for each of `chars` that occurs."""
    counts: dict[str, list[int]] = {}
    for text, reading in zip(intended, read):
        for char, right in char_readings(text, reading):
            if char in chars:
                seen = counts.setdefault(char, [0, 0])
                seen[0] += right
                seen[1] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description="the judge's per-character reading of real IAM-OnDB lines")
    parser.add_argument("--dataset", type=Path, help="the preprocessed IAM-OnDB [default: the cache's]")
    parser.add_argument("--chars", default=DEFAULT_CHARS, help=f"characters to count [default: {DEFAULT_CHARS}]")
    parser.add_argument("--line-starts", action="store_true",
                        help="how often the first and second character of a validation line are misread")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not JUDGE.is_file():
        raise SystemExit(f"the judge is not at {JUDGE}")
    sys.path.insert(0, str(JUDGE.parent))
    from judge import Judge

    data = datasets.load(args.dataset or default_dataset_path())
    judge = Judge()
    report = line_starts(data, judge) if args.line_starts else per_split(data, judge, args.chars)
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


def y_down_ink(data, i: int) -> list[np.ndarray]:
    return y_down(offsets_to_strokes(data.line(i)))  # the dataset is y up; the judge's strokes are y down


def line_starts(data, judge) -> dict:
    lines = [i for i in data.indices(datasets.VALIDATION) if "#" not in data.texts[i]]
    pairs = list(zip([str(data.texts[i]) for i in lines], judge.read_many([y_down_ink(data, i) for i in lines])))
    capitals = [(text, read) for text, read in pairs if text.lstrip()[:1].isupper()]
    return {"validation_lines": len(pairs), "first_second_char_misread": first_chars_misread(pairs),
            "lines_beginning_with_a_capital": len(capitals),
            "their_first_second_char_misread": first_chars_misread(capitals)}


def per_split(data, judge, chars: str) -> dict:
    report = {}
    for part, name in SPLITS.items():
        lines = [i for i in data.indices(part)
                 if "#" not in data.texts[i] and any(c in chars for c in data.texts[i])]
        readings = judge.read_many([y_down_ink(data, i) for i in lines])
        counts = counts_per_char([str(data.texts[i]) for i in lines], readings, chars)
        report[name] = {"lines": len(lines),
                        "per_char": {c: f"{r}/{n}" for c, (r, n) in sorted(counts.items())},
                        "read_right": round(sum(r for r, _ in counts.values()) / max(1, sum(n for _, n in counts.values())), 3)}
    return report


if __name__ == "__main__":
    main()
