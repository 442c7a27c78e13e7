"""Writing in a stranger's hand: prime `hw write` with one line of ink from each of N validation
forms of IAM-OnDB (writers the model never saw), given as a user's JSON file (y down, screen
units, the `--style FILE` path), write sentences of our own, and measure

* legibility: the independent judge's mean CER of the output, and the writers whose output reads
  more than 0.15 worse than the judge reads their own line; the judge reads the sentences wrapped
  at --wrap characters (a wide hand's 45-character line is past the width the judge can read,
  judge_takes_for_flat), and, as before, on one line each (`one_line_*`);
* likeness: the true writer's rank among all validation writers by simple style figures
  (bench/style_features.py, every line levelled first, as `hw write` lays its page out), by
  their distance measured against how much a training writer's lines vary (Mahalanobis, the
  within-writer covariance of the training lines), for the output and, as the yardstick, for
  the prime line itself (a real line of that writer, held out of the writer's profile either
  way). The rank by each figure z-scored over all validation lines, the yardstick until
  2026-12-05, is kept beside it (`*_by_total_spread`). A form stands for a writer: IAM-OnDB's
  line files carry no writer id, and each form is one writer's session.

With `--lines N` each writer's file holds N lines of their ink, one under the other (the prime
line first, then the form's next lines), as a user gives a paragraph: the writer's profile
leaves all N out, and the real-line yardstick is also given for the N lines' mean figures.
With `--ink-rate R` the ink is saved with R times its points per second, as a tablet sampling
faster or a browser slower would give it. `--selection` primes with 40 other writers (forms the
benchmark never picks), for choosing settings; bench/pool_priming.py pools runs.

    python bench/priming.py [--writers 40] [--sentences 3] [--lines N] [--dataset FILE] [--out DIR]
                            [--pictures DIR] [--seed N] [--wrap CHARS] [--bias B] [--ink-rate R]
                            [--selection] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# First, before numpy: sampling runs on one BLAS thread, as under `hw write` (hwcli/cli sets it),
# so that runs side by side do not spin against each other, and the output is the CLI's.
import hwcli.cli  # noqa: F401, I001
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from style_features import NAMES, features, figures_by_form, ranks, whitening, within_writer_covariance  # noqa: E402

from hwcli import paths  # noqa: E402
from hwcli.data import dataset  # noqa: E402
from hwcli.data.alphabet import Alphabet  # noqa: E402
from hwcli.data.iamondb import form_of  # noqa: E402
from hwcli.data.ink import offsets_to_strokes, resample_in_time  # noqa: E402
from hwcli.generate.page import write_page  # noqa: E402
from hwcli.config import DEFAULT_CANDIDATES, DEFAULT_STYLE_BIAS  # noqa: E402 - the writers' ink is a user's
from hwcli.models import store  # noqa: E402

MATCHED = ("slant", "width_per_char", "ascender", "descender")  # the figures generate/likeness.py sets toward the style's
ROOT = Path(__file__).resolve().parents[1]
JUDGE_DIR = ROOT.parent / "shared" / "tools" / "legibility"
SENTENCES = ROOT / "bench" / "priming_sentences.txt"
SELECTION_SENTENCES = ROOT / "bench" / "style_sentences.txt"  # kept apart from the benchmark's
WORSE_BY = 0.15  # the bar: output no more than this much worse than the writer's own line
WRITERS = 40  # the benchmark's writers (--writers); --selection picks among the other forms
PRIME_CHARS = (25, 70)  # a prime line of a usual length
# The judge takes a line more than 50 times wider than its body (10-90% of y) for a flat scribble
# and scales it by a tenth of its width, not its body (judge.py, normalize_strokes): its letters
# come out 5 or more times too small. A 45-character sentence in a wide hand crosses that and
# reads as garble however plain it is. So the judge reads the sentences wrapped at --wrap
# characters (25 keeps every line under it); the one-line figures are kept too.
ONE_LINE = 200  # write_page's width for a sentence on one line


def pick_writers(data, alphabet: Alphabet, count: int, selection: bool = False) -> dict[str, int]:
    """Evenly spaced validation forms with at least 3 lines -> the index of each one's prime line.
    `selection`: forms evenly spaced among those the benchmark (its usual WRITERS) does not pick,
    for choosing settings on writers apart from the benchmark's."""
    forms = defaultdict(list)
    for i in data.indices(dataset.VALIDATION):
        forms[form_of(str(data.ids[i]))].append(int(i))
    chosen = {}
    for form in sorted(forms):
        if len(forms[form]) < 3:
            continue
        for i in forms[form]:
            text = str(data.texts[i])
            if PRIME_CHARS[0] <= len(text) <= PRIME_CHARS[1] and not alphabet.missing(text):
                chosen[form] = i
                break
    names = sorted(chosen)
    if selection:
        taken = set(evenly_spaced(names, WRITERS))
        names = [n for n in names if n not in taken]
    return {n: chosen[n] for n in evenly_spaced(names, count)}, forms


