"""`hw train` through Typer's CliRunner with HW_HOME in a temporary folder: real runs on the
IAM-OnDB sample and SVC2004, --resume, and bad input answered with one line: exit 1 for bad data or
checkpoints, 2 for usage errors (Typer's own, and the library's UsageError for values no network can use).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from cli_checks import assert_ok, assert_one_line_error
from typer.testing import CliRunner

from hwcli.cli import app
from hwcli.models import checkpoint as ckpt

runner = CliRunner()
TINY = ["--hidden", "16", "--layers", "1", "--mixtures", "3", "--batch-size", "8"]
SVC2004 = Path(__file__).resolve().parents[2] / "shared" / "data" / "svc2004" / "Task2.zip"


def hw(*args):
    return runner.invoke(app, [str(a) for a in args])


def model_state(hw_home: Path, name: str) -> dict:
    return ckpt.read(hw_home / "models" / name / "last.pt")["training"]["state"]


@pytest.mark.parametrize("network", ["synthesis", "prediction"])
def test_train_a_few_steps(network, tiny_dataset, hw_home):
    result = hw("train", network, "--data", tiny_dataset, *TINY, "--epochs", "1", "--max-steps", "2")
    assert_ok(result)
    assert f"training {network}" in result.stderr
    assert "max_steps: 0 epochs, 2 steps, 0 skipped batches" in result.stderr
    assert result.stdout == ""
    checkpoint = ckpt.read(hw_home / "models" / network / "last.pt")
    assert checkpoint["kind"] == network and checkpoint["config"]["hidden"] == 16 and checkpoint["config"]["layers"] == 1
    assert checkpoint["training"]["state"]["global_step"] == 2
    assert checkpoint["training"]["data"]["stride"] == 2  # the default: every 2nd point
    assert (checkpoint["alphabet"] != "") == (network == "synthesis")


def test_full_epoch_writes_best_and_reports_validation(tiny_dataset, hw_home):
    result = hw("train", "prediction", "--data", tiny_dataset, *TINY, "--epochs", "1", "--name", "p1")
    assert_ok(result)
    assert "epoch 1: validation" in result.stderr and "(best)" in result.stderr
    assert (hw_home / "models" / "p1" / "best.pt").is_file()
    model = ckpt.load(hw_home / "models" / "p1" / "best.pt")
    assert model.info["history"][0]["epoch"] == 1


def test_rmsprop_option(tiny_dataset, hw_home):
    result = hw("train", "prediction", "--data", tiny_dataset, *TINY, "--optimizer", "rmsprop", "--lr", "1e-4",
                "--max-steps", "2")
    assert_ok(result)
    checkpoint = ckpt.read(hw_home / "models" / "prediction" / "last.pt")
    assert checkpoint["training"]["options"]["optimizer"] == "rmsprop"
    assert {"n", "g", "delta"} <= set(next(iter(checkpoint["training"]["optimizer"]["state"].values())))


def test_resume_continues_where_it_stopped(tiny_dataset, hw_home):
    assert_ok(hw("train", "prediction", "--data", tiny_dataset, *TINY, "--epochs", "2", "--max-steps", "2"))
    assert model_state(hw_home, "prediction")["global_step"] == 2
    again = hw("train", "prediction", "--data", tiny_dataset, *TINY, "--epochs", "2", "--max-steps", "4")
    assert_one_line_error(again, 2, "already exists", "--resume")
    result = hw("train", "prediction", "--resume", *TINY, "--epochs", "2")  # no --data: the checkpoint knows it
    assert_ok(result)
    state = model_state(hw_home, "prediction")
    assert state["global_step"] == 6 and state["epoch"] == 2
    assert "done: 2 epochs, 6 steps" in result.stderr


def test_resume_takes_every_option_from_the_checkpoint(tiny_dataset, hw_home):
    """--resume goes on with the run's own options and says, in one line, which given ones it ignores."""
    assert_ok(hw("train", "prediction", "--data", tiny_dataset, *TINY, "--optimizer", "rmsprop", "--max-steps", "1"))
    result = hw("train", "prediction", "--resume", "--max-steps", "2")  # nothing repeated: no error
    assert_ok(result)
    assert "ignored" not in result.stderr
    checkpoint = ckpt.read(hw_home / "models" / "prediction" / "last.pt")
    assert checkpoint["training"]["options"]["optimizer"] == "rmsprop" and checkpoint["training"]["options"]["batch_size"] == 8
    assert checkpoint["config"]["hidden"] == 16 and checkpoint["training"]["state"]["global_step"] == 2
    result = hw("train", "prediction", "--resume", "--hidden", "64", "--batch-size", "4", "--optimizer", "adam",
                "--max-steps", "3")
    assert_ok(result)
    notes = [line for line in result.stderr.splitlines() if "ignored" in line]
    assert len(notes) == 1 and all(flag in notes[0] for flag in ("--hidden", "--batch-size", "--optimizer")), result.stderr
    assert "--max-steps" not in notes[0]
    checkpoint = ckpt.read(hw_home / "models" / "prediction" / "last.pt")
    assert checkpoint["config"]["hidden"] == 16 and checkpoint["training"]["options"]["optimizer"] == "rmsprop"
    assert checkpoint["training"]["options"]["batch_size"] == 8 and checkpoint["training"]["state"]["global_step"] == 3


