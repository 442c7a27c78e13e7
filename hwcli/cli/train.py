"""`hw train prediction|synthesis`: train a network on the file `hw preprocess` wrote."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli import config
from hwcli.cli import Signals, app, error_boundary, ranged


class Network(str, Enum):
    synthesis = "synthesis"
    prediction = "prediction"


class Optimiser(str, Enum):
    adam = "adam"
    rmsprop = "rmsprop"


class Precision(str, Enum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


SIZES = "Model size"
RUN = "Run"
D = config.TRAIN
class AlphabetKind(str, Enum):
    data = "data"
    ascii = "ascii"


# What --resume may change; every other option comes from the checkpoint.
RESUME_MAY_CHANGE = {"network", "name", "resume", "epochs", "max_steps", "lr", "device", "threads", "precision", "bf16"}


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set option `name` (on the command line or through its environment variable)."""
    from typer._click.core import ParameterSource

    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def training_threads() -> int:
    """torch's thread count for training when --threads is not given: every core this process may
    use but one, and at least one. Spread over every core, the small per-step products of
    training wait at each barrier for the thread that shares its core with another program:
    one busy core made a 20-step run 3.7 times slower on 2 threads, 2.1 on one
    (bench/under_load.py, docs/performance.md "Under load")."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@app.command()
@error_boundary
def train(
    ctx: typer.Context,
    network: Annotated[Network, typer.Argument(help="Which network: synthesis (text to ink) or prediction (free ink).")],
    data: Annotated[Optional[Path], typer.Option(help="Dataset file from `hw preprocess` \\[default: the one it wrote to the cache].", show_default=False)] = None,
    name: Annotated[Optional[str], typer.Option(help="Model name in the cache dir \\[default: the network's name; it takes the shipped model's place once it has finished an epoch].", show_default=False)] = None,
    epochs: Annotated[int, ranged("epochs", help="Passes over the training lines.", rich_help_panel=RUN)] = D.epochs,
    batch_size: Annotated[int, ranged("batch_size", help="Lines per batch (bucketed by length).", rich_help_panel=RUN)] = D.batch_size,
    lr: Annotated[float | None, ranged("lr",
        help=f"Learning rate \\[default: {config.DEFAULT_LR:g}, or with --resume the run's own rate] (paper RMSProp: 1e-4).",
        rich_help_panel=RUN, show_default=False)] = None,
    optimizer: Annotated[Optimiser, typer.Option(help="adam, or the paper's rmsprop (eqs. 38-41).", rich_help_panel=RUN)] = Optimiser.adam,
    device: Annotated[Device, typer.Option(help="auto picks CUDA when available.", rich_help_panel=RUN)] = Device.auto,
    seed: Annotated[int, ranged("seed", help="Seed for weights and batch order.", rich_help_panel=RUN)] = D.seed,
    max_steps: Annotated[int, ranged("max_steps", help="Stop after this many optimiser steps (0: no limit).", rich_help_panel=RUN)] = D.max_steps,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the named model exactly where it stopped, with its own options (only --epochs, --max-steps, --lr and --device may change).", rich_help_panel=RUN)] = False,
    stride: Annotated[int, ranged("stride", help="Keep every N-th point of each stroke (1: the paper's full rate).", rich_help_panel=RUN)] = D.stride,
    threads: Annotated[Optional[int], ranged("threads", help="CPU threads for torch \\[default: every core but one, at least 1; see docs/performance.md].", rich_help_panel=RUN, show_default=False)] = None,
    precision: Annotated[Precision, typer.Option(
        help="auto: bf16 on CPUs with AVX-512 BF16 or AMX and CUDA 8.0+, else fp32; fp32; bf16 (autocast for "
             "the LSTM products; its loss matched fp32's, docs/performance.md).",
        rich_help_panel=RUN)] = Precision(D.precision),
    bf16: Annotated[bool, typer.Option("--bf16", help="The same as --precision bf16 (kept for old scripts).", rich_help_panel=RUN)] = False,
    alphabet: Annotated[AlphabetKind, typer.Option(
        help="data: the characters seen 25 times or more in the training texts; ascii: every printable ASCII "
             "character, the rare ones learnt from repeated and glyph-augmented lines (docs/training.md).",
        rich_help_panel=RUN)] = AlphabetKind.data,
    init_from: Annotated[Optional[str], typer.Option(
        help="Start from this synthesis model (name or .pt file): its weights, sizes, stride and normalisation; "
             "new characters start from look-alikes \\[default: fresh weights].", rich_help_panel=RUN,
        show_default=False)] = None,
    hidden: Annotated[int, ranged("hidden", help="LSTM cells per layer (paper: 400).", rich_help_panel=SIZES)] = D.hidden,
    layers: Annotated[int, ranged("layers", help="LSTM layers (paper: 3).", rich_help_panel=SIZES)] = D.layers,
    mixtures: Annotated[int, ranged("mixtures", help="Output mixture components M (paper: 20).", rich_help_panel=SIZES)] = D.mixtures,
    window_mixtures: Annotated[int, ranged("window_mixtures", help="Window components K, synthesis only (paper: 10).", rich_help_panel=SIZES)] = D.window_mixtures,
) -> None:
    """Train a network; checkpoints go to the cache dir (see `hw models`).

    Example: [bold]hw train synthesis --epochs 30[/bold]  (Ctrl-C saves; `--resume` continues.)
    """
    from typer._click.core import ParameterSource

    from hwcli import paths
    from hwcli.cli.progress import TrainingReporter
    from hwcli.errors import UsageError
    from hwcli.models import store
    from hwcli.training.loop import TrainOptions
    from hwcli.training.session import run

    # Ctrl-C and a scheduler's SIGTERM (background jobs may ignore SIGINT) both save, then exit
    # 130 / 143 (the error boundary turns both into KeyboardInterrupt: cli/__init__.py, Signals).
    if name is not None and not name.strip():
        raise UsageError("--name is empty; give the model a name (letters, digits, '-', '_' and '.')")
    name = network.value if name is None else name
    if name.startswith(".") or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UsageError(f"--name {name!r}: use letters, digits, '-', '_' and '.' only, not starting with '.'")
    notes = []
    if resume:  # the checkpoint knows the rest: say (once it is read) which options given here it does not use
        given = [p for p in ctx.command.params if p.name not in RESUME_MAY_CHANGE and _given(ctx, p.name)]
        if given:
            flags = ", ".join(p.opts[0] for p in given)
            notes.append(f"--resume: {flags} ignored; {name} goes on with the options it was trained with")
    # A resumed run keeps its own precision unless one is given (as it keeps its rate).
    chosen = "bf16" if bf16 else precision.value
    if resume and not (bf16 or _given(ctx, "precision")):
        chosen = None
    options = TrainOptions(epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer.value, seed=seed,
                           max_steps=max_steps, precision=chosen)
    init_path = None
    if init_from is not None and not resume:
        init_path = store.find(init_from).path
        notes += [f"--init-from {init_from}: --{option.replace('_', '-')} ignored; it comes from the model"
                  for option in ("hidden", "layers", "mixtures", "window_mixtures", "stride")
                  if ctx.get_parameter_source(option) == ParameterSource.COMMANDLINE]
    sizes = dict(hidden=hidden, layers=layers, mixtures=mixtures, window_mixtures=window_mixtures)
    import torch

    torch.set_num_threads(threads or training_threads())
    with store.lock(paths.models_dir() / name), TrainingReporter(notes) as reporter:
        summary = run(network.value, data or paths.default_dataset_path(), paths.models_dir() / name, sizes, options,
                      device.value, resume, stride, alphabet=alphabet.value, init_from=init_path, callback=reporter)
    reporter.finish(summary)
    if summary["status"] == "interrupted":  # saved; now exit as the signal asks (130 / 143)
        raise typer.Exit(Signals.exit_code())
