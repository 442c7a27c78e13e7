"""SVC2004 online signatures: a task folder or its zip -> lines (id, writer, strokes).

The First International Signature Verification Competition (SVC2004) gives one
text file per signature, `U5S10.TXT`: writer 5, signature 10. Signatures 1-20
of a writer are genuine, 21-40 skilled forgeries of them. A file's first line
is the number of points; each following line is

    X Y TIMESTAMP BUTTON [AZIMUTH ALTITUDE PRESSURE]

(task 1 files stop after BUTTON). BUTTON 0 is a pen-up sample: not ink; the
pen is down along each run of non-zero BUTTON values. Task 2 holds 1,093 of
its 333,133 samples with BUTTON 2-5 (writers U25, U26, U33-U35, U38), in
runs that continue pen-down ink, with pressure: read as pen down.

Orientation: in these files y grows UP. Drawn with y up, the Latin signatures
read upright ("Jones" U2S1, "Rice" U20S1, "James" U40S1); with y down they
are upside down. So y is kept as it is, which is the dataset's convention.

Signatures are not text: their lines carry an empty transcription, and the
group that must not straddle the split is the writer.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hwcli.data.iamondb import Line
from hwcli.errors import DataError

SIGNATURE_NAME = re.compile(r"^U(\d+)S(\d+)\.TXT$", re.IGNORECASE)
# S1..S20 are the writer's genuine signatures, S21..S40 skilled forgeries of them.
LAST_GENUINE = 20
PEN_UP = 0
MALFORMED = "malformed signature file"


def signature_key(name: str) -> tuple[int, int] | None:
    """`U5S10.TXT` (any folder, any case) -> (5, 10); None for other names."""
    match = SIGNATURE_NAME.match(name.replace("\\", "/").rsplit("/", 1)[-1])
    return (int(match[1]), int(match[2])) if match else None


def signature_id(key: tuple[int, int]) -> str:
    return f"U{key[0]}S{key[1]}"


def _folder_files(root: Path) -> list[Path]:
    """Signature files in `root` or one folder down (a zip unpacked as `Task2/`)."""
    found = [p for p in root.iterdir() if signature_key(p.name)]
    if not found:
        found = [p for sub in sorted(root.iterdir()) if sub.is_dir() for p in sub.iterdir() if signature_key(p.name)]
    return found


def is_svc2004(path: Path) -> bool:
    """A folder holding `U<n>S<n>.TXT` files (or one folder down), or a zip holding them."""
    try:
        if path.is_dir():
            return bool(_folder_files(path))
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return any(signature_key(name) for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return False


class SignatureSource:
    """Lists and reads the signature files of a folder or a zip, in (writer, signature) order."""

    def __init__(self, path: Path):
        self.path = path
        self.from_zip = path.is_file()
        self.warnings: list[str] = []
        self.unreadable = 0
        try:
            if self.from_zip:
                with zipfile.ZipFile(path) as archive:
                    names = [info.filename for info in archive.infolist() if not info.is_dir()]
            else:
                names = [str(p) for p in _folder_files(path)]
        except (OSError, zipfile.BadZipFile) as error:
            raise DataError(f"cannot read {path} as SVC2004 signatures ({error})") from None
        self.names: dict[tuple[int, int], str] = {}
        for name in sorted(names):
            key = signature_key(name)
            if key is None:
                continue
            if key in self.names:
                self.warnings.append(f"{name}: a second file for {signature_id(key)}; kept {self.names[key]}")
                continue
            self.names[key] = name
        self.names = dict(sorted(self.names.items()))

    def files(self, keys) -> Iterator[tuple[tuple[int, int], bytes | None]]:
        """(key, bytes) per signature; bytes None (and a warning) when a file cannot be read."""
        archive = zipfile.ZipFile(self.path) if self.from_zip else None
        try:
            for key in keys:
                name = self.names[key]
                try:
                    data = archive.read(name) if archive else Path(name).read_bytes()
                except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as error:
                    self.unreadable += 1
                    self.warnings.append(f"cannot read {name}: {getattr(error, 'strerror', None) or error}")
                    data = None
                yield key, data
        finally:
            if archive:
                archive.close()


def parse_signature(data: bytes) -> list[np.ndarray]:
    """Strokes of one signature file, tablet units, y up. Raises ValueError when malformed."""
    rows = data.decode("latin-1").split("\n")
    try:
        declared = int(rows[0])
        fields = [row.split() for row in rows[1:] if row.strip()]
        if any(len(f) < 4 for f in fields):
            raise ValueError("a point has fewer than the 4 fields X Y TIMESTAMP BUTTON")
        table = np.array([f[:4] for f in fields], dtype=np.int64).reshape(-1, 4)  # (n, 4)
    except ValueError as error:
        raise ValueError(f"not a signature file ({error})") from None
    if declared != len(table):
        raise ValueError(f"the header says {declared} points, the file holds {len(table)}")
    down = table[:, 3] != PEN_UP
    # Runs of pen-down samples are the strokes; pen-up samples are dropped.
    edges = np.flatnonzero(np.diff(down.astype(np.int8))) + 1
    return [run[:, :2] for run, is_down in zip(np.split(table, edges), np.split(down, edges)) if is_down[0]]


def read_signatures(path: Path, include_forgeries: bool = False, progress=None):
    """Read every signature under an SVC2004 folder or zip.

    Returns (lines sorted by writer and signature, dropped {reason: count},
    forgeries left out, warnings). No recording-error repair: the IAM-OnDB
    threshold is in whiteboard units, and a fast signature stroke sampled at
    100 Hz legitimately steps 500-1,200 tablet units (docs/preprocessing.md).
    `progress(n)` is called as files are parsed.
    """
    from hwcli.data.ink import strokes_to_offsets

    source = SignatureSource(path)
    keys = [k for k in source.names if include_forgeries or k[1] <= LAST_GENUINE]
    forgeries_left_out = len(source.names) - len(keys)
    lines, dropped = [], {}
    for key, data in source.files(keys):
        reason = None
        if data is None:
            reason = "unreadable file"
        else:
            try:
                strokes = parse_signature(data)
            except ValueError:
                strokes, reason = [], MALFORMED
            if reason is None and sum(len(s) for s in strokes) < 2:
                reason = "no ink"
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
        else:
            writer = f"U{key[0]}"
            lines.append(Line(signature_id(key), writer, "", strokes_to_offsets(strokes)))
        if progress:
            progress(1)
    return lines, dict(sorted(dropped.items())), forgeries_left_out, source.warnings