def test_resume_keeps_the_runs_precision_unless_one_is_given(tiny_dataset, hw_home):
    """The default precision is auto, yet a run started in bf16 goes on in bf16 when resumed
    without the flag (the test suite's auto means float32), and a given one takes over."""
    options = lambda: ckpt.read(hw_home / "models" / "prediction" / "last.pt")["training"]["options"]  # noqa: E731
    assert_ok(hw("train", "prediction", "--data", tiny_dataset, *TINY, "--precision", "bf16", "--max-steps", "1"))
    assert options()["precision"] == "bf16"
    assert_ok(hw("train", "prediction", "--resume", "--max-steps", "2"))
    assert options()["precision"] == "bf16"
    assert_ok(hw("train", "prediction", "--resume", "--max-steps", "3", "--precision", "fp32"))
    assert options()["precision"] == "fp32"


def test_every_ascii_character_warm_started_from_a_model(tiny_dataset, hw_home):
    """--alphabet ascii --init-from: the new network has a class for every printable character, the
    old one's sizes, stride and normalisation, and a resume keeps all of it."""
    from hwcli.data.alphabet import PRINTABLE_ASCII

    assert_ok(hw("train", "synthesis", "--data", tiny_dataset, *TINY, "--stride", "4", "--max-steps", "1", "--name", "base"))
    base = ckpt.read(hw_home / "models" / "base" / "last.pt")
    result = hw("train", "synthesis", "--data", tiny_dataset, "--alphabet", "ascii", "--init-from", "base",
                "--hidden", "32", "--batch-size", "8", "--max-steps", "1", "--name", "wide")
    assert_ok(result)
    notes = [line for line in result.stderr.splitlines() if "--init-from" in line]
    assert len(notes) == 1 and "--hidden ignored" in notes[0], result.stderr
    wide = ckpt.read(hw_home / "models" / "wide" / "last.pt")
    assert wide["alphabet"] == PRINTABLE_ASCII and wide["config"]["alphabet_size"] == len(PRINTABLE_ASCII) + 1
    assert wide["config"]["hidden"] == base["config"]["hidden"] == 16
    assert wide["config"]["steps_per_char"] == base["config"]["steps_per_char"]
    assert wide["training"]["data"]["stride"] == 4 and wide["training"]["data"]["alphabet"] == "ascii"
    assert wide["training"]["data"]["init_from"].endswith("base/last.pt")
    assert torch.equal(wide["mean"], base["mean"]) and torch.equal(wide["std"], base["std"])
    assert_ok(hw("train", "synthesis", "--name", "wide", "--resume", "--max-steps", "2"))
    again = ckpt.read(hw_home / "models" / "wide" / "last.pt")
    assert again["alphabet"] == PRINTABLE_ASCII and again["training"]["state"]["global_step"] == 2
    assert again["training"]["data"]["init_from"] == wide["training"]["data"]["init_from"]


@pytest.mark.parametrize(
    "args,code,fragment",
    [
        (["prediction", "--alphabet", "ascii"], 2, "--alphabet is for synthesis"),
        (["synthesis", "--init-from", "no-such-model"], 1, "no model named 'no-such-model'"),
        (["prediction", "--init-from", "base"], 2, "--init-from starts a synthesis network"),
    ],
)
def test_alphabet_and_init_from_errors(args, code, fragment, tiny_dataset, hw_home):
    assert_ok(hw("train", "synthesis", "--data", tiny_dataset, *TINY, "--max-steps", "1", "--name", "base"))
    result = hw("train", *args, "--data", tiny_dataset, *TINY, "--max-steps", "1", "--name", "other")
    assert_one_line_error(result, code, fragment)
    assert not (hw_home / "models" / "other" / "last.pt").exists()


def test_init_from_a_prediction_model(tiny_dataset, hw_home):
    assert_ok(hw("train", "prediction", "--data", tiny_dataset, *TINY, "--max-steps", "1", "--name", "pred"))
    result = hw("train", "synthesis", "--data", tiny_dataset, "--init-from", "pred", "--max-steps", "1", "--name", "other")
    assert_one_line_error(result, 1, "needs a synthesis model")


