"""Time `hw preprocess` on the full IAM-OnDB archives, and loading what it writes.

Runs the command as a user would (a fresh process, from the two archives),
then loads the file in this process. Prints one JSON object with the wall
time, the output size, the load time and whether each meets its target.

    python bench/preprocess_speed.py [IAM-ONDB-ROOT] [--workers N]   # default ../shared/data/iam-ondb
    python bench/preprocess_speed.py --quick SMALL-ROOT    # any root `hw preprocess` reads; targets not judged
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "iam-ondb"
TARGET_SECONDS = 30.0  # full IAM-OnDB from the archives, 2 cores
TARGET_MB = 40.0
TARGET_LOAD_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="a small root, folders or archives (the targets are for the full archives): a check that it runs")
    args = parser.parse_args()
    if args.quick:
        if not args.root.exists():
            sys.exit(f"no IAM-OnDB at {args.root}")
    elif not (args.root / "lineStrokes-all.tar.gz").is_file():
        sys.exit(f"no IAM-OnDB archives at {args.root}")

    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "iam-ondb.npz"
        command = [sys.executable, "-m", "hwcli", "preprocess", str(args.root), "-o", str(output)]
        command += ["--json", "--workers", str(args.workers)]
        started = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HW_HOME": tmp})
        wall = time.perf_counter() - started
        if run.returncode != 0:
            sys.exit(f"hw preprocess failed: {run.stderr.strip()}")
        summary = json.loads(run.stdout)

        from hwcli.data.dataset import load

        started = time.perf_counter()
        data = load(output)
        load_seconds = time.perf_counter() - started
        megabytes = output.stat().st_size / 1e6

    print(
        json.dumps(
            {
                "root": str(args.root),
                "workers": args.workers,
                "wall_seconds": round(wall, 2),
                "command_seconds": summary["seconds"],
                "output_mb": round(megabytes, 2),
                "load_seconds": round(load_seconds, 3),
                "lines": len(data),
                "train_lines": summary["train_lines"],
                "validation_lines": summary["validation_lines"],
                "dropped": summary["dropped"],
                "repairs": summary["repairs"],
                "points": summary["points"],
                "alphabet_size": summary["alphabet_size"],
                "quick": args.quick,
                "meets_targets": None if args.quick else {
                    f"wall <= {TARGET_SECONDS:g} s": wall <= TARGET_SECONDS,
                    f"size <= {TARGET_MB:g} MB": megabytes <= TARGET_MB,
                    f"load <= {TARGET_LOAD_SECONDS:g} s": load_seconds <= TARGET_LOAD_SECONDS,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
