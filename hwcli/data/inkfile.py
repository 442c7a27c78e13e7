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
* SVG, as drawing apps export it: every subpath of a `<path>` (M, L, H, V, C,
  S, Q, T, A, Z, absolute and relative), `<polyline>`, `<polygon>` and
  `<line>` is a stroke; transforms on elements and groups are applied and
  curves flattened to points (SVG_TOLERANCE). y grows down: we flip it.

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
SVG_SUFFIXES = (".svg",)
# Ink files are a few lines of handwriting: anything bigger is a mistake (or an attack).
MAX_INK_BYTES = 5_000_000
MAX_INK_POINTS = 200_000
TEXT_ANNOTATION_TYPES = ("transcription", "truth")

# One value of an InkML trace point: an optional prefix (! explicit,
# ' first difference, " second difference), then a decimal, or one of the
# non-numeric values T/F (boolean channels), ? (unknown) and * (as before).
# InkML lets values touch when a prefix or sign separates them: "'23'-4".
_INKML_VALUE = re.compile(
    r"""\s*([!'"]?)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[TF?*])"""
)


# ---------------------------------------------------------------- public API



def xml_error(error) -> str:
    """lxml's message once, with its place once: libxml2 puts ", line L, column C" in the message
    and lxml adds "(<string>, line L)" again; this keeps "MESSAGE (line L, column C)"."""
    message = re.sub(r",? line \d+, column \d+$", "", (getattr(error, "msg", None) or str(error)).strip())
    position = getattr(error, "position", None)
    if position and position[0]:
        return f"{message} (line {position[0]}, column {position[1]})"
    return message

def read_ink(path: str | os.PathLike) -> tuple[list[np.ndarray], str | None]:
    """Read a .json, .inkml/.xml or .svg ink file -> (strokes, text or None); SVG has no text.

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
        size = path.stat().st_size
        if size > MAX_INK_BYTES:
            raise DataError(f"ink file {path} is {size / 1e6:.1f} MB; ink files may hold at most "
                            f"{MAX_INK_BYTES / 1e6:g} MB (a few lines of handwriting)")
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read ink file {path}: {error.strerror or error}") from error
    parse = {"json": _parse_json, "inkml": _parse_inkml, "svg": _parse_svg}[kind]
    strokes, text = parse(data, path)
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        raise DataError(f"ink file {path} holds no strokes; it needs at least one point")
    points = sum(len(s) for s in strokes)
    if points > MAX_INK_POINTS:
        raise DataError(f"ink file {path} holds {points} points; at most {MAX_INK_POINTS} are read "
                        "(a few lines of handwriting)")
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
        raise DataError(f"ink file {path} is not valid XML: {xml_error(error)}") from None
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


# ---------------------------------------------------------------- SVG


def _parse_svg(data: bytes, path: Path) -> tuple[list[np.ndarray], str | None]:
    """Strokes of an SVG as drawing apps export them: one stroke per subpath of every
    <path>, and per <polyline>, <polygon> and <line>, with the transforms of the element
    and its groups applied and curves flattened to points. SVG carries no transcription."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise DataError(f"ink file {path} is not valid XML: {xml_error(error)}") from None
    if _local(root) != "svg":
        raise DataError(f"ink file {path} is XML but not SVG: its root is <{_local(root)}>, expected <svg>")
    strokes: list[np.ndarray] = []
    _svg_walk(root, np.eye(3), strokes, path)
    for stroke in strokes:
        stroke[:, 1] = -stroke[:, 1] + 0.0  # SVG y grows down -> y up (+ 0.0: no -0.0)
    return strokes, None


# Elements whose children are not drawn where they stand (templates, clips, metadata).
_SVG_SKIPPED = {"defs", "clipPath", "mask", "symbol", "marker", "pattern", "metadata",
                "title", "desc", "style", "script", "text", "foreignObject", "linearGradient",
                "radialGradient", "filter"}
SVG_TOLERANCE = 0.05  # most a flattened curve strays from the true one, in document units
SVG_MAX_SEGMENTS = 256  # points per curve segment, at most


