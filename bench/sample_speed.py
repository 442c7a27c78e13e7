"""Sampling speed: steps per second at batch 1, and `hw write` wall time against importing torch.

* steps_per_second_batch1: hwcli.generate.sampler.write_lines on a paper-size synthesis network
  (3 x 400 cells, 20 + 10 mixtures, 80 classes) with random weights and the window held
  still, so every line runs to the step cap: a fixed, known number of steps.
  naive_steps_per_second: the reference, in the same run: the torch network's own forward
  pass called on one-step sequences with its state carried (how the public implementations
  sample), drawing from the same mixture sampler; speedup_over_naive is their ratio.
* write_good_morning_seconds: `hw write "Good morning" -o out.svg` in a fresh process, as a
  user runs it; import_torch_seconds: `python -c "import torch"` in the same run; their
  difference is what hw adds (loading the model, sampling, layout, SVG).
* one_line_seconds / ten_lines_seconds: `hw write` of one line and of a ten-line page (the
  lines are sampled as one batch, so ten lines should cost far less than ten times one).

The `hw write` runs use the default model, or --model; with neither installed they use a
paper-size model with random weights in a temporary HW_HOME (the timing of a real model of
that size, up to where its stopping rule fires). Prints one JSON object.

    python bench/sample_speed.py [--quick] [--model NAME] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# 79 characters and the "other" class: the 80 one-hot classes of a paper-size network.
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"'(),-.:;?&/+*#"
LINE = "Good morning to you all"
TEN_LINES = "\n".join([LINE] * 10)


def paper_model():
    """A paper-size synthesis network with random weights, as a LoadedModel."""
    import torch

    from hwcli.models.checkpoint import LoadedModel
    from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork

    assert len(set(ALPHABET)) + 1 == 80
    torch.manual_seed(0)
    network = SynthesisNetwork(SynthesisConfig(alphabet_size=80)).eval()
    return LoadedModel(network, "synthesis", ALPHABET, torch.zeros(2), torch.ones(2))


def hold_window_still(model):
    """kappa moves exp(-30) characters a step: the stopping rule never fires, lines run to the cap."""
    import torch

    layer = model.network.window_layer
    with torch.no_grad():
        layer.window.weight[2 * layer.K :].zero_()
        layer.window.bias[2 * layer.K :] = -30.0
    return model


def steps_per_second(chars: int, repeats: int) -> tuple[float, int]:
    """Batch-1 sampling rate of write_lines, timed over a line that runs to its step cap."""
    from hwcli.generate.sampler import MAX_PACE, write_lines

    model = hold_window_still(paper_model())
    text = (LINE * 4)[:chars]
    steps = int(MAX_PACE * model.network.config.steps_per_char * chars) + 1
    write_lines(model, ["Go"], seed=0)  # warm up: first calls allocate
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        line = write_lines(model, [text], seed=0).lines[0]
        best = min(best, time.perf_counter() - started)
        assert len(line) == steps, (len(line), steps)
    return steps / best, steps


def naive_steps_per_second(chars: int, steps: int) -> float:
    """The reference rate: the torch forward pass one step at a time (see the module docstring)."""
    import numpy as np
    import torch

    from hwcli.data.alphabet import Alphabet
    from hwcli.generate.sampler import sample_mixture
    from hwcli.generate.stepper import one_hot

    model = hold_window_still(paper_model())
    net, alphabet = model.network, Alphabet(model.alphabet)
    codes = alphabet.encode((LINE * 4)[:chars])
    text = torch.from_numpy(one_hot([codes], alphabet.size, len(codes) + 1))
    rng = np.random.default_rng(0)
    x, state = torch.zeros(1, 1, 3), None
    started = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            y_hat, state, _ = net(x, text, state)
            x = torch.from_numpy(sample_mixture(y_hat[:, 0].numpy(), net.config.mixtures, 0.0, rng))[:, None]
    return steps / (time.perf_counter() - started)


def timed(command: list[str], env: dict, repeats: int) -> float:
    """Best wall time of a command over `repeats` runs (exits non-zero: stop with its message)."""
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        run = subprocess.run(command, env=env, capture_output=True, text=True)
        best = min(best, time.perf_counter() - started)
        if run.returncode != 0:
            sys.exit(f"{' '.join(command[:4])} ... failed: {run.stderr.strip()}")
    return best


def hw_command() -> list[str]:
    script = Path(sys.executable).with_name("hw")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "hwcli"]


def pick_model(name: str | None, tmp: Path, env: dict) -> tuple[list[str], str]:
    """The --model arguments for `hw write`, and what the model is, in words."""
    from hwcli.errors import ModelError
    from hwcli.models import checkpoint, store

    if name:
        return ["--model", name], name
    try:
        return [], f"default ({store.find(store.DEFAULT_MODELS['synthesis']).path})"
    except ModelError:
        pass
    model = paper_model()
    path = tmp / "home" / "models" / "paper-random" / "best.pt"
    checkpoint.save(path, checkpoint.checkpoint_dict(model.network, ALPHABET, model.mean, model.std, {}))
    env["HW_HOME"] = str(tmp / "home")
    return ["--model", "paper-random"], "random weights, paper size (no default model installed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each, short lines: a check that it works")
    parser.add_argument("--model", help="model name or .pt file for the `hw write` runs [default: the default model]")
    parser.add_argument("--threads", type=int, help="torch threads here and OMP_NUM_THREADS for the commands")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 1 if args.quick else 3

    chars = 4 if args.quick else 16
    rate, steps = steps_per_second(chars, repeats=repeats)
    naive = naive_steps_per_second(chars, steps)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_args, model_said = pick_model(args.model, tmp, env)
        hw = hw_command()
        write = [*hw, "write", "--seed", "1", "--width", "100", *model_args]
        subprocess.run([sys.executable, "-c", "import torch"], env=env, check=True)  # warm the file cache
        import_torch = timed([sys.executable, "-c", "import torch"], env, repeats)
        good_morning = timed([*write, "Good morning", "-o", str(tmp / "out.svg")], env, repeats)
        one_line = timed([*write, LINE, "-o", str(tmp / "one.svg")], env, repeats)
        ten_lines = timed([*write, TEN_LINES, "-o", str(tmp / "ten.svg")], env, repeats)

    print(json.dumps({
        "steps_per_second_batch1": round(rate, 1),
        "naive_steps_per_second": round(naive, 1),
        "speedup_over_naive": round(rate / naive, 2),
        "write_good_morning_seconds": round(good_morning, 3),
        "import_torch_seconds": round(import_torch, 3),
        "write_overhead_seconds": round(good_morning - import_torch, 3),
        "one_line_seconds": round(one_line, 3),
        "ten_lines_seconds": round(ten_lines, 3),
        "ten_to_one_ratio": round(ten_lines / one_line, 2),
        "steps_timed": steps,
        "model": model_said,
        "threads": torch.get_num_threads(),
        "quick": args.quick,
    }))


if __name__ == "__main__":
    main()
