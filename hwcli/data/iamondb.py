"""IAM-OnDB: the unpacked folders or the official archives -> lines (id, text, strokes).

A root holds `lineStrokes/` and `ascii/` (as unpacked from the official
`lineStrokes-all.tar.gz` and `ascii-all.tar.gz`) or those two archives. Both
read the same bytes, so both give the same dataset file.

Pairing: line file `lineStrokes/a01/a01-000/a01-000u-05.xml` is the 5th
non-blank line after `CSR:` in `ascii/a01/a01-000/a01-000u.txt`.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STROKES_ARCHIVE = "lineStrokes-all.tar.gz"
ASCII_ARCHIVE = "ascii-all.tar.gz"
TRAINING_LIST = "training_set.txt"
VALIDATION_LIST = "validation_set.txt"
# The CSR block of form z01-000z holds only this placeholder, no real text.
PLACEHOLDER_TEXT = "Please Enter Transcription here"


def form_of(line_id: str) -> str:
    """a01-000u-05 -> a01-000u."""
    return line_id.rsplit("-", 1)[0]


def line_number(line_id: str) -> int:
    return int(line_id.rsplit("-", 1)[1])


def is_iamondb_root(root: Path) -> bool:
    folders = (root / "lineStrokes").is_dir() and (root / "ascii").is_dir()
    archives = (root / STROKES_ARCHIVE).is_file() and (root / ASCII_ARCHIVE).is_file()
    return folders or archives


class IamOnDbSource:
    """Lists and reads the files of one IAM-OnDB root, folder or archives."""

    def __init__(self, root: Path):
        self.root = root
        self.from_archives = not ((root / "lineStrokes").is_dir() and (root / "ascii").is_dir())
        self.warnings: list[str] = []
        self.unreadable: list[str] = []  # ids (line or form) of files that could not be read

    def transcription_files(self) -> dict[str, bytes]:
        """form id -> bytes of its transcription file."""
        return {Path(name).stem: data for name, data in self._files("ascii", ".txt")}

    def line_files(self) -> Iterator[tuple[str, bytes]]:
        """(line id, XML bytes) for every line file, in a stable order."""
        for name, data in self._files("lineStrokes", ".xml"):
            yield Path(name).stem, data

    def _files(self, kind: str, suffix: str) -> Iterator[tuple[str, bytes]]:
        if not self.from_archives:
            for path in sorted((self.root / kind).rglob(f"*{suffix}")):
                try:
                    yield str(path), path.read_bytes()
                except OSError as error:
                    self.unreadable.append(path.stem)
                    self.warnings.append(f"cannot read {path}: {error.strerror}")
            return
        archive = self.root / (STROKES_ARCHIVE if kind == "lineStrokes" else ASCII_ARCHIVE)
        try:
            with tarfile.open(archive, "r|gz") as tar:
                for member in tar:
                    if member.isfile() and member.name.endswith(suffix):
                        yield member.name, tar.extractfile(member).read()
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            self.warnings.append(f"{archive.name} is truncated or corrupt ({error}); read what came before")


# The points as the line files write them; a fast path for parse_line_xml,
# used only when it finds every <Point> of every <Stroke> the XML tree holds.
POINT_XY = re.compile(rb'<Point\s+x="(-?\d+)"\s+y="(-?\d+)"')


def parse_line_xml(data: bytes) -> list[np.ndarray]:
    """Strokes of one line file, whiteboard units (x right, y down). Raises ValueError."""
    from lxml import etree

    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as error:
        from hwcli.data.inkfile import xml_error

        raise ValueError(f"malformed XML ({xml_error(error)})") from None
    elements = root.findall("StrokeSet/Stroke")
    # Fast path (1.6x faster than XPath per stroke): the tree has checked the
    # file is well formed; a regex reads the numbers, and is trusted only
    # when its counts agree with the tree's, stroke by stroke.
    chunks = data.split(b"<Stroke ")[1:]
    if len(chunks) == len(elements):
        strokes = []
        for element, chunk in zip(elements, chunks):
            points = POINT_XY.findall(chunk)
            if len(points) != len(element):
                break
            if points:
                strokes.append(np.array(points, dtype=np.int32))
        else:
            return strokes
    strokes = []
    for stroke in elements:
        xs = stroke.xpath("Point/@x")
        ys = stroke.xpath("Point/@y")
        if len(xs) != len(ys):
            raise ValueError("a point lacks x or y")
        if xs:
            strokes.append(np.array([xs, ys], dtype=np.float64).T.astype(np.int32))
    return strokes


def parse_transcription(data: bytes) -> list[str]:
    """The non-blank lines after `CSR:`, CRLF or LF, whitespace-trimmed."""
    text = data.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    if "CSR:" not in text:
        return []
    block = text.split("CSR:", 1)[1]
    return [line.strip() for line in block.split("\n") if line.strip()]


def read_split_list(path: Path) -> set[str]:
    """Line ids from a split list (`lineStrokes/a01/a01-000/a01-000u-01.xml` per line)."""
    names = path.read_text(encoding="utf-8", errors="replace").split()
    return {Path(name).stem for name in names if name.endswith(".xml")}


@dataclass
class Line:
    """A line ready for the dataset: stroke-3 offsets in source units, y up."""

    line_id: str
    group: str  # what must not straddle the split: the form here, the writer for signatures
    text: str
    offsets: np.ndarray  # (N, 3)


def line_offsets(item: tuple[str, bytes]) -> tuple[str, np.ndarray | None, str | None, int]:
    """Worker: (line id, XML) -> (line id, offsets or None, drop reason, repairs)."""
    from hwcli.data.ink import remove_recording_errors, strokes_to_offsets

    line_id, data = item
    try:
        strokes = parse_line_xml(data)
    except ValueError:
        return line_id, None, "malformed XML", 0
    strokes = [s * np.array([1, -1]) for s in strokes]  # y down -> y up
    strokes, repairs = remove_recording_errors(strokes)
    if sum(len(s) for s in strokes) < 2:
        return line_id, None, "no ink", repairs
    return line_id, strokes_to_offsets(strokes), None, repairs


def pair_texts(transcriptions: dict[str, bytes], line_ids_by_form: dict[str, list[str]]):
    """line id -> text for the lines whose text is certain; line id -> drop reason for the rest."""
    texts, dropped = {}, {}
    for form, line_ids in line_ids_by_form.items():
        if form not in transcriptions:
            dropped.update(dict.fromkeys(line_ids, "no transcription"))
            continue
        csr = parse_transcription(transcriptions[form])
        if not csr or csr == [PLACEHOLDER_TEXT]:
            dropped.update(dict.fromkeys(line_ids, "placeholder or empty transcription"))
            continue
        numbers = sorted(line_number(i) for i in line_ids)
        if len(csr) != len(line_ids) or numbers != list(range(1, len(csr) + 1)):
            # e.g. a08-551z: 9 line files, 8 text lines; no safe way to pair.
            dropped.update(dict.fromkeys(line_ids, "line count differs from transcription"))
            continue
        for line_id in line_ids:
            # `#` (a word the transcriber could not read) stays: the ink is
            # sound, and the alphabet gives `#` no class of its own.
            texts[line_id] = " ".join(csr[line_number(line_id) - 1].split())
    return texts, dropped


def read_lines(root: Path, workers: int = 2, progress=None):
    """Read, pair and clean every line under an IAM-OnDB root.

    Returns (lines sorted by id, dropped {reason: count}, repairs, warnings).
    `progress(n)` is called as line files are parsed.
    """
    import contextlib
    import multiprocessing

    source = IamOnDbSource(root)
    transcriptions = source.transcription_files()
    parsed, dropped_by_line, repairs = {}, {}, 0
    # fork: workers inherit the module without re-importing the caller's script.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(workers) if workers > 1 else contextlib.nullcontext() as pool:
        results = (
            pool.imap_unordered(line_offsets, source.line_files(), chunksize=32)
            if pool is not None
            else map(line_offsets, source.line_files())
        )
        for line_id, offsets, reason, fixed in results:
            repairs += fixed
            if reason:
                dropped_by_line[line_id] = reason
            else:
                parsed[line_id] = offsets
            if progress:
                progress(1)
        if pool is not None:
            # Let the workers finish and exit on their own: the context's exit terminates them
            # with SIGTERM, which a worker forked from inside `hw` (its handler raises
            # KeyboardInterrupt) once survived, leaving the pool's join waiting forever.
            pool.close()
            pool.join()
    unreadable = set(source.unreadable)
    for line_id in unreadable:
        if line_id.count("-") == 2:  # a line file (a01-000u-05), not a form's transcription (a01-000u)
            dropped_by_line[line_id] = "unreadable file"
    by_form: dict[str, list[str]] = {}
    for line_id in sorted(set(parsed) | set(dropped_by_line)):
        by_form.setdefault(form_of(line_id), []).append(line_id)
    texts, dropped_text = pair_texts(transcriptions, by_form)
    for line_id, reason in dropped_text.items():
        if reason == "no transcription" and form_of(line_id) in unreadable:
            dropped_text[line_id] = "unreadable file"
    dropped_by_line = {**dropped_text, **dropped_by_line}
    lines = [Line(i, form_of(i), texts[i], parsed[i]) for i in sorted(parsed) if i in texts]
    dropped: dict[str, int] = {}
    for reason in dropped_by_line.values():
        dropped[reason] = dropped.get(reason, 0) + 1
    return lines, dict(sorted(dropped.items())), repairs, source.warnings
