"""Pool runs of bench/priming.py (several seeds, both writer sets) into one reading.

One run's median style rank moves by 3 or more from seed to seed on the same code (40 writers,
3 sentences each: docs/model-card.md), so a change in likeness is judged on runs pooled: the
median rank over every (writer, run) pair, the geometric mean rank, and the share of pairs
ranked within the goal, beside each run's own figures; and, for runs that record their sentences,
how often the judge misreads the first and second character of a sentence (the yardstick:
bench/judge_real_chars.py --line-starts).

    python bench/pool_priming.py OUT [OUT ...]      (the --out folders, or their priming.json)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from legibility import first_chars_misread  # noqa: E402

GOAL_RANK = 12  # issue #14: the true writer's median rank by style


def load_run(path: Path) -> dict:
    path = path / "priming.json" if path.is_dir() else path
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"cannot read a bench/priming.py run at {path}: {error}") from None


def pool(runs: list[dict]) -> dict:
    """The pooled figures of bench/priming.py runs (their priming.json documents)."""
    rows = [row for run in runs for row in run["writers"]]
    output = np.array([row["output_rank"] for row in rows], float)
    real = np.array([row["real_line_rank"] for row in rows], float)
    # Runs before 2026-12-04 (late) kept no sentences: their line starts cannot be scored.
    starts = [(text, read) for row in rows if "sentences" in row for text, read in zip(row["sentences"], row["reads"])]
    return {
        "runs": [{key: run["summary"].get(key) for key in ("writer_set", "seed", "style_lines", "mean_cer", "median_rank_output",
                                                          "median_rank_real_line", "worse_than_own_by_0.15")} for run in runs],
        "pairs": len(rows),
        "median_rank_output": float(np.median(output)),
        "median_rank_real_line": float(np.median(real)),
        "geometric_mean_rank_output": round(float(np.exp(np.log(output).mean())), 2),
        "geometric_mean_rank_real_line": round(float(np.exp(np.log(real).mean())), 2),
        f"share_ranked_within_{GOAL_RANK}": round(float(np.mean(output <= GOAL_RANK)), 3),
        "mean_cer": round(float(np.mean([row["output_cer"] for row in rows])), 4),
        "pairs_worse_than_own_by_0.15": sum(len(run["summary"]["worse_than_own_by_0.15"]) for run in runs),
        "sentences_with_their_start": len(starts),
        "first_second_char_misread": first_chars_misread(starts) if starts else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="pool bench/priming.py runs into one reading")
    parser.add_argument("runs", type=Path, nargs="+", help="the --out folders of bench/priming.py runs (or their priming.json)")
    args = parser.parse_args()
    print(json.dumps(pool([load_run(path) for path in args.runs])))


if __name__ == "__main__":
    main()
