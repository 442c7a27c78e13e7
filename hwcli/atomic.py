"""Atomic writes: a temporary file beside the target, then a rename, so a crash or
an error never leaves half a file where a result should be.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

from hwcli.errors import DataError


@contextmanager
def atomic_write(path: Path, mode: str = "wb"):
    """`with atomic_write(path) as handle:` write; the target appears only on success.

    os.open with 0o666 lets the umask set the permissions as open() would
    (tempfile.mkstemp would leave the file private). OSError -> DataError.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise DataError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
