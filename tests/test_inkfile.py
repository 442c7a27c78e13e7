"""User ink files (hwcli/data/inkfile.py): JSON and InkML, read, write, and refuse."""

from pathlib import Path

import numpy as np
import pytest

from hwcli.data.inkfile import read_ink, write_ink
from hwcli.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "ink"

# The strokes of sample.json, sample.inkml and screen.json, y up: a vertical
# stroke drawn upwards, a shorter one, and a dot.
HI_UP = [
    [[0, 0], [0, 10], [0, 20]],
    [[5, 0], [5, 8]],
    [[5, 12]],
]


def assert_strokes_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == np.asarray(e).shape
        np.testing.assert_allclose(a, np.asarray(e, float))


def test_json_with_text_and_extra_channels():
    strokes, text = read_ink(FIXTURES / "sample.json")
    assert text == "hi"
    assert all(s.dtype == np.float64 and s.shape[1] == 2 for s in strokes)
    assert_strokes_equal(strokes, HI_UP)


def test_bare_json_list_is_screen_coordinates():
    strokes, text = read_ink(FIXTURES / "screen.json")
    assert text is None
    # Written as y down from 20 to 0: going up the screen, so up in y-up ink.
    first = strokes[0]
    assert np.all(np.diff(first[:, 1]) > 0)
    assert_strokes_equal(strokes, [[[0, -20], [0, -10], [0, 0]], [[5, -20], [5, -12]]])


def test_inkml_groups_channels_and_flip():
    strokes, text = read_ink(FIXTURES / "sample.inkml")
    assert text == "hi"  # the document's transcription, not the group's "h"
    # Three traces through nested traceGroups, the T channel dropped.
    assert [len(s) for s in strokes] == [3, 2, 1]
    # The first trace goes up the screen (y 20 -> 0, y down): up in y-up ink.
    assert np.all(np.diff(strokes[0][:, 1]) > 0)
    assert_strokes_equal(strokes, [[[0, -20], [0, -10], [0, 0]], [[5, -20], [5, -12]], [[5, -8.5]]])


def test_inkml_channel_order_and_difference_encoding():
    strokes, text = read_ink(FIXTURES / "difference.inkml")
    assert text == "z"  # type="truth"
    # Channels T Y X; screen points worked out by hand from the prefixes:
    # explicit (10, 20); first differences (1, 2) twice; second differences
    # keep the velocity (1, 2) and add (0, 1), twice (the last without a
    # prefix); then explicit (5, 5). Trace 2 is "3-5 7": T=3, Y=-5, X=7.
    screen = [[10, 20], [11, 22], [12, 24], [13, 27], [14, 30], [5, 5]]
    assert_strokes_equal(strokes, [np.array(screen) * [1, -1], [[7, 5]]])


@pytest.mark.parametrize("suffix", [".json", ".inkml", ".xml"])
def test_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    strokes = [rng.normal(size=(n, 2)) * 300 for n in (5, 1, 40)]
    strokes.append(np.array([[0.0, 0.0], [1.0, -2.0]]))
    target = tmp_path / f"ink{suffix}"
    write_ink(target, strokes, text='say "hi" & <bye>')
    again, text = read_ink(target)
    assert text == 'say "hi" & <bye>'
    assert len(again) == len(strokes)
    for a, s in zip(again, strokes):
        np.testing.assert_array_equal(a, s)  # shortest repr: float64 back exactly
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left


@pytest.mark.parametrize("suffix", [".json", ".inkml"])
def test_round_trip_float32_and_no_text(tmp_path, suffix):
    strokes = [np.array([[0.1, 0.2], [0.3, -0.4]], np.float32)]
    target = tmp_path / f"ink{suffix}"
    write_ink(target, strokes)
    again, text = read_ink(target)
    assert text is None
    np.testing.assert_array_equal(again[0].astype(np.float32), strokes[0])
    assert "0.1" in target.read_text() and "0.10000000149" not in target.read_text()


def test_inkml_written_is_screen_oriented(tmp_path):
    # A stroke going up (y up) must be written going up the screen: y decreasing.
    target = tmp_path / "up.inkml"
    write_ink(target, [np.array([[0.0, 0.0], [0.0, 10.0]])])
    trace = target.read_text().split("<trace>")[1].split("</trace>")[0]
    assert trace == "0 0, 0 -10"


def test_write_replaces_atomically(tmp_path):
    target = tmp_path / "ink.json"
    target.write_text("old")
    write_ink(target, [np.zeros((2, 2))])
    assert read_ink(target)[0][0].shape == (2, 2)


