"""Rendering: text wrapping, page layout, SVG output and the inspect figures."""

import re
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from hwcli.errors import DataError, UsageError
from hwcli.render.layout import LineBox, estimate_baseline, place_lines, wrap_text
from hwcli.render.plots import attention_svg, attention_svg_string, heat_colors
from hwcli.render.svg import path_data, svg_string, write_svg

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = Path("/usr/bin/chromium")


# ---------------------------------------------------------------- wrap_text


@pytest.mark.parametrize(
    "text, width, lines",
    [
        ("the quick brown fox jumps", 10, ["the quick", "brown fox", "jumps"]),
        ("abc def", 7, ["abc def"]),  # exactly the width fits
        ("abc def", 6, ["abc", "def"]),
        ("ab\ncd", 80, ["ab", "cd"]),  # a newline always breaks
        ("a\n\nb", 80, ["a", "", "b"]),  # a blank line stays
        ("a supercalifragilistic b", 5, ["a", "supercalifragilistic", "b"]),
        ("  spaced    out  \n", 80, ["spaced out"]),
        ("\n\nhello\n\n", 80, ["hello"]),
        ("", 10, []),
    ],
)
def test_wrap_text(text, width, lines):
    assert wrap_text(text, width) == lines


def test_wrap_text_keeps_every_word_in_order_within_width():
    rng = np.random.default_rng(1)
    words = ["".join("x" * int(n)) for n in rng.integers(1, 9, size=200)]
    lines = wrap_text(" ".join(words), 20)
    assert " ".join(lines).split() == words
    assert all(len(line) <= 20 for line in lines)
    # Greedy: the next line's first word would not have fitted.
    for line, after in zip(lines, lines[1:]):
        assert len(line) + 1 + len(after.split()[0]) > 20


@pytest.mark.parametrize("width", [0, -3, 2.5])
def test_wrap_text_refuses_bad_width(width):
    with pytest.raises(UsageError):
        wrap_text("hello", width)


# ---------------------------------------------------------------- place_lines

X_HEIGHT, LETTER_WIDTH = 10.0, 7.0


def synthetic_line(letters: int, descenders=(3, 11)) -> list[np.ndarray]:
    """A level line on baseline y = 0: arches of x-height 10, and some descenders."""
    strokes = []
    t = np.linspace(0, 1, 25)
    for i in range(letters):
        x = (i + t) * LETTER_WIDTH
        strokes.append(np.column_stack((x, X_HEIGHT / 2 * (1 - np.cos(2 * np.pi * t)))))
        if i in descenders:
            stem = np.linspace(X_HEIGHT, -0.7 * X_HEIGHT, 10)
            strokes.append(np.column_stack((np.full(10, (i + 0.5) * LETTER_WIDTH), stem)))
    return strokes


def drift(strokes, degrees, dx, dy):
    """What independent sampling does to a line: a slope and an offset."""
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return [s @ rotation.T + [dx, dy] for s in strokes]


def test_estimate_baseline_ignores_descenders():
    line = drift(synthetic_line(20), 4, 13, 50)
    slope, intercept = estimate_baseline(np.concatenate(line))
    assert slope == pytest.approx(np.tan(np.radians(4)), abs=0.005)
    # The true baseline passes through (13, 50) with that slope.
    assert intercept + slope * 13 == pytest.approx(50, abs=0.05 * X_HEIGHT)


