"""Self-describing checkpoints: config, weights, alphabet, normalisation, training state.

Loaded with `torch.load(weights_only=True)`: only tensors and plain containers,
so opening a checkpoint never runs code. A model is rebuilt from its stored
Config (`SynthesisNetwork(SynthesisConfig(**ckpt["config"]))`).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from hwcli.atomic import atomic_write
from hwcli.errors import ModelError

FORMAT = "hw-checkpoint"
FORMAT_VERSION = 1


@dataclass
class LoadedModel:
    """A network ready to run, with what it needs to read text and write ink."""

    network: torch.nn.Module
    kind: str  # "synthesis" or "prediction"
    alphabet: str  # characters the synthesis network knows ("" for prediction)
    mean: torch.Tensor  # (2,) normalisation of (dx, dy), source units
    std: torch.Tensor  # (2,)
    path: Path | None = None
    info: dict = field(default_factory=dict)  # training summary: epochs, losses, data


def build_network(kind: str, config: dict) -> torch.nn.Module:
    from hwcli.models.prediction import PredictionConfig, PredictionNetwork
    from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork

    if kind == "synthesis":
        return SynthesisNetwork(SynthesisConfig(**config))
    if kind == "prediction":
        return PredictionNetwork(PredictionConfig(**config))
    raise ModelError(f"unknown model kind {kind!r}")


def network_of(checkpoint: dict) -> torch.nn.Module:
    """The float32 network a checkpoint dict (read) holds; half-precision weights are widened."""
    network = build_network(checkpoint["kind"], checkpoint["config"])
    network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in checkpoint["state_dict"].items()})
    return network


def unwrap(network: torch.nn.Module) -> torch.nn.Module:
    """The bare model under DistributedDataParallel or torch.compile wrappers."""
    network = getattr(network, "module", network)
    return getattr(network, "_orig_mod", network)


def checkpoint_dict(network, alphabet: str, mean, std, info: dict, training: dict | None = None, half: bool = False) -> dict:
    network = unwrap(network)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone() for k, v in network.state_dict().items()}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": network.kind,
        "config": asdict(network.config),
        "state_dict": state,
        "alphabet": alphabet,
        "mean": torch.as_tensor(mean, dtype=torch.float32),
        "std": torch.as_tensor(std, dtype=torch.float32),
        "info": info,
        "training": training,
    }


def save(path: Path, checkpoint: dict) -> None:
    """Atomic: write beside the target, then rename, so a crash never leaves half a file."""
    with atomic_write(path) as handle:
        torch.save(checkpoint, handle)


def read(path: Path) -> dict:
    """The checkpoint dict, checked; ModelError for anything that is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # a foreign pickle makes torch warn before it fails: one line is enough
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt files
        raise ModelError(f"{path} is not a readable hw checkpoint ({type(error).__name__})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ModelError(f"{path} is not an hw checkpoint")
    if checkpoint.get("format_version", 0) > FORMAT_VERSION:
        raise ModelError(f"{path} was written by a newer hw (format {checkpoint['format_version']}); upgrade hw")
    return checkpoint


@dataclass
class Summary:
    """What `hw models` shows of a checkpoint, read without building the network."""

    name: str
    kind: str  # "synthesis" or "prediction"
    size: str  # "layers x hidden", e.g. "3x400"
    weights: int  # number of parameters
    epochs: int | None
    best_validation: float | None  # nats per line
    path: str
    bytes: int
    default_style: str | None  # the built-in style `hw write` primes with when none is named
    alphabet: str  # the characters it can write ("" for a prediction network)


def summary(path: Path, name: str | None = None) -> Summary:
    """A checkpoint's summary; ModelError when it is not one of ours or parts are missing.

    `name` defaults to the model's folder for `NAME/best.pt` and `NAME/last.pt`, else the file's stem.
    """
    path = Path(path)
    checkpoint = read(path)
    if name is None:
        name = path.parent.name if path.name in ("best.pt", "last.pt") else path.stem
    try:
        info, config = checkpoint.get("info") or {}, checkpoint["config"]
        return Summary(
            name=name, kind=checkpoint["kind"], size=f"{config['layers']}x{config['hidden']}",
            weights=sum(t.numel() for t in checkpoint["state_dict"].values()),
            epochs=info.get("epochs"), best_validation=info.get("best_validation"), path=str(path),
            bytes=path.stat().st_size, default_style=info.get("default_style"), alphabet=checkpoint.get("alphabet") or "",
        )
    except (KeyError, TypeError, AttributeError) as error:  # our format, but parts missing or mistyped
        raise ModelError(f"{path} is an incomplete hw checkpoint ({type(error).__name__}: {error})") from None


def load(path: Path, device: str | torch.device = "cpu") -> LoadedModel:
    checkpoint = read(path)
    try:
        network = network_of(checkpoint)
    except (KeyError, TypeError, RuntimeError) as error:
        raise ModelError(f"{path} does not match its own configuration ({error})") from None
    network.to(device).eval()
    return LoadedModel(
        network, checkpoint["kind"], checkpoint["alphabet"], checkpoint["mean"], checkpoint["std"], Path(path), checkpoint.get("info") or {}
    )
