"""Adapting a copy of a synthesis model to one writer's ink (`hw styles add --adapt`): a short
fine-tune on their lines, on the CPU, so that the output takes their slant, proportions and
spacing rather than only what priming carries (issue #14; measured in bench/priming.py).

A line or two of ink is very little data, so the fine-tune is held close to the model it
starts from: few steps at a small rate, and only the upper layers and the output layer learn.
The window layer, which reads the text, keeps its weights: letters the writer's lines never
show are still written as the model knows them.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from hwcli.errors import UsageError

ADAPT_STEPS = 60  # optimiser steps: about half a minute for a line on one core (docs/priming.md)
ADAPT_LR = 3e-4  # Adam; a third of training's rate: the model is already close
TUNED = ("upper.", "output.")  # the parameters that learn; the window layer stays as it is


def training_lines(model, primes) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Primes (model-unit offsets, text) -> normalised lines and encoded texts, as training sees them."""
    from hwcli.data.alphabet import Alphabet

    alphabet = Alphabet(model.alphabet)
    lines = []
    for prime in primes:
        line = np.asarray(prime.offsets, np.float32).copy()
        line[:, :2] = (line[:, :2] - model.mean.numpy()) / model.std.numpy()
        lines.append(line)
    return lines, [alphabet.encode(p.text) for p in primes]


def adapt(model, primes, steps: int = ADAPT_STEPS, lr: float = ADAPT_LR, seed: int = 0, tuned=TUNED,
          progress=None):
    """A copy of `model` (a LoadedModel) fine-tuned on `primes` (generate.priming.Prime); the
    model given is not changed. `progress(done, steps)` is called after every step."""
    from hwcli.training.batches import TrainingData
    from hwcli.training.loop import batch_loss

    if model.kind != "synthesis":
        raise UsageError("only a synthesis model can be adapted to a writer's ink")
    if not isinstance(steps, int) or steps < 1:
        raise UsageError(f"adaptation steps must be a whole number >= 1, not {steps!r}")
    if not primes:
        raise UsageError("adaptation needs at least one line of ink")
    torch.manual_seed(seed)
    adapted = copy.copy(model)
    adapted.network = network = copy.deepcopy(model.network).float()
    adapted.info = {**model.info}
    lines, texts = training_lines(model, primes)
    data = TrainingData(lines, texts, network.config.alphabet_size)
    learning = [p for name, p in network.named_parameters() if name.startswith(tuned)]
    for name, parameter in network.named_parameters():
        parameter.requires_grad_(name.startswith(tuned))
    optimizer = torch.optim.Adam(learning, lr=lr)
    batch = data.batch(np.arange(len(data)))
    network.train()
    for step in range(steps):
        loss, _, _ = batch_loss(network, batch, network.config.mixtures, clip=True)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if all(torch.isfinite(p.grad).all() for p in learning if p.grad is not None):
            optimizer.step()
        if progress is not None:
            progress(step + 1, steps)
    network.eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return adapted