def test_place_lines_levels_aligns_and_stacks():
    level = [synthetic_line(20), synthetic_line(14, descenders=(2,))]
    drifted = [drift(level[0], 4, 13, 50), drift(level[1], -6, -40, -7)]
    spacing, margin = 2.5, 5.0
    page, boxes = place_lines([drifted[0], [], drifted[1]], spacing, margin)

    # Independently: the line height is the 10-90% range of y over the level
    # ink; line k's baseline sits at -k * spacing * height; a placed line is
    # the level line moved so its leftmost ink is at the margin.
    ys = np.concatenate([np.concatenate(line) for line in level])[:, 1]
    height = np.percentile(ys, 90) - np.percentile(ys, 10)
    slots = [0, 2]  # line 1 is the blank one
    placed = [page[: len(level[0])], page[len(level[0]) :]]
    tolerance = 0.05 * X_HEIGHT
    for line, slot, ink in zip(level, slots, placed):
        points = np.concatenate(line)
        expected = points + [margin - points[:, 0].min(), -slot * spacing * height]
        np.testing.assert_allclose(np.concatenate(ink), expected, atol=tolerance)
    assert len(page) == sum(len(line) for line in level)

    # Left edges exactly at the margin; boxes and baselines as laid out.
    assert len(boxes) == 3 and all(isinstance(b, LineBox) for b in boxes)
    for ink, slot in zip(placed, slots):
        assert np.concatenate(ink)[:, 0].min() == pytest.approx(margin)
        assert boxes[slot].left == pytest.approx(margin)
        assert boxes[slot].baseline == pytest.approx(-slot * spacing * height, rel=0.03)
    assert boxes[1].left == boxes[1].right == margin  # the blank line keeps its slot
    assert boxes[0].baseline > boxes[1].baseline > boxes[2].baseline
    assert boxes[2].top < boxes[0].bottom  # no overlap at this spacing


def test_place_lines_given_height_and_no_straightening():
    line = drift(synthetic_line(20), 5, 0, 30)
    page, boxes = place_lines([line, line], 2.0, 0.0, line_height=8.0, straighten=False)
    assert [b.baseline for b in boxes] == [0.0, -16.0]
    # Unstraightened: still sloping, its start on the baseline.
    first = np.concatenate(page[: len(line)])
    slope, intercept = estimate_baseline(first)
    assert slope == pytest.approx(np.tan(np.radians(5)), abs=0.005)
    assert intercept == pytest.approx(0.0, abs=0.05 * X_HEIGHT)


@pytest.mark.parametrize("options", [{"line_spacing": 0}, {"line_height": -1.0}])
def test_place_lines_refuses_bad_numbers(options):
    with pytest.raises(UsageError):
        place_lines([synthetic_line(3)], **options)


# ---------------------------------------------------------------- svg

# A short word: an arch, a dot, a stroke.
INK = [
    np.array([[0.0, 0.0], [2.0, 8.0], [4.0, 10.0], [6.0, 8.0], [8.0, 0.0]]),
    np.array([[10.0, 14.0]]),
    np.array([[10.0, 0.0], [10.0, 9.0]]),
]


def parse(svg_text: str):
    return etree.fromstring(svg_text.encode("utf-8"))


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_svg_one_path_per_stroke_with_fitted_view_box():
    root = parse(svg_string(INK, stroke_width=0.5, margin=2.0, color="#123456"))
    paths = root.findall(f".//{SVG}path")
    assert len(paths) == len(INK)
    for path in paths:
        assert path.get("fill") == "none"
        assert path.get("stroke") == "#123456"
        assert path.get("stroke-width") == "0.5"
        assert path.get("stroke-linecap") == "round" and path.get("stroke-linejoin") == "round"
        assert path.getparent() is root  # no groups, so no transforms, for plotters
    assert not root.findall(f".//{SVG}g") and "transform" not in etree.tostring(root).decode()
    # viewBox: the ink's extent plus the margin, y flipped (SVG y down).
    points = np.concatenate(INK)
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    expected = [x0 - 2, -y1 - 2, x1 - x0 + 4, y1 - y0 + 4]
    np.testing.assert_allclose(numbers(root.get("viewBox")), expected)


def test_svg_paths_start_and_end_on_the_ink_flipped():
    paths = parse(svg_string(INK)).findall(f".//{SVG}path")
    for stroke, path in zip(INK, paths):
        d = path.get("d")
        values = numbers(d)
        np.testing.assert_allclose(values[:2], stroke[0] * [1, -1])
        if len(stroke) > 1:
            np.testing.assert_allclose(values[-2:], stroke[-1] * [1, -1])
    arch = paths[0].get("d")
    assert arch.startswith("M") and arch.count("Q") == len(INK[0]) - 2
    assert re.fullmatch(r"M\S+ \S+ h[\d.]+", paths[1].get("d"))  # the dot


def test_path_data_passes_through_midpoints():
    points = np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 0.0], [6.0, 2.0]])
    assert path_data(points) == "M0 0 Q2 2 3 1 Q4 0 5 1 L6 2"


