"""Measure the in-stroke steps of IAM-OnDB that justify MAX_PEN_DOWN_STEP (docs/preprocessing.md).

For every line file: the largest step between successive points of one
stroke (pen down), before any repair. Prints one JSON object: percentiles of
that per-line maximum, how many lines exceed 400 / 500 / 600 units, and what
remove_recording_errors does to the data.

    python bench/recording_errors.py [IAM-ONDB-ROOT] [--quick]   # default ../shared/data/iam-ondb

--quick reads the first 200 line files only: a check that it runs.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

from hwcli.data.iamondb import IamOnDbSource, parse_line_xml
from hwcli.data.ink import MAX_PEN_DOWN_STEP, remove_recording_errors

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "iam-ondb"
PERCENTILES = (50, 90, 99, 99.5, 99.9)
THRESHOLDS = (400, 500, 600)


def largest_step(item: tuple[str, bytes]):
    """Worker: (line id, XML) -> (largest in-stroke step, points, repairs, points deleted); None when malformed."""
    _, data = item
    try:
        strokes = parse_line_xml(data)
    except ValueError:
        return None
    steps = [np.hypot(*np.diff(s, axis=0).T).max() for s in strokes if len(s) > 1]
    repaired, repairs = remove_recording_errors(strokes)
    points = sum(len(s) for s in strokes)
    return (max(steps) if steps else 0.0), points, repairs, points - sum(len(s) for s in repaired)


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    roots = [a for a in sys.argv[1:] if a != "--quick"]
    root = Path(roots[0]) if roots else DEFAULT_ROOT
    if not root.exists():
        sys.exit(f"no IAM-OnDB at {root}")
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        files = itertools.islice(IamOnDbSource(root).line_files(), 200 if quick else None)
        results = [r for r in pool.imap_unordered(largest_step, files, chunksize=32) if r]
    largest = np.array([r[0] for r in results])
    print(
        json.dumps(
            {
                "root": str(root),
                "lines": len(results),
                "points": int(sum(r[1] for r in results)),
                "largest_step_percentiles": {
                    f"{p}%": round(float(v)) for p, v in zip(PERCENTILES, np.percentile(largest, PERCENTILES))
                },
                "lines_with_a_step_above": {str(t): int((largest > t).sum()) for t in THRESHOLDS},
                "largest_step_max": round(float(largest.max())),
                "threshold": MAX_PEN_DOWN_STEP,
                "repairs_at_threshold": int(sum(r[2] for r in results)),
                "stray_points_deleted": int(sum(r[3] for r in results)),
                "lines_repaired": int(sum(r[2] > 0 for r in results)),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
