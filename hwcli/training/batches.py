"""Training data: normalised, optionally coarsened lines and length-bucketed batches with masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hwcli.data.alphabet import Alphabet
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
        T = max(len(line) for line in lines) - 1
        x = np.zeros((len(lines), T + 1, 3), np.float32)
        mask = np.zeros((len(lines), T), np.float32)
        for b, line in enumerate(lines):
            x[b, : len(line)] = line
            mask[b, : len(line) - 1] = 1
        text = None
        if self.texts is not None:
            U = max(1, max(len(self.texts[i]) for i in indices))
            text = torch.zeros(len(lines), U, self.alphabet_size)
            for b, i in enumerate(indices):
                codes = torch.as_tensor(self.texts[i])
                text[b, torch.arange(len(codes)), codes] = 1.0
        x = torch.from_numpy(x)
        return Batch(x[:, :-1], x[:, 1:], torch.from_numpy(mask), text)


def prepare(dataset: Dataset, stride: int, with_text: bool, min_char_count: int):
    """(train, validation, alphabet or None, mean, std, steps_per_char) for training.

    Statistics come from the training split after coarsening, as the network sees it.
    """
    def lines_of(part):
        return [coarsen(dataset.line(i), stride) for i in dataset.indices(part)]

    train_raw, valid_raw = lines_of(TRAIN), lines_of(VALIDATION)
    xy = np.concatenate([line[:, :2] for line in train_raw])
    mean, std = xy.mean(0), xy.std(0)

    def normalise(lines):
        out = []
        for line in lines:
            line = line.copy()
            line[:, :2] = (line[:, :2] - mean) / std
            out.append(line.astype(np.float32))
        return out

    alphabet, train_texts, valid_texts, steps_per_char = None, None, None, 1.0
    if with_text:
        alphabet = Alphabet.from_counts(dataset.meta["alphabet_counts"], min_char_count)
        train_texts = [alphabet.encode(t) for t in dataset.texts[dataset.indices(TRAIN)]]
        valid_texts = [alphabet.encode(t) for t in dataset.texts[dataset.indices(VALIDATION)]]
        chars = sum(len(t) for t in train_texts)
        if chars == 0:
            from hwcli.errors import DataError

            raise DataError("the dataset has no texts: a synthesis network needs transcribed lines")
        steps_per_char = sum(len(line) for line in train_raw) / chars
    size = alphabet.size if alphabet else 0
    train = TrainingData(normalise(train_raw), train_texts, size)
    valid = TrainingData(normalise(valid_raw), valid_texts, size)
    return train, valid, alphabet, mean, std, steps_per_char
