"""Atomic writes: a temporary file beside the target, then a rename, so a crash or
an error never leaves half a file where a result should be.

Signal-safe too: Ctrl-C and SIGTERM (which the CLI turns into exceptions) are
held back while the temporary file is created and registered, and while it is
renamed or removed, so an interrupt at any moment leaves either the old file or
the new one, and never a `.NAME.PID.HEX.tmp` beside it.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from hwcli.errors import DataError

_HELD = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _signals_held():
    """Delay SIGINT and SIGTERM (delivered when the block ends); a no-op where the platform
    or the thread cannot mask signals."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


@contextmanager
def atomic_write(path: Path, mode: str = "wb"):
    """`with atomic_write(path) as handle:` write; the target appears only on success.

    os.open with 0o666 lets the umask set the permissions as open() would
    (tempfile.mkstemp would leave the file private). OSError -> DataError.
    """
    path = Path(path)
    tmp = temporary_name(path)
    replaced = False
    try:
        with _signals_held():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except OSError as error:
                raise DataError(f"cannot write {path}: {error.strerror or error}") from None
        try:
            with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
                yield handle
            with _signals_held():
                os.replace(tmp, path)
                replaced = True
        except OSError as error:
            raise DataError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if not replaced:
            with _signals_held():
                tmp.unlink(missing_ok=True)