def test_svg_physical_width_keeps_aspect():
    root = parse(svg_string(INK, margin=1.0, page_width_mm=120))
    _, _, w, h = numbers(root.get("viewBox"))
    assert root.get("width") == "120mm"
    assert root.get("height").endswith("mm")
    assert float(root.get("height")[:-2]) == pytest.approx(120 * h / w, rel=1e-5)


def test_svg_animation_in_writing_order():
    root = parse(svg_string(INK, animate=True, duration_s=3.0))
    style = root.find(f".//{SVG}style")
    assert style is not None and "@keyframes" in style.text and "stroke-dashoffset" in style.text
    paths = root.findall(f".//{SVG}path")
    lengths = np.array([np.hypot(*np.diff(s, axis=0).T).sum() for s in INK])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) / lengths.sum() * 3.0
    for path, start, length in zip(paths, starts, lengths):
        assert path.get("pathLength") == "1" and path.get("class") == "hw-stroke"
        delay, duration = numbers(path.get("style"))
        assert delay == pytest.approx(start, abs=1e-3)
        assert duration == pytest.approx(length / lengths.sum() * 3.0, abs=1e-3)
    assert parse(svg_string(INK)).find(f".//{SVG}style") is None


def test_write_svg_file(tmp_path):
    target = tmp_path / "out" / "ink.svg"
    write_svg(target, INK, page_width_mm=50)
    data = target.read_bytes()
    assert data.startswith(b"<?xml")
    assert len(etree.fromstring(data).findall(f".//{SVG}path")) == len(INK)
    assert [p.name for p in target.parent.iterdir()] == ["ink.svg"]


def test_svg_refuses_nothing_and_bad_options():
    with pytest.raises(DataError, match="no strokes"):
        svg_string([np.zeros((0, 2))])
    with pytest.raises(UsageError, match="stroke width"):
        svg_string(INK, stroke_width=-1)
    with pytest.raises(UsageError, match="page width"):
        svg_string(INK, page_width_mm=0)


