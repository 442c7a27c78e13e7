"""`hw preprocess`: pairing, split, normalisation, the file, and every bad input through the CLI."""

import json
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hwcli.cli import app
from hwcli.data import dataset
from hwcli.data.iamondb import Line, parse_transcription, read_lines
from hwcli.data.preprocess import preprocess

runner = CliRunner()

FIXTURE_TEXTS = {
    "a01-000u-01": "He rallied behind him",  # CRLF file; double and trailing spaces collapse
    "a01-000u-02": "I staggered # with the effort,",  # `#` (an unreadable word) stays in the text
    "a01-000u-03": "Mr . Foot",
    "a01-001w-01": "in the validation list",  # LF file
    "a01-001w-02": "in no list",
    "b01-002x-02": "the line after it",  # its neighbour b01-002x-01 is truncated XML
}
FIXTURE_DROPPED = {
    "line count differs from transcription": 3,  # a08-551z: 3 line files, 2 CSR lines
    "malformed XML": 1,  # b01-002x-01
    "placeholder or empty transcription": 2,  # z01-000z
}
JSON_KEYS = {"train_lines", "validation_lines", "dropped", "points", "alphabet_size", "output", "seconds"}


# --- helpers -----------------------------------------------------------------------------------


def iam_copy(fixtures, target: Path, lists: bool = True) -> Path:
    shutil.copytree(fixtures / "iamondb", target)
    if not lists:
        (target / "training_set.txt").unlink()
        (target / "validation_set.txt").unlink()
    return target


def make_archives(folder: Path, target: Path) -> Path:
    """The official layout: lineStrokes-all.tar.gz and ascii-all.tar.gz (plus the split lists)."""
    target.mkdir(parents=True, exist_ok=True)
    for kind, name in (("lineStrokes", "lineStrokes-all.tar.gz"), ("ascii", "ascii-all.tar.gz")):
        with tarfile.open(target / name, "w:gz") as tar:
            tar.add(folder / kind, arcname=kind)
    for name in ("training_set.txt", "validation_set.txt"):
        if (folder / name).exists():
            shutil.copy(folder / name, target / name)
    return target


def xml_points(path: Path) -> np.ndarray:
    """Independent reading (stdlib ElementTree): all points of a line file, y flipped up, and the stroke ends."""
    strokes = [
        [(float(p.get("x")), -float(p.get("y"))) for p in stroke.iter("Point")]
        for stroke in ET.parse(path).getroot().iter("Stroke")
    ]
    return strokes


def fixture_line_offsets(fixtures, line_id: str) -> np.ndarray:
    form = line_id.rsplit("-", 1)[0]
    path = fixtures / "iamondb" / "lineStrokes" / form[:3] / form[:7] / f"{line_id}.xml"
    points = np.concatenate([np.array(s) for s in xml_points(path)])
    return np.vstack([[0.0, 0.0], np.diff(points, axis=0)])  # (N, 2) dx, dy


def invoke(*args):
    return runner.invoke(app, ["preprocess", *map(str, args)])


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- pairing and reading -----------------------------------------------------------------------


def test_transcription_crlf_and_lf(fixtures):
    crlf = (fixtures / "iamondb/ascii/a01/a01-000/a01-000u.txt").read_bytes()
    assert b"\r\n" in crlf
    assert parse_transcription(crlf) == ["He rallied  behind him", "I staggered # with the effort,", "Mr . Foot"]
    assert parse_transcription(crlf.replace(b"\r\n", b"\n")) == parse_transcription(crlf)
    assert parse_transcription(b"OCR:\nno csr block\n") == []


def test_pairing_of_lines_and_texts(fixtures):
    lines, dropped, repairs, warnings = read_lines(fixtures / "iamondb", workers=1)
    assert {line.line_id: line.text for line in lines} == FIXTURE_TEXTS
    assert dropped == FIXTURE_DROPPED
    assert repairs == 1  # the stray point of a01-001w-01
    assert warnings == []
    assert all(line.group == line.line_id.rsplit("-", 1)[0] for line in lines)


