"""The style library (hwcli/generate/library.py) and `hw styles list|add|remove` through the CLI:
names, JSON/InkML/SVG sources, several lines, the stored form, `--style NAME` in `hw write`
(library first), and bad input (no strokes, a dot, one character, huge files, a name taken
twice, a failed write) answered with one line, a non-zero exit and nothing half-written.
"""

# The session's fixtures come from conftest; pytest passes them as arguments of the same name.
# ruff: noqa: F811

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_checks import assert_ok, assert_one_line_error
from conftest import SYNTHESIS
from typer.testing import CliRunner

from hwcli.cli import app
from hwcli.data.inkfile import read_ink
from hwcli.errors import DataError, UsageError
from hwcli.generate import library
from hwcli.generate.priming import load_prime

STYLES = Path(__file__).resolve().parent / "fixtures" / "styles"
runner = CliRunner()


def hw(*args):
    return runner.invoke(app, [str(a) for a in args])


def library_files(home: Path) -> list[str]:
    """Everything in the library folder, temporary files included."""
    folder = home / "styles"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def wavy_line(x0=0.0, y0=0.0, strokes=4, scale=1.0) -> list[np.ndarray]:
    """A line of handwriting-like strokes (y up), `strokes` letters wide."""
    out = []
    for k in range(strokes):
        t = np.linspace(0, 1, 15)
        out.append(np.column_stack([x0 + scale * (30 * k + 20 * t), y0 + scale * 40 * np.sin(3 * t)]))
    return out


def write_json(path: Path, strokes, text=None, **extra) -> Path:
    document = {"text": text, "y_down": False, "strokes": [np.asarray(s).tolist() for s in strokes], **extra}
    path.write_text(json.dumps(document))
    return path


# ---------------------------------------------------------------- add, list, remove


@pytest.mark.parametrize("source", ["hi.json", "hi.inkml"])
def test_add_list_use_remove(hw_home, source):
    result = hw("styles", "add", "mine", STYLES / source)
    assert_ok(result)
    assert "saved style 'mine' (1 line)" in result.stderr and "--style mine" in result.stderr
    path = hw_home / "styles" / "mine.json"
    assert library_files(hw_home) == ["mine.json"]
    strokes, text = read_ink(path)
    assert text == "hi" and len(strokes) == 4

    listed = hw("styles", "list", "--json")
    assert_ok(listed)
    rows = json.loads(listed.stdout)
    mine = [r for r in rows if r["name"] == "mine"]
    assert mine == [{"name": "mine", "kind": "library", "text": "hi", "lines": 1, "strokes": 4,
                     "points": 20, "path": str(path)}]
    assert {r["name"] for r in rows if r["kind"] == "built-in"} == set(library.builtin_names())
    table = hw("styles", "list")
    assert_ok(table)
    assert "mine" in table.stdout and "library" in table.stdout and "built-in" in table.stdout

    models = hw("models")
    assert "your styles (hw styles list): mine" in models.stdout

    removed = hw("styles", "remove", "mine")
    assert_ok(removed)
    assert "removed style 'mine'" in removed.stderr
    assert library_files(hw_home) == []
    assert "is empty" in " ".join(hw("styles", "list").stdout.split())  # rich wraps long paths


def test_the_stored_form_is_normalised_and_reads_back_as_lines(hw_home, tmp_path):
    small = write_json(tmp_path / "small.json", wavy_line(5, 7, scale=0.01), "ab cd")  # millimetres, say
    big = write_json(tmp_path / "big.json", wavy_line(500, -300, strokes=3, scale=30.0), "ef gh")  # pixels
    assert_ok(hw("styles", "add", "two", small, big))
    path = hw_home / "styles" / "two.json"
    document = json.loads(path.read_text())
    assert document["y_down"] is False and document["hw_style"] == 1
    assert document["lines"] == [4, 3] and document["text"] == "ab cd\nef gh"
    assert document["source"] == "small.json, big.json"
    lines = library.read_style(path).lines
    assert [ln.text for ln in lines] == ["ab cd", "ef gh"]
    for ln, original in zip(lines, (wavy_line(scale=0.01), wavy_line(strokes=3, scale=30.0))):
        assert library.line_height(ln.strokes) == pytest.approx(library.NORMAL_HEIGHT, rel=1e-3)
        assert np.median(np.concatenate(ln.strokes)[:, 1]) == pytest.approx(0, abs=0.01)
        assert min(s[:, 0].min() for s in ln.strokes) == pytest.approx(0, abs=0.01)
        # The same shape, only scaled: proportions kept.
        scale = library.NORMAL_HEIGHT / library.line_height(original)
        for a, b in zip(ln.strokes, original):
            np.testing.assert_allclose(np.diff(a, axis=0), np.diff(b, axis=0) * scale, atol=0.02)
    # As one line of ink (what --style FILE and read_ink see): the second line after the first.
    strokes, _ = read_ink(path)
    assert strokes[4][:, 0].min() > strokes[3][:, 0].max()


