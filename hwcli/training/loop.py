"""fit(): epochs of length-bucketed batches, validation in nats per line, best and
last checkpoints, exact resume. Paper section 4: output derivatives clipped to
[-100, 100] and LSTM derivatives to [-10, 10] (see docs/training.md for how).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from hwcli.models import checkpoint as ckpt
from hwcli.models import mdn
from hwcli.training import distributed
from hwcli.training.batches import TrainingData

OUTPUT_GRAD_CLIP = 100.0  # paper section 4: derivatives w.r.t. the network outputs
LSTM_GRAD_CLIP = 10.0  # paper section 4: derivatives inside the LSTM layers
DEFAULT_LR = 1e-3  # Adam's usual rate; it trained the shipped models (docs/training.md)


@dataclass
class TrainOptions:
    epochs: int = 30
    batch_size: int = 32
    lr: float | None = None  # None: DEFAULT_LR, or on resume the rate the run had
    optimizer: str = "adam"  # "adam" or "rmsprop" (the paper's, eqs. 38-41)
    seed: int = 0
    max_steps: int = 0  # stop after this many optimiser steps in all (0: no limit)
    save_every_s: float = 120.0  # last.pt at least this often
    precision: str | None = "auto"  # "auto" (bf16 where it pays), "fp32", "bf16" (autocast for the LSTM
    # products); None: on resume the run's own, else "auto"


@dataclass
class TrainState:
    epoch: int = 0  # the epoch in progress
    batch_in_epoch: int = 0  # batches of it already done
    global_step: int = 0
    skipped: int = 0  # batches with a non-finite loss or gradient
    best_validation: float = math.inf  # nats per line
    history: list = field(default_factory=list)  # one dict per finished epoch
    seconds: float = 0.0  # training time so far, all sessions


def make_optimizer(options: TrainOptions, parameters):
    from hwcli.errors import UsageError

    if options.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=options.lr)
    if options.optimizer == "rmsprop":
        from hwcli.training.rmsprop import GravesRMSprop

        return GravesRMSprop(parameters, lr=options.lr)
    raise UsageError(f"unknown optimiser {options.optimizer!r}; use adam or rmsprop")


def bf16_pays(device: torch.device) -> bool:
    """bf16 products are fast here: CUDA of compute capability 8.0+, or a CPU with AVX-512 BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:  # not Linux: fall back to float32
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for --precision (None: plain float32)."""
    from hwcli.errors import UsageError

    if precision not in ("auto", "fp32", "bf16"):
        raise UsageError(f"unknown precision {precision!r}; use auto, fp32 or bf16")
    if precision == "bf16" or (precision == "auto" and bf16_pays(device)):
        return torch.bfloat16
    return None


def epoch_order(batches: int, seed: int, epoch: int) -> list[int]:
    """The batch order of an epoch: a pure function of (seed, epoch), so resume replays it."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(batches, generator=generator).tolist()


def batch_loss(network, batch, mixtures: int, clip: bool):
    """(mean NLL per predicted step, summed NLL, steps) of one batch."""
    steps = batch.mask.sum()
    scale = 1.0 / float(steps)  # the loss is per step; the paper's clip limits are per line sum
    y_hat, _, _ = network(batch.inputs, batch.text, grad_clip=LSTM_GRAD_CLIP * scale if clip else 0.0)
    if clip and y_hat.requires_grad:
        limit = OUTPUT_GRAD_CLIP * scale
        y_hat.register_hook(lambda grad: grad.clamp(-limit, limit))
    nll = mdn.negative_log_likelihood(y_hat, batch.targets, mixtures) * batch.mask
    total = nll.sum()
    return total * scale, total.detach(), steps


@torch.no_grad()
def evaluate(network, data: TrainingData, batch_size: int, mixtures: int, device, share=(0, 1)) -> dict:
    """Validation loss: nats per line (the paper's unit) and per step."""
    network.eval()
    total, steps, lines = 0.0, 0.0, 0.0
    rank, size = share
    for indices in data.buckets(batch_size)[rank::size]:
        batch = data.batch(indices).to(device)
        _, nll, n = batch_loss(network, batch, mixtures, clip=False)
        total, steps, lines = total + float(nll), steps + float(n), lines + len(indices)
    network.train()
    total, steps, lines = distributed.sum_over_ranks(total, steps, lines, device=device)
    return {"nats_per_line": total / max(lines, 1), "nats_per_step": total / max(steps, 1)}


def fit(network, optimizer, train: TrainingData, valid: TrainingData, options: TrainOptions, state: TrainState,
        save, device, callback=lambda event, **data: None) -> str:
    """Train until the epochs or max_steps are done. `save(kind, state)` writes "last"/"best".

    Returns "done", "max_steps" or "interrupted" (Ctrl-C: last state saved first).
    """
    rank, size = distributed.world()
    mixtures = ckpt.unwrap(network).config.mixtures
    buckets = train.buckets(options.batch_size)
    per_rank = len(buckets) // size
    if per_rank == 0:
        from hwcli.errors import DataError

        raise DataError(f"{len(train)} training lines make no batch of {options.batch_size} per process")
    low_precision = autocast_dtype(options.precision, device)
    last_save = time.monotonic()
    network.train()
    status = "done"
    try:
        while state.epoch < options.epochs:
            order = epoch_order(len(buckets), options.seed, state.epoch)[: per_rank * size][rank::size]
            callback("epoch_start", epoch=state.epoch, batches=len(order), done=state.batch_in_epoch)
            while state.batch_in_epoch < len(order):
                if options.max_steps and state.global_step >= options.max_steps:
                    status = "max_steps"
                    return status
                started = time.perf_counter()
                batch = train.batch(buckets[order[state.batch_in_epoch]]).to(device)
                with torch.autocast(device.type, dtype=low_precision or torch.bfloat16, enabled=low_precision is not None):
                    loss, nll, steps = batch_loss(network, batch, mixtures, clip=True)
                optimizer.zero_grad(set_to_none=True)
                bad = not torch.isfinite(loss)
                # backward even on a non-finite loss: under DDP it is a collective (the gradient
                # all-reduce), and a rank that skipped it would leave the others waiting on a
                # mismatched collective. Its NaN gradients then mark the batch bad on every rank.
                loss.backward()
                bad = bad or any(p.grad is not None and not torch.isfinite(p.grad).all() for p in network.parameters())
                if distributed.any_rank(bad, device):
                    optimizer.zero_grad(set_to_none=True)
                    state.skipped += 1
                else:
                    optimizer.step()
                state.batch_in_epoch += 1
                state.global_step += 1
                elapsed = time.perf_counter() - started
                state.seconds += elapsed
                callback("step", loss=float(loss.detach()), steps_per_second=float(steps) * size / elapsed, skipped=state.skipped)
                if time.monotonic() - last_save > options.save_every_s:
                    save("last", state)
                    last_save = time.monotonic()
            result = evaluate(network, valid, options.batch_size, mixtures, device, (rank, size))
            state.history.append({"epoch": state.epoch + 1, "step": state.global_step, "seconds": round(state.seconds, 1),
                                  "lr": optimizer.param_groups[0]["lr"], **result})
            state.epoch += 1
            state.batch_in_epoch = 0
            improved = result["nats_per_line"] < state.best_validation
            if improved:
                state.best_validation = result["nats_per_line"]
                save("best", state)
            save("last", state)
            last_save = time.monotonic()
            callback("epoch_end", epoch=state.epoch, improved=improved, **result)
        return status
    except KeyboardInterrupt:
        save("last", state)
        return "interrupted"
    finally:
        if status == "max_steps":
            save("last", state)

