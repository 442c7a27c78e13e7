"""The user's style library: named styles of their own hand, kept in the cache dir.

`hw styles add NAME FILE` (JSON, InkML or SVG) or `hw styles capture NAME` (a page in the
browser) stores a style as one file, `paths.styles_library_dir() / NAME.json`, in the
project's own JSON ink format (docs/ink-formats.md) plus two keys of its own:

    {"text": "first line\\nsecond line", "y_down": false, "hw_style": 1,
     "lines": [12, 9], "source": "...", "strokes": [...]}

* `lines`: how many strokes each line of ink holds, in order; `text` holds one line of
  text per line of ink.
* Normalised: y up; every source (a file, a capture) scaled so its lines are
  NORMAL_HEIGHT high (10-90% range of y, as priming measures it) with its own
  proportions kept; each line's middle (median y) on y = 0, and the lines set end to
  end, a word gap apart, so a reader that knows nothing of `lines` sees one long line
  (`read_ink`); `read_style` gives the lines back, as `hw write --style FILE` splits them.

Names: letters, digits, `-`, `_` and `.` (not first), at most 64 characters, not `none`,
not ending in an ink file's extension, and unique: a name that a built-in style or a
library style already has (letter case aside) is refused, unless `force` replaces a
library style. Built-in styles cannot be removed.

`hw write --style NAME` looks in the library first, then among the built-in styles (a
user's own style of a name wins, as their own models do); since `add` refuses built-in
names, the two meet only when a newer `hw` ships a built-in style of a name the user
already took.

Writes are atomic (hwcli/atomic.py): everything is checked first, and the file appears
whole or not at all. The library never prints; errors are DataError / UsageError.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcli import paths
from hwcli.data.ink import as_points, line_height
from hwcli.errors import DataError, UsageError

FORMAT = 1
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RESERVED_NAMES = ("none",)
INK_SUFFIXES = (".json", ".inkml", ".xml", ".svg")
NORMAL_HEIGHT = 100.0  # line height of stored ink, in its own units
WORD_GAP = 0.8  # lines set end to end this many line heights apart
MAX_LINES = 20
MAX_LINE_CHARS = 200
MIN_TEXT_CHARS = 2  # a prime of one character holds no style to speak of
MAX_POINTS = 100_000  # over all lines of a style


@dataclass
class Line:
    """One line of ink (strokes: (n, 2) arrays, y up) and the text it shows."""

    strokes: list[np.ndarray]
    text: str


@dataclass
class Style:
    """A style as `hw styles list` shows it."""

    name: str
    kind: str  # "built-in" or "library"
    path: Path
    text: str = ""
    lines: int = 0
    strokes: int = 0
    points: int = 0
    shadowed: bool = False  # a built-in style hidden by a library style of the same name
    error: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        row = {"name": self.name, "kind": self.kind, "text": self.text, "lines": self.lines,
               "strokes": self.strokes, "points": self.points, "path": str(self.path)}
        if self.shadowed:
            row["shadowed"] = True
        if self.error:
            row["error"] = self.error
        return row


# ---------------------------------------------------------------- names


def check_name(name: str) -> str:
    """`name` when it can name a style, else UsageError saying what a name may hold."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise UsageError(f"{name!r} cannot name a style: use letters, digits, '-', '_' and '.' "
                         "(not first), at most 64 characters")
    if name.lower() in RESERVED_NAMES:
        raise UsageError(f"{name!r} cannot name a style: `--style {name}` means no style")
    if name.lower().endswith(INK_SUFFIXES):
        raise UsageError(f"{name!r} cannot name a style: it ends like an ink file, so `--style {name}` "
                         "would be ambiguous; leave the extension off")
    return name


def builtin_names() -> list[str]:
    return paths.builtin_style_names()


def library_names() -> list[str]:
    folder = paths.styles_library_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if NAME_PATTERN.fullmatch(p.stem) and p.is_file())


