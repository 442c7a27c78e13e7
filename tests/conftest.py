"""Shared fixtures: an isolated HW_HOME, the fixture files, the session's tiny models and datasets.

Everything here runs from a clone. The tiny models and datasets are built from a
synthetic IAM-OnDB folder written at session start (`synthetic_iamondb`: made-up
glyphs in the real file format, read by the real reader), so every write, sample,
style, inspect and training test runs without the real data. The real data sets
sit beside the repository, never inside it (../shared/data): the tests that need
them (`shared_data`, `sample_dataset`) are an extra layer and skip, saying why,
when it is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

# Real data sets sit beside the repository, never inside it: ../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA device (skipped without one); bench/gpu_check.sh runs `-m cuda`")


def shared_data_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the calling test, saying why, when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found at {path} (tests read it from ../shared/data beside the repository)")
    return path


@pytest.fixture
def shared_data():
    """`shared_data("iam-ondb-sample")` -> that path, or the test is skipped with the reason."""
    return shared_data_path


@pytest.fixture(autouse=True)
def float32_training(monkeypatch):
    """Tests train in float32: the default precision, auto, resolves to it; a test that wants
    bf16 asks for it (and test_precision_auto_follows_the_hardware sets bf16_pays itself)."""
    from hwcli.training import loop

    monkeypatch.setattr(loop, "bf16_pays", lambda device: False)


@pytest.fixture
def hw_home(tmp_path, monkeypatch) -> Path:
    """HW_HOME in a fresh temporary folder: the cache dir of every command in the test."""
    home = tmp_path / "hw_home"
    home.mkdir()
    monkeypatch.setenv("HW_HOME", str(home))
    return home


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures: small hand-written files in the real formats."""
    return FIXTURES


# --- a synthetic IAM-OnDB folder ---------------------------------------------------------------------

# 40 lines in 10 forms of 4; every character of the real sample's alphabet occurs (letters, digits,
# punctuation), so tests written for a model trained on real lines find their characters.
SYNTHETIC_TEXTS = [
    "Good morning, said the quick brown fox.",
    "hello there, we jumped over a lazy dog",
    "The five boxing wizards jump quickly!",
    "Pack my box with five dozen liquor jugs.",
    "How vexingly quick daft zebras jump?",
    "Meet me at 7:45 by the old mill - Ada",
    "She said \"yes\" and we left at 10 past 3.",
    "It's 2 + 2 = 4, or so Vera told Ursula.",
    "Jack's 9 quiet oxen grazed in Kent.",
    "Waltz, bad nymph, for quick jigs vex!",
    "Quiz: 16 black sphinxes judge my vow.",
    "Rosie and Yan wrote 80 letters # home.",
    "Bright vixens jump; dozy fowl quack.",
    "Xavier keeps his quilts in a jam jar.",
    "Zoe found 5 old maps under the bed.",
    "Oliver asked: where is the 6th key?",
    "Nine lamps lit up the harbour wall.",
    "Lena walked home through the rain.",
    "Every good boy deserves fudge, Ian.",
    "Carl played the organ until midnight",
    "Hugh's garden grew 12 kinds of pea.",
    "Fred mended the fence by the gate.",
    "Dora sang quietly while she baked.",
    "Sam ran 3 miles before breakfast!",
    "Kim bought apples, pears and figs.",
    "Tom's dog sleeps under the table.",
    "Paula read the letter twice - why?",
    "Will you join us at 8 for dinner?",
    "My uncle lives on a quiet street.",
    "A jolly sixth grader zipped by.",
    "Grey clouds hung over the valley.",
    "Mia counted 47 stars that night.",
    "Ben fixed the old clock on Sunday.",
    "Quite a few joined the long queue.",
    "Victor kept his word to the end.",
    "Eve wrote a note: back at 9, Sue.",
    "The ferry left port at half past.",
    "Ned and Wyn picked wild berries.",
    "Jim's kite flew high above us!",
    "Rain or shine, the show goes on.",
]
SYNTHETIC_FORMS = 10  # forms s00-000 .. s09-000, 4 lines each; the last 3 forms are the validation side
SYNTHETIC_VALID_FORMS = 3
X_HEIGHT = 130.0  # whiteboard units; real IAM-OnDB lower-case letters are of this order


