"""User ink files: JSON and W3C InkML, read for priming (style) and written for results.

Both hold strokes; we hand them out as our `strokes` (a list of (n, 2) float
arrays, y up; see hwcli/data/ink.py) plus the transcription when the file has
one. The formats, with an example of each, are in docs/ink-formats.md:

* JSON: `{"text": "...", "y_down": false, "strokes": [[[x, y], ...], ...]}`,
  or a bare list of strokes (screen coordinates, y down). Extra values per
  point (`[x, y, t, pressure]`) are ignored.
* InkML (https://www.w3.org/TR/InkML/): `<trace>` elements, anywhere under
  `<traceGroup>`s, in document order; X and Y found through `<traceFormat>`
  when there is one; the `!`, `'` and `"` prefixes (explicit value, first and
  second difference) decoded; the text from `<annotation type="transcription">`
  (or `type="truth"`, as in CROHME and IAM-OnDB-derived files). InkML, like
  the screen, has y growing down: we flip it.

Writes are atomic: a temporary file beside the target, then a rename.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from hwcli.atomic import atomic_write
from hwcli.errors import DataError

INKML_NS = "http://www.w3.org/2003/InkML"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
JSON_SUFFIXES = (".json",)
INKML_SUFFIXES = (".inkml", ".xml")
TEXT_ANNOTATION_TYPES = ("transcription", "truth")

# One value of an InkML trace point: an optional prefix (! explicit,
# ' first difference, " second difference), then a decimal, or one of the
# non-numeric values T/F (boolean channels), ? (unknown) and * (as before).
# InkML lets values touch when a prefix or sign separates them: "'23'-4".
_INKML_VALUE = re.compile(
    r"""\s*([!'"]?)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[TF?*])"""
)


# ---------------------------------------------------------------- public API


def read_ink(path: str | os.PathLike) -> tuple[list[np.ndarray], str | None]:
    """Read a .json or .inkml/.xml ink file -> (strokes, text or None).

    Strokes are (n, 2) float64 arrays, y up, in the file's own units.
    Raises DataError naming the file when it is missing, unreadable,
    malformed, of an unknown kind, or holds no strokes.
    """
    path = Path(path)
    kind = _kind_of(path)
    if not path.exists():
        raise DataError(f"no ink file at {path}; check the path")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an ink file; give a .json or .inkml file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read ink file {path}: {error.strerror or error}") from error
    strokes, text = _parse_json(data, path) if kind == "json" else _parse_inkml(data, path)
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        raise DataError(f"ink file {path} holds no strokes; it needs at least one point")
    for index, stroke in enumerate(strokes):
        if not np.isfinite(stroke).all():
            raise DataError(
                f"ink file {path}: stroke {index + 1} has a value that is not a finite number"
            )
    return strokes, text


def write_ink(path: str | os.PathLike, strokes: list[np.ndarray], text: str | None = None) -> None:
    """Write strokes (y up) and an optional transcription as JSON or InkML by extension.

    JSON is written with `"y_down": false`, InkML with y flipped (screen
    orientation, as the standard has it), so `read_ink` gives the strokes back.
    Numbers are written in the shortest form that reads back to the same
    value of the arrays' own dtype (float32 ink stays short).
    """
    path = Path(path)
    kind = _kind_of(path)
    arrays = [_as_points(s) for s in strokes]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        raise DataError(f"nothing to write to {path}: the ink has no strokes")
    if text is not None and not isinstance(text, str):
        raise DataError(f"the text for {path} must be a string, not {type(text).__name__}")
    content = _json_text(arrays, text) if kind == "json" else _inkml_text(arrays, text)
    with atomic_write(path) as handle:
        handle.write(content.encode("utf-8"))


# ---------------------------------------------------------------- JSON


def _parse_json(data: bytes, path: Path) -> tuple[list[np.ndarray], str | None]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        detail = str(error).splitlines()[0]
        raise DataError(f"ink file {path} is not valid JSON: {detail}") from error

    if isinstance(document, list):  # a bare list of strokes: screen coordinates
        raw_strokes, text, y_down = document, None, True
    elif isinstance(document, dict):
        if "strokes" not in document:
            raise DataError(
                f'ink file {path} has no "strokes" key; expected '
                '{"text": ..., "y_down": false, "strokes": [[[x, y], ...], ...]}'
            )
        raw_strokes = document["strokes"]
        text = document.get("text")
        y_down = document.get("y_down", False)
        if text is not None and not isinstance(text, str):
            raise DataError(f'ink file {path}: "text" must be a string or null')
        if not isinstance(y_down, bool):
            raise DataError(f'ink file {path}: "y_down" must be true or false')
        if not isinstance(raw_strokes, list):
            raise DataError(f'ink file {path}: "strokes" must be a list of strokes')
    else:
        raise DataError(
            f"ink file {path} holds a JSON {type(document).__name__}; "
            "expected an object with \"strokes\" or a list of strokes"
        )

    strokes = []
    for s, raw_stroke in enumerate(raw_strokes):
        if not isinstance(raw_stroke, list):
            raise DataError(
                f"ink file {path}: stroke {s + 1} is not a list of [x, y] points"
            )
        points = np.empty((len(raw_stroke), 2), np.float64)
        for p, point in enumerate(raw_stroke):
            if (
                not isinstance(point, (list, tuple))
                or len(point) < 2
                or not all(_is_number(v) for v in point[:2])
            ):
                raise DataError(
                    f"ink file {path}: stroke {s + 1}, point {p + 1} is {json.dumps(point)[:40]}; "
                    "expected [x, y] numbers"
                )
            points[p] = point[0], point[1]
        if y_down:
            points[:, 1] = -points[:, 1] + 0.0  # + 0.0 turns -0.0 into 0.0
        strokes.append(points)
    return strokes, text


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_text(strokes: list[np.ndarray], text: str | None) -> str:
    # One stroke per line: diff-friendly and still valid JSON.
    lines = [
        "[" + ", ".join(f"[{_number(x)}, {_number(y)}]" for x, y in stroke) + "]"
        for stroke in strokes
    ]
    return (
        "{\n"
        f'  "text": {json.dumps(text, ensure_ascii=False)},\n'
        '  "y_down": false,\n'
        '  "strokes": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"
    )


# ---------------------------------------------------------------- InkML


def _parse_inkml(data: bytes, path: Path) -> tuple[list[np.ndarray], str | None]:
    from lxml import etree

    # No entities, no network: an ink file must not make us fetch or expand anything.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise DataError(f"ink file {path} is not valid XML: {error}") from error
    if _local(root) != "ink":
        raise DataError(
            f"ink file {path} is XML but not InkML: its root is <{_local(root)}>, expected <ink>"
        )

    formats = _trace_formats(root)
    default_format = _default_format(root, formats)

    strokes = []
    for number, trace in enumerate(_traces(root), start=1):
        channels = _trace_channels(trace, formats, default_format)
        strokes.append(_decode_trace(trace.text or "", channels, path, number))
    return strokes, _transcription(root)


def _local(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _trace_formats(root) -> dict[str, list[str]]:
    """xml:id -> channel names of every <traceFormat>, and of every <context> via its format."""
    formats: dict[str, list[str]] = {}
    for element in root.iter():
        if _local(element) == "traceFormat" and element.get(XML_ID):
            formats[element.get(XML_ID)] = _channels_of(element)
    for element in root.iter():
        if _local(element) == "context" and element.get(XML_ID):
            channels = _context_channels(element, formats)
            if channels:
                formats[element.get(XML_ID)] = channels
    return formats


def _channels_of(trace_format) -> list[str]:
    # Only regular channels: intermittent ones come after them and may be absent.
    return [
        (child.get("name") or "").upper()
        for child in trace_format
        if _local(child) == "channel"
    ]


def _context_channels(context, formats) -> list[str] | None:
    for child in context:
        if _local(child) == "traceFormat":
            return _channels_of(child)
    ref = (context.get("traceFormatRef") or "").lstrip("#")
    return formats.get(ref)


def _default_format(root, formats) -> list[str] | None:
    """The format of traces that name none: the first <traceFormat> outside <definitions>."""
    for element in root.iter():
        if _local(element) == "traceFormat" and not _inside(element, "definitions"):
            return _channels_of(element)
    for element in root.iter():  # a format only defined, then: the only one there is
        if _local(element) == "traceFormat":
            return _channels_of(element)
    return None


def _inside(element, name: str) -> bool:
    parent = element.getparent()
    while parent is not None:
        if _local(parent) == name:
            return True
        parent = parent.getparent()
    return False


def _traces(root):
    """<trace> elements in writing (document) order, through any <traceGroup> nesting."""
    for element in root.iter():
        if _local(element) == "trace" and not _inside(element, "definitions"):
            yield element


def _trace_channels(trace, formats, default_format) -> list[str] | None:
    for attribute in ("contextRef", "traceFormatRef"):
        ref = (trace.get(attribute) or "").lstrip("#")
        if ref in formats:
            return formats[ref]
    parent = trace.getparent()
    while parent is not None:  # a traceGroup may carry the context for its traces
        ref = (parent.get("contextRef") or "").lstrip("#")
        if ref in formats:
            return formats[ref]
        parent = parent.getparent()
    return default_format


def _decode_trace(text: str, channels: list[str] | None, path: Path, number: int) -> np.ndarray:
    if channels and "X" in channels and "Y" in channels:
        ix, iy = channels.index("X"), channels.index("Y")
    else:  # no format: the standard's default is X then Y
        ix, iy = 0, 1
    needed = max(ix, iy) + 1

    points = []
    # Per channel: the last prefix, the last value and the last difference,
    # since a value without a prefix keeps the channel's previous encoding.
    mode: dict[int, str] = {}
    last: dict[int, float] = {}
    velocity: dict[int, float] = {}
    for p, chunk in enumerate(c for c in text.split(",") if c.strip()):
        values = []
        position = 0
        for match in _INKML_VALUE.finditer(chunk):
            if match.start() != position:
                break
            values.append((match.group(1), match.group(2)))
            position = match.end()
        if chunk[position:].strip():
            raise DataError(
                f"ink file {path}: trace {number}, point {p + 1} "
                f"has {chunk.strip()[:30]!r}, which is not numbers"
            )
        if len(values) < needed:
            raise DataError(
                f"ink file {path}: trace {number}, point {p + 1} has {len(values)} values; "
                f"X and Y need {needed}"
            )
        point = []
        for channel in (ix, iy):
            prefix, raw = values[channel]
            if raw in "TF?*":
                raise DataError(
                    f"ink file {path}: trace {number}, point {p + 1}: "
                    f"{'XY'[channel == iy]} is {raw!r}, not a number"
                )
            value = float(raw)
            kind = prefix or mode.get(channel, "!")
            mode[channel] = kind
            if kind == "'" or kind == '"':
                if channel not in last:
                    raise DataError(
                        f"ink file {path}: trace {number} starts with a difference; "
                        "its first point must be an explicit value"
                    )
                step = value if kind == "'" else velocity.get(channel, 0.0) + value
                value = last[channel] + step
            velocity[channel] = value - last[channel] if channel in last else 0.0
            last[channel] = value
            point.append(value)
        points.append(point)
    strokes = np.array(points, np.float64).reshape(-1, 2)
    strokes[:, 1] = -strokes[:, 1] + 0.0  # screen y down -> y up (+ 0.0: no -0.0)
    return strokes


def _transcription(root) -> str | None:
    """The text of the first text annotation, preferring one directly under <ink>."""
    candidates = [child for child in root if _local(child) == "annotation"]
    candidates += [
        e for e in root.iter() if _local(e) == "annotation" and e.getparent() is not root
    ]
    for element in candidates:
        if (element.get("type") or "").lower() in TEXT_ANNOTATION_TYPES:
            return (element.text or "").strip()
    return None


def _inkml_text(strokes: list[np.ndarray], text: str | None) -> str:
    from xml.sax.saxutils import escape

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<ink xmlns="{INKML_NS}">']
    lines.append('  <traceFormat><channel name="X" type="decimal"/>'
                 '<channel name="Y" type="decimal"/></traceFormat>')
    if text is not None:
        lines.append(f'  <annotation type="transcription">{escape(text)}</annotation>')
    for stroke in strokes:
        # InkML y grows down: flip ours (y up); + 0 keeps 0 from becoming -0.
        screen = stroke * np.array([1, -1], stroke.dtype) + stroke.dtype.type(0)
        points = ", ".join(f"{_number(x)} {_number(y)}" for x, y in screen)
        lines.append(f"  <trace>{points}</trace>")
    lines.append("</ink>")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- shared


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in INKML_SUFFIXES:
        return "inkml"
    raise DataError(
        f"ink file {path}: unknown extension {suffix or '(none)'!r}; "
        "use .json or .inkml (InkML also as .xml)"
    )


def _as_points(stroke) -> np.ndarray:
    array = np.asarray(stroke)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array.reshape(-1, 2)


def _number(value) -> str:
    """Shortest text that reads back to the same value of its own dtype."""
    if not np.isfinite(value):
        raise DataError(f"cannot write ink with a value of {value}: every point must be finite")
    return np.format_float_positional(value, unique=True, trim="-")
