"""Which Hershey font to draw the model's missing characters from: each candidate font (built
by bench/make_glyphs.py into a scratch folder) writes the selection sentences of
bench/glyph_sentences.txt (kept apart from the benchmark, bench/rare_sentences.txt) with the
shipped model at the defaults; the judge in ../shared/tools/legibility reads them. The model's
own ink is sampled once per sentence (seed = sentence number) and shared by all fonts, so only
the glyphs differ. Prints one JSON object per font: mean CER and how many of the glyph-drawn
characters the judge read right.

    python bench/glyph_fonts.py [--fonts futural scripts cursive ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
JUDGE_DIR = ROOT.parent / "shared" / "tools" / "legibility"


def main() -> None:
    parser = argparse.ArgumentParser(description="compare glyph fonts with the judge")
    parser.add_argument("--fonts", nargs="+", default=["futural", "futural:font-order", "scripts", "cursive",
                                                         "rowmans", "timesi"])
    parser.add_argument("--sentences", type=Path, default=ROOT / "bench" / "glyph_sentences.txt")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(JUDGE_DIR))
    from judge import Judge, cer, load_ink
    from legibility import char_readings

    from hwcli.data.alphabet import Alphabet
    from hwcli.generate import glyphs, sampler
    from hwcli.generate.page import write_page
    from hwcli.models import store

    out = args.out or Path(tempfile.mkdtemp(prefix="hw-glyph-fonts-"))
    fonts_dir = out / "fonts"
    fonts_dir.mkdir(parents=True, exist_ok=True)
    for font in args.fonts:  # "NAME:font-order": the font's own stroke order, for comparison
        name, _, variant = font.partition(":")
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_glyphs.py"), "--font", name,
                        "--out", str(fonts_dir / f"{font}.json")] + (["--font-order"] if variant else []),
                       check=True, capture_output=True)
    sentences = [s for s in args.sentences.read_text().splitlines() if s.strip()]
    model = store.load(None, "synthesis")
    missing = set(c for s in sentences for c in Alphabet(model.alphabet).missing(s))

    cache, original = {}, sampler.write_lines

    def cached(model, texts, **kwargs):  # the model's ink, once per sentence, for every font
        key = (tuple(texts), kwargs.get("seed"))
        if key not in cache:
            cache[key] = original(model, texts, **kwargs)
        return cache[key]

    sampler.write_lines = cached
    judge = Judge()
    glyphs.GLYPH_DIR = fonts_dir
    for font in args.fonts:
        glyphs.DEFAULT_FONT = font
        inks = []
        for i, sentence in enumerate(sentences):
            page = write_page(sentence, model=model, seed=i)
            svg = out / f"{font.replace(':', '-')}-{i:03d}.svg"
            page.save(svg, "svg")
            inks.append(load_ink(str(svg)))
        reads = judge.read_many(inks)
        cers = [cer(r, s) for r, s in zip(reads, sentences)]
        right = seen = 0
        per = {}
        for r, s in zip(reads, sentences):
            for char, ok in char_readings(s, r):
                if char in missing:
                    right += ok
                    seen += 1
                    per.setdefault(char, [0, 0])
                    per[char][0] += ok
                    per[char][1] += 1
        print(json.dumps({"font": font, "sentences": len(sentences), "mean_cer": round(sum(cers) / len(cers), 4),
                          "glyph_chars_read": f"{right}/{seen}",
                          "per_char": {c: f"{a}/{b}" for c, (a, b) in sorted(per.items())},
                          "reads": reads}), flush=True)
    print(json.dumps({"svgs": str(out)}))


if __name__ == "__main__":
    main()
