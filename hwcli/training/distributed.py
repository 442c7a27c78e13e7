"""DistributedDataParallel under torchrun: `torchrun --nproc-per-node N -m hwcli train ...`.

Each rank trains on its share of every epoch's batches; rank 0 alone writes
checkpoints; losses are summed over ranks. Without torchrun this is a no-op.

Every collective runs on the training device: NCCL (the backend on CUDA) takes
CUDA tensors only, so a tensor built on the CPU fails the first all_reduce.
"""

from __future__ import annotations

import gc
import os

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; (0, 1) when run plainly."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def local_rank() -> int:
    """This process's index on its own machine (torchrun's LOCAL_RANK): which GPU it takes."""
    return int(os.environ.get("LOCAL_RANK", world()[0]))


def under_torchrun() -> bool:
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: torch.device) -> tuple[int, int]:
    """Join torchrun's process group: NCCL on CUDA, gloo on the CPU. Under torchrun even a world
    of one joins (`--nproc-per-node 1` runs every collective, as a check on one GPU)."""
    rank, size = world()
    if (size > 1 or under_torchrun()) and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)  # NCCL's own buffers (barrier, DDP) go to this rank's GPU
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, size


def wrap(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    if not (dist.is_available() and dist.is_initialized()):
        return network
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(network, device_ids=ids)


def sum_over_ranks(*values: float, device: torch.device) -> list[float]:
    """`values` summed over every rank, through a tensor on the training `device` (NCCL: CUDA only)."""
    if not (dist.is_available() and dist.is_initialized()):
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True when `flag` is true on any rank, so all ranks skip a batch together."""
    return sum_over_ranks(float(flag), device=device)[0] > 0


def barrier(device: torch.device) -> None:
    """Wait for every rank. Before teardown: a rank that leaves the group while another is still
    busy (rank 0 writing checkpoints) can make gloo abort the process ("terminate called ...")."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    device = torch.device(device)
    if device.type == "cuda":  # NCCL's barrier is an all_reduce on a GPU: this rank's, not a guessed one
        dist.barrier(device_ids=[device.index])
    else:
        dist.barrier()


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        # DistributedDataParallel sits in a reference cycle and its reducer holds the group: left to
        # interpreter exit, gloo's threads can outlive it and abort the process. Free it first
        # (the caller drops its reference to the wrapper before calling this).
        gc.collect()
        dist.destroy_process_group()
