"""Raw data set -> one dataset file: detect the format, read, split, build, save.

The library side of `hw preprocess`. It never prints: it reports progress
through a callback and returns a summary dict that the CLI shows as a table
or as JSON. The paper (section 4) trains on IAM-OnDB lines as pen offsets
with recording errors removed and the offsets normalised by the training
set's mean and std; docs/preprocessing.md explains each decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcli import paths
from hwcli.data import dataset, iamondb, svc2004
from hwcli.errors import DataError, UsageError

IAMONDB, SVC2004 = "iamondb", "svc2004"
FORMATS = (IAMONDB, SVC2004)
SOURCE_NAMES = {IAMONDB: "IAM-OnDB", SVC2004: "SVC2004"}
SPLIT_LISTS = f"lists ({iamondb.TRAINING_LIST}, {iamondb.VALIDATION_LIST})"
SPLIT_BY_FORM = "by form (hash)"
SPLIT_BY_WRITER = "by writer (hash)"
NEITHER_LIST = "in neither split list"
BOTH_LISTS = "in both split lists"
EXPECTED = (
    f"an IAM-OnDB root (lineStrokes/ and ascii/, or {iamondb.STROKES_ARCHIVE} and {iamondb.ASCII_ARCHIVE}) "
    "or an SVC2004 folder or zip (U1S1.TXT, ...)"
)

# progress(stage, done, total): total is None while unknown (reading a stream).
Progress = Callable[[str, int, "int | None"], None]


def detect_format(path: Path) -> str:
    """IAMONDB or SVC2004 for `path`; DataError saying what is missing otherwise."""
    if not path.exists():
        raise DataError(f"no such file or folder: {path}")
    if path.is_dir():
        if iamondb.is_iamondb_root(path):
            return IAMONDB
        if svc2004.is_svc2004(path):
            return SVC2004
        try:
            names = sorted(p.name for p in path.iterdir())
        except OSError as error:
            raise DataError(f"cannot read the folder {path}: {error.strerror}") from None
        if not names:
            raise DataError(f"{path} is empty; expected {EXPECTED}")
        for have, lack in (("lineStrokes", "ascii"), ("ascii", "lineStrokes")):
            if have in names and lack not in names:
                raise DataError(f"{path} holds {have}/ but no {lack}/; unpack both IAM-OnDB archives there")
        for have, lack in (
            (iamondb.STROKES_ARCHIVE, iamondb.ASCII_ARCHIVE),
            (iamondb.ASCII_ARCHIVE, iamondb.STROKES_ARCHIVE),
        ):
            if have in names and lack not in names:
                raise DataError(f"{path} holds {have} but not {lack}; put both IAM-OnDB archives there")
        if path.name in ("lineStrokes", "ascii"):
            raise DataError(f"{path} is one IAM-OnDB folder; pass the folder that holds lineStrokes/ and ascii/")
        raise DataError(f"{path} is not a data set: expected {EXPECTED}")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty; expected {EXPECTED}")
    if svc2004.is_svc2004(path):
        return SVC2004
    if path.name in (iamondb.STROKES_ARCHIVE, iamondb.ASCII_ARCHIVE):
        raise DataError(f"{path} is one IAM-OnDB archive; pass the folder that holds both archives")
    raise DataError(f"{path} is not a data set: expected {EXPECTED}")


def check_format(path: Path, fmt: str) -> None:
    """For an explicit --format: does `path` hold that format?"""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not path.exists():
        raise DataError(f"no such file or folder: {path}")
    if fmt == IAMONDB and not (path.is_dir() and iamondb.is_iamondb_root(path)):
        raise DataError(
            f"{path} is not an IAM-OnDB root: expected lineStrokes/ and ascii/, "
            f"or {iamondb.STROKES_ARCHIVE} and {iamondb.ASCII_ARCHIVE}"
        )
    if fmt == SVC2004 and not svc2004.is_svc2004(path):
        raise DataError(f"{path} holds no SVC2004 signature files (U1S1.TXT, ...) and is not a zip of them")


def default_output(fmt: str) -> Path:
    return paths.default_dataset_path() if fmt == IAMONDB else paths.datasets_dir() / f"{fmt}.npz"


def _split_by_lists(lines, root: Path):
    """Graves' training and validation lists: lines in neither (or both) are dropped."""
    training = iamondb.read_split_list(root / iamondb.TRAINING_LIST)
    validation = iamondb.read_split_list(root / iamondb.VALIDATION_LIST)
    kept, parts, dropped = [], [], {}
    for line in lines:
        in_training, in_validation = line.line_id in training, line.line_id in validation
        if in_training != in_validation:
            kept.append(line)
            parts.append(dataset.TRAIN if in_training else dataset.VALIDATION)
        else:
            reason = BOTH_LISTS if in_training else NEITHER_LIST
            dropped[reason] = dropped.get(reason, 0) + 1
    return kept, np.array(parts, np.uint8), dropped


def _count_line_files(root: Path) -> int | None:
    """How many line files a folder holds (for the progress bar); None for archives (a stream)."""
    folder = root / "lineStrokes"
    return sum(1 for _ in folder.rglob("*.xml")) if folder.is_dir() else None


def _nothing_usable(path: Path, lines_read: int, dropped: dict, warnings: list[str]) -> DataError:
    what = f"read {lines_read} line{'s' if lines_read != 1 else ''}"
    if dropped:
        what += ", dropped " + ", ".join(f"{n} {reason}" for reason, n in dropped.items())
    if warnings:
        what += "; " + warnings[0] + (f" (and {len(warnings) - 1} more warnings)" if len(warnings) > 1 else "")
    return DataError(f"no usable lines in {path} ({what})")