def glyph(char: str) -> list[np.ndarray]:
    """A made-up, fixed shape for `char`: 1-2 smooth strokes in a box one x-height high, y up.

    Capitals, digits and ascenders reach higher, descenders lower; space is no strokes.
    About 20 points per character, like paper-rate IAM-OnDB.
    """
    if char == " ":
        return []
    rng = np.random.default_rng(ord(char))
    top = 1.7 if (char.isupper() or char.isdigit() or char in "bdfhklt") else 1.0
    bottom = -0.7 if char in "gjpqy" else 0.0
    width = 0.5 if char in ".,:;'!\"-#" else 0.9
    if char in ".,:;'!\"-":
        top, bottom = (1.7, 1.2) if char in "'\"" else (0.5, 0.0)
    strokes = []
    for _ in range(2 if char in "ijt!?\":;#+=" else 1):
        t = np.linspace(0.0, 1.0, int(rng.integers(16, 26)))
        phase, turns = rng.uniform(0, 2 * np.pi, 2), rng.uniform(0.5, 1.5, 2)
        x = width * (0.5 + 0.45 * np.sin(2 * np.pi * turns[0] * t + phase[0]))
        y = bottom + (top - bottom) * (0.5 + 0.45 * np.cos(2 * np.pi * turns[1] * t + phase[1]))
        strokes.append(np.column_stack([x, y]))
    return strokes


def synthetic_line(text: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes of one line, whiteboard units (x right, y down as in the files), with a
    writer's jitter, slant and size: the same text never gives the same points twice."""
    size = X_HEIGHT * rng.uniform(0.85, 1.15)
    slant = rng.uniform(-0.1, 0.3)
    x0, baseline = 1000.0, 1500.0
    strokes = []
    for char in text:
        for stroke in glyph(char):
            points = stroke * size + rng.normal(0.0, 2.0, stroke.shape)
            xs = x0 + points[:, 0] + slant * points[:, 1]
            strokes.append(np.column_stack([xs, baseline - points[:, 1]]))
        x0 += size * (0.6 if char == " " else rng.uniform(0.9, 1.1)) + (0 if char == " " else 0.15 * size)
    return strokes


def line_xml(strokes: list[np.ndarray]) -> str:
    rows, clock = [], 100.0
    for stroke in strokes:
        points = [f'      <Point x="{round(x)}" y="{round(y)}" time="{clock + 0.01 * i:.2f}"/>' for i, (x, y) in enumerate(stroke)]
        end = clock + 0.01 * (len(stroke) - 1)
        rows.append(f'    <Stroke colour="black" start_time="{clock:.2f}" end_time="{end:.2f}">\n' + "\n".join(points) + "\n    </Stroke>")
        clock = end + 0.2
    return ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<WhiteboardCaptureSession>\n  <WhiteboardDescription>\n'
            '    <SensorLocation corner="top_left"/>\n    <DiagonallyOppositeCoords x="6512" y="1376"/>\n'
            '  </WhiteboardDescription>\n  <StrokeSet>\n' + "\n".join(rows) + "\n  </StrokeSet>\n</WhiteboardCaptureSession>\n")


def write_synthetic_iamondb(root: Path, seed: int = 0) -> Path:
    """An IAM-OnDB folder (lineStrokes/, ascii/, training_set.txt, validation_set.txt) of
    SYNTHETIC_TEXTS in made-up glyphs: what `hw preprocess` and `iamondb.read_lines` read.

    Deterministic for a seed; under 2 MB of XML, written in under a second.
    """
    rng = np.random.default_rng(seed)
    per_form = len(SYNTHETIC_TEXTS) // SYNTHETIC_FORMS
    lists: dict[str, list[str]] = {"training_set.txt": [], "validation_set.txt": []}
    for f in range(SYNTHETIC_FORMS):
        writer, form = f"s{f:02d}", f"s{f:02d}-000"
        texts = SYNTHETIC_TEXTS[f * per_form : (f + 1) * per_form]
        ascii_dir = root / "ascii" / writer / form
        ascii_dir.mkdir(parents=True, exist_ok=True)
        (ascii_dir / f"{form}a.txt").write_text("OCR:\n\n" + "\n".join(texts) + "\n\nCSR:\n\n" + "\n".join(texts) + "\n")
        side = "validation_set.txt" if f >= SYNTHETIC_FORMS - SYNTHETIC_VALID_FORMS else "training_set.txt"
        for n, text in enumerate(texts, 1):
            relative = Path("lineStrokes", writer, form, f"{form}a-{n:02d}.xml")
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(line_xml(synthetic_line(text, rng)))
            lists[side].append(relative.as_posix())
    for name, entries in lists.items():
        (root / name).write_text("\n".join(entries) + "\n")
    return root


def build_dataset(source: Path, out: Path, train_lines: int | None = None, valid_lines: int | None = None) -> Path:
    """An IAM-OnDB folder with its split lists (as `hw preprocess` reads it), optionally cut to the
    first lines of each side, saved as a dataset file. Built once per path: modules share the file."""
    if out.exists():
        return out
    from hwcli.data import dataset as datasets
    from hwcli.data import iamondb

    lines, _, _, _ = iamondb.read_lines(source, workers=1)
    train = iamondb.read_split_list(source / "training_set.txt")
    valid = iamondb.read_split_list(source / "validation_set.txt")
    keep_train = [line for line in lines if line.line_id in train][:train_lines]
    keep_valid = [line for line in lines if line.line_id in valid][:valid_lines]
    split = np.array([datasets.TRAIN] * len(keep_train) + [datasets.VALIDATION] * len(keep_valid), np.uint8)
    data = datasets.build(keep_train + keep_valid, split, {"source": "IAM-OnDB", "split_kind": "lists"})
    out.parent.mkdir(parents=True, exist_ok=True)
    datasets.save(data, out)
    return out


