"""On a CUDA device: training steps in float32 and bf16, the collectives under NCCL (a world of
one, so one GPU is enough), and a checkpoint written on the GPU that loads on the CPU.

Marked `cuda` and skipped without a CUDA device; bench/gpu_check.sh runs them (`pytest -m cuda`).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.distributed as dist

from hwcli.models import checkpoint as ckpt
from hwcli.training import distributed, session
from hwcli.training.loop import TrainOptions

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")]
TINY = dict(hidden=16, layers=2, mixtures=3, window_mixtures=2)
FIELDS = {f.name for f in dataclasses.fields(TrainOptions)}


def low_precision() -> dict:
    """bf16 autocast, by whichever option TrainOptions has (`precision` or the older `bf16`)."""
    return {"precision": "bf16"} if "precision" in FIELDS else {"bf16": True}


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
@pytest.mark.parametrize("kind", ["synthesis", "prediction"])
def test_training_steps_on_cuda(kind, bf16, tiny_dataset, tmp_path):
    options = TrainOptions(epochs=1, batch_size=8, lr=1e-2, **(low_precision() if bf16 else {}))
    summary = session.run(kind, tiny_dataset, tmp_path / "m", dict(TINY), options, "cuda", stride=4, min_char_count=1)
    assert summary["status"] == "done" and summary["skipped"] == 0
    saved = ckpt.read(tmp_path / "m" / "last.pt")
    assert saved["info"]["device"].startswith("cuda")
    model = ckpt.load(tmp_path / "m" / "best.pt", "cpu")  # written on the GPU, read on the CPU
    assert all(p.device.type == "cpu" for p in model.network.parameters())


def test_collectives_under_nccl(tmp_path):
    device = torch.device("cuda", 0)
    dist.init_process_group("nccl", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert distributed.sum_over_ranks(1.0, 2.5, device=device) == [1.0, 2.5]
        assert distributed.any_rank(True, device) and not distributed.any_rank(False, device)
        distributed.barrier(device)
    finally:
        dist.destroy_process_group()