def test_a_file_of_several_lines_is_split_by_its_text(hw_home, tmp_path):
    page = [*wavy_line(0, 0), *wavy_line(0, -200), *wavy_line(0, -400, strokes=2)]
    source = write_json(tmp_path / "page.json", page, "one line\nthe second\nthird")
    assert_ok(hw("styles", "add", "page", source))
    lines = library.read_style(hw_home / "styles" / "page.json").lines
    assert [(ln.text, len(ln.strokes)) for ln in lines] == [("one line", 4), ("the second", 4), ("third", 2)]
    # --text with a literal \n does the same; a count that the ink does not show is refused.
    assert_ok(hw("styles", "add", "page2", source, "--text", "a b\\nc d\\ne f"))
    result = hw("styles", "add", "page3", source, "--text", "a b\nc d")
    assert_one_line_error(result, 1, "the text has 2 lines but the ink shows 3")
    assert "page3.json" not in library_files(hw_home)


def test_a_transcription_that_wraps_over_one_line_of_ink_stays_one_line(hw_home):
    assert_ok(hw("styles", "add", "wrapped", STYLES / "multiline.inkml"))
    lines = library.read_style(hw_home / "styles" / "wrapped.json").lines
    assert [(ln.text, len(ln.strokes)) for ln in lines] == [("hi hi", 6)]


def test_svg_from_a_drawing_app(hw_home, tmp_path):
    svg = tmp_path / "drawn.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100">'
        '<g transform="translate(10 20)"><path d="M0 50 C 10 0 20 0 30 50 S 50 100 60 50" fill="none"/>'
        '<path d="m70 50 q 10 -40 20 0 t 20 0"/><polyline points="120,10 125,60 130,10"/></g></svg>')
    result = hw("styles", "add", "drawn", svg)
    assert_one_line_error(result, 2, "has no text", "--text")
    assert_ok(hw("styles", "add", "drawn", svg, "--text", "hello"))
    (line,) = library.read_style(hw_home / "styles" / "drawn.json").lines
    assert line.text == "hello" and len(line.strokes) == 3


def test_several_files_take_one_text_each(hw_home):
    result = hw("styles", "add", "x", STYLES / "hi.json", STYLES / "hi.inkml", "--text", "hi")
    assert_one_line_error(result, 2, "2 files but 1 --text")
    assert_ok(hw("styles", "add", "x", STYLES / "hi.json", STYLES / "notext.json", "--text", "hi", "--text", "ho"))
    assert [ln.text for ln in library.read_style(hw_home / "styles" / "x.json").lines] == ["hi", "ho"]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name, fragment", [
    ("bad/name", "cannot name a style"),
    ("..", "cannot name a style"),
    (".hidden", "cannot name a style"),
    ("with space", "cannot name a style"),
    ("x" * 65, "cannot name a style"),
    ("none", "means no style"),
    ("mine.json", "ends like an ink file"),
    ("mine.svg", "ends like an ink file"),
    ("line:abc", "cannot name a style"),
])
def test_bad_names_are_refused(hw_home, name, fragment):
    assert_one_line_error(hw("styles", "add", name, STYLES / "hi.json"), 2, fragment)
    assert library_files(hw_home) == []


def test_good_names():
    for name in ("mine", "My_Hand-2", "ada.lovelace", "9"):
        assert library.check_name(name) == name


