"""DistributedDataParallel under torchrun: `torchrun --nproc-per-node N -m hwcli train ...`.

Each rank trains on its share of every epoch's batches; rank 0 alone writes
checkpoints; losses are summed over ranks. Without torchrun this is a no-op.
"""

from __future__ import annotations

import gc
import os

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; (0, 1) when run plainly."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def setup(device: torch.device) -> tuple[int, int]:
    rank, size = world()
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, size


def wrap(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    if not (dist.is_available() and dist.is_initialized()):
        return network
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(network, device_ids=ids)


def sum_over_ranks(*values: float) -> list[float]:
    if not (dist.is_available() and dist.is_initialized()):
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def any_rank(flag: bool) -> bool:
    """True when `flag` is true on any rank, so all ranks skip a batch together."""
    return sum_over_ranks(float(flag))[0] > 0


def barrier() -> None:
    """Wait for every rank. Before teardown: a rank that leaves the group while another is still
    busy (rank 0 writing checkpoints) can make gloo abort the process ("terminate called ...")."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        # DistributedDataParallel sits in a reference cycle and its reducer holds the group: left to
        # interpreter exit, gloo's threads can outlive it and abort the process. Free it first
        # (the caller drops its reference to the wrapper before calling this).
        gc.collect()
        dist.destroy_process_group()