def test_offsets_are_y_up_and_repaired(fixtures):
    lines = {line.line_id: line for line in read_lines(fixtures / "iamondb", workers=1)[0]}
    for line_id in ("a01-000u-01", "a01-000u-02", "a01-000u-03"):
        np.testing.assert_array_equal(lines[line_id].offsets[:, :2], fixture_line_offsets(fixtures, line_id))
    # a01-000u-02 holds strokes of 3, 4 and 1 points.
    assert np.flatnonzero(lines["a01-000u-02"].offsets[:, 2]).tolist() == [2, 6, 7]
    # a01-001w-01 lost its stray point (2025, 2290): 7 points -> 6, no step above 500.
    repaired = lines["a01-001w-01"].offsets
    assert len(repaired) == 6
    assert np.hypot(repaired[:, 0], repaired[:, 1]).max() < 500


def test_workers_give_the_same_lines(fixtures):
    one = read_lines(fixtures / "iamondb", workers=1)
    two = read_lines(fixtures / "iamondb", workers=2)
    assert [l.line_id for l in one[0]] == [l.line_id for l in two[0]]
    assert all(np.array_equal(a.offsets, b.offsets) for a, b in zip(one[0], two[0]))
    assert one[1:] == two[1:]


# --- split and normalisation -------------------------------------------------------------------


def test_split_follows_the_lists(fixtures, tmp_path):
    summary = preprocess(fixtures / "iamondb", tmp_path / "d.npz", workers=1)
    data = dataset.load(tmp_path / "d.npz")
    parts = dict(zip(data.ids.tolist(), data.split.tolist()))
    assert parts == {
        "a01-000u-01": dataset.TRAIN,
        "a01-000u-02": dataset.TRAIN,
        "a01-000u-03": dataset.TRAIN,
        "a01-001w-01": dataset.VALIDATION,
        "b01-002x-02": dataset.TRAIN,
    }
    assert summary["dropped"] == {**FIXTURE_DROPPED, "in neither split list": 1}  # a01-001w-02
    assert summary["split"] == data.meta["split_kind"] == "lists (training_set.txt, validation_set.txt)"
    assert (summary["train_lines"], summary["validation_lines"], summary["lines_read"]) == (4, 1, 12)
    assert [data.texts[data.index_of(i)] for i in ("a01-000u-02", "b01-002x-02")] == [
        FIXTURE_TEXTS["a01-000u-02"],
        FIXTURE_TEXTS["b01-002x-02"],
    ]


def test_split_by_form_without_lists(fixtures, tmp_path):
    root = iam_copy(fixtures, tmp_path / "iam", lists=False)
    summary = preprocess(root, tmp_path / "d.npz", workers=1)
    assert summary["split"] == "by form (hash)"
    assert summary["dropped"] == FIXTURE_DROPPED
    assert summary["kept"] == 6


def test_split_by_group_keeps_groups_whole_and_is_deterministic():
    rng = np.random.default_rng(1)
    forms = [f"f{i:03d}-{j:03d}x" for i in range(40) for j in range(10)]
    groups = [forms[k] for k in rng.integers(0, len(forms), 3000)]
    split = dataset.split_by_group(groups)
    by_group = {}
    for group, part in zip(groups, split):
        by_group.setdefault(group, set()).add(int(part))
    assert all(len(parts) == 1 for parts in by_group.values())  # no form on both sides
    share = np.mean([parts == {dataset.VALIDATION} for parts in by_group.values()])
    assert 0.06 < share < 0.18  # about VALIDATION_SHARE (12%) of the forms
    # Same answer on every run and in any order: a stable hash, not Python's salted hash().
    order = rng.permutation(len(groups))
    np.testing.assert_array_equal(dataset.split_by_group([groups[i] for i in order]), split[order])
    script = "from hwcli.data.dataset import split_by_group; print(split_by_group(%r).tolist())" % groups[:50]
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(other.stdout) == split[:50].tolist()


def test_normalisation_from_training_lines_only(fixtures, tmp_path):
    preprocess(fixtures / "iamondb", tmp_path / "d.npz", workers=1)
    data = dataset.load(tmp_path / "d.npz")
    train_ids = ["a01-000u-01", "a01-000u-02", "a01-000u-03", "b01-002x-02"]
    rows = np.concatenate([fixture_line_offsets(fixtures, i) for i in train_ids])
    np.testing.assert_allclose(data.mean, rows.mean(0), rtol=1e-6)
    np.testing.assert_allclose(data.std, rows.std(0), rtol=1e-6)
    # The validation line would change them: they really exclude it.
    everything = np.concatenate([rows, data.line(data.index_of("a01-001w-01"))[:, :2]])
    assert not np.allclose(everything.mean(0), data.mean)
    # Alphabet counts come from the training texts only.
    counts = data.meta["alphabet_counts"]
    assert counts["#"] == 1 and "v" not in counts  # "v" only in the validation text "in the validation list"