@pytest.mark.parametrize(
    "name, words",
    [
        ("truncated.json", "not valid JSON"),
        ("empty.json", "no strokes"),
        ("nonnumeric.json", "stroke 1, point 2"),
        ("unclosed.inkml", "not valid XML"),
        ("nonnumeric.inkml", "trace 1, point 3"),
        ("notink.xml", "not InkML"),
        ("strokes.txt", "unknown extension"),
        ("missing.json", "no ink file"),
    ],
)
def test_bad_files_name_the_file(name, words):
    with pytest.raises(DataError) as caught:
        read_ink(FIXTURES / name)
    message = str(caught.value)
    assert name in message and words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"strokes": [[[0, 0], [1, NaN]]]}', "not a finite number"),
        ('{"strokes": [[[0, 0], [1]]]}', "expected [x, y]"),
        ('{"strokes": [[[0, 0], [true, 1]]]}', "expected [x, y]"),
        ('{"strokes": 3}', '"strokes" must be a list'),
        ('{"text": 5, "strokes": [[[0, 0]]]}', '"text" must be'),
        ('{"y_down": "yes", "strokes": [[[0, 0]]]}', '"y_down" must be'),
        ('{"ink": []}', 'no "strokes" key'),
        ("42", "expected an object"),
    ],
)
def test_bad_json_content(tmp_path, content, words):
    target = tmp_path / "bad.json"
    target.write_text(content)
    with pytest.raises(DataError, match="bad.json") as caught:
        read_ink(target)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "trace, words",
    [
        ("0 0, '1", "X and Y need 2"),
        ("'1 '1, 2 2", "starts with a difference"),
        ("0 0, T 1", "not a number"),
    ],
)
def test_bad_inkml_traces(tmp_path, trace, words):
    target = tmp_path / "bad.inkml"
    target.write_text(f'<ink xmlns="http://www.w3.org/2003/InkML"><trace>{trace}</trace></ink>')
    with pytest.raises(DataError, match="bad.inkml") as caught:
        read_ink(target)
    assert words in str(caught.value)


def test_inkml_without_namespace_or_format(tmp_path):
    target = tmp_path / "plain.inkml"
    target.write_text("<ink><trace>1 2 99, 3 4 99</trace></ink>")
    strokes, text = read_ink(target)
    assert text is None
    assert_strokes_equal(strokes, [[[1, -2], [3, -4]]])