def test_a_name_taken_twice_is_refused_unless_forced(hw_home, tmp_path):
    assert_ok(hw("styles", "add", "mine", STYLES / "hi.json"))
    before = (hw_home / "styles" / "mine.json").read_bytes()
    for name in ("mine", "MINE"):  # letter case aside: one name on every file system
        result = hw("styles", "add", name, STYLES / "hi.inkml")
        assert_one_line_error(result, 2, "in your library already", "--force")
    assert library_files(hw_home) == ["mine.json"]
    assert (hw_home / "styles" / "mine.json").read_bytes() == before
    other = write_json(tmp_path / "other.json", wavy_line(), "other")
    assert_ok(hw("styles", "add", "Mine", other, "--force"))
    assert library_files(hw_home) == ["Mine.json"]
    assert read_ink(hw_home / "styles" / "Mine.json")[1] == "other"


def test_built_in_names_are_refused_and_built_ins_stay(hw_home):
    builtin = library.builtin_names()[0]
    for args in ((), ("--force",)):
        result = hw("styles", "add", builtin, STYLES / "hi.json", *args)
        assert_one_line_error(result, 2, "built-in style")
    assert_one_line_error(hw("styles", "add", builtin.upper(), STYLES / "hi.json"), 2, "built-in style")
    assert_one_line_error(hw("styles", "remove", builtin), 2, "cannot be removed")
    assert_one_line_error(hw("styles", "remove", "nothing"), 2, "no style named 'nothing' in your library")
    assert library_files(hw_home) == []


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("make, args, code, fragment", [
    (lambda d: STYLES / "nostrokes.json", (), 1, "holds no strokes"),
    (lambda d: STYLES / "nostrokes.inkml", (), 1, "holds no strokes"),
    (lambda d: STYLES / "onepoint.json", (), 1, "single dot"),
    (lambda d: write_json(d / "dots.json", [[[3, 4]], [[3, 4], [3, 4]]], "ab"), (), 1, "single dot"),
    (lambda d: write_json(d / "flat.json", [[[0, 4], [50, 4]]], "ab"), (), 1, "flat"),
    (lambda d: STYLES / "hi.json", ("--text", "a"), 2, "too short"),
    (lambda d: STYLES / "hi.json", ("--text", "  "), 2, "has no text"),
    (lambda d: STYLES / "malformed.json", (), 1, "not valid JSON"),
    (lambda d: d / "missing.json", (), 1, "no ink file"),
    (lambda d: d / "notes.txt", (), 1, "unknown extension"),
    (lambda d: write_json(d / "long.json", wavy_line(), "x" * 201), (), 2, "200 characters"),
])
def test_bad_ink_is_one_line_and_leaves_nothing(hw_home, tmp_path, make, args, code, fragment):
    result = hw("styles", "add", "mine", make(tmp_path), *args)
    assert_one_line_error(result, code, fragment)
    assert library_files(hw_home) == []