def evenly_spaced(names: list[str], count: int) -> list[str]:
    return [names[k] for k in np.unique(np.linspace(0, len(names) - 1, min(count, len(names))).round().astype(int))]


def save_user_ink(path: Path, lines: list[list[np.ndarray]], texts: list[str]) -> None:
    """Lines of ink as a drawing app would save them: y down, screen-like units, away from the
    origin; each line after the first moved back to the first's left edge and below the last,
    half its own height apart."""
    placed, left = [lines[0]], np.concatenate(lines[0])[:, 0].min()
    for strokes in lines[1:]:
        above, points = np.concatenate(placed[-1]), np.concatenate(strokes)
        shift = [left - points[:, 0].min(),
                 above[:, 1].min() - 1.5 * np.ptp(points[:, 1]) - points[:, 1].min()]
        placed.append([s + shift for s in strokes])
    screen = [[[round(40 + 0.31 * x, 2), round(300 - 0.31 * y, 2)] for x, y in s] for strokes in placed for s in strokes]
    path.write_text(json.dumps({"text": "\n".join(texts), "y_down": True, "strokes": screen}))


def at_rate(strokes: list[np.ndarray], rate: float) -> list[np.ndarray]:
    """The strokes as a device sampling `rate` times as often would record them (evenly in time)."""
    return strokes if rate == 1 else [resample_in_time(s, 1 / rate) for s in strokes]


def y_down(strokes: list[np.ndarray]) -> list[np.ndarray]:
    return [s * np.array([1.0, -1.0]) for s in strokes]


