"""Choose the built-in styles: prime the model with candidate training lines (one per
form, so many writers), write sentences in each style, and let the independent
judge read them. Prints one JSON object per candidate (mean CER, lines the judge
could not read); the `--finalists` best are then written again with `--seeds`
more seeds and ranked on all their lines. `--save DIR` writes the best `--keep`
as style files (JSON with their text). `--variety N` then adds N more, for
variety: among the candidates that read at `--max-cer` or better, each time the
one least like every style already in DIR and chosen (bench/style_features.py,
z-scored), named for the figure it stands out in most (leaning, tall, ...).

The sentences are bench/style_sentences.txt, kept apart from bench/sentences.txt
(the legibility benchmark), so that choosing styles does not tune the figure that
measures them.

    python bench/choose_styles.py --model NAME --dataset FILE [--candidates 16] [--finalists 8 --seeds 2]
        [--save hwcli/assets/styles] [--variety 8 --max-cer 0.03] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hwcli.data import dataset as datasets
from hwcli.data.alphabet import Alphabet
from hwcli.data.ink import coarsen, offsets_to_strokes
from hwcli.data.inkfile import write_ink
from hwcli.models import store
from hwcli.generate.priming import Prime
from hwcli.generate.sampler import write_lines

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT.parent / "shared" / "tools" / "legibility"))
sys.path.insert(0, str(ROOT / "bench"))


def candidates(data, alphabet: Alphabet, count: int, stride: int) -> list[tuple[str, Prime]]:
    """Training lines of 25-45 writable characters, one per form, spread over the data."""
    seen, found = set(), []
    for i in data.indices(datasets.TRAIN):
        text, form = str(data.texts[i]), str(data.ids[i]).rsplit("-", 1)[0]
        if form in seen or not 25 <= len(text) <= 45 or alphabet.missing(text):
            continue
        seen.add(form)
        found.append((str(data.ids[i]), Prime(coarsen(data.line(i), stride), text)))
    step = max(1, len(found) // count)
    return found[::step][:count]


# A line with a character error rate above this is one the judge could not read.
UNREADABLE_CER = 0.4


def scores(judge, model, sentences: list[str], prime: Prime | None, bias: float, seeds=range(1)) -> dict:
    """Mean CER of the sentences written in one style (each once per seed), and how many lines
    the judge could not read."""
    from judge import cer, normalize_text

    inks = [ink for seed in seeds for ink in write_lines(model, sentences, bias=bias, seed=seed, prime=prime).lines]
    sentences = sentences * len(seeds)
    strokes = [[s * np.array([1.0, -1.0]) for s in offsets_to_strokes(ink)] for ink in inks]  # judge wants y down
    reads = judge.read_many(strokes)
    cers = np.array([cer(r, normalize_text(t)) for r, t in zip(reads, sentences)])
    return {"mean_cer": round(float(cers.mean()), 4), "unreadable": int((cers > UNREADABLE_CER).sum())}


def main() -> None:
    from judge import Judge

    parser = argparse.ArgumentParser(description="choose built-in styles by legibility")
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--candidates", type=int, default=16)
    parser.add_argument("--sentences", type=int, default=30)
    parser.add_argument("--bias", type=float, default=0.75)
    parser.add_argument("--finalists", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=2, help="more seeds for each finalist")
    parser.add_argument("--keep", type=int, default=4)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--variety", type=int, default=0, help="styles to add for variety (with --save)")
    parser.add_argument("--max-cer", type=float, default=0.03, help="the worst mean CER a style added for variety may read at")
    parser.add_argument("--quick", action="store_true", help="2 candidates, 2 sentences, 1 finalist: a check that it runs")
    args = parser.parse_args()
    if args.quick:
        args.candidates, args.sentences, args.finalists, args.seeds, args.keep = 2, 2, 1, 1, 1
    model = store.load(args.model, "synthesis")
    data = datasets.load(args.dataset)
    sentences = [s for s in (ROOT / "bench" / "style_sentences.txt").read_text().splitlines() if s.strip()]
    sentences = sentences[: args.sentences]
    judge = Judge()
    print(json.dumps({"style": None, **scores(judge, model, sentences, None, args.bias)}), flush=True)
    scored = []
    for line_id, prime in candidates(data, Alphabet(model.alphabet), args.candidates, int(model.info.get("stride", 1))):
        score = scores(judge, model, sentences, prime, args.bias)
        scored.append((score["mean_cer"], line_id, prime))
        print(json.dumps({"style": line_id, "text": prime.text, **score}), flush=True)
    scored.sort(key=lambda s: s[0])
    for n, (first, line_id, prime) in enumerate(scored[: args.finalists]):
        more = scores(judge, model, sentences, prime, args.bias, range(1, 1 + args.seeds))
        score = round((first + args.seeds * more["mean_cer"]) / (1 + args.seeds), 4)  # over all its lines
        scored[n] = (score, line_id, prime)
        print(json.dumps({"finalist": line_id, "seeds": 1 + args.seeds, "mean_cer": score,
                          "more_unreadable": more["unreadable"]}), flush=True)
    scored[: args.finalists] = sorted(scored[: args.finalists], key=lambda s: s[0])
    if args.save:
        for score, line_id, prime in scored[: args.keep]:
            write_ink(args.save / f"{line_id}.json", offsets_to_strokes(prime.offsets), prime.text)
        readable = [(line_id, prime) for score, line_id, prime in scored if score <= args.max_cer]
        for name, line_id, prime in pick_varied(readable, args.save, args.variety):
            write_ink(args.save / f"{name}.json", offsets_to_strokes(prime.offsets), prime.text)
            print(json.dumps({"added_for_variety": name, "line": line_id, "text": prime.text}), flush=True)


def pick_varied(pool: list[tuple[str, Prime]], folder: Path, count: int) -> list[tuple[str, str, Prime]]:
    """Greedy farthest-point choice in style-feature space, away from the styles already in `folder`."""
    from hwcli.data.inkfile import read_ink
    from style_features import features

    chosen = [features(*read_ink(path)) for path in sorted(folder.glob("*.json"))]
    pool = [(line_id, prime, features(offsets_to_strokes(prime.offsets), prime.text)) for line_id, prime in pool]
    if not pool or count < 1:
        return []
    everything = np.stack([f for _, _, f in pool] + chosen)
    mean, scale = everything.mean(0), everything.std(0) + 1e-9
    picked, names = [], {path.stem for path in folder.glob("*.json")}
    for _ in range(min(count, len(pool))):
        far = [min((np.linalg.norm((f - c) / scale) for c in chosen), default=np.inf) for _, _, f in pool]
        line_id, prime, f = pool.pop(int(np.argmax(far)))
        chosen.append(f)
        name = trait_name((f - mean) / scale, names)
        names.add(name)
        picked.append((name, line_id, prime))
    return picked


# A style's name: the figure of bench/style_features.py in which it stands out most, high or low.
TRAITS = (("leaning", "backhand"), ("wide", "narrow"), ("print", "flowing"), ("angular", "smooth"),
          ("tall", "low"), ("deep", "shallow"), ("sweeping", "brief"))


def trait_name(z: np.ndarray, taken: set[str]) -> str:
    """The word for the style's most unusual figure (z-scored) not yet taken, e.g. leaning or tall."""
    for k in np.argsort(-np.abs(z)):
        name = TRAITS[k][0 if z[k] > 0 else 1]
        if name not in taken:
            return name
    return f"style-{len(taken) + 1}"


if __name__ == "__main__":
    main()
