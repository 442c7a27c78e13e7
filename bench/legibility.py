"""Legibility of `hw write`: one SVG per sentence of bench/sentences.txt (our own
sentences, not dataset lines), read back by the independent judge in
../shared/tools/legibility. Prints one JSON object per bias.

    python bench/legibility.py [--model NAME] [--style NAME|none] [--bias B ...] [--out DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from hwcli.cli import app
from hwcli.generate.sampler import DEFAULT_BIAS

ROOT = Path(__file__).resolve().parents[1]
JUDGE = ROOT.parent / "shared" / "tools" / "legibility" / "judge.py"


def write_all(sentences: list[str], out: Path, bias: float, model: str | None, style: str | None) -> list[dict]:
    runner = CliRunner()
    manifest = []
    for i, sentence in enumerate(sentences):
        svg = out / f"{i:03d}.svg"
        args = ["write", sentence, "-o", str(svg), "--bias", str(bias), "--seed", str(i)]
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


def main() -> None:
    parser = argparse.ArgumentParser(description="legibility of hw write, by the independent judge")
    parser.add_argument("--model")
    parser.add_argument("--style", help="as hw write --style (none: unprimed) [default: the model's own]")
    parser.add_argument("--bias", type=float, nargs="+", default=[DEFAULT_BIAS])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if not JUDGE.is_file():
        raise SystemExit(f"the judge is not at {JUDGE}")
    sentences = [s for s in (ROOT / "bench" / "sentences.txt").read_text().splitlines() if s.strip()]
    if args.limit:
        sentences = sentences[: args.limit]
    base = args.out or Path(tempfile.mkdtemp(prefix="hw-legibility-"))
    for bias in args.bias:
        out = base / f"bias-{bias}"
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        manifest = write_all(sentences, out, bias, args.model, args.style)
        written = time.perf_counter() - started
        summary = judge(manifest, out)["summary"]
        print(json.dumps({"bias": bias, "style": args.style, "sentences": len(sentences), "write_seconds": round(written, 1),
                          **summary, "svgs": str(out)}))


if __name__ == "__main__":
    main()
