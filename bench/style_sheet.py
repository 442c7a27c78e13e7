"""The built-in styles' preview sheet: one sentence in every built-in style, one SVG each in
docs/samples/styles/, and the judge's reading of each (when ../shared is beside the repository).

    python bench/style_sheet.py [--text "..."] [--out docs/samples/styles]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hwcli.generate.library import builtin_names
from hwcli.generate.page import write_page
from hwcli.models import store

ROOT = Path(__file__).resolve().parents[1]
JUDGE_DIR = ROOT.parent / "shared" / "tools" / "legibility"
TEXT = "Pack my box with five dozen liquor jugs, 7:45."


def main() -> None:
    parser = argparse.ArgumentParser(description="one sentence in every built-in style")
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples" / "styles")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    model = store.load(None, "synthesis")
    judge = None
    if (JUDGE_DIR / "judge.py").is_file():
        sys.path.insert(0, str(JUDGE_DIR))
        from judge import Judge, cer

        judge = Judge()
    for name in builtin_names():
        page = write_page(args.text, model=model, style=name, seed=0)
        page.save(args.out / f"{name}.svg", "svg")
        read = judge.read([s * np.array([1.0, -1.0]) for s in page.strokes]) if judge else ""
        print(f"{name:10s} {cer(read, args.text) if judge else float('nan'):.3f}  {read}")


if __name__ == "__main__":
    main()