def test_train_prediction_on_svc2004(tmp_path_factory, hw_home):
    if not SVC2004.is_file():
        pytest.skip(f"real data not found at {SVC2004} (tests read it from ../shared/data beside the repository)")
    preprocess = pytest.importorskip("hwcli.data.preprocess", reason="hwcli.data.preprocess is not there yet")
    out = tmp_path_factory.getbasetemp() / "hw-datasets" / "svc2004.npz"
    if not out.exists():
        summary = preprocess.preprocess(SVC2004, out, workers=1)
        assert summary["kept"] > 100
    result = hw("train", "prediction", "--data", out, "--name", "signatures", *TINY, "--epochs", "1", "--max-steps", "3")
    assert_ok(result)
    checkpoint = ckpt.read(hw_home / "models" / "signatures" / "last.pt")
    assert checkpoint["info"]["source"] == "SVC2004" and checkpoint["training"]["state"]["global_step"] == 3
    assert all(torch.isfinite(v).all() for v in checkpoint["state_dict"].values())
    # signatures have no texts: a synthesis network cannot learn from them
    result = hw("train", "synthesis", "--data", out, "--name", "nope", *TINY, "--max-steps", "1")
    assert_one_line_error(result, 1, "no texts")
    assert not (hw_home / "models" / "nope" / "last.pt").exists()


# --- bad input: one line, exit 1 (2 for UsageError) --------------------------------------------------------------------


def test_missing_dataset(hw_home, tmp_path):
    assert_one_line_error(hw("train", "prediction", "--data", tmp_path / "absent.npz", *TINY), 1, "no dataset at", "hw preprocess")


def test_default_dataset_missing(hw_home):
    assert_one_line_error(hw("train", "synthesis", *TINY), 1, "no dataset at", "hw preprocess")


@pytest.mark.parametrize("content", [b"hello, not a dataset\n", b"PK\x03\x04 truncated zip", b"\x93NUMPY garbage"])
def test_file_that_is_not_a_dataset(content, hw_home, tmp_path):
    path = tmp_path / "fake.npz"
    path.write_bytes(content)
    assert_one_line_error(hw("train", "prediction", "--data", path, *TINY), 1, "is not a dataset file")


def test_npz_that_is_not_ours(hw_home, tmp_path):
    import numpy as np

    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    assert_one_line_error(hw("train", "prediction", "--data", path, *TINY), 1, "is not a dataset file")


def test_corrupt_checkpoint_on_resume(hw_home, tiny_dataset):
    folder = hw_home / "models" / "prediction"
    folder.mkdir(parents=True)
    (folder / "last.pt").write_bytes(b"\x00\x01 not a checkpoint")
    assert_one_line_error(hw("train", "prediction", "--resume", "--data", tiny_dataset), 1, "not a readable hw checkpoint")


def test_resume_without_a_checkpoint(hw_home, tiny_dataset):
    assert_one_line_error(hw("train", "prediction", "--resume", "--data", tiny_dataset), 1, "no checkpoint at")


def test_resume_of_a_foreign_torch_file(hw_home, tiny_dataset):
    folder = hw_home / "models" / "prediction"
    folder.mkdir(parents=True)
    torch.save({"epoch": 3, "model": {"w": torch.zeros(2)}}, folder / "last.pt")
    assert_one_line_error(hw("train", "prediction", "--resume", "--data", tiny_dataset), 1, "is not an hw checkpoint")


@pytest.mark.parametrize(
    "options,fragment",
    [
        (["--hidden", "0"], "--hidden"),
        (["--layers", "0"], "--layers"),
        (["--mixtures", "0"], "--mixtures"),
        (["--window-mixtures", "0"], "--window-mixtures"),
        (["--batch-size", "0"], "--batch-size"),
        (["--epochs", "0"], "--epochs"),
        (["--lr", "0"], "--lr"),
        (["--stride", "0"], "--stride"),
        (["--name", "../escape"], "--name"),
    ],
)
def test_impossible_values(options, fragment, hw_home, tiny_dataset):
    """Values Typer accepts but no network can use: the library's UsageError, one line, exit 2."""
    result = hw("train", "synthesis", "--data", tiny_dataset, "--hidden", "16", "--layers", "1", "--max-steps", "1", *options)
    assert_one_line_error(result, 2, fragment)
    assert not any((hw_home / "models").rglob("*.pt")) if (hw_home / "models").exists() else True


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda(hw_home, tiny_dataset):
    result = hw("train", "prediction", "--data", tiny_dataset, *TINY, "--device", "cuda")
    assert_one_line_error(result, 2, "no CUDA device", "--device cpu")


# --- usage errors: Typer's own message, exit 2 ------------------------------------------------------


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["train", "transformer"], "transformer"),
        (["train", "prediction", "--hidden", "many"], "--hidden"),
        (["train", "prediction", "--device", "tpu"], "tpu"),
        (["train", "prediction", "--optimizer", "sgd"], "sgd"),
        (["train", "prediction", "--no-such-option"], "--no-such-option"),
    ],
)
def test_usage_errors(args, fragment, hw_home):
    result = hw(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert fragment in result.stderr


def test_help_lists_the_options():
    result = hw("train", "--help")
    assert result.exit_code == 0
    for option in ("--alphabet", "--init-from", "--resume", "--optimizer", "--stride", "--bf16", "--max-steps", "--hidden", "--window-mixtures"):
        assert option in result.stdout
