"""Speed under load: `hw write` of a 10-line page and a short `hw train`, on an idle machine and
with one core kept busy by another program, and the ratio of the two.

* page: `hw write` of a ten-line page with the shipped model (or --model), --seed 1, in a fresh
  process as a user runs it (torch's import included).
* train: `hw train synthesis --max-steps 20` of a small network (2 x 64 cells, batch 8) on the
  IAM-OnDB sample (../shared/data/iam-ondb-sample, preprocessed into a temporary HW_HOME), in a
  fresh process; with --train-threads, once per thread count.
* busy: a child process spinning `while True: pass` for the whole measurement, as another
  program holding a core would.

Target (issue 17): with one core busy, each takes at most 2x its idle time. `--old` also runs
each case as hw did before it chose its threads (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS = the
number of cores, torch's default thread count), to show the collapse it fixed. Prints a table
and, last, one JSON object.

    python bench/under_load.py [--quick] [--repeats N] [--train-threads 1,2] [--old] [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "iam-ondb-sample"
PAGE = "\n".join(f"Line {i + 1} of the page: good morning to you" for i in range(10))
TRAIN_ARGS = ["--hidden", "64", "--layers", "2", "--mixtures", "5", "--window-mixtures", "3",
              "--batch-size", "8", "--epochs", "1", "--max-steps", "20"]
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def hw(args: list[str], env: dict) -> float:
    """Wall seconds of one `python -m hwcli ARGS` (must succeed)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "hwcli", *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"hw {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return seconds


@contextmanager
def busy_core(on: bool):
    """One process spinning on a core for the duration (nothing when `on` is False)."""
    if not on:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it take its core
        yield
    finally:
        spinner.kill()
        spinner.wait()


def measure(label: str, args: list[str], env: dict, repeats: int, cleanup=None) -> dict:
    out = {}
    for busy in (False, True):
        times = []
        with busy_core(busy):
            for _ in range(repeats):
                if cleanup:
                    cleanup()
                times.append(hw(args, env))
        out["busy" if busy else "idle"] = statistics.median(times)
        out[("busy" if busy else "idle") + "_runs"] = [round(t, 2) for t in times]
    out["ratio"] = out["busy"] / out["idle"]
    print(f"{label:<40} idle {out['idle']:7.2f} s   one core busy {out['busy']:7.2f} s   ratio {out['ratio']:5.2f}",
          flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run per case, no --old comparison")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (median reported)")
    parser.add_argument("--train-threads", default="", help="comma-separated --threads values for the training run "
                        "(default: hw's own choice)")
    parser.add_argument("--old", action="store_true", help="also run as before: threads = cores everywhere")
    parser.add_argument("--model", default=None, help="synthesis model for the page (default: the shipped one)")
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    if not SAMPLE.is_dir() and not args.skip_train:
        raise SystemExit(f"the IAM-OnDB sample is not at {SAMPLE}; pass --skip-train")

    cores = os.cpu_count() or 1
    results: dict = {"cores": cores, "repeats": repeats, "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        env.update(HW_HOME=str(tmp / "home"), PYTHONPATH=str(ROOT))
        old_env = {**env, **{k: str(cores) for k in THREAD_VARIABLES}}
        page_file = tmp / "page.txt"
        page_file.write_text(PAGE, encoding="utf-8")
        page_args = ["write", f"@{page_file}", "-o", str(tmp / "page.svg"), "--seed", "1", "--width", "60"]
        if args.model:
            page_args += ["--model", args.model]

        results["page"] = measure("hw write, 10-line page", page_args, env, repeats)
        if args.old and not args.quick:
            results["page_old"] = measure("hw write, 10-line page (old threads)", page_args, old_env, repeats)

        if not args.skip_train:
            data = tmp / "sample.npz"
            hw(["preprocess", str(SAMPLE), "-o", str(data), "--workers", "1"], env)
            models = tmp / "home" / "models"

            def fresh():
                for folder in models.glob("bench*"):
                    for file in folder.iterdir():
                        file.unlink()
                    folder.rmdir()

            train_args = ["train", "synthesis", "--data", str(data), "--name", "bench", *TRAIN_ARGS]
            choices = [int(t) for t in args.train_threads.split(",") if t] or [None]
            for threads in choices:
                extra = [] if threads is None else ["--threads", str(threads)]
                label = f"hw train --max-steps 20{'' if threads is None else f' --threads {threads}'}"
                key = "train" if threads is None else f"train_threads_{threads}"
                results[key] = measure(label, train_args + extra, env, repeats, cleanup=fresh)
            if args.old and not args.quick:
                results["train_old"] = measure("hw train --max-steps 20 (old threads)",
                                               train_args + ["--threads", str(cores)], old_env, repeats, cleanup=fresh)
    checked = [v["ratio"] for k, v in results.items() if isinstance(v, dict) and not k.endswith("_old")]
    results["target_met"] = all(r <= 2.0 for r in checked)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
