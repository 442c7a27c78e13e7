"""DistributedDataParallel on CPU (gloo) under torchrun, two processes: the CLI end to end, and a
bad batch on one rank only (every rank must skip it together, and the ranks' weights stay equal).
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
from test_training import sample_dataset, tiny_dataset  # noqa: F401 - session fixtures, shared dataset files

from hwcli.data import dataset as datasets
from hwcli.models import checkpoint as ckpt
from hwcli.training import loop
from hwcli.training.batches import prepare

TIMEOUT_S = 240  # a hang (mismatched collectives) fails the test instead of blocking the suite


def torchrun() -> str:
    beside = Path(sys.executable).parent / "torchrun"
    found = str(beside) if beside.is_file() else shutil.which("torchrun")
    if not found:
        pytest.skip("torchrun is not installed")
    return found


def run_torchrun(args: list, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HW_HOME": str(home), "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [torchrun(), "--standalone", "--nproc-per-node", "2", *map(str, args)]
    try:
        return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"torchrun did not finish in {TIMEOUT_S}s (a collective mismatch hangs):\n{error.stderr}")


def test_cli_under_torchrun(sample_dataset, tmp_path):  # noqa: F811
    home = tmp_path / "home"
    result = run_torchrun(["-m", "hwcli", "train", "prediction", "--data", sample_dataset, "--hidden", "8", "--layers", "1",
                           "--epochs", "1", "--batch-size", "4", "--device", "cpu"], home, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    last = home / "models" / "prediction" / "last.pt"
    assert last.is_file() and (home / "models" / "prediction" / "best.pt").is_file()
    assert result.stderr.count("training prediction") == 1  # rank 0 alone reports
    checkpoint = ckpt.read(last)
    assert checkpoint["info"]["world_size"] == 2
    state = checkpoint["training"]["state"]
    assert state["epoch"] == 1 and state["global_step"] == (137 + 3) // 4 // 2  # 35 batches, 17 per rank
    assert not any(k.startswith("module.") for k in checkpoint["state_dict"])  # the bare model's keys

    # Validation is summed over the ranks' shares: it equals one process evaluating the saved weights.
    model = ckpt.load(last)
    _, valid, _, _, _, _ = prepare(datasets.load(sample_dataset), checkpoint["training"]["data"]["stride"], False, 1)
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


def test_a_bad_batch_on_one_rank_is_skipped_by_all(tiny_dataset, tmp_path):  # noqa: F811
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
