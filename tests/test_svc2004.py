"""SVC2004 signatures (hwcli/data/svc2004.py): parsing, pen-up handling, genuine vs forgeries, folder vs zip."""

import zipfile

import numpy as np
import pytest

from hwcli.data import dataset
from hwcli.data.preprocess import preprocess
from hwcli.data.svc2004 import (
    is_svc2004,
    parse_signature,
    read_signatures,
    signature_key,
)


def test_signature_names():
    assert signature_key("U5S10.TXT") == (5, 10)
    assert signature_key("Task2/U40S21.txt") == (40, 21)
    assert signature_key("Task2/readme.txt") is None
    assert signature_key("U5S10.TXT.bak") is None


def test_pen_up_samples_split_strokes_and_are_not_ink(fixtures):
    strokes = parse_signature((fixtures / "svc2004" / "U1S1.TXT").read_bytes())
    # Samples: up, down x3, up, down x2 -> two strokes, the pen-up samples gone, y as in the file (up).
    assert [s.tolist() for s in strokes] == [[[100, 200], [110, 230], [125, 260]], [[200, 210], [210, 240]]]


def test_side_button_values_are_pen_down(fixtures):
    # U2S1 has BUTTON 3 in the middle of its stroke (as writers U25, U26, ... do in the real data).
    strokes = parse_signature((fixtures / "svc2004" / "U2S1.TXT").read_bytes())
    assert [len(s) for s in strokes] == [3]


@pytest.mark.parametrize(
    "text",
    [b"5\r\n10 10 0 1\r\n", b"two\r\n1 2 3 1\r\n4 5 6 1\r\n", b"2\r\n1 2 3\r\n4 5 6 1\r\n", b"", b"1\r\n1 2 x 1\r\n"],
)
def test_malformed_files_raise(text):
    with pytest.raises(ValueError):
        parse_signature(text)


def test_read_genuine_only_by_default(fixtures):
    lines, dropped, forgeries, warnings = read_signatures(fixtures / "svc2004")
    assert [line.line_id for line in lines] == ["U1S1", "U1S2", "U2S1"]
    assert [line.group for line in lines] == ["U1", "U1", "U2"]
    assert all(line.text == "" for line in lines)
    assert dropped == {"malformed signature file": 1}  # U3S1: header says 5 points, file holds 3
    assert forgeries == 1
    assert warnings == []
    first = lines[0].offsets
    np.testing.assert_array_equal(first[:, 2], [0, 0, 1, 0, 1])
    np.testing.assert_array_equal(first[:, :2], [[0, 0], [10, 30], [15, 30], [75, -50], [10, 30]])


def test_read_all_signatures(fixtures):
    lines, _, forgeries, _ = read_signatures(fixtures / "svc2004", include_forgeries=True)
    assert [line.line_id for line in lines] == ["U1S1", "U1S2", "U2S1", "U2S21"]
    assert forgeries == 0


def _zip_fixtures(fixtures, target):
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted((fixtures / "svc2004").iterdir()):
            archive.write(path, f"Task2/{path.name}")
    return target


def test_folder_and_zip_give_the_same_file(fixtures, tmp_path):
    archive = _zip_fixtures(fixtures, tmp_path / "Task2.zip")
    assert is_svc2004(archive) and is_svc2004(fixtures / "svc2004")
    a = preprocess(fixtures / "svc2004", tmp_path / "folder.npz")
    b = preprocess(archive, tmp_path / "zip.npz")
    assert (a["read_from"], b["read_from"]) == ("folder", "zip")
    assert (tmp_path / "folder.npz").read_bytes() == (tmp_path / "zip.npz").read_bytes()
    data = dataset.load(tmp_path / "zip.npz")
    assert data.meta["split_kind"] == "by writer (hash)"
    assert data.meta["signatures"] == "genuine"
    assert list(data.texts) == ["", "", ""]


def test_unpacked_task_folder_one_level_down(fixtures, tmp_path):
    # Unzipping Task2.zip gives Task2/U1S1.TXT...: the parent folder works too.
    archive = _zip_fixtures(fixtures, tmp_path / "Task2.zip")
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "unpacked")
    summary = preprocess(tmp_path / "unpacked", tmp_path / "out.npz")
    assert summary["format"] == "svc2004" and summary["kept"] == 3


def test_real_task2_zip(shared_data, tmp_path):
    archive = shared_data("svc2004", "Task2.zip")
    lines, dropped, forgeries, warnings = read_signatures(archive)
    assert len(lines) == 800 and forgeries == 800 and dropped == {} and warnings == []
    assert {line.group for line in lines} == {f"U{i}" for i in range(1, 41)}
    assert all(int(line.line_id.split("S")[1]) <= 20 for line in lines)
    # Every file's first sample is pen-up, so each signature starts with ink, and ends a stroke.
    assert all(line.offsets[-1, 2] == 1 for line in lines)

    summary = preprocess(archive, tmp_path / "svc.npz", all_signatures=True)
    assert summary["lines_read"] == 1600 and summary["kept"] == 1600
    data = dataset.load(tmp_path / "svc.npz")
    writers = np.array([i.split("S")[0] for i in data.ids])
    train = set(writers[data.split == dataset.TRAIN])
    validation = set(writers[data.split == dataset.VALIDATION])
    assert train and validation and not train & validation


def test_real_signatures_are_upright(shared_data):
    # Orientation check on U2S1, which reads "Jones" with y up: the capital J's
    # top bar (its first stroke) lies above the rest of the signature.
    archive = shared_data("svc2004", "Task2.zip")
    with zipfile.ZipFile(archive) as z:
        strokes = parse_signature(z.read("Task2/U2S1.TXT"))
    rest = np.concatenate(strokes[1:])
    assert strokes[0][:, 1].mean() > np.median(rest[:, 1])
