"""Training throughput of both networks at paper size, against a naive step-by-step reference.

Measures time steps per second (batch x line length, per second) of one
training iteration: forward, loss (the MDN negative log-likelihood with the
paper's clipping hooks, exactly `hwcli.training.loop.batch_loss`), backward
and an optimiser step. Data loading is excluded: the batch is made once, on
the device, from random offsets and texts of the paper's shape (lines of
~700 steps, texts of ~30 characters, an alphabet of ~80).

The naive reference is a synthesis network of the same sizes written the
obvious way: every layer an `nn.LSTMCell` and the window stepped in Python,
one time step at a time. It shows what the design in docs/ARCHITECTURE.md
("Speed design") buys. `synthesis_autograd_loop` is our network with layer 1
and the window on the plain autograd loop (`WindowLayer.loop = "reference"`),
`synthesis` the same on the fused `WindowLoop`, the loop training runs.

The variants are timed in interleaved rounds (one iteration of each per
round, medians over rounds), so that a busy machine slows them alike and the
ratios stay meaningful.

Peak memory: the high-water resident set (VmHWM), median of 3, of fresh processes that each
run one synthesis training iteration on 1,200-step lines (the longest lines
of IAM-OnDB at the paper's rate), fused loop and autograd loop (and with
`--bf16` the fused loop under bfloat16 autocast, training's default on CPUs
that have it).

Every variant runs with malloc reusing freed memory, as `hw train` does
(hwcli/training/memory.py); `--fresh-pages` measures without it.

Prints one JSON object on stdout.

    python bench/train_speed.py              # paper size; minutes on a CPU
    python bench/train_speed.py --quick      # tiny sizes, 1 round: checks that it runs
    python bench/train_speed.py --device cuda --bf16
    python bench/train_speed.py --bf16 --fresh-pages   # malloc as it comes: fresh pages every iteration
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

from hwcli.models import mdn
from hwcli.models.lstm import clip_gradient, init_forget_bias
from hwcli.models.prediction import PredictionConfig, PredictionNetwork
from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork
from hwcli.models.window import window_weights
from hwcli.training.batches import Batch
from hwcli.training.loop import batch_loss
from hwcli.training.memory import keep_freed_memory

# Paper sizes (sections 4-5) and the shape of an IAM-OnDB line.
PAPER = dict(hidden=400, layers=3, mixtures=20, window_mixtures=10, batch=32, steps=700, chars=30, alphabet=80,
             rounds=3, naive_every=2, peak_steps=1200, peak_runs=3)
QUICK = dict(hidden=16, layers=2, mixtures=3, window_mixtures=2, batch=4, steps=40, chars=8, alphabet=20,
             rounds=1, naive_every=1, peak_steps=60, peak_runs=1)
END_OF_STROKE_RATE = 1 / 20  # about one pen lift per 20 points


class NaiveSynthesis(nn.Module):
    """The synthesis network written the obvious way: every layer and the window stepped in Python."""

    kind = "synthesis"

    def __init__(self, config: SynthesisConfig):
        super().__init__()
        c = self.config = config
        side = c.input_size + c.alphabet_size  # x_t and w_t go to every layer
        self.cells = nn.ModuleList(nn.LSTMCell(side + (n and c.hidden), c.hidden) for n in range(c.layers))
        for cell in self.cells:
            init_forget_bias(cell.bias_ih, c.hidden)
        self.window = nn.Linear(c.hidden, 3 * c.window_mixtures)
        self.output = nn.Linear(c.layers * c.hidden, mdn.output_size(c.mixtures))

    def forward(self, x, text, state=None, return_phi=False, grad_clip=0.0):
        B, T, _ = x.shape
        c = self.config
        positions = torch.arange(1, text.shape[1] + 1, device=x.device, dtype=x.dtype)
        hs = [(x.new_zeros(B, c.hidden), x.new_zeros(B, c.hidden)) for _ in self.cells]
        kappa, w = x.new_zeros(B, c.window_mixtures), x.new_zeros(B, c.alphabet_size)
        outputs = []
        for t in range(T):
            x_t = x[:, t]
            h, cell = self.cells[0](torch.cat([x_t, w], 1), hs[0])  # layer 1 sees w_{t-1}
            hs[0] = (clip_gradient(h, grad_clip), cell)
            alpha, beta, kappa_step = torch.exp(self.window(hs[0][0])).chunk(3, 1)
            kappa = kappa + kappa_step
            phi = window_weights(alpha, beta, kappa, positions)  # (B, U)
            w = torch.bmm(phi.unsqueeze(1), text).squeeze(1)  # (B, A)
            for n in range(1, c.layers):
                h, cell = self.cells[n](torch.cat([x_t, w, hs[n - 1][0]], 1), hs[n])
                hs[n] = (clip_gradient(h, grad_clip), cell)
            outputs.append(self.output(torch.cat([h for h, _ in hs], 1)))
        return torch.stack(outputs, 1), None, None


@torch.no_grad()
def naive_difference(config: SynthesisConfig, device) -> float:
    """Max |y_hat difference| between the fast network and the naive one given the same weights:
    the reference computes the same function, so the speed comparison is fair."""
    torch.manual_seed(1)
    fast, naive = SynthesisNetwork(config).to(device).eval(), NaiveSynthesis(config).to(device).eval()
    window_layer = fast.window_layer
    # The network's own named weight blocks: cell n reads [x_t, w, h^{n-1}_t] (layer 1: [x_t, w_{t-1}]).
    for n, (cell, blocks) in enumerate(zip(naive.cells, fast.weight_blocks()), start=1):
        inputs = ["x", "w"] + ([f"h{n - 1}"] if n > 1 else [])
        cell.weight_ih.copy_(torch.cat([blocks[name] for name in inputs], 1))
        cell.weight_hh.copy_(blocks[f"h{n}"])
        cell.bias_ih.copy_(blocks["1"])
        cell.bias_hh.zero_()
    naive.window.load_state_dict(window_layer.window.state_dict())
    naive.output.load_state_dict(fast.output.state_dict())
    batch = make_batch(2, 50, 6, config.alphabet_size, device, seed=1)
    return float((fast(batch.inputs, batch.text)[0] - naive(batch.inputs, batch.text)[0]).abs().max())


def make_batch(batch: int, steps: int, chars: int, alphabet: int, device, seed: int = 0) -> Batch:
    """Random normalised offsets and one-hot texts of the given shape, already on the device."""
    generator = torch.Generator().manual_seed(seed)
    points = torch.randn(batch, steps + 1, 3, generator=generator)
    points[..., 2] = (torch.rand(batch, steps + 1, generator=generator) < END_OF_STROKE_RATE).float()
    codes = torch.randint(1, alphabet, (batch, chars), generator=generator)
    text = nn.functional.one_hot(codes, alphabet).float()
    return Batch(points[:, :-1], points[:, 1:], torch.ones(batch, steps), text).to(device)


def synchronize(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timed:
    """One training iteration of a network: forward + loss + backward + Adam step, timed."""

    def __init__(self, network, batch: Batch, device, bf16: bool = False):
        self.network, self.batch, self.device, self.bf16 = network.to(device).train(), batch, device, bf16
        self.optimizer = torch.optim.Adam(network.parameters(), lr=1e-4)

    def __call__(self) -> float:
        started = time.perf_counter()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            loss, _, _ = batch_loss(self.network, self.batch, self.network.config.mixtures, clip=True)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        synchronize(self.device)
        return time.perf_counter() - started


def interleaved_throughput(variants: dict, batch: Batch, rounds: int, naive_every: int) -> dict:
    """Time steps per second of each variant: a warm-up iteration each, then `rounds` rounds of one
    iteration per variant (A, B, C, A, B, C, ...), the median per variant. The slow naive
    reference runs only every `naive_every`-th round."""
    seconds = {name: [] for name in variants}
    for timed in variants.values():
        timed()
    for r in range(rounds):
        for name, timed in variants.items():
            if name != "synthesis_naive" or r % naive_every == 0:
                seconds[name].append(timed())
    return {name: float(batch.mask.sum()) / statistics.median(times) for name, times in seconds.items()}


def synthesis_config(sizes: dict) -> SynthesisConfig:
    return SynthesisConfig(alphabet_size=sizes["alphabet"], hidden=sizes["hidden"], layers=sizes["layers"],
                           mixtures=sizes["mixtures"], window_mixtures=sizes["window_mixtures"], steps_per_char=25.0)


def prediction_config(sizes: dict) -> PredictionConfig:
    return PredictionConfig(hidden=sizes["hidden"], layers=sizes["layers"], mixtures=sizes["mixtures"])


def status_mb(field: str) -> float:
    """A field of /proc/self/status (Linux) in MB.

    VmHWM, not getrusage's ru_maxrss: ru_maxrss survives exec (the kernel keeps the larger of the
    old and the new memory map's peaks), so a child started by a big parent reports the parent's
    peak. VmHWM belongs to the memory map that exec made fresh: this process's own peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_memory_run(sizes: dict, device, reference: bool) -> dict:
    """One synthesis training iteration on peak_steps-long lines; run in a fresh process by main()."""
    torch.manual_seed(0)
    network = SynthesisNetwork(synthesis_config(sizes))
    network.window_layer.loop = "reference" if reference else "fused"
    batch = make_batch(sizes["batch"], sizes["peak_steps"], sizes["chars"], sizes["alphabet"], device)
    before = status_mb("VmRSS")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    Timed(network, batch, device, sizes["bf16"])()
    result = {"peak_rss_mb": round(status_mb("VmHWM"), 1), "rss_before_mb": round(before, 1),
              "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if device.type == "cuda":
        result["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return result


def peak_memory(sizes: dict, device, quick: bool, reference: bool, fresh_pages: bool, bf16: bool) -> dict:
    child = [sys.executable, __file__, "--peak-only", "--device", device.type, "--threads", str(torch.get_num_threads())]
    child += ["--fresh-pages"] if fresh_pages else []
    child += ["--bf16"] if bf16 else []
    child += ["--quick"] if quick else []
    child += ["--peak-reference"] if reference else []
    for key in ("hidden", "layers", "batch", "chars", "peak_steps"):
        child += [f"--{key.replace('_', '-')}", str(sizes[key])]
    run = subprocess.run(child, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"the peak-memory run failed: {run.stderr.strip()[-2000:]}")
    return json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 round: check that the script runs")
    parser.add_argument("--hidden", type=int, help="LSTM cells per layer (paper: 400)")
    parser.add_argument("--layers", type=int, help="LSTM layers (paper: 3)")
    parser.add_argument("--batch", type=int, help="lines per batch (default 32)")
    parser.add_argument("--steps", type=int, help="time steps per line (default 700)")
    parser.add_argument("--chars", type=int, help="characters per text (default 30)")
    parser.add_argument("--rounds", type=int, help="timed rounds, one iteration of every variant each (default 3)")
    parser.add_argument("--peak-steps", type=int, help="line length of the peak-memory run (default 1200)")
    parser.add_argument("--peak-runs", type=int,
                        help="fresh processes per peak-memory figure, median taken (default 3; 0 skips the figure)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--bf16", action="store_true", help="also time bfloat16 autocast variants")
    parser.add_argument("--fresh-pages", action="store_true",
                        help="leave malloc returning freed memory (training before keep_freed_memory)")
    parser.add_argument("--peak-only", action="store_true", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--peak-reference", action="store_true", help=argparse.SUPPRESS)  # its autograd loop
    args = parser.parse_args()

    sizes = dict(QUICK if args.quick else PAPER)
    for key in ("hidden", "layers", "batch", "steps", "chars", "rounds", "peak_steps", "peak_runs"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    sizes["bf16"] = args.peak_only and args.bf16  # the peak-memory child's own precision
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as training does (hwcli.training.session)
    reused = not args.fresh_pages and keep_freed_memory()  # also as training does
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda, but no CUDA device is available")

    if args.peak_only:
        print(json.dumps(peak_memory_run(sizes, device, args.peak_reference)))
        return

    batch = make_batch(sizes["batch"], sizes["steps"], sizes["chars"], sizes["alphabet"], device)
    torch.manual_seed(0)
    synthesis, prediction = synthesis_config(sizes), prediction_config(sizes)
    variants = {"synthesis": Timed(fused_loop(SynthesisNetwork(synthesis)), batch, device),
                "synthesis_autograd_loop": Timed(autograd_loop(SynthesisNetwork(synthesis)), batch, device),
                "prediction": Timed(PredictionNetwork(prediction), batch, device),
                "synthesis_naive": Timed(NaiveSynthesis(synthesis), batch, device)}
    if args.bf16:
        variants.update(synthesis_bf16=Timed(fused_loop(SynthesisNetwork(synthesis)), batch, device, True),
                        synthesis_autograd_loop_bf16=Timed(autograd_loop(SynthesisNetwork(synthesis)), batch, device, True),
                        prediction_bf16=Timed(PredictionNetwork(prediction), batch, device, True))
    result = {k: round(v, 1) for k, v in interleaved_throughput(variants, batch, sizes["rounds"], sizes["naive_every"]).items()}
    result["synthesis_speedup_over_naive"] = round(result["synthesis"] / result["synthesis_naive"], 2)
    result["autograd_loop_speedup_over_naive"] = round(result["synthesis_autograd_loop"] / result["synthesis_naive"], 2)
    result["fused_over_autograd_loop"] = round(result["synthesis"] / result["synthesis_autograd_loop"], 2)
    if args.bf16:
        result["fused_over_autograd_loop_bf16"] = round(result["synthesis_bf16"] / result["synthesis_autograd_loop_bf16"], 2)
    result["naive_max_abs_difference"] = naive_difference(synthesis, device)
    del variants
    peaks = [("fused", False, False), ("autograd_loop", True, False)] + ([("fused_bf16", False, True)] if args.bf16 else [])
    peaks = peaks if sizes["peak_runs"] > 0 else []
    for name, reference, bf16 in peaks:
        # The heap's layout, and with it the peak, varies from process to process (2,405-2,545 MB
        # in eight runs of the bf16 one): the median of peak_runs processes, and the largest.
        runs = [peak_memory(sizes, device, args.quick, reference, args.fresh_pages, bf16) for _ in range(sizes["peak_runs"])]
        peak = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        peak["peak_rss_mb_max"] = max(run["peak_rss_mb"] for run in runs)
        result.update({f"{key}_{sizes['peak_steps']}_steps_{name}": value for key, value in peak.items()})

    result.update(
        unit="time steps per second (batch x line length), forward + loss + backward + Adam step; median of rounds",
        freed_memory_reused=reused,
        device=str(device),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        sizes={k: v for k, v in sizes.items() if k != "bf16"},
        parameters={
            "synthesis": sum(p.numel() for p in SynthesisNetwork(synthesis).parameters()),
            "prediction": sum(p.numel() for p in PredictionNetwork(prediction).parameters()),
        },
    )
    print(json.dumps(result))


def autograd_loop(network: SynthesisNetwork) -> SynthesisNetwork:
    network.window_layer.loop = "reference"
    return network


def fused_loop(network: SynthesisNetwork) -> SynthesisNetwork:
    network.window_layer.loop = "fused"
    return network


if __name__ == "__main__":
    main()
