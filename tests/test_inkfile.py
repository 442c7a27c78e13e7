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
