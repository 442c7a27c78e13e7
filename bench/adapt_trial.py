"""A trial, not a feature: adapt a copy of the synthesis model to each writer's ink before
bench/priming.py writes in their hand (issue #14's "short fine-tune on their lines").

The copy learns from the writer's style lines exactly as training learns (the same loss, the
same gradient clipping) for --steps Adam steps at --lr, on the parameters whose names hold
one of --params (comma-separated; "." is every parameter, "bias" the biases alone); with
--rehearse N, N built-in styles' lines (training lines) share every batch, to hold the copy
near the model. The shipped model is never changed. Every other option is bench/priming.py's,
and its figures come out as that script prints them. docs/model-card.md has what it measured:
the writing garbles (with rehearsal, stays legible) and looks no more like the writer.

    python bench/adapt_trial.py --steps 10 --lr 3e-4 --params upper.,output. [--rehearse N] [priming.py options]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import priming  # noqa: E402, I001 - first: it sets the sampling threads before numpy is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402
from hwcli.data.alphabet import Alphabet  # noqa: E402
from hwcli.generate.library import builtin_names  # noqa: E402
from hwcli.generate.priming import load_prime  # noqa: E402
from hwcli.generate.sampler import normalise  # noqa: E402
from hwcli.training.batches import TrainingData  # noqa: E402
from hwcli.training.loop import batch_loss  # noqa: E402


def adapted(model, primes, steps: int, lr: float, params: tuple[str, ...], device: str = "cpu", rehearsal=()):
    """A copy of `model` (checkpoint.LoadedModel) fine-tuned on the (offsets, text) lines of `primes`
    (source units, as generate.priming gives them), with the lines of `rehearsal` in every batch
    beside them; (the copy, NLL per step on `primes` before, after)."""
    torch.manual_seed(0)
    network = copy.deepcopy(model.network).float().to(device)
    alphabet = Alphabet(model.alphabet)

    def as_learnt(pairs):  # each line normalised and its text encoded once, for both batches
        return [(normalise(offsets, model).numpy(), alphabet.encode(text)) for offsets, text in pairs]

    def batch_of(lines):
        data = TrainingData([x for x, _ in lines], [c for _, c in lines], network.config.alphabet_size)
        return data.batch(np.arange(len(data))).to(device)

    own = as_learnt(primes)
    batch, learnt_from = batch_of(own), batch_of(own + as_learnt(rehearsal))
    learning = []
    for name, parameter in network.named_parameters():
        parameter.requires_grad_(any(p in name for p in params))
        if parameter.requires_grad:
            learning.append(parameter)
    if not learning:
        raise SystemExit(f"no parameter's name holds any of {params}")
    optimizer = torch.optim.Adam(learning, lr=lr)
    network.train()
    with torch.no_grad():
        before = float(batch_loss(network, batch, network.config.mixtures, clip=False)[0])
    for _ in range(steps):
        loss, _, _ = batch_loss(network, learnt_from, network.config.mixtures, clip=True)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    network.eval()
    with torch.no_grad():
        after = float(batch_loss(network, batch, network.config.mixtures, clip=False)[0])
    network.requires_grad_(False)
    copied = copy.copy(model)
    copied.network = network.cpu()
    return copied, before, after


def main() -> None:
    parser = argparse.ArgumentParser(description="bench/priming.py with each writer's model adapted to their ink",
                                     epilog="every other option is bench/priming.py's")
    parser.add_argument("--steps", type=int, default=10, help="Adam steps on the writer's lines")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--params", default="upper.,output.", help="comma-separated parts of the names that learn")
    parser.add_argument("--device", default="cpu", help="where the copy learns (cpu, cuda)")
    parser.add_argument("--rehearse", type=int, default=0,
                        help="learn this many built-in styles' lines (training lines) beside the writer's, "
                             "to hold the copy near the model")
    args, rest = parser.parse_known_args()
    if args.steps < 1 or not args.lr > 0:
        parser.error("--steps must be at least 1 and --lr above 0")
    params = tuple(p for p in args.params.split(",") if p)
    rehearsal_names = builtin_names()[: args.rehearse]
    rehearsal = []  # the built-in lines, loaded with the first writer: every writer's copy starts from one model

    def model_for(model, ink_file):
        started = time.perf_counter()
        if len(rehearsal) < len(rehearsal_names):
            rehearsal.extend((p.offsets, p.text) for p in (load_prime(n, model) for n in rehearsal_names))
        copied, before, after = adapted(model, load_prime(str(ink_file), model).hand_lines, args.steps, args.lr,
                                        params, args.device, rehearsal)
        print(f"{ink_file.stem}: NLL {before:.3f} -> {after:.3f} nats/step on its ink, "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        return copied

    priming.main(model_for, rest)


if __name__ == "__main__":
    main()