def _svg_walk(element, ctm: np.ndarray, strokes: list, path: Path) -> None:
    name = _local(element)
    if name in _SVG_SKIPPED or _svg_hidden(element):
        return
    transform = element.get("transform")
    if transform:
        ctm = ctm @ _svg_transform(transform, path)
    where = f"ink file {path}: <{name}>"
    if name == "path":
        tolerance = SVG_TOLERANCE / max(np.sqrt(abs(np.linalg.det(ctm[:2, :2]))), 1e-12)
        for points in _svg_path(element.get("d") or "", tolerance, where):
            strokes.append(_svg_apply(ctm, points))
    elif name in ("polyline", "polygon"):
        numbers = _svg_numbers(element.get("points") or "", where)
        if len(numbers) % 2:
            raise DataError(f"{where} has an odd number of coordinates in points")
        points = np.array(numbers, np.float64).reshape(-1, 2)
        if name == "polygon" and len(points) > 1:
            points = np.vstack([points, points[:1]])
        if len(points):
            strokes.append(_svg_apply(ctm, points))
    elif name == "line":
        try:
            points = np.array([[_svg_length(element.get(k)) for k in pair]
                               for pair in (("x1", "y1"), ("x2", "y2"))], np.float64)
        except ValueError:
            raise DataError(f"{where} has a coordinate that is not a number") from None
        strokes.append(_svg_apply(ctm, points))
    for child in element:
        if isinstance(child.tag, str):
            _svg_walk(child, ctm, strokes, path)


def _svg_hidden(element) -> bool:
    if (element.get("display") or "").strip() == "none":
        return True
    style = (element.get("style") or "").replace(" ", "")
    return "display:none" in style


def _svg_length(value: str | None) -> float:
    value = (value or "0").strip()
    value = float(re.sub(r"(px|pt|mm|cm|in|pc)$", "", value) or "0")
    if not np.isfinite(value):
        raise ValueError(value)
    return value


