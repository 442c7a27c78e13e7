"""A synthesis network for a new alphabet, started from a trained one (`hw train synthesis
--init-from MODEL`): every weight carried over, and the window's character weights (the
"w" blocks of every LSTM layer, models/*.weight_blocks) laid out for the new characters.

A character the old model knew keeps its own column, so on text of those characters the new
network computes exactly what the old one did. A new character starts from a look-alike's
column (Q from O, & from 8, @ from a, ...): the network first writes that, and training
only has to teach the difference. Without a look-alike it starts from the "other" class.
"""

from __future__ import annotations

import torch

from hwcli.errors import ModelError

LOOK_ALIKES = {
    "Q": "O", "X": "x", "Z": "z", "&": "8", "+": "t", "/": "l", "[": "(", "]": ")", "@": "a", "%": "o",
    "$": "S", "=": "-", "#": "H", "*": "x", "<": "(", ">": ")", "_": "-", "~": "-", "^": "'", "{": "(",
    "}": ")", "|": "l", "\\": "l", "`": "'",
}


def donor(char: str, known: str) -> str | None:
    """The old character whose column `char` starts from (itself when known; None: the "other" class)."""
    if char in known:
        return char
    alike = LOOK_ALIKES.get(char)
    return alike if alike is not None and alike in known else None


def warm_start(checkpoint: dict, chars: str) -> torch.nn.Module:
    """A SynthesisNetwork for alphabet `chars` (sorted, as Alphabet keeps them) from a synthesis
    checkpoint dict (checkpoint.read)."""
    from hwcli.models.checkpoint import build_network, network_of

    if checkpoint.get("kind") != "synthesis":
        raise ModelError(f"--init-from needs a synthesis model, not a {checkpoint.get('kind')} one")
    old = network_of(checkpoint)
    known = checkpoint["alphabet"]
    new = build_network("synthesis", {**checkpoint["config"], "alphabet_size": len(chars) + 1})
    columns = [0] + [known.index(d) + 1 if (d := donor(c, known)) is not None else 0 for c in chars]
    with torch.no_grad():
        shapes = {k: v.shape for k, v in new.state_dict().items()}
        new.load_state_dict({k: v for k, v in old.state_dict().items() if v.shape == shapes[k]}, strict=False)
        # weight_blocks are views into the parameters: copying into them fills the new matrices.
        for old_blocks, new_blocks in zip(old.weight_blocks(), new.weight_blocks()):
            for name, block in new_blocks.items():
                if name == "w":
                    block.copy_(old_blocks["w"][:, columns])
                elif name != "1":  # the bias is a sum of two vectors, loaded above with its own shape
                    block.copy_(old_blocks[name])
    return new
