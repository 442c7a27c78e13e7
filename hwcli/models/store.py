"""Finding models by name: the user's own (cache dir) first, then those shipped in the package.

A user model lives in `models_dir()/NAME/` as `best.pt` (kept by validation)
and `last.pt` (for --resume). Shipped models are `assets/models/NAME.pt`.

A user model shadows the shipped model of the same name only once it has
finished an epoch (it has a `best.pt`): a run stopped after a few steps never
takes the place of a model that writes (docs/training.md, "Names").
"""

from __future__ import annotations

import os
from contextlib import contextmanager
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
    note: str | None = None  # why this file and not another (an unfinished model passed over)


def finished_epoch(folder: Path) -> bool:
    """best.pt is written at the end of an epoch, when validation improved: the mark of a model
    that has finished at least one epoch."""
    return (folder / "best.pt").is_file()


def find(name: str) -> ModelEntry:
    """A model by name (user's first, then shipped) or by path to a checkpoint file."""
    as_path = Path(name).expanduser()
    if as_path.suffix == ".pt" and as_path.is_file():
        return ModelEntry(as_path.stem, as_path, False)
    if not name or not name.strip():
        raise ModelError("no model name given; name a model (`hw models` lists them) or a .pt file")
    folder = paths.models_dir() / name
    shipped = paths.shipped_models_dir() / f"{name}.pt"
    if finished_epoch(folder):
        return ModelEntry(name, folder / "best.pt", False)
    if (folder / "last.pt").is_file():
        if shipped.is_file():
            return ModelEntry(name, shipped, True, note=f"{folder / 'last.pt'} has not finished an epoch yet; "
                              f"using the shipped {name!r} model")
        return ModelEntry(name, folder / "last.pt", False)
    if shipped.is_file():
        return ModelEntry(name, shipped, True)
    known = ", ".join(e.name for e in entries()) or "none"
    raise ModelError(f"no model named {name!r} (known: {known}); train one with `hw train` or see `hw models`")


def entries() -> list[ModelEntry]:
    """Every model: the user's, then shipped ones not shadowed by a user model of the same name."""
    found: dict[str, ModelEntry] = {}
    shipped = {}
    if paths.shipped_models_dir().is_dir():
        shipped = {file.stem: file for file in sorted(paths.shipped_models_dir().glob("*.pt"))}
    if paths.models_dir().is_dir():
        for folder in sorted(paths.models_dir().iterdir()):
            if finished_epoch(folder):
                found[folder.name] = ModelEntry(folder.name, folder / "best.pt", False)
            elif (folder / "last.pt").is_file() and folder.name not in shipped:
                found[folder.name] = ModelEntry(folder.name, folder / "last.pt", False)
    for stem, file in shipped.items():
        found.setdefault(stem, ModelEntry(stem, file, True))
    return list(found.values())


def unfinished() -> list[ModelEntry]:
    """The user's models that have not finished an epoch and so leave their name to a shipped
    model (find passes them over): `hw models` lists them apart."""
    out = []
    if paths.models_dir().is_dir():
        shipped = {file.stem for file in paths.shipped_models_dir().glob("*.pt")} if paths.shipped_models_dir().is_dir() else set()
        for folder in sorted(paths.models_dir().iterdir()):
            if folder.name in shipped and not finished_epoch(folder) and (folder / "last.pt").is_file():
                out.append(ModelEntry(folder.name, folder / "last.pt", False,
                                      note="has not finished an epoch: the shipped model of this name is used"))
    return out


def load(name: str | None, kind: str, device: str = "cpu", entry: ModelEntry | None = None):
    """Load the named model (or `entry`, from find), or the default of `kind`; checks that it
    is of that kind."""
    from hwcli.models import checkpoint

    entry = entry or find(name or DEFAULT_MODELS[kind])
    model = checkpoint.load(entry.path, device)
    if model.kind != kind:
        raise ModelError(f"model {entry.name!r} ({entry.path}) is a {model.kind} network; "
                         f"this command needs a {kind} network")
    return model


@contextmanager
def lock(model_dir: Path):
    """Hold `model_dir/.lock` (an exclusive flock) for a training run, so two runs of the same
    name cannot both write its checkpoints; UsageError at once if another run holds it. Under
    torchrun only rank 0 locks (the ranks of one run share the folder). The lock goes with the
    process, however it ends; the file stays (it is empty but for the holder's pid)."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one run at a time is up to the user
        yield
        return
    if int(os.environ.get("RANK", 0)) != 0:
        yield
        return
    model_dir = Path(model_dir)
    path = model_dir / ".lock"
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise ModelError(f"cannot lock {path}: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            from hwcli.errors import UsageError

            raise UsageError(f"another `hw train` is using {model_dir} (lock {path}"
                             f"{', pid ' + holder if holder else ''}); wait for it to end or choose another --name") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock
