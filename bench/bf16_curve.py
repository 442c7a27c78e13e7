"""Does bfloat16 autocast change the loss curve? Train the same small synthesis
network twice from the same seed on the same batches, float32 and bf16, and
print both validation curves as one JSON object.

    python bench/bf16_curve.py --data FILE [--hidden 128] [--epochs 4] [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from hwcli.training.loop import TrainOptions
from hwcli.training.session import run


def curve(data: Path, hidden: int, epochs: int, bf16: bool, batch: int) -> list[float]:
    with tempfile.TemporaryDirectory() as home:
        options = TrainOptions(epochs=epochs, batch_size=batch, seed=0, precision="bf16" if bf16 else "fp32")
        sizes = dict(hidden=hidden, layers=3, mixtures=20, window_mixtures=10)
        summary = run("synthesis", data, Path(home) / "m", sizes, options, "cpu")
    return [round(h["nats_per_line"], 2) for h in summary["history"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="16 cells, 1 epoch, batches of 8: a check that it runs")
    args = parser.parse_args()
    if args.quick:
        args.hidden, args.epochs, args.batch = 16, 1, 8
    result = {bf16: curve(args.data, args.hidden, args.epochs, bf16, args.batch) for bf16 in (False, True)}
    print(json.dumps({"float32_nats_per_line": result[False], "bf16_nats_per_line": result[True],
                      "hidden": args.hidden, "epochs": args.epochs, "data": str(args.data)}))


if __name__ == "__main__":
    main()