# --- the file ----------------------------------------------------------------------------------


def test_file_loads_in_one_call_with_provenance(fixtures, tmp_path):
    summary = preprocess(fixtures / "iamondb", tmp_path / "d.npz", workers=1)
    data = dataset.load(tmp_path / "d.npz")
    assert len(data) == 5 and data.offsets.dtype == np.float32
    assert data.starts[-1] == len(data.offsets) == summary["points"]
    meta = data.meta
    assert meta["source"] == "IAM-OnDB" and meta["format"] == "iamondb"
    assert meta["dropped"] == summary["dropped"] and meta["repairs"] == 1
    assert meta["tool_version"] and meta["format_version"] == dataset.FORMAT_VERSION
    lines = {line.line_id: line for line in read_lines(fixtures / "iamondb", workers=1)[0]}
    for i, line_id in enumerate(data.ids):
        np.testing.assert_array_equal(data.line(i), lines[line_id].offsets)


def test_same_input_same_bytes(fixtures, tmp_path):
    preprocess(fixtures / "iamondb", tmp_path / "a.npz", workers=1)
    preprocess(fixtures / "iamondb", tmp_path / "b.npz", workers=2)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_zip_entries_carry_a_fixed_time(fixtures, tmp_path):
    # np.savez_compressed would stamp the current time: files made a second apart would differ.
    preprocess(fixtures / "iamondb", tmp_path / "d.npz", workers=1)
    with zipfile.ZipFile(tmp_path / "d.npz") as archive:
        assert {info.date_time for info in archive.infolist()} == {dataset.ZIP_DATE_TIME}
        assert [info.filename for info in archive.infolist()] == [
            f"{name}.npy" for name in ("xy", "end_of_stroke", "starts", "ids", "texts", "split", "meta")
        ]


@pytest.mark.parametrize(
    "xy, stored",
    [
        ([[0, 0], [3, -4], [-7, 12]], np.int16),
        ([[0, 0], [40000, -4], [-7, 12]], np.int32),  # beyond int16
        ([[0, 0], [0.5, -4.25], [-7, 12]], np.float32),  # not integers: kept as they are
    ],
)
def test_save_load_is_exact_for_each_storage_type(xy, stored, tmp_path):
    offsets = np.column_stack([np.array(xy, np.float32), [0, 1, 1]]).astype(np.float32)
    lines = [Line("x-01", "x", "ab", offsets), Line("y-01", "y", "", offsets[:2])]
    data = dataset.build(lines, np.array([dataset.TRAIN, dataset.VALIDATION], np.uint8), {"source": "test"})
    dataset.save(data, tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as npz:
        assert npz["xy"].dtype == stored
    back = dataset.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.offsets, data.offsets)
    np.testing.assert_array_equal(back.starts, [0, 3, 5])
    assert back.ids.tolist() == ["x-01", "y-01"] and back.texts.tolist() == ["ab", ""]
    assert back.meta["source"] == "test" and back.meta["points"] == 5


def test_folders_and_archives_give_identical_files(fixtures, tmp_path):
    archives = make_archives(fixtures / "iamondb", tmp_path / "archives")
    a = preprocess(fixtures / "iamondb", tmp_path / "folders.npz", workers=1)
    b = preprocess(archives, tmp_path / "archives.npz", workers=1)
    assert (a["read_from"], b["read_from"]) == ("folders", "archives")
    assert (tmp_path / "folders.npz").read_bytes() == (tmp_path / "archives.npz").read_bytes()


def test_real_sample_folders_and_archives_identical(shared_data, tmp_path):
    sample = shared_data("iam-ondb-sample")
    archives = make_archives(sample, tmp_path / "archives")
    preprocess(sample, tmp_path / "folders.npz")
    preprocess(archives, tmp_path / "archives.npz")
    assert (tmp_path / "folders.npz").read_bytes() == (tmp_path / "archives.npz").read_bytes()


