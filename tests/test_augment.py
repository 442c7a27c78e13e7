"""The rare characters' training lines (hwcli/training/augment.py), the ASCII alphabet in
`prepare`, and the warm start onto a new alphabet (hwcli/training/warm_start.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hwcli.data import dataset as datasets
from hwcli.data.alphabet import PRINTABLE_ASCII, Alphabet
from hwcli.data.ink import offsets_to_strokes, strokes_to_offsets
from hwcli.generate import glyphs
from hwcli.models import checkpoint as ckpt
from hwcli.training import augment
from hwcli.training.batches import prepare
from hwcli.training.warm_start import LOOK_ALIKES, donor, warm_start

UNIT = 100.0  # the made-up letters' size


def made_up_line(text: str, gap: float = 1.5) -> list[np.ndarray]:
    """One zigzag stroke per letter (1 x 1 letter units, 15 points), 0.3 apart, words `gap` apart; y up."""
    strokes, x = [], 0.0
    for word in text.split(" "):
        for _ in word:
            t = np.linspace(0.0, 1.0, 15)
            strokes.append(UNIT * np.column_stack([x + t, 0.5 + 0.5 * np.sin(6 * t)]))
            x += 1.3
        x += gap - 0.3
    return strokes


def test_copies_follow_the_rarest_character():
    counts = {"a": 5000, "b": 5000, "Q": 10, "&": 1, "7": 50, " ": 9000}
    texts = ["ab ab", "a Q b", "& a", "7 Q", "a 7"]
    copies = augment.copies_per_line(texts, counts)
    expected = [1, round(augment.RARE_TARGET / 10), augment.MAX_COPIES, round(augment.RARE_TARGET / 10),
                round(augment.RARE_TARGET / 50)]
    assert copies.tolist() == expected


def test_scarce_characters_include_the_unseen_and_the_unreadable_mark():
    counts = {"a": 500, "Q": 3, "#": 80}
    assert augment.scarce_chars(" #@Qa", counts) == "#@Q"


def test_word_boundaries_need_a_clear_gap_to_everything_before():
    strokes = made_up_line("ab cd ef")
    assert augment.word_boundaries(strokes, 1.0 * UNIT) == [2, 4]
    assert augment.word_boundaries(strokes, 2.0 * UNIT) == []  # no gap is that wide
    # a dot put on the first word after the second was written: that word gap no longer counts
    late = strokes[:4] + [np.array([[0.5, 1.4], [0.52, 1.42]]) * UNIT] + strokes[4:]
    assert augment.word_boundaries(late, 1.0 * UNIT) == [5]


@pytest.mark.parametrize("seed", range(6))
def test_glyph_line_sets_the_glyph_between_the_words(seed):
    text, char = "one two three", "@"
    strokes = made_up_line(text)
    font = glyphs.load()
    made = augment.glyph_line(strokes_to_offsets(strokes), text, char, font, np.random.default_rng(seed))
    assert made is not None
    offsets, new_text = made
    assert new_text.count(char) == 1 and new_text.replace(char, "").split() == text.split()
    new = offsets_to_strokes(offsets, origin=strokes[0][0])  # offsets forget where the line began
    added = len(font.strokes(char))
    assert len(new) == len(strokes) + added
    # the glyph went in as a block: the real strokes before it untouched, those after it shifted right alike
    unchanged = lambda k: new[k].shape == strokes[k].shape and np.allclose(new[k], strokes[k], atol=0.05)  # noqa: E731
    at = next(k for k in range(len(strokes) + 1) if k == len(strokes) or not unchanged(k))
    glyph, after = new[at : at + added], new[at + added :]
    shifts = [float(np.mean(n[:, 0] - s[:, 0])) for n, s in zip(after, strokes[at:])]
    assert all(np.allclose(n - s, [shift, 0.0], atol=0.05) for n, s, shift in zip(after, strokes[at:], shifts))
    assert len(set(np.round(shifts, 3))) <= 1 and all(s >= 0 for s in shifts)
    glyph_x = np.concatenate(glyph)[:, 0]
    if at:
        assert glyph_x.min() > max(float(s[:, 0].max()) for s in new[:at])
    if after:
        assert glyph_x.max() < min(float(s[:, 0].min()) for s in after)
    # drawn at the line's own point spacing, not the font's
    steps = np.hypot(*np.diff(np.concatenate(glyph), axis=0).T)
    line_step = np.median(np.hypot(*np.diff(strokes[0], axis=0).T))
    inside = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in glyph if len(s) > 1])
    assert 0.5 * line_step < np.median(inside) < 1.5 * line_step and len(steps)


def test_glyph_line_refuses_a_line_whose_gaps_do_not_match_its_spaces():
    strokes = made_up_line("one two three", gap=0.3)  # no word gaps at all
    assert augment.glyph_line(strokes_to_offsets(strokes), "one two three", "@", glyphs.load(),
                              np.random.default_rng(0)) is None


def test_augment_is_a_function_of_its_seed():
    texts = ["one two three", "four five six", "seven & eight"]
    lines = [strokes_to_offsets(made_up_line(t)) for t in texts]
    counts = {c: 1000 for c in "".join(texts)} | {"&": 1}
    first = augment.augment(lines, texts, "&@eo", counts, seed=3)
    second = augment.augment(lines, texts, "&@eo", counts, seed=3)
    assert first[1] == second[1] and all(np.array_equal(a, b) for a, b in zip(first[0], second[0]))
    repeated = [t for t in first[1] if t == "seven & eight"]
    assert len(repeated) == augment.MAX_COPIES - 1  # & seen once: its line MAX_COPIES times in all
    glyph_lines = [t for t in first[1] if t not in texts]
    assert len(glyph_lines) == 2 * augment.GLYPH_LINES  # for & and @, the scarce ones of "&@eo"
    assert sum("@" in t for t in glyph_lines) == augment.GLYPH_LINES


def test_prepare_ascii_adds_the_lines_and_keeps_the_statistics(synthetic_dataset):
    data = datasets.load(synthetic_dataset)
    plain = prepare(data, 4, True, 1)
    ascii_ = prepare(data, 4, True, 1, "ascii", seed=0)
    assert ascii_[2].chars == PRINTABLE_ASCII and ascii_[2].size == 96
    assert len(ascii_[0]) > len(plain[0]) and len(ascii_[1]) == len(plain[1])
    np.testing.assert_allclose(ascii_[3], plain[3])  # statistics from the real lines only
    np.testing.assert_allclose(ascii_[4], plain[4])
    real = len(plain[0])
    extra_texts = [Alphabet(PRINTABLE_ASCII).decode(t) for t in ascii_[0].texts[real:]]
    for char in "@%{":  # never in the synthetic texts: each gets its glyph lines
        assert sum(char in t for t in extra_texts) >= 1


def test_the_unreadable_mark_is_never_learnt_as_a_character():
    from hwcli.data.dataset import TRAIN, VALIDATION, build

    class Line:
        def __init__(self, line_id, text):
            self.line_id, self.text = line_id, text
            self.offsets = strokes_to_offsets(made_up_line(text)).astype(np.float32)

    lines = [Line("a", "one # two"), Line("b", "three four"), Line("c", "five # six")]
    data = build(lines, np.array([TRAIN, TRAIN, VALIDATION], np.uint8), {})
    train, valid, letters, *_ = prepare(data, 1, True, 1, "ascii", seed=0)
    hash_index = letters.encode("#")[0]
    assert letters.encode("one # two")[4] == hash_index  # the alphabet has the character
    assert train.texts[0][4] == 0 and valid.texts[0][5] == 0  # the data's mark is the "other" class


def test_donors():
    assert donor("a", "abc") == "a"
    assert donor("Q", "OQ") == "Q" and donor("Q", "O") == "O" and donor("Q", "x") is None
    assert set(LOOK_ALIKES) >= set(PRINTABLE_ASCII) - set(ckpt.read(shipped_path())["alphabet"])


def shipped_path():
    from hwcli import paths

    return paths.shipped_models_dir() / "synthesis.pt"


def one_hot(chars: str, text: str) -> torch.Tensor:
    alphabet = Alphabet(chars)
    out = torch.zeros(1, len(text), alphabet.size)
    out[0, torch.arange(len(text)), torch.as_tensor(alphabet.encode(text))] = 1.0
    return out


def test_warm_start_computes_what_the_old_model_did_on_its_own_characters():
    checkpoint = ckpt.read(shipped_path())
    old = ckpt.load(shipped_path()).network
    new = warm_start(checkpoint, PRINTABLE_ASCII)
    assert new.config.alphabet_size == 96 and new.config.hidden == old.config.hidden
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 40, 3, generator=generator)
    x[..., 2] = (x[..., 2] > 1.0).float()
    text = "Good morning, Ada"
    with torch.no_grad():
        before, _, _ = old(x, one_hot(checkpoint["alphabet"], text).expand(2, -1, -1))
        after, _, _ = new(x, one_hot(PRINTABLE_ASCII, text).expand(2, -1, -1))
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_warm_start_gives_new_characters_their_look_alikes_columns():
    checkpoint = ckpt.read(shipped_path())
    old, known = ckpt.load(shipped_path()).network, checkpoint["alphabet"]
    new = warm_start(checkpoint, PRINTABLE_ASCII)
    for old_blocks, new_blocks in zip(old.weight_blocks(), new.weight_blocks()):
        old_w, new_w = old_blocks["w"], new_blocks["w"]
        assert new_w.shape[1] == 96
        column = lambda chars, c: chars.index(c) + 1  # noqa: E731 - index 0 is "other"
        assert torch.equal(new_w[:, column(PRINTABLE_ASCII, "Q")], old_w[:, column(known, "O")])
        assert torch.equal(new_w[:, column(PRINTABLE_ASCII, "a")], old_w[:, column(known, "a")])
        assert torch.equal(new_w[:, 0], old_w[:, 0])


def test_warm_start_refuses_a_prediction_model():
    from hwcli import paths
    from hwcli.errors import ModelError

    with pytest.raises(ModelError, match="synthesis model"):
        warm_start(ckpt.read(paths.shipped_models_dir() / "prediction.pt"), PRINTABLE_ASCII)
