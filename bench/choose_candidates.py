"""Choose how many samples `hw write` draws per line (config.DEFAULT_CANDIDATES): the most usual
one is kept (sampler._most_typical). Measured on a selection set kept apart from the benchmarks:
primes from training-split writers (bench/priming.py's user-file path) plus the model's own
style, the style-selection sentences (bench/style_sentences.txt) wrapped at 25 characters,
read by the independent judge in ../shared/tools/legibility.

    python bench/choose_candidates.py [--candidates 1 3 5] [--writers 30] [--seeds 2] [--dataset FILE] [--no-match] [--quick]

As `hw write --style FILE` does, the writers' lines lift the pen as often as their ink
(generate/lifts.py); `--no-match` samples without that, as `hw write --no-match`.

Prints one JSON object per candidate count: mean and median CER over the lines, and the
share of lines the judge reads perfectly.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from priming import JUDGE_DIR, judge_cer, save_user_ink, y_down  # noqa: E402

from hwcli import paths  # noqa: E402
from hwcli.data import dataset  # noqa: E402
from hwcli.data.alphabet import Alphabet  # noqa: E402
from hwcli.data.iamondb import form_of  # noqa: E402
from hwcli.data.ink import offsets_to_strokes  # noqa: E402
from hwcli.generate.priming import bias_for, own_ink, prime_for  # noqa: E402
from hwcli.generate.sampler import write_lines  # noqa: E402
from hwcli.models import store  # noqa: E402
from hwcli.render.layout import wrap_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT / "bench" / "style_sentences.txt"
WRAP = 25  # as bench/priming.py reads: the judge's width limit (priming.judge_takes_for_flat)
PRIME_CHARS = (25, 70)


def training_primes(data, alphabet: Alphabet, count: int) -> dict[str, int]:
    """Evenly spaced training-split forms -> one line of usual length from each (the prime)."""
    chosen = {}
    for i in data.indices(dataset.TRAIN):
        form, text = form_of(str(data.ids[i])), str(data.texts[i])
        if form not in chosen and PRIME_CHARS[0] <= len(text) <= PRIME_CHARS[1] and not alphabet.missing(text):
            chosen[form] = int(i)
    names = sorted(chosen)
    keep = np.unique(np.linspace(0, len(names) - 1, min(count, len(names))).round().astype(int))
    return {names[k]: chosen[names[k]] for k in keep}


def main() -> None:
    parser = argparse.ArgumentParser(description="best of how many samples per line: the judge's reading")
    parser.add_argument("--candidates", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--writers", type=int, default=30, help="training-split writers whose line primes")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per writer and candidate count")
    parser.add_argument("--bias", type=float, help="[default: as hw write, per style]")
    parser.add_argument("--model")
    parser.add_argument("--dataset", type=Path, help="the preprocessed IAM-OnDB [default: the cache's]")
    parser.add_argument("--no-match", action="store_true", help="no pen-lift matching for the writers' ink")
    parser.add_argument("--quick", action="store_true", help="2 writers, 1 seed, candidates 1 and 3: a check that it runs")
    args = parser.parse_args()
    if args.quick:
        args.writers, args.seeds, args.candidates = 2, 1, [1, 3]
    if not (JUDGE_DIR / "judge.py").is_file():
        raise SystemExit(f"the judge is not at {JUDGE_DIR}")
    sys.path.insert(0, str(JUDGE_DIR))
    from judge import Judge

    data = dataset.load(args.dataset or paths.default_dataset_path())
    model = store.load(args.model, "synthesis")
    alphabet = Alphabet(model.alphabet)
    sentences = [s for s in SENTENCES.read_text().splitlines() if s.strip()]
    folder = Path(tempfile.mkdtemp(prefix="hw-candidates-"))
    primes = {"(model's own style)": prime_for(None, model)}
    for form, i in training_primes(data, alphabet, args.writers).items():
        ink = folder / f"{form}.json"
        save_user_ink(ink, [offsets_to_strokes(data.line(i))], [str(data.texts[i])])
        primes[form] = prime_for(str(ink), model)
    judge = Judge()
    for count in args.candidates:
        started = time.perf_counter()
        inks, texts = [], []
        for k, prime in enumerate(primes.values()):
            lines = [line for s in sentences[2 * k % len(sentences):][:2] for line in wrap_text(s, WRAP)]
            for seed in range(args.seeds):
                written = write_lines(model, lines, bias=bias_for(prime, args.bias), seed=seed, prime=prime, candidates=count,
                                      match_lifts=own_ink(prime) and not args.no_match)
                inks += [y_down(offsets_to_strokes(o)) for o in written.lines]
                texts += lines
        seconds = time.perf_counter() - started
        cers = [judge_cer(r, t) for r, t in zip(judge.read_many(inks), texts)]
        print(json.dumps({"candidates": count, "match_lifts": not args.no_match, "lines": len(cers), "styles": len(primes), "seeds": args.seeds,
                          "mean_cer": round(float(np.mean(cers)), 4), "median_cer": round(float(np.median(cers)), 4),
                          "read_perfectly": round(float(np.mean(np.array(cers) == 0)), 3),
                          "write_seconds": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
