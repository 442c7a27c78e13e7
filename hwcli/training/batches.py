"""Training data: normalised, optionally coarsened lines and length-bucketed batches with masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hwcli.data.alphabet import UNREADABLE_MARK, Alphabet
from hwcli.data.dataset import TRAIN, VALIDATION, Dataset
from hwcli.data.ink import coarsen


@dataclass
class Batch:
    inputs: torch.Tensor  # (B, T, 3) x_1..x_{T}, normalised
    targets: torch.Tensor  # (B, T, 3) x_2..x_{T+1}
    mask: torch.Tensor  # (B, T) 1 where the target is real
    text: torch.Tensor | None  # (B, U, A) one-hot, zero rows past each text's end

    def to(self, device) -> "Batch":
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return Batch(move(self.inputs), move(self.targets), move(self.mask), move(self.text))


# Batch shapes are rounded up to these grids (the padding masked out): with few distinct shapes
# the memory freed by one batch fits the next, so training can keep it (training/memory.py)
# instead of faulting fresh pages in, and the heap does not fragment. 38 lengths instead of 282
# at IAM-OnDB's stride 2, for 2.3% more time steps.
STEP_GRID, TEXT_GRID = 16, 8


def _rounded_up(n: int, grid: int) -> int:
    return -(-n // grid) * grid


class TrainingData:
    """The lines of one split, normalised with the training split's statistics."""

    def __init__(self, lines: list[np.ndarray], texts: list[np.ndarray], alphabet_size: int):
        self.lines, self.texts, self.alphabet_size = lines, texts, alphabet_size
        self.lengths = np.array([len(line) for line in lines])

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def steps(self) -> int:
        """Predicted points: every point but the first of each line."""
        return int((self.lengths - 1).sum())

    def buckets(self, batch_size: int) -> list[np.ndarray]:
        """Lines sorted by length, cut into batches: little padding in each."""
        order = np.argsort(self.lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def batch(self, indices) -> Batch:
        lines = [self.lines[i] for i in indices]
        T = _rounded_up(max(len(line) for line in lines) - 1, STEP_GRID)
        x = np.zeros((len(lines), T + 1, 3), np.float32)
        mask = np.zeros((len(lines), T), np.float32)
        for b, line in enumerate(lines):
            x[b, : len(line)] = line
            mask[b, : len(line) - 1] = 1
        text = None
        if self.texts is not None:
            U = _rounded_up(max(1, max(len(self.texts[i]) for i in indices)), TEXT_GRID)
            text = torch.zeros(len(lines), U, self.alphabet_size)
            for b, i in enumerate(indices):
                codes = torch.as_tensor(self.texts[i])
                text[b, torch.arange(len(codes)), codes] = 1.0
        x = torch.from_numpy(x)
        return Batch(x[:, :-1], x[:, 1:], torch.from_numpy(mask), text)


def prepare(dataset: Dataset, stride: int, with_text: bool, min_char_count: int, alphabet: str = "data",
            seed: int = 0, stats=None):
    """(train, validation, alphabet or None, mean, std, steps_per_char) for training.

    Statistics come from the real training lines after coarsening, as the network sees them,
    unless `stats` (mean, std) are given (a warm start keeps its model's). With `alphabet`
    "ascii" the training split gains the rare characters' lines (hwcli/training/augment.py).
    """
    def coarsened(lines):
        return [coarsen(line, stride) for line in lines]

    train_ids, valid_ids = dataset.indices(TRAIN), dataset.indices(VALIDATION)
    train_raw = coarsened(dataset.line(i) for i in train_ids)
    valid_raw = coarsened(dataset.line(i) for i in valid_ids)
    xy = np.concatenate([line[:, :2] for line in train_raw])
    mean, std = (xy.mean(0), xy.std(0)) if stats is None else (np.asarray(stats[0]), np.asarray(stats[1]))

    def normalise(lines):
        out = []
        for line in lines:
            line = line.copy()
            line[:, :2] = (line[:, :2] - mean) / std
            out.append(line.astype(np.float32))
        return out

    letters, train_texts, valid_texts, steps_per_char = None, None, None, 1.0
    extra = []
    if with_text:
        from hwcli.errors import DataError
        from hwcli.training.augment import UNREADABLE_OTHER, augment

        counts = dataset.meta["alphabet_counts"]
        letters = Alphabet.for_training(alphabet, counts, min_char_count)
        # The unreadable-word mark is never a character to learn, in any alphabet.
        texts_of = lambda ids: [str(t).replace(UNREADABLE_MARK, UNREADABLE_OTHER) for t in dataset.texts[ids]]  # noqa: E731
        train_strings, valid_strings = texts_of(train_ids), texts_of(valid_ids)
        chars = sum(len(t) for t in train_strings)
        if chars == 0:
            raise DataError("the dataset has no texts: a synthesis network needs transcribed lines")
        steps_per_char = sum(len(line) for line in train_raw) / chars
        if alphabet == "ascii":
            lines, strings = augment([dataset.line(i) for i in train_ids], train_strings, letters.chars, counts, seed)
            extra, train_strings = coarsened(lines), train_strings + strings
        train_texts = [letters.encode(t) for t in train_strings]
        valid_texts = [letters.encode(t) for t in valid_strings]
    size = letters.size if letters else 0
    train = TrainingData(normalise(train_raw + extra), train_texts, size)
    valid = TrainingData(normalise(valid_raw), valid_texts, size)
    return train, valid, letters, mean, std, steps_per_char