def find(name: str) -> Path | None:
    """The library file of style `name`, or None (also for anything that is not a style name)."""
    if not NAME_PATTERN.fullmatch(name or "") or name.lower().endswith(INK_SUFFIXES):
        return None
    path = paths.styles_library_dir() / f"{name}.json"
    return path if path.is_file() else None


def _taken(name: str, names: list[str]) -> str | None:
    folded = name.casefold()
    return next((n for n in names if n.casefold() == folded), None)


def check_free(name: str, force: bool = False) -> str | None:
    """UsageError unless `name` can be added: a valid name that no built-in style has, nor a
    library style (unless `force`, which replaces it). The library's spelling of it, if any."""
    check_name(name)
    builtin = _taken(name, builtin_names())
    if builtin:
        spelt = "" if builtin == name else f" ({builtin!r})"
        raise UsageError(f"{name!r} is the name of a built-in style{spelt}; choose another name")
    own = _taken(name, library_names())
    if own and not force:
        raise UsageError(f"a style named {own!r} is in your library already; "
                         "choose another name, or --force to replace it")
    return own


# ---------------------------------------------------------------- reading ink into lines


def clean_text(text: str | None) -> list[str]:
    """Text -> its non-empty lines, each with single spaces; a literal `\\n` breaks a line too."""
    text = (text or "").replace("\\n", "\n")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def lines_from_file(path: str | Path, text: str | None = None) -> list[Line]:
    """An ink file (JSON, InkML, SVG) -> its lines of ink with their text (split_lines)."""
    from hwcli.data.inkfile import read_ink

    return split_lines(Path(path), *read_ink(path), text)


def split_lines(path: Path, strokes: list[np.ndarray], file_text: str | None, text: str | None = None,
                hint: str = "give one file per line of ink, each with its --text") -> list[Line]:
    """The strokes and text read from the ink file at `path` -> its lines of ink with their text.

    The text is `text` when given, else the file's own; one line of text per line of ink.
    When the text has several lines and the ink shows as many (a new line starts lower
    and back at the left), the ink is split there; ink that is one line keeps its text
    as one line (InkML transcriptions often wrap); anything else is an error, ending with
    `hint` (what the caller's options let the user do about it).
    """
    stored = _stored_lines(_stored_keys(path))
    texts = clean_text(text if text is not None else file_text)
    if not texts:
        raise UsageError(f"{path} has no text: give the words it shows with --text")
    if stored and text is None and len(stored) == len(texts) and sum(stored) == len(strokes):
        return _split(strokes, stored, texts)  # a style file of ours: its lines as stored
    if len(texts) == 1:
        return [Line(strokes, texts[0])]
    breaks = line_breaks(strokes)
    if not breaks:
        return [Line(strokes, " ".join(texts))]
    if len(breaks) != len(texts) - 1:
        raise DataError(f"{path}: the text has {len(texts)} lines but the ink shows {len(breaks) + 1}; "
                        + hint)
    return _split(strokes, np.diff([0, *breaks, len(strokes)]).tolist(), texts)


def _stored_lines(keys: dict) -> list[int] | None:
    """The `lines` key of a style file of ours (its keys: `_stored_keys`), where it is valid."""
    counts = keys.get("lines")
    if isinstance(counts, list) and counts and all(isinstance(c, int) and c > 0 for c in counts):
        return counts
    return None


def _stored_keys(path: Path) -> dict:
    """A JSON ink file's keys, or {} (not such a file, or not an object)."""
    if path.suffix.lower() != ".json":
        return {}
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _split(strokes: list[np.ndarray], counts: list[int], texts: list[str]) -> list[Line]:
    ends = np.cumsum(counts)
    return [Line(strokes[end - count:end], t) for count, end, t in zip(counts, ends, texts)]


