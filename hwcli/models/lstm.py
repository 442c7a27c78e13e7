"""Stacked LSTM with skip connections (paper section 2, eqs. 1-5), whole-sequence fast path.

Every layer sees the network input (the "side" input) and the layer below's
output at the same step, so each layer's input projection is one product over
the whole sequence and only the recurrent product steps through time. Standard
LSTM cells (no peepholes): DEVIATION, stated in docs/model-card.md.

Training runs each layer as `LayerLoop`, one autograd node with a hand-written
backward through time; without gradients (validation) the layer is `nn.LSTM`.
Both compute the same function on the same `nn.LSTM` parameters. LayerLoop
keeps 4 floats of activations less per cell and step than nn.LSTM's oneDNN
kernel saves (its workspace: about 16 per cell and step), which is most of a
training iteration's memory (docs/performance.md).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from hwcli.models.products import StepProduct, add_product_, mm


def clip_gradient(tensor: Tensor, limit: float) -> Tensor:
    """Identity forward; clamps the gradient flowing back through `tensor` to [-limit, limit]."""
    if tensor.requires_grad and limit > 0:
        tensor.register_hook(lambda grad: grad.clamp(-limit, limit))
    return tensor


class SkipLSTM(nn.Module):
    """Layers 1..N: layer 1 gets [side, below], layer n gets [side, h^{n-1}].

    `loop`: "fused" (LayerLoop while gradients are on) or "reference" (always nn.LSTM).
    """

    loop = "fused"

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
        for n, layer in enumerate(self.layers):
            inp = side if h is None else torch.cat([side, h], dim=-1)
            if self.loop == "fused" and torch.is_grad_enabled():
                h, final = layer_loop(layer, inp, None if state is None else state[n])
            else:
                h, final = layer(inp, None if state is None else state[n])
            h = clip_gradient(h, grad_clip)
            outputs.append(h)
            finals.append(final)
        return outputs, finals


def layer_loop(layer: nn.LSTM, inp: Tensor, state=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """nn.LSTM's forward on `layer`'s parameters through LayerLoop: inp (B, T, S) -> h (B, T, H), (h_T, c_T)."""
    device = inp.device.type
    product_dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else inp.dtype
    inp = inp.to(torch.promote_types(inp.dtype, torch.float32))  # the state and the cell: float32 at least
    B, _, _ = inp.shape
    H = layer.hidden_size
    h0, c0 = (inp.new_zeros(B, H), inp.new_zeros(B, H)) if state is None else (state[0][0], state[1][0])
    with torch.autocast(device, enabled=False):
        h, h_T, c_T = LayerLoop.apply(inp, layer.weight_ih_l0, layer.weight_hh_l0,
                                      layer.bias_ih_l0 + layer.bias_hh_l0, h0, c0, product_dtype)
    return h, (h_T.unsqueeze(0), c_T.unsqueeze(0))


BACKWARD_CHUNK = 64  # steps per chunk of LayerLoop's backward: 2,048 rows a product at batch 32


class LayerLoop(torch.autograd.Function):
    """One LSTM layer through all T steps as one autograd node (eqs. 7-11).

    Forward: the input projection for all steps is one product into a time-major
    gate buffer; each step adds its recurrent product in place and activates the
    gates there, writing c_t, tanh c_t and h_t into preallocated buffers.
    Backward goes back through time by hand and makes every weight gradient one
    product over all steps. The products run in `product_dtype` (bfloat16 under
    autocast), accumulating into float32.
    """

    @staticmethod
    def forward(ctx, inp, w_ih, w_hh, bias, h0, c0, product_dtype: torch.dtype):
        """inp (B, T, S); w_ih (4H, S), w_hh (4H, H), bias (4H,); h0, c0 (B, H) -> h (B, T, H), h_T, c_T (B, H).

        h_T is its own output, as nn.LSTM's is: a hook on h (gradient clipping) does not reach it."""
        B, T, S = inp.shape
        G = w_ih.shape[0]
        H = G // 4
        x = inp.transpose(0, 1).reshape(T * B, S).to(product_dtype)  # time-major
        w_ih, w_hh = w_ih.to(product_dtype), w_hh.to(product_dtype)
        new = lambda *shape: h0.new_empty(shape)  # noqa: E731
        hs, cs, acts, tanh_c = new(T + 1, B, H), new(T + 1, B, H), new(T, B, G), new(T, B, H)
        hs[0], cs[0] = h0, c0
        add_product_(acts.view(T * B, G).copy_(bias.expand(T * B, G)), x, w_ih.t())
        recurrent = StepProduct(w_hh, B)
        for t in range(T):
            acts[t] += recurrent(hs[t])
            cell_forward(acts[t], cs[t], cs[t + 1], tanh_c[t], hs[t + 1])
        ctx.save_for_backward(x, w_ih, w_hh, hs, cs, acts, tanh_c)
        # A view of the saved buffer, not a copy: an in-place change to it would fail autograd's check.
        return hs[1:].transpose(0, 1), hs[T].clone(), cs[T].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_h, grad_h_T, grad_c):
        x, w_ih, w_hh, hs, cs, acts, tanh_c = ctx.saved_tensors
        T, B, G = acts.shape
        grad_h = grad_h.transpose(0, 1)  # (T, B, H)
        # The gate derivatives exist a chunk of steps at a time: each chunk's share of the weight
        # gradients and of d x is a product over its steps, so no (T, B, 4H) buffer is needed.
        d_gates = acts.new_empty(min(T, BACKWARD_CHUNK), B, G)
        d_w_ih, d_w_hh, d_bias = hs.new_zeros(w_ih.shape), hs.new_zeros(w_hh.shape), hs.new_zeros(G)
        d_x = hs.new_empty(T, B, x.shape[1])
        recurrent = StepProduct(w_hh.t().contiguous(), B)  # d h_{t-1} = d gates_t W_hh
        d_h_next = grad_h_T  # dL/dh_t from beyond h_t's own output: step t+1 (the final state at T)
        d_c = grad_c.clone()
        with torch.autocast(hs.device.type, enabled=False):
            for end in range(T, 0, -BACKWARD_CHUNK):
                start = max(0, end - BACKWARD_CHUNK)
                for t in range(end - 1, start - 1, -1):
                    d_c = cell_backward(grad_h[t] + d_h_next, d_c, acts[t], cs[t], tanh_c[t], d_gates[t - start])
                    d_h_next = recurrent(d_gates[t - start]).to(hs.dtype)
                chunk = d_gates[: end - start].view(-1, G)
                d_bias += chunk.sum(0)
                chunk = chunk.to(w_ih.dtype)
                add_product_(d_w_ih, chunk.t(), x[start * B : end * B])
                add_product_(d_w_hh, chunk.t(), hs[start:end].reshape(-1, hs.shape[2]))
                d_x[start:end] = mm(chunk, w_ih).view(end - start, B, -1)
        return d_x.transpose(0, 1), d_w_ih, d_w_hh, d_bias, d_h_next, d_c, None


