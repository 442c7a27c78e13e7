"""The ceiling the machine puts on training throughput: matrix-product arithmetic.

Measures the machine's peak rate of large matrix products (torch.mm and oneDNN's linear, float32
and bfloat16), counts the product arithmetic of one training time step of each network at paper
size (forward products, and twice that backward: the gradients of the inputs and of the weights),
and divides: no implementation of these networks trains faster than that on this machine, since
every product would have to run at the rate of a large square one. bench/train_speed.py's figures
read against these.

    python bench/peak_flops.py [--threads 2]
    python bench/peak_flops.py --quick    # small products, 1 round: checks that it runs

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from train_speed import PAPER  # the paper's sizes (sections 4-5), as that benchmark runs them

INPUT = 3  # x_t: the pen's offset and its end-of-stroke bit


def product_flops(shapes: list[tuple[int, int]]) -> float:
    """Forward and backward FLOP of a time step for products of (inputs, outputs) per line."""
    forward = sum(2 * n_in * n_out for n_in, n_out in shapes)
    return 3 * forward  # backward: d inputs and d weights, one product each the size of the forward one


def synthesis_shapes() -> list[tuple[int, int]]:
    H, A, L = PAPER["hidden"], PAPER["alphabet"], PAPER["layers"]
    layer1 = (INPUT + A + H, 4 * H)  # [x_t, w_{t-1}, h^1_{t-1}]
    window = (H, 3 * PAPER["window_mixtures"])
    upper = [(INPUT + A + 2 * H, 4 * H)] * (L - 1)  # [x_t, w_t, h^{n-1}_t, h^n_{t-1}]
    output = (L * H, 1 + 6 * PAPER["mixtures"])
    return [layer1, window, *upper, output]


def prediction_shapes() -> list[tuple[int, int]]:
    H, L = PAPER["hidden"], PAPER["layers"]
    layer1 = (INPUT + H, 4 * H)
    upper = [(INPUT + 2 * H, 4 * H)] * (L - 1)
    output = (L * H, 1 + 6 * PAPER["mixtures"])
    return [layer1, *upper, output]


CASES = {"mm_2048": (2048, 2048, 2048), "mm_4096": (4096, 4096, 4096), "linear_22400x1600x1600": (22400, 1600, 1600)}
QUICK_CASES = {"mm_256": (256, 256, 256), "linear_512x256x256": (512, 256, 256)}


def peak(dtype: torch.dtype, cases: dict, rounds: int) -> dict:
    """GFLOP/s of large products: torch.mm of square matrices and oneDNN's linear at an LSTM-like
    shape (a whole batch's input projection: 32 lines x 700 steps, 400 inputs and 4 x 400 gates)."""
    rates = {}
    for name, (m, k, n) in cases.items():
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(n, k, dtype=dtype)
        run = (lambda: torch.mm(a, b.t())) if name.startswith("mm") else (lambda: torch.nn.functional.linear(a, b))
        run()
        run()
        started = time.perf_counter()
        for _ in range(rounds):
            run()
        rates[name] = round(2 * m * k * n * rounds / (time.perf_counter() - started) / 1e9, 1)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--quick", action="store_true", help="small products, 1 round: check that the script runs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__, "quick": args.quick}
    flops = {"synthesis": product_flops(synthesis_shapes()), "prediction": product_flops(prediction_shapes())}
    result["mflop_per_time_step"] = {k: round(v / 1e6, 2) for k, v in flops.items()}
    for label, dtype in (("float32", torch.float32), ("bf16", torch.bfloat16)):
        rates = peak(dtype, QUICK_CASES if args.quick else CASES, 1 if args.quick else 5)
        best = max(rates.values())
        result[f"peak_gflops_{label}"] = rates
        result[f"ceiling_time_steps_per_second_{label}"] = {k: round(best * 1e9 / v) for k, v in flops.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