def read_png(data: bytes) -> np.ndarray:
    """A minimal PNG decoder (8-bit RGB/RGBA, not interlaced) -> (h, w, channels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    rows = np.zeros((height, width * channels), np.int32)
    previous = np.zeros(width * channels, np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind in (0, 2):
            row = (line + (previous if kind == 2 else 0)) % 256
        else:  # Sub, Average, Paeth depend on the byte to the left: byte by byte
            row = np.zeros_like(line)
            for i in range(len(line)):
                a = row[i - channels] if i >= channels else 0
                b, c = previous[i], previous[i - channels] if i >= channels else 0
                if kind == 1:
                    predictor = a
                elif kind == 3:
                    predictor = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (line[i] + predictor) % 256
        rows[y], previous = row, row
    return rows.reshape(height, width, channels)


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
)


def dark_pixels(svg: Path, folder: Path, *flags: str) -> int:
    """Screenshot `svg` in headless chromium; count the dark pixels of the picture."""
    shot = folder / f"{svg.stem}.png"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={folder / 'profile'}",
        f"--screenshot={shot}", "--window-size=800,400", *flags, svg.as_uri(),
    ]
    shot.unlink(missing_ok=True)
    subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert shot.exists(), "chromium wrote no screenshot"
    pixels = read_png(shot.read_bytes())[..., :3]
    assert (pixels.min(axis=2) > 200).mean() > 0.5  # most of it is paper
    return int((pixels.max(axis=2) < 100).sum())


@needs_chromium
def test_svg_renders_in_a_browser(tmp_path):
    source = tmp_path / "ink.svg"
    write_svg(source, INK, page_width_mm=60)
    dark = dark_pixels(source, tmp_path)
    assert dark > 200, f"only {dark} dark pixels: the ink did not render"


@needs_chromium
def test_svg_animation_draws_in_a_browser(tmp_path):
    still, moving = tmp_path / "still.svg", tmp_path / "moving.svg"
    write_svg(still, INK, page_width_mm=60)
    write_svg(moving, INK, page_width_mm=60, animate=True, duration_s=2.0)
    full = dark_pixels(still, tmp_path)
    # A tenth of the way through (virtual time), little is drawn. (The finished
    # state is not checked here: chromium sometimes shoots before a long virtual
    # budget has run out, so such a test would be flaky.)
    early = dark_pixels(moving, tmp_path, "--virtual-time-budget=200")
    assert early < 0.8 * full
    # Readers who ask for less motion get the finished ink at once.
    calm = dark_pixels(moving, tmp_path, "--force-prefers-reduced-motion")
    assert calm == pytest.approx(full, rel=0.05)


def test_png_decoder_on_a_known_image():
    # Two rows, filters None and Up, so read_png is itself checked.
    rows = [b"\x00" + bytes([255, 0, 0, 0, 255, 0]), b"\x02" + bytes([0, 0, 0, 0, 0, 1])]
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
    pixels = read_png(png)
    assert pixels[1].tolist() == [[255, 0, 0], [0, 255, 1]]


# ---------------------------------------------------------------- plots


def test_heat_colors_run_from_white_to_dark():
    colours = heat_colors(np.linspace(0, 1, 11))
    assert colours[0] == "#ffffff" and colours[-1] == "#67000d"
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours])
    brightness = rgb @ [0.299, 0.587, 0.114]
    assert np.all(np.diff(brightness) < 0)
    assert heat_colors([-1, 2]) == ["#ffffff", "#67000d"]  # clipped


def diagonal_phi(steps: int, text: str) -> np.ndarray:
    """Window weights that move one character every steps / len(text) steps."""
    kappa = np.arange(steps)[:, None] / steps * len(text)
    return np.exp(-((kappa - 0.5 - np.arange(len(text))[None, :]) ** 2) / 0.1)  # (T, U)


def brightness(rect) -> int:
    fill = rect.get("fill")
    return sum(int(fill[i : i + 2], 16) for i in (1, 3, 5))


def test_attention_figure_labels_and_heat_map():
    text = "ab c"
    root = parse(attention_svg_string(INK, diagonal_phi(40, text), text))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    for character in ["a", "b", "\u2423", "c"]:  # a space is shown as ␣
        assert character in labels
    assert "time step t" in labels
    cells = [r for r in root.iter(f"{SVG}rect") if r.get("fill", "").startswith("#")]
    cells = [r for r in cells if r.get("fill") != "#ffffff"]
    # phi is diagonal: the darkest cell of each row lies further right than the last.
    rows = {}
    for r in cells:
        y, x = float(r.get("y")), float(r.get("x"))
        rows.setdefault(y, []).append((-brightness(r), x))
    peaks = [max(rows[y])[1] for y in sorted(rows)]
    assert len(peaks) == len(text) and peaks == sorted(peaks)
    assert len(root.findall(f".//{SVG}path")) == len(INK)


def test_attention_figure_density_under_the_strokes(tmp_path):
    # A density peaked at (30, 5) and a dot drawn exactly there: the darkest
    # cell of the density must be where the dot is, and drawn before (under) it.
    gx, gy = np.meshgrid(np.linspace(0.5, 39.5, 40), np.linspace(-9.5, 19.5, 30))
    grid = np.exp(-((gx - 30) ** 2 + (gy - 5) ** 2) / 4.0)  # (ny, nx), row 0 at y = -10
    ink = [INK[0], np.array([[30.0, 5.0]])]
    target = tmp_path / "attention.svg"
    attention_svg(target, ink, diagonal_phi(30, "hi"), "hi", density=(grid, (0, 40, -10, 20)))
    root = etree.fromstring(target.read_bytes())
    children = list(root)
    paths = [c for c in children if c.tag == f"{SVG}path"]
    ink_title = next(c for c in children if c.tag == f"{SVG}text" and "density" in c.text)
    density_cells = [
        c for c in children[children.index(ink_title) :] if c.tag == f"{SVG}rect"
    ]
    darkest = min(density_cells, key=brightness)
    x, y, w, h = (float(darkest.get(k)) for k in ("x", "y", "width", "height"))
    dot_x, dot_y = numbers(paths[1].get("d"))[:2]
    assert x <= dot_x <= x + w and y <= dot_y <= y + h
    assert children.index(darkest) < children.index(paths[0])


def test_attention_figure_refuses_mismatched_phi():
    with pytest.raises(UsageError, match="characters"):
        attention_svg_string(INK, np.ones((5, 3)), "ab")
    with pytest.raises(UsageError, match="extent"):
        attention_svg_string(INK, np.ones((5, 2)), "ab", density=(np.ones((2, 2)), (1, 0, 0, 1)))