def _svg_apply(ctm: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ ctm[:2, :2].T + ctm[:2, 2]


_SVG_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SVG_TRANSFORM = re.compile(r"\s*,?\s*(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)\s*")


def _svg_numbers(text: str, where: str) -> list[float]:
    numbers = _SVG_NUMBER.findall(text)
    if _SVG_NUMBER.sub(" ", text).replace(",", " ").strip():
        raise DataError(f"{where} has {text.strip()[:30]!r}, which is not numbers")
    return [_svg_float(n, where) for n in numbers]


def _svg_float(text: str, where: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise DataError(f"{where} has {text!r}, which is not a finite number")
    return value


def _svg_transform(text: str, path: Path) -> np.ndarray:
    """A transform attribute as a 3x3 matrix: its parts applied right to left, as SVG says."""
    result = np.eye(3)
    position = 0
    for match in _SVG_TRANSFORM.finditer(text):
        if match.start() != position:
            break
        position = match.end()
        kind, values = match.group(1), _svg_numbers(match.group(2), f"ink file {path}: transform")
        counts = {"matrix": (6,), "translate": (1, 2), "scale": (1, 2), "rotate": (1, 3),
                  "skewX": (1,), "skewY": (1,)}[kind]
        if len(values) not in counts:
            raise DataError(f"ink file {path}: transform {kind}() takes {' or '.join(map(str, counts))} "
                            f"numbers, not {len(values)}")
        m = np.eye(3)
        if kind == "matrix":
            a, b, c, d, e, f = values
            m[:2] = [[a, c, e], [b, d, f]]
        elif kind == "translate":
            m[0, 2], m[1, 2] = values[0], values[1] if len(values) > 1 else 0.0
        elif kind == "scale":
            m[0, 0], m[1, 1] = values[0], values[1] if len(values) > 1 else values[0]
        elif kind == "rotate":
            angle = np.radians(values[0])
            cos, sin = np.cos(angle), np.sin(angle)
            m[:2, :2] = [[cos, -sin], [sin, cos]]
            if len(values) == 3:  # about (cx, cy): translate(cx, cy) rotate translate(-cx, -cy)
                cx, cy = values[1:]
                m[:2, 2] = [cx - cos * cx + sin * cy, cy - sin * cx - cos * cy]
        elif kind == "skewX":
            m[0, 1] = np.tan(np.radians(values[0]))
        else:
            m[1, 0] = np.tan(np.radians(values[0]))
        result = result @ m
    if text[position:].strip():
        raise DataError(f"ink file {path}: cannot read the transform {text.strip()[:40]!r}")
    return result


def _bezier_segments(control: np.ndarray, tolerance: float) -> int:
    """Uniform segments for a Bezier of degree d so the polyline strays at most `tolerance`:
    the chord error is at most d(d-1)/8 * max|second difference of the control points| / n^2."""
    degree = len(control) - 1
    second = np.abs(np.diff(control, 2, axis=0)).max() if degree >= 2 else 0.0
    bound = degree * (degree - 1) / 8 * np.sqrt(2) * second
    n = int(np.ceil(np.sqrt(bound / tolerance))) if bound > 0 else 1
    return max(1, min(n, SVG_MAX_SEGMENTS))


def bezier_points(control: np.ndarray, tolerance: float = SVG_TOLERANCE) -> np.ndarray:
    """Points of a quadratic or cubic Bezier at t = k/n, k = 1..n (the start point left out)."""
    control = np.asarray(control, np.float64)
    n = _bezier_segments(control, tolerance)
    t = (np.arange(1, n + 1) / n)[:, None]
    s = 1.0 - t
    if len(control) == 3:
        p0, p1, p2 = control
        return s * s * p0 + 2 * s * t * p1 + t * t * p2
    p0, p1, p2, p3 = control
    return s ** 3 * p0 + 3 * s * s * t * p1 + 3 * s * t * t * p2 + t ** 3 * p3


def _arc_points(start, rx, ry, phi, large, sweep, end, tolerance) -> np.ndarray:
    """An SVG elliptical arc (endpoint form, SVG 1.1 appendix F.6) as points after `start`."""
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0 or np.allclose(start, end):
        return np.array([end], np.float64)
    cos, sin = np.cos(np.radians(phi)), np.sin(np.radians(phi))
    dx, dy = (start - end) / 2
    x1, y1 = cos * dx + sin * dy, -sin * dx + cos * dy
    scale = (x1 / rx) ** 2 + (y1 / ry) ** 2
    if scale > 1:  # radii too small to reach: scaled up, as the standard says
        rx, ry = rx * np.sqrt(scale), ry * np.sqrt(scale)
    numerator = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    factor = np.sqrt(max(numerator, 0.0) / (rx * rx * y1 * y1 + ry * ry * x1 * x1))
    if large == sweep:
        factor = -factor
    cx1, cy1 = factor * rx * y1 / ry, -factor * ry * x1 / rx
    centre = np.array([cos * cx1 - sin * cy1, sin * cx1 + cos * cy1]) + (start + end) / 2
    theta = np.arctan2((y1 - cy1) / ry, (x1 - cx1) / rx)
    delta = np.arctan2((-y1 - cy1) / ry, (-x1 - cx1) / rx) - theta
    if sweep and delta < 0:
        delta += 2 * np.pi
    elif not sweep and delta > 0:
        delta -= 2 * np.pi
    radius = max(rx, ry)
    step = 2 * np.arccos(max(-1.0, 1 - tolerance / radius)) if tolerance < radius else np.pi / 2
    n = max(1, min(int(np.ceil(abs(delta) / step)), SVG_MAX_SEGMENTS))
    angles = theta + delta * np.arange(1, n + 1) / n
    x, y = rx * np.cos(angles), ry * np.sin(angles)
    points = np.column_stack([cos * x - sin * y, sin * x + cos * y]) + centre
    points[-1] = end
    return points


_SVG_PATH_TOKEN = re.compile(r"\s*,?\s*(?:([MmLlHhVvCcSsQqTtAaZz])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))")
_SVG_ARGS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7, "Z": 0}


def _svg_path(d: str, tolerance: float, where: str) -> list[np.ndarray]:
    """Path data -> one array of points per subpath (M starts one, Z closes it)."""
    tokens: list[str | float] = []
    position = 0
    while position < len(d):
        if not d[position:].strip():
            break
        match = _SVG_PATH_TOKEN.match(d, position)
        if not match:
            raise DataError(f"{where} has path data {d[position:position + 20].strip()!r} that is not SVG")
        if match.group(1):
            tokens.append(match.group(1))
        else:
            number = match.group(2)
            if len(number) > 1 and number[0] in "01" and _svg_arc_flag_due(tokens):
                # arc flags may touch the next number: "a5 5 0 015 5" is flags 0 and 1, then 5 5
                tokens.append(float(number[0]))
                position = match.start(2) + 1
                continue
            tokens.append(_svg_float(number, where))
        position = match.end()

    if tokens and tokens[0] not in ("M", "m"):
        raise DataError(f"{where} has path data that does not start with a move (M)")
    subpaths: list[list[np.ndarray]] = []
    current = np.zeros(2)
    start = np.zeros(2)
    last_control = None  # the reflected control point of S and T
    last_command = ""
    closed = False  # after Z, drawing goes on in a new subpath from its start point
    i = 0
    command = None
    while i < len(tokens):
        token = tokens[i]
        if isinstance(token, str):
            command = token
            i += 1
            if command in "Zz":
                if subpaths and not closed:
                    subpaths[-1].append(start.copy()[None])
                current, closed = start.copy(), True
                last_control, last_command = None, "Z"
                continue
        elif command in "Zz":
            raise DataError(f"{where} has numbers after Z in its path data")
        count = _SVG_ARGS[command.upper()]
        args = tokens[i:i + count]
        if len(args) < count or any(isinstance(a, str) for a in args):
            raise DataError(f"{where}: path command {command} needs {count} numbers")
        i += count
        relative = command.islower()
        upper = command.upper()
        base = current if relative else np.zeros(2)
        if upper == "M":
            current = base + args
            start = current.copy()
            subpaths.append([current[None].copy()])
            command = "l" if relative else "L"  # further pairs after M are lines
            last_control, last_command, closed = None, "M", False
            continue
        if closed:  # drawing after Z: a new subpath from the closed one's start
            subpaths.append([current[None].copy()])
            closed = False
        if upper == "L":
            points = (base + args)[None]
        elif upper == "H":
            points = np.array([[args[0] + (current[0] if relative else 0.0), current[1]]])
        elif upper == "V":
            points = np.array([[current[0], args[0] + (current[1] if relative else 0.0)]])
        elif upper in "CS":
            if upper == "C":
                c1, c2, end = base + args[0:2], base + args[2:4], base + args[4:6]
            else:
                c1 = 2 * current - last_control if last_command in "CS" else current.copy()
                c2, end = base + args[0:2], base + args[2:4]
            points = bezier_points(np.array([current, c1, c2, end]), tolerance)
            last_control = c2
        elif upper in "QT":
            if upper == "Q":
                c1, end = base + args[0:2], base + args[2:4]
            else:
                c1 = 2 * current - last_control if last_command in "QT" else current.copy()
                end = base + args[0:2]
            points = bezier_points(np.array([current, c1, end]), tolerance)
            last_control = c1
        else:  # A
            rx, ry, phi, large, sweep = args[:5]
            end = base + args[5:7]
            points = _arc_points(current, rx, ry, phi, bool(large), bool(sweep), end, tolerance)
        subpaths[-1].append(np.asarray(points, np.float64))
        current = points[-1].copy()
        last_command = upper
    return [np.vstack(parts) for parts in subpaths if parts]


def _svg_arc_flag_due(tokens: list) -> bool:
    """Is the next number an arc's large-arc or sweep flag (the 4th or 5th of its 7)?"""
    count = 0
    for token in reversed(tokens):
        if isinstance(token, str):
            return token in "Aa" and count % 7 in (3, 4)
        count += 1
    return False


# ---------------------------------------------------------------- shared


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in INKML_SUFFIXES:
        return "inkml"
    if suffix in SVG_SUFFIXES:
        return "svg"
    raise DataError(
        f"ink file {path}: unknown extension {suffix or '(none)'!r}; "
        "use .json, .inkml (InkML also as .xml) or .svg"
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