def main(model_for=None, argv: list[str] | None = None) -> None:
    """`model_for(model, ink_file)`, where given, is the model each writer's sentences are written
    with (bench/adapt_trial.py: a copy adapted to their ink)."""
    parser = argparse.ArgumentParser(description="priming with unseen writers' ink: legibility and likeness")
    parser.add_argument("--writers", type=int, default=WRITERS)
    parser.add_argument("--sentences", type=int, default=3, help="sentences written per writer")
    parser.add_argument("--lines", type=int, default=1, help="lines of each writer's ink in their style file")
    parser.add_argument("--ink-rate", type=float, default=1.0,
                        help="save each writer's ink with this many times its points per second, as a device "
                             "sampling faster (over 1) or slower would")
    parser.add_argument("--sentence-file", type=Path,
                        help="the sentences, one a line (default bench/priming_sentences.txt, with --selection "
                             "bench/style_sentences.txt; bench/digit_sentences.txt has digits and times)")
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--pictures", type=Path, help="write each writer's own line and the output as SVGs here")
    parser.add_argument("--no-match", action="store_true", help="leave out the slant and width matching (likeness.py)")
    parser.add_argument("--wrap", type=int, default=25,
                        help="the judge reads the sentences wrapped at this many characters (see judge_takes_for_flat)")
    parser.add_argument("--bias", type=float, help="as hw write --bias [default: as hw write, for a style of your ink]")
    parser.add_argument("--seed", type=int, default=0, help="writer k writes with seed SEED + k")
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES, help="as hw write --candidates")
    parser.add_argument("--selection", action="store_true",
                        help="other validation writers than the benchmark's, writing the selection sentences "
                             "(bench/style_sentences.txt): for choosing settings apart from the benchmark")
    parser.add_argument("--quick", action="store_true", help="4 writers, 1 sentence: a smoke test")
    args = parser.parse_args(argv)
    if not args.ink_rate > 0:
        parser.error("--ink-rate must be above 0")
    if args.quick:
        args.writers, args.sentences = 4, 1
    if not (JUDGE_DIR / "judge.py").is_file():
        raise SystemExit(f"the judge is not at {JUDGE_DIR}")
    sys.path.insert(0, str(JUDGE_DIR))
    from judge import Judge

    data = dataset.load(args.dataset or paths.default_dataset_path())
    model = store.load(args.model, "synthesis")
    alphabet = Alphabet(model.alphabet)
    writers, forms = pick_writers(data, alphabet, args.writers, args.selection)
    style_lines = {f: [i] + [j for j in forms[f] if j != i and not alphabet.missing(str(data.texts[j]))][: args.lines - 1]
                   for f, i in writers.items()}
    sentence_file = args.sentence_file or (SELECTION_SENTENCES if args.selection else SENTENCES)
    sentences = [s for s in sentence_file.read_text().splitlines() if s.strip()]
    out = args.out or Path(tempfile.mkdtemp(prefix="hw-priming-"))
    (out / "ink").mkdir(parents=True, exist_ok=True)

    line_features = {i: f for lines in figures_by_form(data, dataset.VALIDATION).values() for i, f in lines.items()}
    covariance = within_writer_covariance([np.stack(list(lines.values()))
                                           for lines in figures_by_form(data, dataset.TRAIN).values()])
    metric, spread = whitening(covariance), np.sqrt(np.diag(covariance))
    all_lines_spread = np.stack(list(line_features.values())).std(0)  # each figure over it: the yardstick until 2026-12-05
    profiles = {f: np.mean([line_features[i] for i in lines if i not in style_lines.get(f, ())], 0)
                for f, lines in forms.items()}

    judge = Judge()
    started = time.perf_counter()
    rows, outputs, notes, flat = [], {}, 0, 0
    for k, (form, i) in enumerate(writers.items()):
        own = offsets_to_strokes(data.line(i))
        ink_file = out / "ink" / f"{form}.json"
        save_user_ink(ink_file, [at_rate(offsets_to_strokes(data.line(j)), args.ink_rate) for j in style_lines[form]],
                      [str(data.texts[j]) for j in style_lines[form]])
        texts = [sentences[(k * args.sentences + j) % len(sentences)] for j in range(args.sentences)]
        # One page with a line per sentence, for likeness (the figures of whole lines, as the profiles
        # are); the same sentences wrapped at --wrap characters, same seed, for the judge.
        writer_model = model_for(model, ink_file) if model_for else model
        pages = [write_page("\n".join(texts), model=writer_model, style=str(ink_file), seed=args.seed + k, width=width, bias=args.bias,
                            match_style=not args.no_match, candidates=args.candidates) for width in (ONE_LINE, args.wrap)]
        page = pages[0]
        notes += page.style_mismatch is not None
        inks = [[offsets_to_strokes(o) for o in p.line_offsets] for p in pages]
        reads = judge.read_many([y_down(s) for s in inks[0] + inks[1]] + [y_down(own)])
        one_line_cers = [judge_cer(r, t) for r, t in zip(reads, texts)]
        wrapped_reads = [" ".join(reads[len(texts) + j] for j in lines) for lines in sentence_lines(pages[1].lines, texts)]
        cers = [judge_cer(r, t) for r, t in zip(wrapped_reads + reads[-1:], texts + [str(data.texts[i])])]
        flat += sum(judge_takes_for_flat(s) for s in inks[0])
        outputs[form] = np.mean([features(s, t) for s, t in zip(inks[0], texts)], 0)
        rows.append({"form": form, "prime": str(data.ids[i]), "own_cer": cers[-1], "output_cer": float(np.mean(cers[:-1])),
                     "one_line_cer": float(np.mean(one_line_cers)), "sentences": texts, "reads": wrapped_reads, "one_line_reads": reads[:len(texts)],
                     "mismatch_note": page.style_mismatch})
        if args.pictures:
            write_pictures(args.pictures, form, own, page)
    seconds = time.perf_counter() - started

    real_lines = {f: line_features[i] for f, i in writers.items()}
    output_rank, real_rank = ranks(outputs, profiles, metric), ranks(real_lines, profiles, metric)
    lines_rank = ranks({f: np.mean([line_features[j] for j in style_lines[f]], 0) for f in writers}, profiles, metric)
    z_scored = np.diag(1 / all_lines_spread)
    old_output_rank, old_real_rank = ranks(outputs, profiles, z_scored), ranks(real_lines, profiles, z_scored)
    # The same rank on the figures `hw` does not set itself (it matches slant and width to the style)
    unset = np.array([name not in MATCHED for name in NAMES])
    pick = lambda table: {f: v[unset] for f, v in table.items()}  # noqa: E731
    unset_metric = whitening(covariance[np.ix_(unset, unset)])
    unset_rank = ranks(pick(outputs), pick(profiles), unset_metric)
    unset_real_rank = ranks(pick(real_lines), pick(profiles), unset_metric)
    for row in rows:
        row.update(output_rank=output_rank[row["form"]], real_line_rank=real_rank[row["form"]],
                   output_rank_by_total_spread=old_output_rank[row["form"]],
                   real_line_rank_by_total_spread=old_real_rank[row["form"]],
                   style_lines=[str(data.ids[j]) for j in style_lines[row["form"]]],
                   real_lines_mean_rank=lines_rank[row["form"]],
                   output_rank_unmatched_figures=unset_rank[row["form"]], real_line_rank_unmatched_figures=unset_real_rank[row["form"]],
                   figures_output=_rounded(outputs[row["form"]]), figures_real_line=_rounded(line_features[writers[row["form"]]]),
                   figures_profile=_rounded(profiles[row["form"]]))
    gaps = figure_gaps(outputs, profiles, spread)
    real_gaps = figure_gaps(real_lines, profiles, spread)
    worse = [r["form"] for r in rows if r["output_cer"] > r["own_cer"] + WORSE_BY]
    summary = {
        "writers": len(rows), "sentences_per_writer": args.sentences, "validation_writers": len(profiles),
        "writer_set": "selection" if args.selection else "benchmark",
        "mean_cer": round(float(np.mean([r["output_cer"] for r in rows])), 4),
        "median_cer": round(float(np.median([r["output_cer"] for r in rows])), 4),
        "one_line_mean_cer": round(float(np.mean([r["one_line_cer"] for r in rows])), 4),
        "one_line_median_cer": round(float(np.median([r["one_line_cer"] for r in rows])), 4),
        "own_line_mean_cer": round(float(np.mean([r["own_cer"] for r in rows])), 4),
        "worse_than_own_by_0.15": worse,
        "median_rank_output": float(np.median([r["output_rank"] for r in rows])),
        "median_rank_real_line": float(np.median([r["real_line_rank"] for r in rows])),
        "median_rank_output_by_total_spread": float(np.median([r["output_rank_by_total_spread"] for r in rows])),
        "median_rank_real_line_by_total_spread": float(np.median([r["real_line_rank_by_total_spread"] for r in rows])),
        "style_lines": args.lines,
        "median_rank_real_lines_mean": float(np.median([r["real_lines_mean_rank"] for r in rows])),
        "median_rank_output_unmatched_figures": float(np.median([r["output_rank_unmatched_figures"] for r in rows])),
        "median_rank_real_line_unmatched_figures": float(np.median([r["real_line_rank_unmatched_figures"] for r in rows])),
        "style_matching": not args.no_match, "bias": DEFAULT_STYLE_BIAS if args.bias is None else args.bias, "candidates": args.candidates, "seed": args.seed, "ink_rate": args.ink_rate,
        "chance_rank": (len(profiles) + 1) / 2, "features": list(NAMES),
        "median_gap_per_figure_output": gaps, "median_gap_per_figure_real_line": real_gaps,
        "wrap": args.wrap, "one_lines_the_judge_takes_for_flat": flat,
        "mismatch_notes": notes, "write_seconds": round(seconds, 1), "out": str(out),
    }
    # Every writer's figures and their spreads: enough to recompute any rank offline.
    (out / "priming.json").write_text(json.dumps({"summary": summary, "within_writer_covariance": covariance.tolist(),
                                                  "figure_spreads_all_lines": _rounded(all_lines_spread),
                                                  "profiles": {f: _rounded(v) for f, v in profiles.items()},
                                                  "writers": rows}, indent=1))
    print(json.dumps(summary))


