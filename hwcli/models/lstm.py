"""Stacked LSTM with skip connections (paper section 2, eqs. 1-5), whole-sequence fast path.

Every layer sees the network input (the "side" input) and the layer below's
output at the same step, so each layer is one whole-sequence `nn.LSTM` call:
no Python loop over time. Standard LSTM cells (no peepholes): DEVIATION,
stated in docs/model-card.md.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

def clip_gradient(tensor: Tensor, limit: float) -> Tensor:
    """Identity forward; clamps the gradient flowing back through `tensor` to [-limit, limit]."""
    if tensor.requires_grad and limit > 0:
        tensor.register_hook(lambda grad: grad.clamp(-limit, limit))
    return tensor


class SkipLSTM(nn.Module):
    """Layers 1..N: layer 1 gets [side, below], layer n gets [side, h^{n-1}]."""

    def __init__(self, side_size: int, below_size: int, hidden: int, layers: int):
        super().__init__()
        # layers may be 0: a 1-layer synthesis network has no layers above the window layer.
        sizes = ([side_size + below_size] + [side_size + hidden] * (layers - 1))[:layers]
        self.layers = nn.ModuleList(nn.LSTM(size, hidden, batch_first=True) for size in sizes)
        for layer in self.layers:
            init_forget_bias(layer.bias_ih_l0, hidden)

    def weight_blocks(self, side: dict[str, int], first: int) -> list[dict[str, Tensor]]:
        """Each layer's weights as named blocks of its gate pre-activations, (4H, width) in gate
        order i, f, g, o: the side input's parts by `side` (name -> width, in order), h{k} for the
        output of layer k (the layer below at this step; this layer, `first` + index, at the step
        before) and "1" for the bias. The one place that knows how the inputs are laid out."""
        blocks = []
        for n, layer in enumerate(self.layers, start=first):
            weight, at = layer.weight_ih_l0, 0
            parts = {}
            for name, width in side.items():
                parts[name], at = weight[:, at : at + width], at + width
            if at < weight.shape[1]:
                parts[f"h{n - 1}"] = weight[:, at:]
            parts[f"h{n}"] = layer.weight_hh_l0
            parts["1"] = layer.bias_ih_l0 + layer.bias_hh_l0
            blocks.append(parts)
        return blocks

    def forward(self, side: Tensor, below: Tensor | None = None, state=None, grad_clip: float = 0.0):
        """side (B, T, S), below (B, T, D) -> list of h (B, T, H) per layer, list of final (h, c)."""
        outputs, finals = [], []
        h = below
        device = side.device.type
        # Under autocast the LSTM reads its input in the autocast dtype: join the parts in it, so
        # that no float32 concatenation is made only to be cast.
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else side.dtype
        side = side.to(dtype)
        for n, layer in enumerate(self.layers):
            inp = side if h is None else torch.cat([side, h.to(dtype)], dim=-1)
            h, final = layer(inp, None if state is None else state[n])
            h = clip_gradient(h, grad_clip)
            outputs.append(h)
            finals.append(final)
        return outputs, finals


def lstm_cell(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM cell (eqs. 7-11 without peepholes) from its pre-activations (B, 4H), gate order i, f, g, o."""
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def init_forget_bias(bias: Tensor, hidden: int, value: float = 1.0) -> None:
    """Forget gates start open (gate order i, f, g, o) so early gradients flow through time."""
    with torch.no_grad():
        bias[hidden : 2 * hidden].fill_(value)
