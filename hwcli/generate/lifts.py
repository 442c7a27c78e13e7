"""Lifting the pen as often as the style's ink does: cursive or print (issue #14).

Priming carries a hand's letter forms, but not its habit of lifting the pen: with 40 unseen
writers' ink, the output's pen lifts per character followed the writer's own line only
loosely (correlation 0.70), and of the seven figures bench/priming.py ranks writers by, it
was the one that most kept the output from looking like its writer (docs/model-card.md).

So while a primed line is sampled, a `LiftSteer` counts the pen lifts drawn so far against
the style's rate times the characters the window has passed, and moves the end-of-stroke
logit towards the rate: by GAIN per lift behind or ahead, leaving DEAD_ZONE lifts either
way alone (there the line is sampled as the paper does), and never by more than MAX_SHIFT.
A lift the network already half wants (the end of a letter in a half-joined hand) is made
or not; one it is sure of is hardly moved, and the network writes on from whatever was
drawn, joined or lifted.

The rate is per written character, spaces left out: a writer's lifts per character stay
steadier from line to line that way (their spread within a writer is 0.424 of that over
all training lines, against 0.444 with spaces counted), so a text of shorter words than the
ink's is not written more joined to make up for its extra word gaps (docs/model-card.md).

It steers only while the window is on a letter: joining is a habit of letters, and digits,
punctuation and the gaps between words need their lifts whatever the hand (steered on every
character, six writers' lines of digits and times read at CER 0.208, against 0.177 steered
on letters only and 0.180 with no matching; docs/model-card.md).
"""

from __future__ import annotations

import numpy as np

GAIN = 0.5  # logit per pen lift the line is behind (or ahead of) the style's rate
DEAD_ZONE = 1.0  # pen lifts of slack either way before the steer acts
MAX_SHIFT = 1.5  # the most the end-of-stroke logit is moved either way


def lift_rate(lines: list[tuple[np.ndarray, str]]) -> float:
    """Pen lifts per written character (spaces left out) of lines of stroke-3 ink with their texts."""
    lifts = sum(int((offsets[:, 2] > 0.5).sum()) for offsets, _ in lines)
    return lifts / max(sum(len(text.replace(" ", "")) for _, text in lines), 1)


def char_mask(texts: list[str], width: int, keep) -> np.ndarray:
    """(len(texts), width): True at each text's characters c with keep(c), False elsewhere and past its end."""
    mask = np.zeros((len(texts), width), bool)
    for row, text in zip(mask, texts):
        row[: len(text)] = [keep(c) for c in text]
    return mask


class LiftSteer:
    """The end-of-stroke logit shift of each line of a batch, from the lifts it has drawn.

    `texts` are the lines' texts as the window reads them (after the prime's text), `start` the
    position of the space before the new text in them: the characters written so far are the
    non-space ones past `start`, up to the window's position (its focus, argmax of phi)."""

    def __init__(self, rate: float, texts: list[str], start: int, width: int):
        self.rate = rate
        self.letters = char_mask(texts, width, str.isalpha)
        written = char_mask(texts, width, lambda c: c != " ")
        written[:, : start + 1] = False
        self.written = np.cumsum(written, axis=1)  # (B, width): characters written up to each position
        self.lifts = np.zeros(len(texts))

    def shift(self, focus: np.ndarray) -> np.ndarray:
        """(B,) logit shifts at the window's positions `focus`: 0 off the letters."""
        rows = np.arange(len(focus))
        behind = self.rate * self.written[rows, focus] - self.lifts
        slack = np.sign(behind) * np.maximum(np.abs(behind) - DEAD_ZONE, 0.0)
        return np.where(self.letters[rows, focus], np.clip(GAIN * slack, -MAX_SHIFT, MAX_SHIFT), 0.0)

    def count(self, pen_up: np.ndarray) -> None:
        """Count the pen lifts of the points just drawn: (B,) True where a stroke ended."""
        self.lifts += pen_up