def test_folder_and_unknown_write_extension(tmp_path):
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        read_ink(tmp_path / "dir.json")
    with pytest.raises(DataError, match="unknown extension"):
        write_ink(tmp_path / "ink.csv", [np.zeros((2, 2))])
    with pytest.raises(DataError, match="no strokes"):
        write_ink(tmp_path / "ink.json", [np.zeros((0, 2))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json"]


# ---------------------------------------------------------------- SVG (drawing apps)

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300">'


def read_svg(tmp_path, body, name="ink.svg"):
    target = tmp_path / name
    target.write_text(SVG_HEAD + body + "</svg>")
    return read_ink(target)


def screen(points):
    """SVG (y down) points as read_ink gives them: y up."""
    return np.asarray(points, float) * [1, -1]


def cubic(p, t):
    t = np.asarray(t, float)[:, None]
    p0, p1, p2, p3 = (np.asarray(q, float) for q in p)
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3


def quadratic(p, t):
    t = np.asarray(t, float)[:, None]
    p0, p1, p2 = (np.asarray(q, float) for q in p)
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def assert_on_curve(points, curve, tolerance):
    """Every point of the polyline is a point of the curve (at t = k/n), and the polyline
    strays from the curve by less than `tolerance` anywhere."""
    n = len(points) - 1
    np.testing.assert_allclose(points, curve(np.arange(n + 1) / n), atol=1e-9)
    dense_t = np.linspace(0, 1, 20_001)
    dense = curve(dense_t)
    segment = np.minimum((dense_t * n).astype(int), n - 1)
    a, b = points[segment], points[segment + 1]
    u = np.clip(np.einsum("ij,ij->i", dense - a, b - a) / np.einsum("ij,ij->i", b - a, b - a), 0, 1)
    gap = np.hypot(*(dense - (a + u[:, None] * (b - a))).T)
    assert gap.max() < tolerance


def test_svg_cubic_and_quadratic_curves_are_flattened_onto_the_curve(tmp_path):
    from hwcli.data.inkfile import SVG_TOLERANCE

    c = [(10, 200), (60, 20), (160, 20), (210, 200)]
    q = [(10, 250), (100, 100), (250, 250)]
    strokes, text = read_svg(tmp_path, f'<path d="M{c[0][0]},{c[0][1]} C{c[1][0]},{c[1][1]} {c[2][0]},{c[2][1]} '
                                       f'{c[3][0]},{c[3][1]}"/><path d="M10 250 Q100 100 250 250"/>')
    assert text is None and len(strokes) == 2
    assert len(strokes[0]) > 20  # a curve this size is many points, not its 4 control points
    assert_on_curve(strokes[0], lambda t: screen(cubic(c, t)), SVG_TOLERANCE)
    assert_on_curve(strokes[1], lambda t: screen(quadratic(q, t)), SVG_TOLERANCE)


def test_svg_relative_commands_match_absolute_ones(tmp_path):
    absolute, _ = read_svg(tmp_path, '<path d="M10 20 L30 20 H50 V60 C60 70 70 70 80 60 '
                                     'S100 50 110 60 Q120 80 130 60 T150 60 Z"/>', "a.svg")
    relative, _ = read_svg(tmp_path, '<path d="m10 20 l20 0 h20 v40 c10 10 20 10 30 0 '
                                     's20 -10 30 0 q10 20 20 0 t20 0 z"/>', "r.svg")
    assert len(absolute) == len(relative) == 1
    np.testing.assert_allclose(absolute[0], relative[0], atol=1e-9)
    stroke = absolute[0]
    np.testing.assert_allclose(stroke[:4], screen([(10, 20), (30, 20), (50, 20), (50, 60)]))
    np.testing.assert_allclose(stroke[-1], screen([(10, 20)])[0])  # Z closes back to the start
    # S reflects the previous control point: the second cubic is (80,60) (90,50) (100,50) (110,60).
    n = len(stroke)
    s_curve = lambda t: screen(cubic([(80, 60), (90, 50), (100, 50), (110, 60)], t))  # noqa: E731
    on_s = [p for p in stroke if np.min(np.hypot(*(s_curve(np.linspace(0, 1, 5001)) - p).T)) < 1e-3]
    assert len(on_s) >= 4 and n > 20
    # T reflects Q's control point: the last quadratic is (130,60) (140,40) (150,60).
    t_curve = screen(quadratic([(130, 60), (140, 40), (150, 60)], np.linspace(0, 1, 5001)))
    on_t = [p for p in stroke if np.min(np.hypot(*(t_curve - p).T)) < 1e-3]
    assert len(on_t) >= 4


def test_svg_subpaths_polylines_polygons_and_lines_are_strokes(tmp_path):
    strokes, _ = read_svg(tmp_path, '<path d="M0 0 L10 10 M20 0 L30 10 40 0"/>'
                                    '<polyline points="1,2 3,4 5,6"/><polygon points="0,0 10,0 10,10"/>'
                                    '<line x1="1" y1="2" x2="3px" y2="4"/>')
    assert [len(s) for s in strokes] == [2, 3, 3, 4, 2]
    np.testing.assert_allclose(strokes[1], screen([(20, 0), (30, 10), (40, 0)]))  # pairs after M are lines
    np.testing.assert_allclose(strokes[3][-1], strokes[3][0])  # a polygon closes
    np.testing.assert_allclose(strokes[4], screen([(1, 2), (3, 4)]))


def test_svg_transforms_on_groups_and_elements(tmp_path):
    strokes, _ = read_svg(
        tmp_path,
        '<g transform="translate(100, 50)"><g transform="scale(2)">'
        '<path d="M1 1 L2 3" transform="matrix(1 0 0 1 10 0)"/></g>'
        '<path d="M0 0 L10 0" transform="rotate(90)"/>'
        '<path d="M0 0 L10 0" transform="scale(3 0.5) translate(1)"/></g>'
        '<path d="M0 0 L0 10" transform="skewX(45)"/>'
        '<path d="M10 0 L20 0" transform="rotate(180, 10, 5)"/>')
    np.testing.assert_allclose(strokes[0], screen([(122, 52), (124, 56)]))  # 100 + 2 * (10 + x)
    np.testing.assert_allclose(strokes[1], screen([(100, 50), (100, 60)]), atol=1e-9)
    np.testing.assert_allclose(strokes[2], screen([(103, 50), (133, 50)]))
    np.testing.assert_allclose(strokes[3], screen([(0, 0), (10, 10)]), atol=1e-9)
    np.testing.assert_allclose(strokes[4], screen([(10, 10), (0, 10)]), atol=1e-9)  # about (10, 5)


def test_svg_curves_are_flattened_after_the_transform(tmp_path):
    """A curve scaled up 50 times is flattened finely enough for its size on the page."""
    from hwcli.data.inkfile import SVG_TOLERANCE

    c = [(0, 0), (1, 2), (3, 2), (4, 0)]
    strokes, _ = read_svg(tmp_path, '<g transform="scale(50)"><path d="M0 0 C1 2 3 2 4 0"/></g>')
    scaled = [(50 * x, 50 * y) for x, y in c]
    assert_on_curve(strokes[0], lambda t: screen(cubic(scaled, t)), SVG_TOLERANCE)


def test_svg_arcs_lie_on_their_circle(tmp_path):
    # A half circle of radius 50 about (100, 100), flags packed as drawing apps write them.
    strokes, _ = read_svg(tmp_path, '<path d="M50 100 a50 50 0 01100 0"/>')
    points = strokes[0] * [1, -1]
    np.testing.assert_allclose(np.hypot(*(points - [100, 100]).T), 50, atol=1e-9)
    np.testing.assert_allclose(points[[0, -1]], [(50, 100), (150, 100)], atol=1e-9)
    assert points[:, 1].min() == pytest.approx(50, abs=0.1)  # the sweep flag: over the top (y down)


def test_svg_skips_templates_and_hidden_elements(tmp_path):
    strokes, _ = read_svg(tmp_path, '<defs><path d="M0 0 L5 5"/></defs><clipPath><path d="M0 0 L1 1"/></clipPath>'
                                    '<g style="display: none"><path d="M0 0 L9 9"/></g>'
                                    '<path display="none" d="M0 0 L8 8"/><text>hi</text>'
                                    '<path d="M1 1 L2 2"/>')
    assert len(strokes) == 1
    np.testing.assert_allclose(strokes[0], screen([(1, 1), (2, 2)]))


def test_svg_written_by_hw_reads_back_one_stroke_per_path(tmp_path):
    from hwcli.render.svg import write_svg

    strokes = [np.array([[0.0, 0.0], [10, 20], [20, 0], [30, 20]]), np.array([[40.0, 0.0], [40, 30]]),
               np.array([[50.0, 30.0]])]
    write_svg(tmp_path / "hw.svg", strokes)
    back, _ = read_ink(tmp_path / "hw.svg")
    assert len(back) == 3
    # The rendered page is the ink moved and scaled: its proportions survive.
    width = lambda ss: np.ptp(np.concatenate(ss)[:, 0])  # noqa: E731
    height = lambda ss: np.ptp(np.concatenate(ss)[:, 1])  # noqa: E731
    assert width(back) / height(back) == pytest.approx(width(strokes) / height(strokes), rel=0.05)


@pytest.mark.parametrize("body, words", [
    ('<path d="L10 10"/>', "does not start with a move"),
    ('<path d="10 10"/>', "does not start with a move"),
    ('<path d="M0 0 C1 2 3"/>', "needs 6 numbers"),
    ('<path d="M0 0 X5 5"/>', "not SVG"),
    ('<path d="M0 0 Z 5 5"/>', "numbers after Z"),
    ('<polyline points="1,2 3"/>', "odd number"),
    ('<polyline points="1,2 a,b"/>', "not numbers"),
    ('<path d="M0 0 L1 1" transform="scale(1 2 3)"/>', "takes 1 or 2 numbers"),
    ('<path d="M0 0 L1 1" transform="shear(1)"/>', "cannot read the transform"),
    ('<rect width="10" height="10"/>', "holds no strokes"),
    ('<path d="M0 0 L1e999 1"/>', "not a finite number"),
])
def test_bad_svg(tmp_path, body, words):
    with pytest.raises(DataError, match="ink.svg") as caught:
        read_svg(tmp_path, body)
    assert words in str(caught.value)


def test_svg_that_is_not_svg_or_not_xml(tmp_path):
    (tmp_path / "a.svg").write_text("<html><body/></html>")
    with pytest.raises(DataError, match="not SVG"):
        read_ink(tmp_path / "a.svg")
    (tmp_path / "b.svg").write_text("<svg")
    with pytest.raises(DataError, match="not valid XML"):
        read_ink(tmp_path / "b.svg")


def test_entities_are_not_expanded(tmp_path):
    (tmp_path / "e.svg").write_text('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                    '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0 L1 1"/>&e;</svg>')
    strokes, _ = read_ink(tmp_path / "e.svg")
    assert len(strokes) == 1


def test_ink_files_over_the_size_limit_are_refused(tmp_path):
    from hwcli.data import inkfile

    target = tmp_path / "big.svg"
    target.write_text(SVG_HEAD + '<path d="M0 0 L1 1"/>' + " " * inkfile.MAX_INK_BYTES + "</svg>")
    with pytest.raises(DataError, match="at most 5 MB"):
        read_ink(target)
