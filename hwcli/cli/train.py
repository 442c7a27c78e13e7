"""`hw train prediction|synthesis`: train a network on the file `hw preprocess` wrote."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from hwcli.cli import app, error_boundary


class Network(str, Enum):
    synthesis = "synthesis"
    prediction = "prediction"


class Optimiser(str, Enum):
    adam = "adam"
    rmsprop = "rmsprop"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


SIZES = "Model size"
RUN = "Run"


@app.command()
@error_boundary
def train(
    network: Annotated[Network, typer.Argument(help="Which network: synthesis (text to ink) or prediction (free ink).")],
    data: Annotated[Optional[Path], typer.Option(help="Dataset file from `hw preprocess` [default: the one it wrote to the cache].")] = None,
    name: Annotated[Optional[str], typer.Option(help="Model name in the cache dir [default: the network's name].")] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the training lines.", rich_help_panel=RUN)] = 30,
    batch_size: Annotated[int, typer.Option(help="Lines per batch (bucketed by length).", rich_help_panel=RUN)] = 32,
    lr: Annotated[float | None, typer.Option(
        help="Learning rate: 1e-3, or with --resume the run's own rate (paper RMSProp: 1e-4).",
        rich_help_panel=RUN, show_default=False)] = None,
    optimizer: Annotated[Optimiser, typer.Option(help="adam, or the paper's rmsprop (eqs. 38-41).", rich_help_panel=RUN)] = Optimiser.adam,
    device: Annotated[Device, typer.Option(help="auto picks CUDA when available.", rich_help_panel=RUN)] = Device.auto,
    seed: Annotated[int, typer.Option(help="Seed for weights and batch order.", rich_help_panel=RUN)] = 0,
    max_steps: Annotated[int, typer.Option(help="Stop after this many optimiser steps (0: no limit).", rich_help_panel=RUN)] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the named model exactly where it stopped.", rich_help_panel=RUN)] = False,
    stride: Annotated[int, typer.Option(help="Keep every N-th point of each stroke (1: the paper's full rate).", rich_help_panel=RUN)] = 2,
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast for the LSTM products.", rich_help_panel=RUN)] = False,
    hidden: Annotated[int, typer.Option(help="LSTM cells per layer (paper: 400).", rich_help_panel=SIZES)] = 400,
    layers: Annotated[int, typer.Option(help="LSTM layers (paper: 3).", rich_help_panel=SIZES)] = 3,
    mixtures: Annotated[int, typer.Option(help="Output mixture components M (paper: 20).", rich_help_panel=SIZES)] = 20,
    window_mixtures: Annotated[int, typer.Option(help="Window components K, synthesis only (paper: 10).", rich_help_panel=SIZES)] = 10,
) -> None:
    """Train a network; checkpoints go to the cache dir (see `hw models`).

    Example: [bold]hw train synthesis --epochs 30[/bold]  (Ctrl-C saves; `--resume` continues.)
    """
    import signal

    from hwcli import paths
    from hwcli.cli.progress import TrainingReporter
    from hwcli.training.loop import TrainOptions
    from hwcli.training.session import run

    # A scheduler's SIGTERM saves like Ctrl-C (background jobs may ignore SIGINT).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    name = name or network.value
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        from hwcli.errors import UsageError

        raise UsageError(f"--name {name!r}: use letters, digits, '-', '_' and '.' only")
    options = TrainOptions(epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer.value, seed=seed,
                           max_steps=max_steps, bf16=bf16)
    sizes = dict(hidden=hidden, layers=layers, mixtures=mixtures, window_mixtures=window_mixtures)
    with TrainingReporter() as reporter:
        summary = run(network.value, data or paths.default_dataset_path(), paths.models_dir() / name, sizes, options,
                      device.value, resume, stride, callback=reporter)
    reporter.finish(summary)