def test_huge_files_and_too_many_points_are_refused(hw_home, tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_text('{"text": "hi", "strokes": [[' + ", ".join(["[1.000000, 2.000000]"] * 260_000) + "]]}")
    assert huge.stat().st_size > 5_000_000
    assert_one_line_error(hw("styles", "add", "mine", huge), 1, "at most 5 MB")
    many = write_json(tmp_path / "many.json", [np.zeros((200_001, 2), int)], "hi")
    assert_one_line_error(hw("styles", "add", "mine", many), 1, "200001 points", "at most 200000")
    x = np.arange(120_000) % 97
    lots = write_json(tmp_path / "lots.json", [np.column_stack([x, x % 13])], "hi")
    assert_one_line_error(hw("styles", "add", "mine", lots), 1, "a style may hold at most 100000")
    assert library_files(hw_home) == []


def test_a_failed_write_leaves_nothing_half_written(hw_home, monkeypatch):
    assert_ok(hw("styles", "add", "mine", STYLES / "hi.json"))
    before = (hw_home / "styles" / "mine.json").read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", broken)
    result = hw("styles", "add", "mine", STYLES / "hi.inkml", "--force")
    assert_one_line_error(result, 1, "No space left on device")
    result = hw("styles", "add", "other", STYLES / "hi.inkml")
    assert_one_line_error(result, 1, "No space left on device")
    assert library_files(hw_home) == ["mine.json"]  # no temporary file, no other.json
    assert (hw_home / "styles" / "mine.json").read_bytes() == before


def test_line_breaks_need_a_real_new_line():
    one = wavy_line(strokes=6)
    assert library.line_breaks(one) == []
    two = [*wavy_line(strokes=6), *wavy_line(0, -150, strokes=3)]
    assert library.line_breaks(two) == [6]
    # A stroke back to the left but not lower (an i dot, a t bar) does not start a line.
    dotted = [*wavy_line(strokes=6), np.array([[5.0, 60.0], [6.0, 61.0]])]
    assert library.line_breaks(dotted) == []


# ---------------------------------------------------------------- --style NAME


def test_write_with_a_library_style(home, tmp_path, monkeypatch):
    monkeypatch.setattr("hwcli.paths.styles_library_dir", lambda: tmp_path / "styles")
    result = hw("styles", "add", "mine", STYLES / "hi.json")
    assert_ok(result)
    by_name, by_file = tmp_path / "by_name.svg", tmp_path / "by_file.svg"
    assert_ok(hw("write", "hello", "-o", by_name, "--model", SYNTHESIS, "--seed", 3, "--style", "mine"))
    assert_ok(hw("write", "hello", "-o", by_file, "--model", SYNTHESIS, "--seed", 3,
                 "--style", tmp_path / "styles" / "mine.json"))
    assert by_name.read_bytes() == by_file.read_bytes()
    result = hw("write", "hello", "-o", tmp_path / "x.svg", "--model", SYNTHESIS, "--style", "nosuch")
    assert result.exit_code == 2 and "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]  # after the line naming the model, if any
    assert last.startswith("error: no style named 'nosuch'") and "yours: mine" in last, result.stderr


def test_the_library_comes_before_the_built_ins(tiny, tmp_path, monkeypatch):
    """A built-in of the same name (shipped after the user took it) is hidden by the user's own."""
    monkeypatch.setattr("hwcli.paths.styles_library_dir", lambda: tmp_path / "styles")
    monkeypatch.setattr("hwcli.paths.styles_dir", lambda: STYLES)  # the fixtures stand in for the built-ins
    model = tiny.load()
    assert load_prime("hi", model).text == "hi"  # the built-in
    (tmp_path / "styles").mkdir()
    mine = write_json(tmp_path / "styles" / "hi.json", wavy_line(), "my own")
    assert load_prime("hi", model).text == "my own"
    rows = {(r.name, r.kind): r for r in library.entries()}
    assert rows[("hi", "built-in")].shadowed and not rows[("hi", "library")].shadowed
    assert rows[("hi", "library")].path == mine


def test_find_ignores_what_is_not_a_style_name(hw_home):
    for style in ("my.json", "/tmp/x.inkml", "line:abc", "", "../x"):
        assert library.find(style) is None


def test_library_errors_are_the_right_kind(hw_home):
    with pytest.raises(UsageError):
        library.add("mine", [[library.Line(wavy_line(), "a")]])
    with pytest.raises(DataError):
        library.add("mine", [[library.Line([], "ab")]])
    with pytest.raises(UsageError, match="20 lines"):
        library.add("mine", [[library.Line(wavy_line(), "ab")] * 21])
    assert library_files(hw_home) == []


def test_a_style_only_from_svg_has_no_timing(tmp_path):
    """SVG paths carry no pen timing, so such a style is resampled along its path (priming.fit_to_model)."""
    for source, svg_only in (("a.svg, b.SVG", True), ("a.svg, b.json", False), ("capture", False), ("", False)):
        style = tmp_path / "s.json"
        style.write_text(json.dumps({"text": "hi", "source": source, "strokes": [[[0, 0], [1, 1]]]}))
        assert library.read_style(style).timed is not svg_only, source
    (tmp_path / "listed.json").write_text(json.dumps([[[0, 0], [1, 1]]]))  # a bare list of strokes: no keys
    assert library.read_style(tmp_path / "listed.json").timed
