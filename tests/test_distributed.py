"""DistributedDataParallel on CPU (gloo) under torchrun, two processes: the CLI end to end, and a
bad batch on one rank only (every rank must skip it together, and the ranks' weights stay equal).
And, without any process group, that every collective's tensor is on the training device: NCCL
(CUDA) takes CUDA tensors only, so a tensor built on the CPU fails its first all_reduce.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from hwcli.data import dataset as datasets
from hwcli.models import checkpoint as ckpt
from hwcli.training import distributed, loop
from hwcli.training.batches import prepare
from hwcli.training.loop import TrainOptions, TrainState

TIMEOUT_S = 240  # a hang (mismatched collectives) fails the test instead of blocking the suite


def torchrun() -> str:
    beside = Path(sys.executable).parent / "torchrun"
    found = str(beside) if beside.is_file() else shutil.which("torchrun")
    if not found:
        pytest.skip("torchrun is not installed")
    return found


def run_torchrun(args: list, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    repo = str(Path(__file__).resolve().parents[1])  # this checkout's hwcli, not an installed one
    env = {**os.environ, "HW_HOME": str(home), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [torchrun(), "--standalone", "--nproc-per-node", "2", *map(str, args)]
    try:
        return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"torchrun did not finish in {TIMEOUT_S}s (a collective mismatch hangs):\n{error.stderr}")


def test_cli_under_torchrun(synthetic_dataset, tmp_path):
    home = tmp_path / "home"
    result = run_torchrun(["-m", "hwcli", "train", "prediction", "--data", synthetic_dataset, "--hidden", "8", "--layers", "1",
                           "--epochs", "1", "--batch-size", "4", "--device", "cpu"], home, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    last = home / "models" / "prediction" / "last.pt"
    assert last.is_file() and (home / "models" / "prediction" / "best.pt").is_file()
    assert result.stderr.count("training prediction") == 1  # rank 0 alone reports
    checkpoint = ckpt.read(last)
    assert checkpoint["info"]["world_size"] == 2
    state = checkpoint["training"]["state"]
    assert state["epoch"] == 1 and state["global_step"] == 28 // 4 // 2  # 7 batches, 3 per rank
    assert not any(k.startswith("module.") for k in checkpoint["state_dict"])  # the bare model's keys

    # Validation is summed over the ranks' shares (12 lines: 2 batches on rank 0, 1 on rank 1): it equals
    # one process evaluating the saved weights.
    model = ckpt.load(last)
    _, valid, _, _, _, _ = prepare(datasets.load(synthetic_dataset), checkpoint["training"]["data"]["stride"], False, 1)
    alone = loop.evaluate(model.network, valid, 4, model.network.config.mixtures, torch.device("cpu"))
    recorded = checkpoint["info"]["history"][-1]
    assert recorded["nats_per_line"] == pytest.approx(alone["nats_per_line"], rel=1e-5)
    assert recorded["nats_per_step"] == pytest.approx(alone["nats_per_step"], rel=1e-5)


DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import torch
    from hwcli.models import checkpoint as ckpt
    from hwcli.training import distributed, loop, session
    from hwcli.training.loop import TrainOptions

    data, model_dir, out, poisoned_rank = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    rank = distributed.world()[0]
    original, calls, networks = loop.batch_loss, [0], []

    def poisoned(network, batch, mixtures, clip):
        loss, nll, steps = original(network, batch, mixtures, clip)
        if clip:
            calls[0] += 1
            if calls[0] == 2 and rank == poisoned_rank:  # a NaN loss on this rank only
                loss = loss * float("nan")
        return loss, nll, steps

    build = ckpt.build_network
    ckpt.build_network = lambda kind, config: networks.append(build(kind, config)) or networks[-1]
    loop.batch_loss = poisoned
    summary = session.run("prediction", data, model_dir, dict(hidden=8, layers=1, mixtures=2),
                          TrainOptions(epochs=1, batch_size=4, lr=1e-2), "cpu", stride=4, min_char_count=1)
    torch.save(networks[0].state_dict(), out / f"rank{rank}.pt")
    (out / f"rank{rank}.json").write_text(json.dumps({k: summary[k] for k in ("status", "steps", "skipped")}))
    """
)


