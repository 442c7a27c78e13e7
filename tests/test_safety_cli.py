"""Issue 17 through the CLI: every numeric option checked before any work (exit 2, one line),
output paths checked before sampling, one overwrite policy, signals and exit codes, training that
never breaks `hw write`, words (help defaults, plain alphabets, uncut paths) and small output
defects. Real code on the session's tiny models and the synthetic dataset.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_checks import assert_ok, assert_one_line_error
from conftest import PREDICTION, REPO, SYNTHESIS
from typer.testing import CliRunner

from hwcli import config
from hwcli.cli import app
from hwcli.errors import UsageError

runner = CliRunner()
TINY_TRAIN = ["--hidden", "16", "--layers", "1", "--mixtures", "3", "--batch-size", "8"]


def hw(*args, input: str | None = None, env: dict | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input, env=env)


def leftovers(folder: Path) -> list[str]:
    """Temporary files of atomic writes (.NAME.PID.HEX.tmp) or probes left anywhere under `folder`."""
    return sorted(str(p) for p in folder.rglob("*.tmp"))


def subprocess_env(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(HW_HOME=str(home), PYTHONPATH=str(REPO), **extra)
    return env


# --- values: a range for every numeric option, checked while parsing --------------------------------


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**32)], "--seed"),
        (["--bias", "nan"], "--bias"),
        (["--bias", "inf"], "--bias"),
        (["--bias", "-0.5"], "--bias"),
        (["--bias", "11"], "--bias"),
        (["--page-width", "1e308"], "--page-width"),
        (["--page-width", "nan"], "--page-width"),
        (["--page-width", "0"], "--page-width"),
        (["--width", "0"], "--width"),
        (["--line-spacing", "0"], "--line-spacing"),
        (["--line-spacing", "nan"], "--line-spacing"),
        (["--margin", "-1"], "--margin"),
        (["--margin", "nan"], "--margin"),
        (["--stroke-width", "0"], "--stroke-width"),
        (["--stroke-width", "inf"], "--stroke-width"),
        (["--candidates", "0"], "--candidates"),
        (["--candidates", "2"], "--candidates"),
        (["--candidates", "17"], "--candidates"),
    ],
)
def test_write_values_out_of_range(home, tmp_path, args, flag):
    out = tmp_path / "x.svg"
    result = hw("write", "hello", "-o", out, "--model", SYNTHESIS, *args)
    assert_one_line_error(result, 2, flag, "must be")
    assert not out.exists() and not leftovers(tmp_path)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--steps", "0"], "--steps"),
        (["--steps", "100000000"], "--steps"),
        (["--seed", "-1"], "--seed"),
        (["--bias", "nan"], "--bias"),
        (["--stroke-width", "-2"], "--stroke-width"),
    ],
)
def test_sample_values_out_of_range(home, tmp_path, args, flag):
    result = hw("sample", "-o", tmp_path / "x.svg", "--model", PREDICTION, *args)
    assert_one_line_error(result, 2, flag)
    assert "--lines" not in result.stderr  # there is no such option
    assert not (tmp_path / "x.svg").exists()


def test_inspect_values_out_of_range(home, tmp_path):
    assert_one_line_error(hw("inspect", "hello", "-o", tmp_path / "a.svg", "--bias", "nan"), 2, "--bias")
    assert_one_line_error(hw("inspect", "hello", "-o", tmp_path / "a.svg", "--seed", "-3"), 2, "--seed")
    assert_one_line_error(hw("inspect", "hello", "-o", tmp_path / "a.svg", "--candidates", "0"), 2, "--candidates")


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--lr", "nan"], "--lr"),
        (["--lr", "0"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--max-steps", "-3"], "--max-steps"),
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "0"], "--batch-size"),
        (["--seed", "-1"], "--seed"),
        (["--stride", "0"], "--stride"),
        (["--hidden", "0"], "--hidden"),
        (["--layers", "0"], "--layers"),
        (["--mixtures", "0"], "--mixtures"),
        (["--window-mixtures", "0"], "--window-mixtures"),
        (["--threads", "0"], "--threads"),
    ],
)
def test_train_values_out_of_range(hw_home, tiny_dataset, args, flag):
    result = hw("train", "synthesis", "--data", tiny_dataset, *TINY_TRAIN, *args)
    assert_one_line_error(result, 2, flag)
    assert result.stderr.startswith("error:")  # no blank line first
    assert not list(hw_home.rglob("*.pt"))  # nothing trained, nothing saved


def test_the_library_checks_values_too(tiny):
    from hwcli.generate.page import write_page
    from hwcli.generate.sampler import sample_free, write_lines

    model = tiny.load()
    for bias in (-1.0, math.nan, math.inf):
        with pytest.raises(UsageError, match="bias"):
            write_lines(model, ["hello"], bias=bias)
        with pytest.raises(UsageError, match="bias"):
            write_page("hello", model=model, bias=bias)
        with pytest.raises(UsageError, match="bias"):
            sample_free(tiny.load(PREDICTION), steps=5, bias=bias)
    with pytest.raises(UsageError, match="seed"):
        write_lines(model, ["hello"], seed=-1)
    with pytest.raises(UsageError) as error:
        sample_free(tiny.load(PREDICTION), steps=0)
    assert "steps" in str(error.value) and "--lines" not in str(error.value)


def test_training_options_are_checked_by_the_library(tiny_dataset, tmp_path):
    from hwcli.training import session
    from hwcli.training.loop import TrainOptions

    for options in (TrainOptions(lr=math.nan), TrainOptions(max_steps=-3), TrainOptions(batch_size=0)):
        with pytest.raises(UsageError):
            session.run("prediction", tiny_dataset, tmp_path / "m", {"hidden": 8, "layers": 1, "mixtures": 2},
                        options, "cpu")
    assert not (tmp_path / "m" / "last.pt").exists()


def test_one_source_of_defaults():
    """hwcli/config.py: the CLI's defaults, the library's and TrainOptions' are the same."""
    import typer.main

    from hwcli.generate import sampler
    from hwcli.training import loop, session

    assert sampler.DEFAULT_BIAS == config.DEFAULT_BIAS and session.DEFAULT_STRIDE == config.DEFAULT_STRIDE
    assert loop.DEFAULT_LR == config.DEFAULT_LR
    options = loop.TrainOptions()
    for field in ("epochs", "batch_size", "optimizer", "seed", "max_steps", "precision"):
        assert getattr(options, field) == getattr(config.TRAIN, field), field
    commands = typer.main.get_command(app).commands
    defaults = {p.name: p.default for p in commands["train"].params}
    for field in ("epochs", "batch_size", "seed", "max_steps", "stride", "hidden", "layers", "mixtures", "window_mixtures",
                  "precision"):
        assert defaults[field] == getattr(config.TRAIN, field), field
    # The bias is left unset by `hw write` and `hw inspect` (test_write_cli.py): priming.bias_for picks it.


