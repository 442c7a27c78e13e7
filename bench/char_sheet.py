"""The character sheet: every printable ASCII character written by the shipped model in the
default style and two other built-in styles, one SVG each in docs/samples/ (linked from
docs/user-guide.md). Characters the model lacks come from the glyph font, in the writer's size
and slant (hwcli/generate/glyphs.py). Regenerate with:

    python bench/char_sheet.py [--styles upright slanted rounded] [--seed 1] [--out docs/samples]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# All 95 printable ASCII characters (the space between the symbols), lines short enough to read.
# The model writes a run like "ABCDEFG" far worse than letters in words, so they stand apart.
SHEET = [
    "A B C D E F G H I J K L M",
    "N O P Q R S T U V W X Y Z",
    "a b c d e f g h i j k l m",
    "n o p q r s t u v w x y z",
    "0 1 2 3 4 5 6 7 8 9",
    "! \" # $ % & ' ( ) * + , - . /",
    ": ; < = > ? @ [ \\ ] ^ _ ` { | } ~",
]


def main() -> None:
    parser = argparse.ArgumentParser(description="character sheet SVGs for the docs")
    parser.add_argument("--styles", nargs="+", default=["upright", "slanted", "rounded"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples")
    args = parser.parse_args()
    from hwcli.generate.page import write_page
    from hwcli.models import store

    assert set("".join(SHEET)) == {chr(c) for c in range(32, 127)}
    model = store.load(None, "synthesis")
    for style in args.styles:
        page = write_page("\n".join(SHEET), model=model, seed=args.seed, style=style, width=60)
        path = args.out / f"charset-{style}.svg"
        page.save(path, "svg")
        print(f"wrote {path} (from the glyph font: {' '.join(page.glyphs)}; redrawn: {' '.join(page.redrawn) or 'none'})")


if __name__ == "__main__":
    main()
