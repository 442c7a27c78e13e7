"""The synthesis network (paper section 5): the prediction network conditioned on a
text through the soft window. Layer 1 and the window step through time; layers
2..N run as whole-sequence LSTM calls on [x_t, w_t, h^{n-1}_t].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from hwcli.models import mdn
from hwcli.models.lstm import SkipLSTM
from hwcli.models.window import WindowLayer


@dataclass
class SynthesisConfig:
    alphabet_size: int  # one-hot width: the dataset's characters + "other"
    hidden: int = 400  # paper section 5: 3 layers of 400 cells
    layers: int = 3
    mixtures: int = 20  # paper section 5: M = 20 output components
    window_mixtures: int = 10  # paper section 5: K = 10 window components
    steps_per_char: float = 25.0  # the data's pace; sets the window's initial speed
    input_size: int = 3  # (dx, dy, end_of_stroke)

    def validate(self) -> None:
        from hwcli.errors import UsageError

        for name in ("alphabet_size", "hidden", "layers", "mixtures", "window_mixtures"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.steps_per_char <= 0:
            raise UsageError("steps_per_char must be positive")


class SynthesisNetwork(nn.Module):
    kind = "synthesis"

    def __init__(self, config: SynthesisConfig):
        super().__init__()
        config.validate()
        self.config = config
        c = config
        self.window_layer = WindowLayer(c.input_size, c.alphabet_size, c.hidden, c.window_mixtures, c.steps_per_char)
        self.upper = SkipLSTM(c.input_size + c.alphabet_size, c.hidden, c.hidden, c.layers - 1)
        self.output = nn.Linear(c.layers * c.hidden, mdn.output_size(c.mixtures))  # eq. 17, every layer to the output

    def weight_blocks(self) -> list[dict[str, Tensor]]:
        """Every LSTM layer's weights as named blocks: "x", "w", "h{k}", "1" (SkipLSTM.weight_blocks)."""
        side = {"x": self.config.input_size, "w": self.config.alphabet_size}
        return [self.window_layer.weight_blocks(), *self.upper.weight_blocks(side, first=2)]

    def forward(self, x: Tensor, text: Tensor, state=None, return_phi: bool = False, grad_clip: float = 0.0):
        """x (B, T, 3) normalised offsets, text (B, U, A) one-hot -> y_hat (B, T, 1+6M), state, phi."""
        window_state, upper_state = (None, None) if state is None else state
        h1, w, window_state, phi = self.window_layer(x, text, window_state, return_phi, grad_clip)
        hs, upper_state = self.upper(torch.cat([x, w], dim=-1), h1, upper_state, grad_clip)
        y_hat = mdn.layers_to_output(self.output, [h1, *hs])
        return y_hat, (window_state, upper_state), phi
