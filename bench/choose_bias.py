"""Choose the default bias: write the style-selection sentences (bench/style_sentences.txt,
apart from the legibility benchmark) at each bias, several seeds each, in the model's
default style (or --style; none: unprimed), and let the independent judge read them.
Prints one JSON object per bias.

    python bench/choose_bias.py [--model NAME] [--style NAME|none] [--bias 0.5 0.75 1.0] [--seeds 4] [--quick]
"""

from __future__ import annotations

import argparse
import json

from choose_styles import ROOT, scores  # also puts the judge on sys.path

from hwcli.models import store
from hwcli.generate.priming import NO_STYLE, prime_for


def main() -> None:
    from judge import Judge

    parser = argparse.ArgumentParser(description="choose the default bias by legibility")
    parser.add_argument("--model", help="model name or .pt file [default: the default model]")
    parser.add_argument("--bias", type=float, nargs="+", default=[0.5, 0.75, 1.0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--style", help="as hw write --style [default: the model's own]")
    parser.add_argument("--quick", action="store_true", help="one bias, one seed, 2 sentences: a check that it runs")
    args = parser.parse_args()
    if args.quick:
        args.bias, args.seeds = args.bias[-1:], 1
    model = store.load(args.model, "synthesis")
    prime = prime_for(args.style, model)
    style = args.style or model.info.get("default_style") or NO_STYLE  # for the report
    sentences = [s for s in (ROOT / "bench" / "style_sentences.txt").read_text().splitlines() if s.strip()]
    sentences = sentences[:2] if args.quick else sentences
    judge = Judge()
    for bias in args.bias:
        result = scores(judge, model, sentences, prime, bias, range(args.seeds))
        print(json.dumps({"bias": bias, "style": style, "lines": len(sentences) * args.seeds, **result}), flush=True)


if __name__ == "__main__":
    main()