@dataclass
class _Read:
    """What a reader hands on: the kept lines, their split, and what happened to the others."""

    lines: list
    split: np.ndarray  # (L,) uint8
    split_kind: str
    lines_read: int
    dropped: dict
    repairs: int
    warnings: list
    extra_meta: dict = field(default_factory=dict)
    extra_summary: dict = field(default_factory=dict)


def _split_lists_present(root: Path) -> bool:
    """Both split lists, or neither; only one is an error (said before any heavy work)."""
    names = (iamondb.TRAINING_LIST, iamondb.VALIDATION_LIST)
    present = [(root / name).is_file() for name in names]
    if any(present) and not all(present):
        have, lack = names if present[0] else names[::-1]
        raise DataError(f"{root} holds {have} but not {lack}; add it, or remove {have} to split by form")
    return all(present)


def _read_iamondb(root: Path, workers: int, tick) -> _Read:
    """Read, pair, clean and split IAM-OnDB lines."""
    with_lists = _split_lists_present(root)
    lines, dropped, repairs, warnings = iamondb.read_lines(root, workers, progress=tick)
    lines_read = len(lines) + sum(dropped.values())
    if not lines:
        raise _nothing_usable(root, lines_read, dropped, warnings)
    if with_lists:
        lines, split, split_dropped = _split_by_lists(lines, root)
        dropped = dict(sorted({**dropped, **split_dropped}.items()))
        if not lines:
            raise _nothing_usable(root, lines_read, dropped, warnings)
        split_kind = SPLIT_LISTS
    else:
        split, split_kind = dataset.split_by_group([line.group for line in lines]), SPLIT_BY_FORM
    return _Read(lines, split, split_kind, lines_read, dropped, repairs, warnings)


def _read_svc2004(path: Path, all_signatures: bool, tick) -> _Read:
    """Read SVC2004 signatures and split them by writer."""
    lines, dropped, forgeries_left_out, warnings = svc2004.read_signatures(
        path, include_forgeries=all_signatures, progress=tick
    )
    lines_read = len(lines) + sum(dropped.values())
    if not lines:
        raise _nothing_usable(path, lines_read, dropped, warnings)
    return _Read(
        lines,
        dataset.split_by_group([line.group for line in lines]),
        SPLIT_BY_WRITER,
        lines_read,
        dropped,
        repairs=0,  # no repair for signatures: see svc2004.read_signatures
        warnings=warnings,
        extra_meta={"signatures": "genuine and forgeries" if all_signatures else "genuine"},
        extra_summary={"forgeries_left_out": forgeries_left_out},
    )


def preprocess(
    path: Path | str,
    output: Path | str | None = None,
    *,
    fmt: str | None = None,
    force: bool = False,
    workers: int = 2,
    all_signatures: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Turn a raw data set into one dataset file; returns the summary (see docs/preprocessing.md).

    `fmt` None detects the format. Raises DataError for input that yields no
    usable line and UsageError for options that cannot work; a problem with
    single files is counted in the summary's `dropped` instead.
    """
    from hwcli.data.alphabet import Alphabet

    started = time.perf_counter()
    path = Path(path).expanduser()
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if fmt is None:
        fmt = detect_format(path)
    else:
        check_format(path, fmt)
    output = Path(output).expanduser() if output is not None else default_output(fmt)
    if output.is_dir():
        raise UsageError(f"{output} is a folder; give a file name for the dataset, e.g. {output / (fmt + '.npz')}")
    if output.exists() and not force:
        raise UsageError(f"{output} exists; pass --force to overwrite it, or -o to write elsewhere")

    def report(stage: str, done: int = 0, total: int | None = None) -> None:
        if progress:
            progress(stage, done, total)

    def counting(stage: str, total: int | None):
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            report(stage, done, total)

        report(stage, 0, total)
        return tick

    if fmt == IAMONDB:
        read_from = "folders" if (path / "lineStrokes").is_dir() and (path / "ascii").is_dir() else "archives"
        total = _count_line_files(path) if read_from == "folders" else None
        read = _read_iamondb(path, workers, counting("reading line files", total))
    else:
        read_from = "zip" if path.is_file() else "folder"
        read = _read_svc2004(path, all_signatures, counting("reading signatures", None))

    report("building")
    meta = {
        "source": SOURCE_NAMES[fmt],
        "format": fmt,
        "split_kind": read.split_kind,
        "lines_read": read.lines_read,
        "dropped": read.dropped,
        "repairs": read.repairs,
        **read.extra_meta,
    }
    data = dataset.build(read.lines, read.split, meta)
    report("writing")
    try:
        dataset.save(data, output)
    except OSError as error:
        raise DataError(f"cannot write {output}: {error.strerror or error}") from None

    counts = data.meta["alphabet_counts"]
    return {
        "format": fmt,
        "input": str(path),
        "read_from": read_from,
        "lines_read": read.lines_read,
        "kept": len(data),
        "train_lines": int((data.split == dataset.TRAIN).sum()),
        "validation_lines": int((data.split == dataset.VALIDATION).sum()),
        "dropped": read.dropped,
        "repairs": read.repairs,
        "points": int(data.meta["points"]),
        "split": read.split_kind,
        "alphabet_size": len(counts),  # distinct characters in the training texts
        "alphabet_classes": Alphabet.from_counts(counts).size,  # the synthesis network's one-hot width
        "mean": data.meta["mean"],
        "std": data.meta["std"],
        "warnings": list(read.warnings),
        **read.extra_summary,
        "output": str(output),
        "output_bytes": output.stat().st_size,
        "seconds": round(time.perf_counter() - started, 2),
    }