def cell_forward(gates: Tensor, c_prev: Tensor, c_out: Tensor, tanh_out: Tensor, h_out: Tensor) -> Tensor:
    """The LSTM cell (eqs. 7-11, no peepholes) in place: gates (B, 4H) become i, f, g, o; writes c_t, tanh c_t, h_t."""
    H = c_prev.shape[1]
    gates[:, : 2 * H].sigmoid_()
    gates[:, 2 * H : 3 * H].tanh_()
    gates[:, 3 * H :].sigmoid_()
    i, f, g, o = gates.chunk(4, 1)
    torch.mul(f, c_prev, out=c_out).addcmul_(i, g)  # eq. 9
    torch.tanh(c_out, out=tanh_out)
    return torch.mul(o, tanh_out, out=h_out)  # eq. 11


def cell_backward(d_h: Tensor, d_c: Tensor, acts: Tensor, c_prev: Tensor, tanh_c: Tensor, d_gates: Tensor) -> Tensor:
    """Back through one LSTM cell: writes d(pre-activations) (B, 4H) into d_gates, returns d c_{t-1}."""
    H = c_prev.shape[1]
    i, f, g, o = acts.chunk(4, 1)
    d_c = d_c + d_h * o * (1 - tanh_c * tanh_c)  # h = o tanh(c)
    derivative = torch.addcmul(acts, acts, acts, value=-1.0)  # sigmoid' = a (1 - a) for i, f, o
    derivative[:, 2 * H : 3 * H] = 1 - g * g  # tanh' = 1 - g^2
    d_acts = torch.cat([d_c * g, d_c * c_prev, d_c * i, d_h * tanh_c], 1)  # d i, d f, d g, d o (eq. 9, 11)
    d_c_prev = d_c * f
    torch.mul(d_acts, derivative, out=d_gates)
    return d_c_prev


def lstm_cell(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM cell (eqs. 7-11 without peepholes) from its pre-activations (B, 4H), gate order i, f, g, o."""
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def init_forget_bias(bias: Tensor, hidden: int, value: float = 1.0) -> None:
    """Forget gates start open (gate order i, f, g, o) so early gradients flow through time."""
    with torch.no_grad():
        bias[hidden : 2 * hidden].fill_(value)
