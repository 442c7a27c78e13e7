"""The prediction network (paper section 4): stacked LSTM with skip connections and a
mixture density output. No Python loop over time: each layer is one whole-sequence call.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from hwcli.models import mdn
from hwcli.models.lstm import SkipLSTM


@dataclass
class PredictionConfig:
    hidden: int = 400  # paper section 4: 3 layers of 400 cells
    layers: int = 3
    mixtures: int = 20  # paper section 4: M = 20
    input_size: int = 3  # (dx, dy, end_of_stroke)

    def validate(self) -> None:
        from hwcli.errors import UsageError

        for name in ("hidden", "layers", "mixtures"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, not {getattr(self, name)}")


class PredictionNetwork(nn.Module):
    kind = "prediction"

    def __init__(self, config: PredictionConfig):
        super().__init__()
        config.validate()
        self.config = config
        c = config
        self.lstm = SkipLSTM(c.input_size, 0, c.hidden, c.layers)
        self.output = nn.Linear(c.layers * c.hidden, mdn.output_size(c.mixtures))

    def weight_blocks(self) -> list[dict[str, Tensor]]:
        """Every LSTM layer's weights as named blocks: "x", "h{k}", "1" (SkipLSTM.weight_blocks)."""
        return self.lstm.weight_blocks({"x": self.config.input_size}, first=1)

    def forward(self, x: Tensor, text: Tensor | None = None, state=None, return_phi: bool = False, grad_clip: float = 0.0):
        """x (B, T, 3) normalised offsets -> y_hat (B, T, 1+6M), state, None. `text` is ignored."""
        hs, state = self.lstm(x, None, state, grad_clip)
        return mdn.layers_to_output(self.output, hs), state, None