def line_breaks(strokes: list[np.ndarray]) -> list[int]:
    """Indices of the strokes that begin a new line of writing: well below the line so far
    (by more than 1.5 typical stroke heights) and back near its left end."""
    if len(strokes) < 2:
        return []
    heights = [np.ptp(s[:, 1]) for s in strokes if len(s) > 1]
    typical = float(np.median(heights)) if heights else 0.0
    if typical <= 0:
        return []
    breaks = []
    line_start = 0
    for i in range(1, len(strokes)):
        line = np.concatenate(strokes[line_start:i])
        left, right = line[:, 0].min(), line[:, 0].max()
        drop = np.median(line[:, 1]) - np.median(strokes[i][:, 1])
        back = strokes[i][0, 0] < left + 0.3 * (right - left)
        if drop > 1.5 * typical and back and right - left > 2 * typical:
            breaks.append(i)
            line_start = i
    return breaks


def check_text_length(text: str, where: str) -> None:
    """UsageError naming `where` for a text too short to carry a hand."""
    if len(text.replace(" ", "")) < MIN_TEXT_CHARS:
        raise UsageError(f"{where}: the text {text!r} is too short; a style needs a few words "
                         f"of handwriting (at least {MIN_TEXT_CHARS} characters)")


def check_line(line: Line, where: str) -> Line:
    """A line fit to prime with, or DataError/UsageError naming `where` and what is wrong."""
    strokes = [as_points(s) for s in line.strokes]
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        raise DataError(f"{where} holds no strokes")
    points = np.concatenate(strokes)
    if not np.isfinite(points).all():
        raise DataError(f"{where} has a value that is not a finite number")
    if len(np.unique(points, axis=0)) < 2:
        raise DataError(f"{where} is a single dot; a style needs a line of handwriting")
    if line_height(strokes) <= 0:
        raise DataError(f"{where} is flat: it has no height to learn a style from")
    text = " ".join(line.text.split())
    check_text_length(text, where)
    if len(text) > MAX_LINE_CHARS:
        raise UsageError(f"{where}: a line of text may hold {MAX_LINE_CHARS} characters, not {len(text)}")
    return Line(strokes, text)


# ---------------------------------------------------------------- the library


def normalise(groups: list[list[Line]]) -> list[Line]:
    """Lines in stored form: each group (a source file, a capture) scaled to NORMAL_HEIGHT
    by the median of its lines' heights, each line's median y on 0, lines end to end."""
    out = []
    x = 0.0
    for group in groups:
        scale = NORMAL_HEIGHT / float(np.median([line_height(line.strokes) for line in group]))
        for line in group:
            points = np.concatenate(line.strokes)
            offset = np.array([points[:, 0].min(), np.median(points[:, 1])])
            strokes = [np.round((s - offset) * scale + [x, 0.0], 2) + 0.0 for s in line.strokes]
            x = max(float(s[:, 0].max()) for s in strokes) + WORD_GAP * NORMAL_HEIGHT
            out.append(Line(strokes, line.text))
    return out


def add(name: str, groups: list[list[Line]], force: bool = False, source: str = "") -> Path:
    """Store lines of ink (grouped by source) as style `name`; the file's path.

    Everything is checked before anything is written; the write is atomic.
    """
    own = check_free(name, force)
    groups = [[check_line(line, f"line {n + 1}") for n, line in enumerate(group)] for group in groups]
    groups = [g for g in groups if g]
    lines = [line for group in groups for line in group]
    if not lines:
        raise DataError("no ink to make a style of")
    if len(lines) > MAX_LINES:
        raise UsageError(f"a style may hold {MAX_LINES} lines of ink, not {len(lines)}")
    points = sum(len(s) for line in lines for s in line.strokes)
    if points > MAX_POINTS:
        raise DataError(f"the ink holds {points} points; a style may hold at most {MAX_POINTS}")
    lines = normalise(groups)
    path = paths.styles_library_dir() / f"{name}.json"
    content = _style_json(lines, source)
    from hwcli.atomic import atomic_write

    if own and own != name:  # --force across letter case: one file, under the new spelling
        (paths.styles_library_dir() / f"{own}.json").unlink(missing_ok=True)
    with atomic_write(path) as handle:
        handle.write(content.encode("utf-8"))
    return path


