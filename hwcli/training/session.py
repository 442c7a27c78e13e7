"""One training run from the CLI's point of view: data, model, resume, checkpoints.

Checkpoints go to `models_dir()/NAME/`: `last.pt` (everything needed to resume)
and `best.pt` (the lowest validation loss so far).
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch

from hwcli.errors import ModelError, UsageError
from hwcli.models import checkpoint as ckpt
from hwcli.training import distributed
from hwcli.training.memory import keep_freed_memory
from hwcli.training.batches import prepare
from hwcli.training.loop import DEFAULT_LR, TrainOptions, TrainState, fit, make_optimizer

from hwcli.config import DEFAULT_STRIDE, RANGES, check  # noqa: E402 - the one source of defaults and ranges

# What a resumed run may change (how long, how fast, on what); everything else (batch size,
# optimiser, seed, sizes, stride, data) comes from the checkpoint: it sets the batch order and
# the optimiser state.
RESUME_MAY_CHANGE = ("epochs", "max_steps", "lr", "precision", "save_every_s")


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda, but no CUDA device is available; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {name!r}; use auto, cpu or cuda")
    if name == "cuda":
        return torch.device("cuda", distributed.local_rank() % torch.cuda.device_count())
    return torch.device("cpu")


def run(kind: str, dataset_path: Path, model_dir: Path, sizes: dict, options: TrainOptions, device_name: str = "auto",
        resume: bool = False, stride: int = DEFAULT_STRIDE, min_char_count: int | None = None,
        alphabet: str = "data", init_from: Path | None = None, callback=lambda event, **data: None) -> dict:
    """Train (or resume) a `kind` network; returns a summary of the run.

    `alphabet` (synthesis): "data" or "ascii" (Alphabet.for_training). `init_from`: a synthesis
    checkpoint to start from (training/warm_start.py); its sizes, stride and normalisation
    replace `sizes`, `stride` and the data's own statistics."""
    from hwcli.data import dataset as datasets
    from hwcli.data.alphabet import MIN_CHAR_COUNT

    if kind not in ("synthesis", "prediction"):
        raise UsageError(f"unknown network {kind!r}; train `synthesis` or `prediction`")
    for option in ("epochs", "batch_size", "lr", "seed", "max_steps"):
        check(option, getattr(options, option))
    check("stride", stride)
    for size, value in sizes.items():
        if size in RANGES:
            check(size, value)
    last_path, best_path = model_dir / "last.pt", model_dir / "best.pt"
    previous = None
    if resume:
        previous = ckpt.read(last_path)
        if previous.get("kind") != kind or not previous.get("training"):
            raise ModelError(f"{last_path} holds no resumable {kind} training state")
        # The run goes on with its own options (they set the batch order and the optimiser state;
        # another optimiser's state does not even load): only RESUME_MAY_CHANGE come from here.
        saved = previous["training"].get("options") or {}
        known = {f.name for f in fields(TrainOptions)}
        kept = {k: v for k, v in saved.items() if k in known and k not in RESUME_MAY_CHANGE}
        # A rate or precision given with --resume takes over (say, a lower rate to finish); else the
        # run keeps its own.
        options = replace(options, **kept, lr=options.lr or saved.get("lr") or DEFAULT_LR,
                          precision=options.precision or saved.get("precision") or TrainOptions.precision)
        stride = previous["training"]["data"]["stride"]
        min_char_count = previous["training"]["data"]["min_char_count"]
        alphabet = previous["training"]["data"].get("alphabet", "data")
        dataset_path = Path(previous["training"]["data"]["dataset"])
    elif last_path.exists():
        raise UsageError(f"a model already exists at {model_dir}; use --resume to continue it or another --name")
    else:
        options = replace(options, lr=options.lr or DEFAULT_LR, precision=options.precision or TrainOptions.precision)
    if kind != "synthesis" and alphabet != "data":
        raise UsageError("--alphabet is for synthesis networks; a prediction network reads no text")
    initial = None
    if init_from is not None and not resume:
        if kind != "synthesis":
            raise UsageError("--init-from starts a synthesis network from another; it is not for prediction")
        initial = ckpt.read(init_from)
        stride = (initial.get("info") or {}).get("stride", stride)
    min_char_count = MIN_CHAR_COUNT if min_char_count is None else min_char_count

    # Window weights far from kappa underflow into float32 denormals, whose
    # arithmetic takes a slow path on x86; as zeros they change nothing.
    torch.set_flush_denormal(True)
    keep_freed_memory()
    device = pick_device(device_name)
    rank, world = distributed.setup(device)
    torch.manual_seed(options.seed)
    data = datasets.load(dataset_path)
    callback("data", path=str(dataset_path), lines=len(data))
    # A warm start normalises as its model was trained; a resumed run as it began.
    source = previous or initial
    stats = (source["mean"].numpy(), source["std"].numpy()) if source and kind == "synthesis" else None
    train, valid, letters, mean, std, steps_per_char = prepare(data, stride, kind == "synthesis", min_char_count,
                                                               alphabet, options.seed, stats)
    if not len(valid):
        raise UsageError("the dataset has no validation lines")

    if previous:
        network = ckpt.build_network(kind, previous["config"])
        network.load_state_dict(previous["state_dict"])
        state = TrainState(**previous["training"]["state"])
    elif initial:
        from hwcli.training.warm_start import warm_start

        network = warm_start(initial, letters.chars)
        state = TrainState()
    else:
        config = dict(sizes)
        if kind == "synthesis":
            config.update(alphabet_size=letters.size, steps_per_char=round(float(steps_per_char), 3))
        else:
            config.pop("window_mixtures", None)
        network = ckpt.build_network(kind, config)
        state = TrainState()
    network.to(device)
    optimizer = make_optimizer(options, network.parameters())
    if previous:
        optimizer.load_state_dict(previous["training"]["optimizer"])
        for group in optimizer.param_groups:
            group["lr"] = options.lr  # the loaded state carries the old rate
    trained = distributed.wrap(network, device)
    chars = letters.chars if letters else ""
    data_info = {"dataset": str(dataset_path), "stride": stride, "min_char_count": min_char_count, "alphabet": alphabet,
                 "init_from": str(init_from) if initial else previous["training"]["data"].get("init_from") if previous else None,
                 "source": data.meta.get("source", ""), "split": data.meta.get("split_kind", "")}

    def save(which: str, state: TrainState) -> None:
        if rank != 0:
            return
        info = {"epochs": state.epoch, "steps": state.global_step, "seconds": round(state.seconds, 1),
                "best_validation": None if math.isinf(state.best_validation) else state.best_validation,
                "history": state.history, "device": str(device), "world_size": world, **data_info}
        training = {"state": asdict(state), "options": asdict(options), "optimizer": optimizer.state_dict(), "data": data_info}
        ckpt.save(last_path if which == "last" else best_path,
                  ckpt.checkpoint_dict(network, chars, mean, std, info, training))

    callback("start", kind=kind, parameters=sum(p.numel() for p in network.parameters()), device=str(device),
             train_lines=len(train), valid_lines=len(valid), train_steps=train.steps, epoch=state.epoch,
             world_size=world, model_dir=str(model_dir))
    try:
        status = fit(trained, optimizer, train, valid, options, state, save, device, callback)
        distributed.barrier(device)
    finally:
        del trained  # the DDP wrapper: it must go before the process group (distributed.teardown)
        distributed.teardown()
    return {"status": status, "epochs": state.epoch, "steps": state.global_step, "skipped": state.skipped,
            "best_validation": state.best_validation, "history": state.history, "model_dir": str(model_dir)}
