"""Text <-> character indices for the synthesis network's one-hot input.

Index 0 is the "other" class: training characters too rare to learn (as the
paper's non-letter class, section 5). Writing refuses or substitutes
characters outside the alphabet (see `check_text`).
"""

from __future__ import annotations

import unicodedata
from collections import Counter

import numpy as np

from hwcli.errors import UsageError

OTHER = 0
# IAM-OnDB transcribers wrote `#` for a word they could not read: never a character to learn.
UNREADABLE_MARK = "#"
# A character seen fewer times than this in the training texts gets no class
# of its own: a few dozen examples are too few to learn its shape.
MIN_CHAR_COUNT = 25
# `hw train synthesis --alphabet ascii`: a class for every character a user can type, the rare
# and missing ones learnt from augmented lines (hwcli/training/augment.py).
PRINTABLE_ASCII = "".join(chr(code) for code in range(32, 127))
ALPHABETS = ("data", "ascii")

# Typographic characters users paste, mapped to what the writers of IAM-OnDB used.
SUBSTITUTES = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
    "\u2014": "-", "\u2026": "...", "\t": " ", "\u00a0": " ",
}


def count_characters(texts) -> dict[str, int]:
    """Character -> count over the texts, sorted by character."""
    counts = Counter()
    for text in texts:
        counts.update(text)
    return dict(sorted(counts.items()))


class Alphabet:
    """The characters a synthesis model writes, index 1.. in sorted order."""

    def __init__(self, chars: str):
        self.chars = "".join(sorted(set(chars)))
        self._index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def from_counts(cls, counts: dict[str, int], min_count: int = MIN_CHAR_COUNT) -> "Alphabet":
        return cls("".join(c for c, n in counts.items() if n >= min_count and c != UNREADABLE_MARK))

    @classmethod
    def for_training(cls, kind: str, counts: dict[str, int], min_count: int = MIN_CHAR_COUNT) -> "Alphabet":
        """"data": the training texts' characters seen min_count times or more; "ascii": all of PRINTABLE_ASCII."""
        if kind not in ALPHABETS:
            raise UsageError(f"unknown alphabet {kind!r}; use {' or '.join(ALPHABETS)}")
        return cls(PRINTABLE_ASCII) if kind == "ascii" else cls.from_counts(counts, min_count)

    @property
    def size(self) -> int:
        """One-hot width: the characters plus the "other" class."""
        return len(self.chars) + 1

    def encode(self, text: str) -> np.ndarray:
        return np.array([self._index.get(c, OTHER) for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        return "".join(self.chars[i - 1] if i > 0 else "?" for i in indices)

    def missing(self, text: str) -> list[str]:
        return sorted({c for c in text if c not in self._index})

    def check_text(self, text: str, substitute: bool = True, fallback: str = "") -> tuple[str, dict[str, str]]:
        """Make `text` writable or refuse it.

        With `substitute`, typographic quotes and dashes become their plain
        forms and accented letters lose their accents (é -> e) when that
        leaves a known character. Characters in `fallback` (those the caller
        draws some other way: the glyph font, generate/glyphs.py) are kept as
        they are and count as writable, also as the result of a substitution.
        Returns (text, {original: replacement}).
        Raises UsageError naming the characters that remain unwritable.
        """
        replaced = {}
        writable = set(self._index) | set(fallback)
        if substitute:
            out = []
            for c in text:
                if c in writable:
                    out.append(c)
                    continue
                plain = SUBSTITUTES.get(c)
                if plain is None:
                    plain = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
                if plain and all(p in writable for p in plain):
                    replaced[c] = plain
                    out.append(plain)
                else:
                    out.append(c)
            text = "".join(out)
        missing = [c for c in self.missing(text) if c not in writable]
        if missing:
            raise UsageError(f"this model cannot write {shown_chars(missing)}")
        return text, replaced


def shown_chars(chars) -> str:
    """Characters for a message, plainly: 'Q', 'Z' and '&'; invisible ones by code point."""
    shown = [f"'{c}'" if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}" for c in chars]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