def test_real_sample(shared_data, hw_home):
    result = invoke(shared_data("iam-ondb-sample"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # data/README.md: 172 lines from 25 forms, lists of 137 and 35 lines.
    assert (summary["lines_read"], summary["train_lines"], summary["validation_lines"]) == (172, 137, 35)
    assert summary["dropped"] == {}
    assert summary["output"] == str(hw_home / "datasets" / "iam-ondb.npz")
    data = dataset.load(summary["output"])
    assert len(data) == 172 and len(data.offsets) == summary["points"]
    assert 400 < summary["points"] / 172 < 900  # README: lines hold 626 points on average
    forms = np.array([i.rsplit("-", 1)[0] for i in data.ids])
    assert not set(forms[data.split == dataset.TRAIN]) & set(forms[data.split == dataset.VALIDATION])
    assert summary["alphabet_size"] == len(data.meta["alphabet_counts"]) > 40


# --- the command -------------------------------------------------------------------------------


def test_json_summary(fixtures, hw_home):
    result = invoke(fixtures / "iamondb", "--json", "--workers", "1")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # one JSON object and nothing else on stdout
    assert JSON_KEYS <= set(summary)
    assert summary["dropped"]["malformed XML"] == 1
    assert Path(summary["output"]) == hw_home / "datasets" / "iam-ondb.npz"
    assert Path(summary["output"]).stat().st_size == summary["output_bytes"]
    assert "error" not in result.stderr


def test_table_summary_goes_to_stderr(fixtures, hw_home, tmp_path):
    out = tmp_path / "out.npz"
    result = invoke(fixtures / "iamondb", "-o", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    for label in ("lines read", "dropped: malformed XML", "recording errors repaired", "points", "training", "validation", "alphabet", "time"):
        assert label in result.stderr
    assert f"wrote {out}\n" in result.stderr  # one line, however long the path
    assert dataset.load(out)


def test_svc_default_output(fixtures, hw_home):
    result = invoke(fixtures / "svc2004", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert Path(summary["output"]) == hw_home / "datasets" / "svc2004.npz"
    assert summary["forgeries_left_out"] == 1 and summary["dropped"] == {"malformed signature file": 1}
    assert json.loads(invoke(fixtures / "svc2004", "--json", "--force", "--all-signatures").stdout)["kept"] == 4


def test_existing_output_is_replaced(fixtures, hw_home, tmp_path):
    """One policy for every command (docs/user-guide.md): -o replaces an existing file, atomically;
    --force is still accepted (old scripts) and changes nothing."""
    out = tmp_path / "out.npz"
    out.write_bytes(b"old")
    result = invoke(fixtures / "iamondb", "-o", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert len(dataset.load(out)) == 5
    result = invoke(fixtures / "iamondb", "-o", out, "--force", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert len(dataset.load(out)) == 5
    assert files_under(tmp_path) == ["out.npz"]  # no temporary file left beside it


def _setup_bad(kind: str, fixtures, tmp_path) -> Path:
    """A bad input of each kind; returns the PATH to give the command."""
    root = tmp_path / "input"
    if kind == "missing":
        return root
    if kind == "empty folder":
        root.mkdir()
    elif kind == "empty file":
        root.write_bytes(b"")
    elif kind == "not a data set":
        root.mkdir()
        (root / "notes.txt").write_text("hello")
    elif kind == "strokes without ascii":
        root.mkdir()
        shutil.copytree(fixtures / "iamondb" / "lineStrokes", root / "lineStrokes")
    elif kind == "one archive":
        make_archives(fixtures / "iamondb", root)
        (root / "ascii-all.tar.gz").unlink()
    elif kind == "a file that is no zip":
        root.write_bytes(b"just some bytes")
    elif kind == "only malformed XML":
        iam_copy(fixtures, root)
        for path in (root / "lineStrokes").rglob("*.xml"):
            path.write_bytes(path.read_bytes()[:300])
    elif kind == "truncated archive":
        make_archives(fixtures / "iamondb", root)
        archive = root / "lineStrokes-all.tar.gz"
        archive.write_bytes(archive.read_bytes()[:200])
    elif kind == "only one split list":
        iam_copy(fixtures, root)
        (root / "validation_set.txt").unlink()
    elif kind == "wrong --format":
        iam_copy(fixtures, root)
    return root


BAD_INPUTS = {
    # kind: a phrase the one-line message must hold
    "missing": "no such file or folder",
    "empty folder": "is empty",
    "empty file": "is empty",
    "not a data set": "is not a data set",
    "strokes without ascii": "holds lineStrokes/ but no ascii/",
    "one archive": "holds lineStrokes-all.tar.gz but not ascii-all.tar.gz",
    "a file that is no zip": "is not a data set",
    "only malformed XML": "no usable lines",
    "truncated archive": "truncated or corrupt",
    "only one split list": "holds training_set.txt but not validation_set.txt",
    "wrong --format": "holds no SVC2004 signature files",
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_one_line_and_no_file(kind, fixtures, hw_home, tmp_path):
    path = _setup_bad(kind, fixtures, tmp_path)
    extra = ["--format", "svc2004"] if kind == "wrong --format" else []
    result = invoke(path, "--workers", "1", *extra)
    assert result.exit_code == 1, result.output
    assert BAD_INPUTS[kind] in one_error_line(result)
    assert files_under(hw_home) == []  # never a half-written output file


def test_malformed_xml_message_counts_it(fixtures, hw_home, tmp_path):
    result = invoke(_setup_bad("only malformed XML", fixtures, tmp_path), "--workers", "1")
    assert "12 malformed XML" in one_error_line(result)


def test_unreadable_files_are_counted(fixtures, hw_home, tmp_path):
    root = iam_copy(fixtures, tmp_path / "iam")
    # A folder where a file should be cannot be read, whoever runs the test (root ignores chmod).
    line = root / "lineStrokes/a01/a01-000/a01-000u-03.xml"
    line.unlink()
    line.mkdir()
    transcription = root / "ascii/b01/b01-002/b01-002x.txt"
    transcription.unlink()
    transcription.mkdir()
    result = invoke(root, "--json", "--workers", "1")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # a01-000u-03 itself, and b01-002x-02 (its neighbour b01-002x-01 stays "malformed XML").
    assert summary["dropped"]["unreadable file"] == 2
    assert summary["kept"] == 3
    assert len(summary["warnings"]) == 2 and all("cannot read" in w for w in summary["warnings"])


def test_truncated_archive_with_usable_lines_is_reported(shared_data, hw_home, tmp_path):
    archives = make_archives(shared_data("iam-ondb-sample"), tmp_path / "archives")
    strokes = archives / "lineStrokes-all.tar.gz"
    strokes.write_bytes(strokes.read_bytes()[: strokes.stat().st_size // 2])
    result = invoke(archives, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "warning: lineStrokes-all.tar.gz is truncated or corrupt" in result.stderr
    summary = json.loads(invoke(archives, "--json", "--force", "--workers", "1").stdout)
    assert 0 < summary["lines_read"] < 172
    assert summary["warnings"] and "truncated" in summary["warnings"][0]


def test_failed_write_leaves_nothing(fixtures, hw_home, tmp_path, monkeypatch):
    def broken(handle, arrays):
        handle.write(b"PK half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dataset, "_write_npz", broken)
    out = tmp_path / "out" / "d.npz"
    out.parent.mkdir()  # -o never creates a folder (docs/user-guide.md)
    result = invoke(fixtures / "iamondb", "-o", out, "--workers", "1")
    assert result.exit_code == 1
    assert "cannot write" in one_error_line(result) and "No space left" in result.stderr
    assert files_under(tmp_path / "out") == []


def test_output_that_is_a_folder(fixtures, hw_home, tmp_path):
    result = invoke(fixtures / "iamondb", "-o", tmp_path, "--workers", "1")
    assert result.exit_code != 0
    assert "is a folder" in one_error_line(result)


def test_help_imports_neither_numpy_nor_torch():
    for args in (["--help"], ["preprocess", "--help"]):
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "hwcli", *args], capture_output=True, text=True, check=True
        )
        imported = {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines() if "|" in line}
        assert "numpy" not in imported and "torch" not in imported
        assert "Usage" in run.stdout