@pytest.fixture(scope="session")
def synthetic_iamondb(tmp_path_factory) -> Path:
    """A synthetic IAM-OnDB folder: 40 lines, 28 training and 12 validation (split lists)."""
    root = tmp_path_factory.getbasetemp() / "hw-synthetic-iamondb"
    if not (root / "validation_set.txt").is_file():
        write_synthetic_iamondb(root)
    return root


@pytest.fixture(scope="session")
def synthetic_dataset(synthetic_iamondb, tmp_path_factory) -> Path:
    """All 40 synthetic lines as a dataset file: 28 training, 12 validation."""
    return build_dataset(synthetic_iamondb, tmp_path_factory.getbasetemp() / "hw-datasets" / "synthetic.npz")


@pytest.fixture(scope="session")
def tiny_dataset(synthetic_iamondb, tmp_path_factory) -> Path:
    """24 training and 8 validation synthetic lines: three batches of 8 per epoch."""
    return build_dataset(synthetic_iamondb, tmp_path_factory.getbasetemp() / "hw-datasets" / "tiny.npz", 24, 8)


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory) -> Path:
    """Real data: all 172 lines of ../shared/data/iam-ondb-sample, 137 training, 35 validation
    (skips, saying why, without ../shared)."""
    sample = shared_data_path("iam-ondb-sample")
    return build_dataset(sample, tmp_path_factory.getbasetemp() / "hw-datasets" / "iam-sample.npz")


# --- the session's tiny models --------------------------------------------------------------------

SYNTHESIS, PREDICTION = "tiny-syn", "tiny-pred"  # not the default names: no default model is installed
TINY_SIZES = {"hidden": 16, "layers": 2, "mixtures": 3, "window_mixtures": 2}
STRIDE = 4  # every 4th point: ~5 steps per character, so a line samples in a few milliseconds


@dataclass
class Tiny:
    home: Path  # HW_HOME holding models/tiny-syn and models/tiny-pred
    dataset: Path
    shipped: Path  # a folder holding synthesis.pt: the tiny synthesis model, exported
    line_id: str  # a line of the dataset, for --style line:ID
    line_text: str
    alphabet: str

    @property
    def synthesis_path(self) -> Path:
        return self.home / "models" / SYNTHESIS / "best.pt"

    @property
    def exported(self) -> Path:
        return self.shipped / "synthesis.pt"

    def load(self, name: str = SYNTHESIS):
        from hwcli.models import checkpoint as ckpt

        return ckpt.load(self.home / "models" / name / "best.pt")


def build_tiny(base: Path, source: Path) -> Tiny:
    """A synthesis and a prediction network trained for two steps on 16 lines of `source`
    (an IAM-OnDB folder), and the synthesis one exported as a half-precision, shipped-style file."""
    from hwcli.data import dataset as datasets
    from hwcli.models.export import export
    from hwcli.training import session
    from hwcli.training.loop import TrainOptions

    dataset_path = build_dataset(source, base / "tiny.npz", 16, 8)  # two batches of 8
    data = datasets.load(dataset_path)
    first = int(data.indices(datasets.TRAIN)[0])
    home = base / "home"
    options = TrainOptions(epochs=1, batch_size=8, lr=1e-2, seed=0, max_steps=4)
    for kind, name in (("synthesis", SYNTHESIS), ("prediction", PREDICTION)):
        session.run(kind, dataset_path, home / "models" / name, dict(TINY_SIZES), options, "cpu",
                    stride=STRIDE, min_char_count=1)
    tiny = Tiny(home, dataset_path, base / "shipped", str(data.ids[first]), str(data.texts[first]), "")
    with pytest.MonkeyPatch.context() as patch:  # export finds the model by name, under HW_HOME
        patch.setenv("HW_HOME", str(home))
        export(SYNTHESIS, tiny.exported)
    tiny.alphabet = tiny.load().alphabet
    return tiny


@pytest.fixture(scope="session")
def tiny(synthetic_iamondb, tmp_path_factory) -> Tiny:
    """Tiny models trained once per session on synthetic lines (a few seconds on one thread)."""
    return build_tiny(tmp_path_factory.getbasetemp() / "hw-tiny-models", synthetic_iamondb)


@pytest.fixture
def home(tiny, monkeypatch) -> Path:
    """HW_HOME pointing at the tiny models, nothing shipped: every command in the test sees only them."""
    monkeypatch.setenv("HW_HOME", str(tiny.home))
    monkeypatch.setattr("hwcli.paths.shipped_models_dir", lambda: tiny.home / "no-shipped-models")
    return tiny.home
