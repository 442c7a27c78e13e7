"""Legibility of `hw write`: one SVG per sentence of bench/sentences.txt (our own
sentences, not dataset lines), read back by the independent judge in
../shared/tools/legibility. Prints one JSON object per bias.

    python bench/legibility.py [--model NAME] [--style NAME|none] [--bias B ...] [--out DIR] [--limit N]
                               [--sentences FILE] [--per-char] [--seeds N] [--candidates N] [--quick]

--sentences reads another sentence file (bench/rare_sentences.txt: rare letters, digits and
symbols); --per-char adds, for every character that is not a lower-case letter or a space,
how often the judge read it right (edit-distance alignment of reading and intended text).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from typer.testing import CliRunner

from hwcli.cli import app
from hwcli.generate.sampler import DEFAULT_BIAS

ROOT = Path(__file__).resolve().parents[1]
JUDGE = ROOT.parent / "shared" / "tools" / "legibility" / "judge.py"
SEED_STRIDE = 1000  # --seeds: the k-th pass writes sentence i with seed i + k * SEED_STRIDE


def write_all(sentences: list[str], out: Path, bias: float, model: str | None, style: str | None,
              extra: tuple[str, ...] = (), seeds: int = 1) -> list[dict]:
    """Sentence i written with seed i (and, for seeds > 1, also i + SEED_STRIDE, i + 2 SEED_STRIDE, ...)."""
    runner = CliRunner()
    manifest = []
    for (i, sentence), k in ((item, k) for k in range(seeds) for item in enumerate(sentences)):
        svg = out / (f"{i:03d}.svg" if k == 0 else f"{i:03d}-{k}.svg")
        args = ["write", sentence, "-o", str(svg), "--bias", str(bias), "--seed", str(i + k * SEED_STRIDE), *extra]
        if model:
            args += ["--model", model]
        if style:
            args += ["--style", style]
        result = runner.invoke(app, args)
        if result.exit_code != 0:
            raise SystemExit(f"hw write failed on {sentence!r}: {result.output}")
        manifest.append({"file": svg.name, "text": sentence})
    return manifest


def judge(manifest: list[dict], out: Path) -> dict:
    (out / "manifest.jsonl").write_text("".join(json.dumps(m) + "\n" for m in manifest))
    subprocess.run([sys.executable, str(JUDGE), "score", "--manifest", str(out / "manifest.jsonl"),
                    "--json", str(out / "judge.json")], check=True, capture_output=True)
    return json.loads((out / "judge.json").read_text())


def char_readings(intended: str, read: str) -> list[tuple[str, bool]]:
    """Each character of `intended` and whether the judge's reading has it there: a minimal
    edit alignment (white space collapsed, as the judge scores)."""
    a, b = " ".join(intended.split()), " ".join(read.split())
    cost = [[max(i, j) if not i or not j else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    out, i, j = [], len(a), len(b)
    while i > 0:
        if j > 0 and cost[i][j] == cost[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            out.append((a[i - 1], a[i - 1] == b[j - 1]))
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            out.append((a[i - 1], False))
            i -= 1
        else:
            j -= 1
    return out[::-1]


def first_chars_misread(pairs: list[tuple[str, str]], count: int = 2) -> list[float]:
    """Of (intended, read) pairs, the share whose k-th character (k = 1..count, spaces not
    counted) the reading lacks in place (char_readings): how well line starts read."""
    misread = np.zeros(count)
    for intended, read in pairs:
        marks = [right for char, right in char_readings(intended, read) if char != " "][:count]
        misread[: len(marks)] += [not right for right in marks]
    return [round(float(m) / max(1, len(pairs)), 3) for m in misread]


def per_char(items: list[dict]) -> dict[str, str]:
    """{character: "right/seen"} over the judged items, for all but lower-case letters and space."""
    counts: dict[str, list[int]] = {}
    for item in items:
        for char, right in char_readings(item["intended"], item["read"]):
            if char.islower() or char == " ":
                continue
            seen = counts.setdefault(char, [0, 0])
            seen[0] += right
            seen[1] += 1
    return {c: f"{r}/{n}" for c, (r, n) in sorted(counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description="legibility of hw write, by the independent judge")
    parser.add_argument("--model")
    parser.add_argument("--style", help="as hw write --style (none: unprimed) [default: the model's own]")
    parser.add_argument("--bias", type=float, nargs="+", default=[DEFAULT_BIAS])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--sentences", type=Path, default=ROOT / "bench" / "sentences.txt",
                        help="one sentence a line [default: bench/sentences.txt]")
    parser.add_argument("--per-char", action="store_true", help="the judge's readings per character")
    parser.add_argument("--no-match", action="store_true", help="as hw write --no-match: the model's own slant and widths")
    parser.add_argument("--seeds", type=int, default=1,
                        help="write every sentence this many times, with seeds i, i + 1000, ...: one seed's figure varies by a third")
    parser.add_argument("--candidates", type=int, help="as hw write --candidates [default: hw write's]")
    parser.add_argument("--quick", action="store_true", help="2 sentences, one bias: a check that it runs")
    args = parser.parse_args()
    if args.quick:
        args.limit, args.bias = 2, args.bias[:1]
    if not JUDGE.is_file():
        raise SystemExit(f"the judge is not at {JUDGE}")
    sentences = [s for s in args.sentences.read_text().splitlines() if s.strip()]
    if args.limit:
        sentences = sentences[: args.limit]
    base = args.out or Path(tempfile.mkdtemp(prefix="hw-legibility-"))
    for bias in args.bias:
        out = base / f"bias-{bias}"
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        extra = ("--no-match",) if args.no_match else ()
        extra += ("--candidates", str(args.candidates)) if args.candidates else ()
        manifest = write_all(sentences, out, bias, args.model, args.style, extra, args.seeds)
        written = time.perf_counter() - started
        judged = judge(manifest, out)
        per_char_figures = {"per_char": per_char(judged["items"])} if args.per_char else {}
        print(json.dumps({"bias": bias, "style": args.style, "match": not args.no_match, "candidates": args.candidates or "default",
                          "sentences": len(sentences), "seeds": args.seeds, "write_seconds": round(written, 1),
                          **judged["summary"], "svgs": str(out), **per_char_figures}))


if __name__ == "__main__":
    main()