def add_files(name: str, files: list[str | Path], texts: list[str] | None = None,
              force: bool = False) -> Path:
    """Style `name` from ink files: `texts` (one per file) or each file's own text."""
    texts = list(texts or [])
    if texts and len(texts) != len(files):
        raise UsageError(f"{len(files)} files but {len(texts)} --text: give one --text per file, or none "
                         "to use the files' own text")
    check_free(name, force)  # before reading anything: a taken name is the first thing to hear
    groups = []
    for i, file in enumerate(files):
        group = lines_from_file(file, texts[i] if texts else None)
        groups.append([Line(line.strokes, line.text) for line in group])
        for n, line in enumerate(group):  # name the file in what check_line says
            check_line(line, f"{file}" + (f", line {n + 1}" if len(group) > 1 else ""))
    return add(name, groups, force, source=", ".join(Path(f).name for f in files))


def remove(name: str) -> Path:
    """Delete library style `name`; built-in styles cannot be removed."""
    path = find(name)
    if path is None:
        if name in builtin_names():
            raise UsageError(f"{name!r} is a built-in style; built-in styles cannot be removed")
        mine = ", ".join(library_names()) or "none"
        raise UsageError(f"no style named {name!r} in your library (yours: {mine})")
    try:
        path.unlink()
    except OSError as error:
        raise DataError(f"cannot remove {path}: {error.strerror or error}") from None
    return path


@dataclass
class StoredStyle:
    """A library style as `hw write` reads it."""

    lines: list[Line]
    timed: bool  # its ink is the pen's own samples: not every source an SVG (no timing)


def read_style(path: str | Path) -> StoredStyle:
    """A stored style's lines of ink, each moved back to start at x = 0, and whether it is timed."""
    from hwcli.data.inkfile import read_ink

    path = Path(path)
    strokes, text = read_ink(path)
    keys = _stored_keys(path)  # `lines` and `source`, beside what read_ink takes
    sources = [n.strip().lower() for n in str(keys.get("source") or "").split(",") if n.strip()]
    timed = not (sources and all(n.endswith(".svg") for n in sources))
    counts = _stored_lines(keys) or [len(strokes)]
    texts = clean_text(text)
    if sum(counts) != len(strokes) or len(texts) != len(counts):
        return StoredStyle([Line(strokes, " ".join(texts))], timed)
    lines = _split(strokes, counts, texts)
    for line in lines:
        left = min(float(s[:, 0].min()) for s in line.strokes)
        line.strokes = [s - [left, 0.0] for s in line.strokes]
    return StoredStyle(lines, timed)


def entries() -> list[Style]:
    """Library styles, then built-in ones, each by name."""
    mine = library_names()
    rows = [_entry(n, "library", paths.styles_library_dir() / f"{n}.json") for n in mine]
    for n in builtin_names():
        row = _entry(n, "built-in", paths.styles_dir() / f"{n}.json")
        row.shadowed = n in mine
        rows.append(row)
    return rows


def _entry(name: str, kind: str, path: Path) -> Style:
    try:
        document = json.loads(path.read_bytes())
        strokes = document["strokes"]
        counts = document.get("lines") or [len(strokes)]
        return Style(name, kind, path, text=str(document.get("text") or ""), lines=len(counts),
                     strokes=len(strokes), points=sum(len(s) for s in strokes))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return Style(name, kind, path, error=f"unreadable ({type(error).__name__}: {error})")


def _style_json(lines: list[Line], source: str) -> str:
    from hwcli.data.inkfile import _number

    strokes = [s for line in lines for s in line.strokes]
    rows = ["[" + ", ".join(f"[{_number(x)}, {_number(y)}]" for x, y in s) + "]" for s in strokes]
    return (
        "{\n"
        f'  "text": {json.dumps(chr(10).join(line.text for line in lines), ensure_ascii=False)},\n'
        '  "y_down": false,\n'
        f'  "hw_style": {FORMAT},\n'
        f'  "lines": {json.dumps([len(line.strokes) for line in lines])},\n'
        f'  "source": {json.dumps(source, ensure_ascii=False)},\n'
        '  "strokes": [\n    ' + ",\n    ".join(rows) + "\n  ]\n}\n"
    )
