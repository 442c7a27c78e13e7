"""Finding models by name: the user's own (cache dir) first, then those shipped in the package.

A user model lives in `models_dir()/NAME/` as `best.pt` (kept by validation)
and `last.pt` (for --resume). Shipped models are `assets/models/NAME.pt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hwcli import paths
from hwcli.errors import ModelError

# What `hw write` and `hw sample` use when no --model is given.
DEFAULT_MODELS = {"synthesis": "synthesis", "prediction": "prediction"}


@dataclass
class ModelEntry:
    name: str
    path: Path
    shipped: bool


def find(name: str) -> ModelEntry:
    """A model by name (user's first, then shipped) or by path to a checkpoint file."""
    as_path = Path(name).expanduser()
    if as_path.suffix == ".pt" and as_path.is_file():
        return ModelEntry(as_path.stem, as_path, False)
    folder = paths.models_dir() / name
    for file in ("best.pt", "last.pt"):
        if (folder / file).is_file():
            return ModelEntry(name, folder / file, False)
    shipped = paths.shipped_models_dir() / f"{name}.pt"
    if shipped.is_file():
        return ModelEntry(name, shipped, True)
    known = ", ".join(e.name for e in entries()) or "none"
    raise ModelError(f"no model named {name!r} (known: {known}); train one with `hw train` or see `hw models`")


def entries() -> list[ModelEntry]:
    """Every model: the user's, then shipped ones not shadowed by a user model of the same name."""
    found: dict[str, ModelEntry] = {}
    if paths.models_dir().is_dir():
        for folder in sorted(paths.models_dir().iterdir()):
            for file in ("best.pt", "last.pt"):
                if (folder / file).is_file():
                    found[folder.name] = ModelEntry(folder.name, folder / file, False)
                    break
    if paths.shipped_models_dir().is_dir():
        for file in sorted(paths.shipped_models_dir().glob("*.pt")):
            found.setdefault(file.stem, ModelEntry(file.stem, file, True))
    return list(found.values())


def load(name: str | None, kind: str, device: str = "cpu"):
    """Load the named model, or the default of `kind`; checks that it is of that kind."""
    from hwcli.models import checkpoint

    entry = find(name or DEFAULT_MODELS[kind])
    model = checkpoint.load(entry.path, device)
    if model.kind != kind:
        raise ModelError(f"model {entry.name!r} is a {model.kind} network; this command needs a {kind} network")
    return model
