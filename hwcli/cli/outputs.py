"""Output files named with -o: checked, all of them, before any work.

One policy for every command (docs/user-guide.md): an existing file is
replaced, atomically, as most Unix tools do; a folder is never created (a
missing one is a typing error more often than a wish) and never replaced.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# What each kind of output is, for the messages.
KINDS = {
    "svg": "picture",
    "json": "strokes",
    "inkml": "strokes",
    "npz": "dataset file",
}


def check_output(path: Path, kinds: tuple[str, ...], option: str = "-o") -> str:
    """The kind of output `path` names (its suffix, one of `kinds`), after checking that it can
    be written: its folder exists and takes new files, and it is not itself a folder.
    UsageError (exit 2) otherwise, naming the path."""
    from hwcli.errors import UsageError

    path = Path(path)
    if path.expanduser().is_dir():
        raise UsageError(f"{option} {path} is a folder; name a file in it")
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in kinds:
        known = ", ".join(f".{kind} ({KINDS[kind]})" for kind in kinds)
        got = f"'.{suffix}'" if suffix else "no extension"
        raise UsageError(f"{option} {path}: unknown output type ({got}); use {known}")
    folder = path.expanduser().parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"{option} {path}: the folder {folder} {what} (hw does not create folders)")
    probe = folder / f".hw-probe.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:  # the only sure test (permissions, read-only mounts, /sys): make a file there
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot write in {folder} ({error.strerror or error})") from None
    else:
        probe.unlink(missing_ok=True)
    return suffix


def check_outputs(paths: list[Path], kinds: tuple[str, ...], option: str = "-o") -> list[str]:
    return [check_output(path, kinds, option) for path in paths]
