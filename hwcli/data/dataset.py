"""The dataset file: split, normalisation statistics, alphabet, provenance.

One compressed `.npz` holds every kept line as stroke-3 offsets in source
units (y up) plus a JSON header. Load it with `hwcli.data.dataset.load(path)`.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcli import __version__
from hwcli.atomic import atomic_write
from hwcli.errors import DataError

FORMAT_VERSION = 1
TRAIN, VALIDATION = 0, 1
# Without split lists: every form whose hash lands in this share goes to validation
# (Graves' lists hold 1,438 validation lines against 10,748 training lines: ~12%).
VALIDATION_SHARE = 0.12


@dataclass
class Dataset:
    """Lines as offsets in source units; `mean`/`std` normalise (dx, dy)."""

    offsets: np.ndarray  # (P, 3) float32, every line back to back
    starts: np.ndarray  # (L + 1,) int64: line i is offsets[starts[i]:starts[i+1]]
    ids: np.ndarray  # (L,) str
    texts: np.ndarray  # (L,) str; empty for signatures
    split: np.ndarray  # (L,) uint8: TRAIN or VALIDATION
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def mean(self) -> np.ndarray:
        return np.array(self.meta["mean"], np.float32)

    @property
    def std(self) -> np.ndarray:
        return np.array(self.meta["std"], np.float32)

    def line(self, i: int) -> np.ndarray:
        return self.offsets[self.starts[i] : self.starts[i + 1]]

    def indices(self, part: int) -> np.ndarray:
        return np.flatnonzero(self.split == part)

    def index_of(self, line_id: str) -> int:
        hits = np.flatnonzero(self.ids == line_id)
        if not len(hits):
            raise DataError(f"no line {line_id!r} in the dataset")
        return int(hits[0])


def split_by_group(groups: list[str], share: float = VALIDATION_SHARE) -> np.ndarray:
    """Deterministic split: a group (form, writer) goes wholly to one side, by a stable hash."""
    part = [VALIDATION if (zlib.crc32(g.encode()) % 1000) < share * 1000 else TRAIN for g in groups]
    return np.array(part, np.uint8)


def normalisation(offsets: np.ndarray, starts: np.ndarray, train: np.ndarray):
    """Mean and std of (dx, dy) over the training lines' points (paper section 4)."""
    rows = np.concatenate([offsets[starts[i] : starts[i + 1], :2] for i in train])
    return rows.mean(0, dtype=np.float64), rows.std(0, dtype=np.float64)


def build(lines, split: np.ndarray, meta: dict) -> Dataset:
    """Assemble lines (objects with line_id, text, offsets) into a Dataset with stats and alphabet."""
    from hwcli.data.alphabet import count_characters

    if not len(lines):
        raise DataError("no usable lines")
    lengths = np.array([len(line.offsets) for line in lines])
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    offsets = np.concatenate([line.offsets for line in lines]).astype(np.float32)
    train = np.flatnonzero(split == TRAIN)
    if not len(train):
        raise DataError("the split leaves no training lines")
    mean, std = normalisation(offsets, starts, train)
    texts = np.array([line.text for line in lines])
    meta = {
        **meta,
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "alphabet_counts": count_characters(texts[train]),
        "points": int(len(offsets)),
    }
    return Dataset(offsets, starts, np.array([line.line_id for line in lines]), texts, split, meta)


# Fixed zip entry time: np.savez_compressed stamps each entry with the current
# time, so two runs on the same data would differ; this makes the file a pure
# function of the data (folders and archives give byte-identical files).
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# zlib level 1: on the full IAM-OnDB the file is written in under 1 s instead of 3 s
# (level 6) for a file 4% larger (16.6 MB against 16.0 MB).
ZIP_LEVEL = 1


def _stored_xy(xy: np.ndarray) -> np.ndarray:
    """(dx, dy) in the smallest exact type: source units are integers (whiteboard
    pixels, tablet units), and int16 halves the bytes to compress and to load."""
    if not np.array_equal(xy, np.round(xy)):
        return xy
    lowest, highest = (xy.min(), xy.max()) if len(xy) else (0, 0)
    small = np.iinfo(np.int16)
    return xy.astype(np.int16 if small.min <= lowest and highest <= small.max else np.int32)


def _write_npz(handle, arrays: dict[str, np.ndarray]) -> None:
    """A compressed .npz (what np.load reads) with fixed entry times, so the same arrays give the same bytes."""
    import io

    with zipfile.ZipFile(handle, mode="w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getbuffer(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL)


def save(dataset: Dataset, path: Path) -> None:
    """Write atomically: a temporary file beside the target, then rename."""
    with atomic_write(path) as handle:
        _write_npz(
            handle,
            {
                "xy": _stored_xy(dataset.offsets[:, :2]),
                "end_of_stroke": np.packbits(dataset.offsets[:, 2] > 0.5),
                "starts": dataset.starts,
                "ids": dataset.ids,
                "texts": dataset.texts,
                "split": dataset.split,
                "meta": np.array(json.dumps(dataset.meta, sort_keys=True)),
            },
        )


def load(path: Path | str) -> Dataset:
    """Load a dataset file written by `hw preprocess`."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"no dataset at {path}; run `hw preprocess DIR` first")
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            xy = npz["xy"].astype(np.float32)
            eos = np.unpackbits(npz["end_of_stroke"], count=len(xy)).astype(np.float32)
            data = Dataset(
                np.column_stack([xy, eos]), npz["starts"], npz["ids"], npz["texts"], npz["split"], meta
            )
    except (OSError, ValueError, KeyError, zlib.error, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} is not a dataset file written by `hw preprocess` ({error})") from None
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(f"{path} was written by a newer hw (format {meta['format_version']}); upgrade hw")
    return data