def test_a_bad_batch_on_one_rank_is_skipped_by_all(tiny_dataset, tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    result = run_torchrun([driver, tiny_dataset, tmp_path / "model", tmp_path, 1], tmp_path / "home", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for rank in (0, 1):
        summary = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert summary == {"status": "done", "steps": 3, "skipped": 1}  # 24 lines: 6 batches, 3 per rank
    w0, w1 = (torch.load(tmp_path / f"rank{rank}.pt", weights_only=True) for rank in (0, 1))
    for key in w0:
        assert torch.isfinite(w0[key]).all(), key
        assert torch.equal(w0[key], w1[key]), f"ranks disagree on {key}"
    saved = ckpt.read(tmp_path / "model" / "last.pt")
    assert saved["training"]["state"]["skipped"] == 1
    for key, value in saved["state_dict"].items():
        assert torch.equal(value, w0[key]), key


# --- collectives on the training device, checked on CPU with a fake process group -----------------


class Reached(Exception):
    """The fake all_reduce saw its tensor on the meta device (which holds no values to read back)."""


@pytest.fixture
def fake_group(monkeypatch):
    """A process group that is not there: every collective records where its tensor is (or the
    devices it is told to use) and leaves the values as they are (a world of one)."""
    seen = []

    def all_reduce(tensor, *args, **kwargs):
        seen.append(tensor.device)
        if tensor.device.type == "meta":
            raise Reached

    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "all_reduce", all_reduce)
    monkeypatch.setattr(dist, "barrier", lambda *args, **kwargs: seen.append(("barrier", kwargs.get("device_ids"))))
    return seen


def test_reductions_build_their_tensor_on_the_training_device(fake_group):
    # "meta" stands in for a GPU: another device than the CPU, with no need for one.
    meta = torch.device("meta")
    with pytest.raises(Reached):
        distributed.sum_over_ranks(1.0, 2.0, device=meta)
    with pytest.raises(Reached):
        distributed.any_rank(True, meta)
    assert fake_group == [meta, meta]


def test_barrier_names_this_ranks_gpu_under_nccl(fake_group):
    distributed.barrier(torch.device("cuda", 1))  # no tensor is made: runs without CUDA
    distributed.barrier(torch.device("cpu"))
    assert fake_group == [("barrier", [1]), ("barrier", None)]


def test_setup_binds_the_gpu_before_nccl_starts(monkeypatch):
    calls = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend, **kwargs: calls.append(backend))
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: calls.append(device))
    assert distributed.setup(torch.device("cuda", 1)) == (1, 2)
    assert calls == [torch.device("cuda", 1), "nccl"]
    calls.clear()
    distributed.setup(torch.device("cpu"))
    assert calls == ["gloo"]
    calls.clear()
    monkeypatch.setenv("WORLD_SIZE", "1")  # torchrun --nproc-per-node 1: a group of one all the same
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert distributed.setup(torch.device("cuda", 0)) == (0, 1)
    assert calls == [torch.device("cuda", 0), "nccl"]
    calls.clear()
    monkeypatch.delenv("LOCAL_RANK")  # run plainly: no group
    distributed.setup(torch.device("cpu"))
    assert calls == []


def test_every_collective_of_a_training_run_is_on_its_device(fake_group, tiny_dataset):
    train, valid, _, _, _, _ = prepare(datasets.load(tiny_dataset), 4, False, 1)
    network = ckpt.build_network("prediction", dict(hidden=8, layers=1, mixtures=2))
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    status = loop.fit(network, optimizer, train, valid, TrainOptions(epochs=1, batch_size=8), TrainState(),
                      lambda which, state: None, torch.device("cpu"))
    assert status == "done"
    assert fake_group == [torch.device("cpu")] * 4  # a skip vote per batch (3), the validation sum (1)