def _rounded(figures: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in figures]


def figure_gaps(queries: dict[str, np.ndarray], profiles: dict[str, np.ndarray], spread: np.ndarray) -> dict[str, float]:
    """Per figure of a hand, the median over writers of (query - writer's profile) / the spread of
    a writer's lines: which figures keep the output from its writer, and in which direction."""
    gaps = np.stack([(queries[f] - profiles[f]) / spread for f in queries])
    return {name: round(float(g), 2) for name, g in zip(NAMES, np.median(gaps, 0))} | \
        {f"|{name}|": round(float(g), 2) for name, g in zip(NAMES, np.median(np.abs(gaps), 0))}


def sentence_lines(lines: list[str], sentences: list[str]) -> list[list[int]]:
    """The wrapped lines of a page, in order -> the indices of each sentence's lines."""
    out, j = [], 0
    for sentence in sentences:
        taken, words = [], []
        while " ".join(words) != " ".join(sentence.split()):
            taken.append(j)
            words += lines[j].split()
            j += 1
        out.append(taken)
    return out


def judge_takes_for_flat(strokes: list[np.ndarray]) -> bool:
    """Whether the judge measures this line by a tenth of its width instead of its body: then
    its normalised ink is exactly 10 units wide (judge.py, normalize_strokes)."""
    from judge import normalize_strokes

    normalised = normalize_strokes(y_down(strokes))
    return bool(normalised) and abs(float(np.ptp(np.concatenate(normalised)[:, 0])) - 10.0) < 1e-3


def judge_cer(read: str, intended: str) -> float:
    from judge import cer

    return float(cer(read, " ".join(intended.split())))


def write_pictures(folder: Path, form: str, own: list[np.ndarray], page) -> None:
    from hwcli.render.svg import write_svg

    folder.mkdir(parents=True, exist_ok=True)
    write_svg(folder / f"{form}-own.svg", own)
    write_svg(folder / f"{form}-hw.svg", page.strokes)


if __name__ == "__main__":
    main()