# --- output paths -----------------------------------------------------------------------------------


def test_a_missing_folder_is_not_created(home, tmp_path):
    out = tmp_path / "nonexistent" / "dir" / "x.svg"
    assert_one_line_error(hw("write", "hello", "-o", out, "--model", SYNTHESIS), 2, "does not exist")
    assert not (tmp_path / "nonexistent").exists()
    assert_one_line_error(hw("sample", "-o", out, "--model", PREDICTION), 2, "does not exist")
    assert_one_line_error(hw("inspect", "hello", "-o", out), 2, "does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_every_output_is_checked_before_sampling(home, tmp_path):
    good = tmp_path / "good.svg"
    blocked = tmp_path / "file.txt"
    blocked.write_text("a file, not a folder")
    result = hw("write", "hello", "-o", good, "-o", blocked / "bad.json", "--model", SYNTHESIS)
    assert_one_line_error(result, 2, "bad.json")
    assert not good.exists()


def test_an_unwritable_folder_is_refused_before_sampling(home, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        try:  # root writes anywhere: then /proc stands in for a folder that takes no files
            (locked / "probe").touch()
            (locked / "probe").unlink()
            locked = Path("/proc")
        except OSError:
            pass
        good = tmp_path / "good.svg"
        result = hw("write", "hello", "-o", good, "-o", locked / "bad.json", "--model", SYNTHESIS)
        assert_one_line_error(result, 2, "cannot write in")
        assert not good.exists()
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_an_output_that_is_a_folder(home, tmp_path):
    assert_one_line_error(hw("write", "hello", "-o", tmp_path, "--model", SYNTHESIS), 2, "is a folder")


def test_preprocess_refuses_a_name_that_is_not_npz(synthetic_iamondb, hw_home, tmp_path):
    out = tmp_path / "out.svg"
    result = hw("preprocess", synthetic_iamondb, "-o", out, "--workers", "1")
    assert_one_line_error(result, 2, "out.svg", ".npz")
    assert not out.exists()
    assert_one_line_error(hw("preprocess", synthetic_iamondb, "-o", tmp_path / "no" / "d.npz"), 2, "does not exist")


def test_one_overwrite_policy_existing_files_are_replaced(home, synthetic_iamondb, tmp_path):
    """docs/user-guide.md: every command replaces an existing output file, atomically."""
    out = tmp_path / "page.svg"
    out.write_text("old")
    assert_ok(hw("write", "hello", "-o", out, "--model", SYNTHESIS, "--seed", 1))
    assert out.read_text().startswith("<?xml")
    assert_ok(hw("sample", "-o", out, "--model", PREDICTION, "--steps", 20, "--seed", 1))
    data = tmp_path / "d.npz"
    data.write_bytes(b"old")
    result = hw("preprocess", synthetic_iamondb, "-o", data, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert data.read_bytes()[:2] == b"PK"
    assert not leftovers(tmp_path)


def test_a_lone_at_sign_names_what_is_missing(home, tmp_path):
    result = hw("write", "@", "-o", tmp_path / "x.svg", "--model", SYNTHESIS)
    assert_one_line_error(result, 2, "'@' needs a file name")
    assert "cannot read text from ." not in result.stderr


def test_inspect_reads_text_as_write_does(home, tmp_path):
    out = tmp_path / "a.svg"
    result = hw("inspect", "two\\nlines", "-o", out)
    assert_one_line_error(result, 2, "one line", "2 lines")
    assert "backslash" not in result.stderr and "\\" not in result.stderr
    source = tmp_path / "line.txt"
    source.write_text("hello\n", encoding="utf-8")
    assert_ok(hw("inspect", f"@{source}", "-o", out, "--seed", 1, "--model", SYNTHESIS))
    assert_ok(hw("inspect", "-", "-o", out, "--seed", 1, "--model", SYNTHESIS, input="hello\n"))


@pytest.mark.parametrize(
    "args",
    [
        ["models"],
        ["write", "hello", "-o", "{tmp}/x.svg"],
        ["sample", "-o", "{tmp}/x.svg"],
        ["inspect", "hello", "-o", "{tmp}/x.svg"],
        ["train", "prediction"],
        ["preprocess", "{tmp}"],
    ],
)
def test_hw_home_that_is_a_file(tmp_path, monkeypatch, args):
    not_a_folder = tmp_path / "home-file"
    not_a_folder.write_text("a file")
    monkeypatch.setenv("HW_HOME", str(not_a_folder))
    result = hw(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_one_line_error(result, 1, "HW_HOME", "is a file")


# --- signals and exit codes -------------------------------------------------------------------------


def test_atomic_write_leaves_no_temporary_file_whenever_it_is_interrupted(tmp_path):
    """SIGINT at random moments (Ctrl-C; SIGTERM raises the same inside a command): whatever the
    moment, the target is whole (old or new) and no .tmp is left."""
    import threading

    from hwcli.atomic import atomic_write

    target = tmp_path / "out.svg"
    target.write_text("old")

    armed = [False]  # the interrupt lands only inside the write, as a Ctrl-C during `hw write` would

    def interrupt(signum, frame):
        if armed[0]:
            armed[0] = False
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    rng = random.Random(0)
    interrupted = 0
    try:
        for _ in range(300):
            try:
                armed[0] = True
                timer = threading.Timer(rng.uniform(0, 4e-4), os.kill, (os.getpid(), signal.SIGINT))
                timer.start()
                with atomic_write(target, "w") as handle:
                    for _ in range(rng.randrange(1, 50)):
                        handle.write("x" * 100)
                armed[0] = False
            except KeyboardInterrupt:
                interrupted += 1
            finally:
                timer.join()
                time.sleep(0.001)  # a signal sent just now is handled (disarmed) here
                armed[0] = False
            assert leftovers(tmp_path) == []
            assert target.read_text() == "old" or set(target.read_text()) == {"x"}
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupted > 0


def test_hw_write_killed_by_sigterm_exits_143_and_leaves_no_temporary_file(tiny, tmp_path):
    env = subprocess_env(tiny.home)
    out = tmp_path / "page.svg"
    codes = set()
    for delay in (0.2, 1.0, 2.0, 3.0):
        process = subprocess.Popen([sys.executable, "-m", "hwcli", "write", "Good morning\\nto you", "-o", str(out),
                                    "--model", SYNTHESIS], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        time.sleep(delay)
        for _ in range(3):  # repeatedly, as an impatient scheduler would
            process.send_signal(signal.SIGTERM)
            time.sleep(0.01)
        _, err = process.communicate(timeout=60)
        codes.add(process.returncode)
        assert process.returncode in (0, 143, -signal.SIGTERM), err
        assert "Traceback" not in err
        assert leftovers(tmp_path) == []
    assert codes & {143, -signal.SIGTERM}


def test_hw_train_saves_then_exits_143_on_sigterm(tiny_dataset, tmp_path):
    home = tmp_path / "home"
    command = [sys.executable, "-m", "hwcli", "train", "prediction", "--data", str(tiny_dataset), "--name", "term",
               *TINY_TRAIN, "--epochs", "10000"]
    process = subprocess.Popen(command, env=subprocess_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    lines = []
    deadline = time.monotonic() + 120
    for line in process.stderr:  # wait until an epoch has ended: training is under way
        lines.append(line)
        if line.startswith("epoch 1:") or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == 143, output
    assert "interrupted: state saved" in output
    assert (home / "models" / "term" / "last.pt").is_file()


# --- training never breaks `hw write` ---------------------------------------------------------------


def test_an_unfinished_model_does_not_shadow_the_shipped_one(tiny, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HW_HOME", str(home))
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tiny.shipped)
    folder = home / "models" / "synthesis"
    folder.mkdir(parents=True)
    shutil.copy(tiny.synthesis_path, folder / "last.pt")  # a run stopped before its first epoch ended
    out = tmp_path / "x.svg"
    result = hw("write", "hello", "-o", out, "--seed", 1)
    assert_ok(result)
    assert "has not finished an epoch" in result.stderr and str(folder / "last.pt") in result.stderr
    listed = hw("models")
    assert_ok(listed)
    assert "has not finished an epoch" in listed.stdout
    shutil.copy(tiny.synthesis_path, folder / "best.pt")  # now it has finished one: it takes the name
    result = hw("write", "hello", "-o", out, "--seed", 1)
    assert_ok(result)
    assert f"model: {folder / 'best.pt'}" in result.stderr and "not finished" not in result.stderr


def test_write_says_which_model_file_it_used(home, tiny, tmp_path):
    result = hw("write", "hello", "-o", tmp_path / "x.svg", "--model", SYNTHESIS, "--seed", 1)
    assert_ok(result)
    assert f"model: {tiny.synthesis_path}" in result.stderr


def test_an_error_names_the_model_file(home, tiny, tmp_path):
    missing = next(c for c in "QZXqzx&#" if c not in tiny.alphabet)
    result = hw("write", f"hello {missing}", "-o", tmp_path / "x.svg", "--model", SYNTHESIS, "--strict")
    assert_one_line_error(result, 2, str(tiny.synthesis_path))


def test_an_empty_name_is_refused(hw_home, tiny_dataset):
    assert_one_line_error(hw("train", "prediction", "--data", tiny_dataset, "--name", "", *TINY_TRAIN), 2, "--name")
    assert_one_line_error(hw("train", "prediction", "--data", tiny_dataset, "--name", "..", *TINY_TRAIN), 2, "--name")
    assert not list(hw_home.rglob("*.pt"))


def test_two_runs_of_one_name_cannot_both_run(hw_home, tiny_dataset):
    from hwcli.models import store

    with store.lock(hw_home / "models" / "busy"):  # another run holds the name
        result = hw("train", "prediction", "--data", tiny_dataset, "--name", "busy", *TINY_TRAIN, "--max-steps", 1)
        assert_one_line_error(result, 2, "another `hw train`", str(hw_home / "models" / "busy"))
    assert not (hw_home / "models" / "busy" / "last.pt").exists()
    assert_ok(hw("train", "prediction", "--data", tiny_dataset, "--name", "busy", *TINY_TRAIN, "--max-steps", 1))


# --- words ------------------------------------------------------------------------------------------


HELP_DEFAULTS = {
    "write": ["[default: the shipped model]", f"[default: {config.DEFAULT_BIAS}, or {config.DEFAULT_STYLE_BIAS} with a style of your own ink", "[default: 0.5]", "[default: from the letter size]",
              "[default: 50]", "[default: fresh ink each run]", "[range: 0 to 10]"],
    "sample": ["[default: the shipped prediction model]", f"[default: {config.DEFAULT_SAMPLE_STEPS};",
               "[default: 0.0]", "[range: 1 to 20,000]"],
    "inspect": ["[default: the shipped model]", f"[default: as hw write: {config.DEFAULT_BIAS}, or {config.DEFAULT_STYLE_BIAS}"],
    "train": ["[default: the one it wrote to the cache]", "[default: the network's name", f"[default: {config.DEFAULT_LR:g}", "[default: 30]", "[default: 400]",
              "[default: every core but one"],
    "preprocess": ["Default: iam-ondb.npz"],
}


@pytest.mark.parametrize("command", sorted(HELP_DEFAULTS))
def test_help_shows_its_defaults(command):
    result = hw(command, "--help", env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # the table may still break a long help text
    for default in HELP_DEFAULTS[command]:
        assert default in text, (default, result.stdout)
    assert "<bool>" not in result.stdout  # on/off flags show no placeholder


def test_help_imports_neither_torch_nor_numpy():
    code = ("import sys, runpy; sys.argv = ['hw', '--help']\n"
            "try:\n    runpy.run_module('hwcli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules, 'numpy' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stderr.strip().splitlines()[-1] == "False False", result.stderr


def test_the_cli_runs_numpy_and_openmp_on_one_thread_unless_told():
    code = "import hwcli.cli, os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**env, "PYTHONPATH": str(REPO)}).stdout.split()
    assert out == ["1", "1"]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**env, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "3"}).stdout.split()
    assert out == ["3", "1"]  # the user's own setting wins


def test_models_shows_what_each_model_writes_and_whole_paths(tiny, tmp_path, monkeypatch):
    deep = tmp_path / ("a-folder-with-a-long-name-" * 4) / "home"
    shutil.copytree(tiny.home / "models", deep / "models")
    monkeypatch.setenv("HW_HOME", str(deep))
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tmp_path / "none")
    result = hw("models", env={"COLUMNS": "80"})
    assert_ok(result)
    path = str(deep / "models" / SYNTHESIS / "best.pt")
    assert len(path) > 80 and any(path in line for line in result.stdout.splitlines()), result.stdout
    writes = [line for line in result.stdout.splitlines() if line.strip().startswith("writes:")]
    assert any("free ink" in line for line in writes)
    synthesis_line = next(line for line in writes if "free ink" not in line)
    assert "a-" in synthesis_line and "[" not in synthesis_line  # ranges, not a Python list


def test_the_alphabet_is_shown_plainly():
    from hwcli.cli.models import shown_alphabet

    assert shown_alphabet("abcdefgxyz ABC019.,") == ", . 0 1 9 A-C a-g x-z space"


def test_a_foreign_pickle_is_one_line_without_a_torch_warning(home, tmp_path):
    import pickle

    from hwcli.errors import ModelError
    from hwcli.models import checkpoint

    foreign = tmp_path / "foreign.pt"
    foreign.write_bytes(pickle.dumps({"weights": [1, 2, 3]}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ModelError, match="foreign.pt"):
            checkpoint.read(foreign)
    assert not caught, [str(w.message) for w in caught]
    assert_one_line_error(hw("write", "hello", "-o", tmp_path / "x.svg", "--model", foreign), 1, "foreign.pt")


def test_an_xml_error_names_its_line_once(home, tmp_path):
    bad = tmp_path / "bad.inkml"
    bad.write_text('<?xml version="1.0"?>\n<ink>\n<trace>1 2, 3 4\n</ink>\n')
    result = hw("write", "hello", "-o", tmp_path / "x.svg", "--model", SYNTHESIS, "--style", bad)
    assert_one_line_error(result, 1, "bad.inkml", "line 4")
    assert result.stderr.count("line 4") == 1, result.stderr


def test_an_unknown_option_is_one_line(home, tmp_path):
    assert_one_line_error(hw("write", "hello", "-o", tmp_path / "x.svg", "--no-such"), 2, "--no-such")


# --- small output defects ---------------------------------------------------------------------------


def test_a_signature_model_stops_at_the_end_of_one_signature(home, tiny, tmp_path):
    import torch

    from hwcli.data.inkfile import read_ink
    from hwcli.generate.sampler import sample_free, signature_end

    model = tiny.load(PREDICTION)
    assert signature_end(model) is None  # handwriting: plain `hw sample` as before
    lines = sample_free(model, steps=400, lines=3, seed=1, stop_after=30)
    for line in lines:
        assert 30 <= len(line) <= 400 and line[-1, 2] == 1.0
        if len(line) < 400:
            assert line[len(line) - 1, 2] == 1.0 and line[29:-1, 2].max() < 0.5  # ended at its first pen-up after 30
    stored = torch.load(tiny.home / "models" / PREDICTION / "best.pt", weights_only=True)
    stored["info"]["source"] = "SVC2004"
    signatures = tmp_path / "sig.pt"
    torch.save(stored, signatures)
    out = tmp_path / "sig.json"
    assert_ok(hw("sample", "-o", out, "--model", signatures, "--seed", 2))
    points = sum(len(s) for s in read_ink(out)[0])
    assert config.SIGNATURE_POINTS <= points <= config.SIGNATURE_MAX_STEPS
    assert_ok(hw("sample", "-o", out, "--model", signatures, "--seed", 2, "--steps", 50))
    assert sum(len(s) for s in read_ink(out)[0]) == 50  # --steps given: exactly that many


def test_a_full_stop_is_not_scaled_up_to_a_letter(tmp_path):
    from lxml import etree

    from hwcli.generate.page import Page
    from hwcli.render.svg import LETTER_PX, letter_size

    dot = [np.array([[0.0, 0.0], [3.0, 2.0], [5.0, 0.5]])]  # a full stop: a few units across
    assert letter_size(dot) == 5.0 and letter_size(dot, min_letter=100.0) == 100.0
    letters = [np.array([[0.0, 0.0], [150.0, 120.0]]), np.array([[0.0, 0.0], [130.0, 10.0]])]
    assert letter_size(letters, min_letter=100.0) == letter_size(letters)  # real writing: unchanged
    for min_letter, tall in ((None, True), (100.0, False)):
        out = tmp_path / "dot.svg"
        Page(["."], [np.zeros((0, 3))], dot, min_letter=min_letter).save(out, "svg")
        height = float(etree.parse(str(out)).getroot().get("height"))
        assert (height > 1.5 * LETTER_PX) == tall, height
