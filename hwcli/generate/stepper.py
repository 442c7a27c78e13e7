"""The networks one time step at a time, in numpy, for sampling (sections 4.1 and 5).

Training runs whole sequences in torch; sampling must run step by step, and at
batch 1 a step is about 60 tiny operations around four matrix-vector products.
A torch operation costs a few microseconds of dispatch, a numpy one about one,
so the step is written here in numpy on float32 copies of the torch weights.
tests/test_stepper.py checks it against the torch networks' own forward pass.

Speed design: every layer reads its input as one contiguous slice of a single
state row laid out as

    [h^1 | x, 1 | w | h^2 | h^3 | ...]

so layer 1 reads [h^1_{t-1}, x_t, 1, w_{t-1}], layer 2 [h^1_t, x_t, 1, w_t, h^2_{t-1}],
layer n >= 3 [x_t, 1, w_t, h^2_t ... h^n_{t-1}] (rows for the h^k it must not
see are zero; there are none at 3 layers), and the output reads the whole row.
The constant 1 carries each bias into its product, the new h^n are written
straight into the row, and no step allocates beyond numpy's small temporaries.
A prediction network is the same with no window (w has width 0).
"""

from __future__ import annotations

import numpy as np
import torch


def one_hot(codes: list[np.ndarray], alphabet_size: int, length: int) -> np.ndarray:
    """(B, length, A) float32 one-hot rows, zero past each text's end."""
    text = np.zeros((len(codes), length, alphabet_size), np.float32)
    for b, c in enumerate(codes):
        text[b, np.arange(len(c)), c] = 1.0
    return text


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


def _gates_sigmoid_first(weight: np.ndarray, hidden: int) -> np.ndarray:
    """Columns in torch's gate order (i, f, g, o) -> (i, f, o, g), with i, f, o halved.

    sigmoid(z) = (1 + tanh(z / 2)) / 2, so one tanh over all 4H pre-activations gives every gate.
    """
    H = hidden
    i, f, g, o = weight[:, :H], weight[:, H : 2 * H], weight[:, 2 * H : 3 * H], weight[:, 3 * H :]
    return np.ascontiguousarray(np.concatenate([0.5 * i, 0.5 * f, 0.5 * o, g], axis=1))


class Stepper:
    """A synthesis or prediction network as a step function on B lines at once.

    `text` (B, U, A) one-hot is required for a synthesis network and ignored otherwise.
    """

    def __init__(self, network, batch: int, text: np.ndarray | None = None):
        config = network.config
        H, L = config.hidden, config.layers
        self.hidden = H
        synthesis = network.kind == "synthesis"
        A = config.alphabet_size if synthesis else 0
        # Column ranges of the state row.
        self.x_at = slice(H, H + 3)  # x_t, then the constant 1 at H + 3
        self.w_at = slice(H + 4, H + 4 + A)
        h_start = [0] + [H + 4 + A + n * H for n in range(L - 1)]
        self.h_at = [slice(s, s + H) for s in h_start]
        self.row = np.zeros((batch, max(h_start[-1] + H, self.w_at.stop)), np.float32)
        self.row[:, H + 3] = 1.0
        self.cells = [np.zeros((batch, H), np.float32) for _ in range(L)]
        self.gates = np.empty((batch, 4 * H), np.float32)

        # Each layer's weights as named row blocks (in, 4H), as the torch modules lay them out.
        layer_parts = [{name: _numpy(block).T for name, block in blocks.items()} for blocks in network.weight_blocks()]
        self.inputs, self.weights = [], []
        for n, parts in enumerate(layer_parts):
            # Layer 1 reads up to w; layer 2 from h^1 and layer n >= 3 from x, both up to h^n.
            inputs = slice(0, self.w_at.stop) if n == 0 else slice(0 if n == 1 else H, self.h_at[n].stop)
            self.inputs.append(inputs)
            self.weights.append(_gates_sigmoid_first(self._assemble(parts, inputs, 4 * H), H))

        out_parts = {f"h{n + 1}": _numpy(network.output.weight[:, n * H : (n + 1) * H]).T for n in range(L)}
        out_parts["1"] = _numpy(network.output.bias)[None]
        self.output_weight = self._assemble(out_parts, slice(0, self.row.shape[1]), network.output.out_features)

        self.text = None
        if synthesis:
            window = network.window_layer.window
            self.K = network.window_layer.K
            self.window_weight = self._assemble({"h1": _numpy(window.weight).T, "1": _numpy(window.bias)[None]},
                                                slice(0, H + 4), 3 * self.K)
            self.text = np.ascontiguousarray(text, dtype=np.float32)  # (B, U, A)
            self.positions = np.arange(1, self.text.shape[1] + 1, dtype=np.float32)  # u = 1..U
            self.kappa = np.zeros((batch, self.K, 1), np.float32)
            self.w = np.empty((batch, 1, A), np.float32)

    def repeat(self, copies: int) -> None:
        """Every line's state `copies` times over, in place (line b becomes lines b*copies ...
        b*copies + copies - 1): a prime is read once per text, not once per sample of it."""
        if copies == 1:
            return
        self.row = np.repeat(self.row, copies, axis=0)
        self.cells = [np.repeat(c, copies, axis=0) for c in self.cells]
        self.gates = np.empty((self.row.shape[0], self.gates.shape[1]), np.float32)
        if self.text is not None:
            self.text = np.repeat(self.text, copies, axis=0)
            self.kappa = np.repeat(self.kappa, copies, axis=0)
            self.w = np.repeat(self.w, copies, axis=0)

    def _assemble(self, parts: dict, inputs: slice, width: int) -> np.ndarray:
        """Named row blocks -> one (inputs, width) matrix over that slice of the state row; unused rows zero."""
        where = {"x": self.x_at, "1": slice(self.x_at.stop, self.x_at.stop + 1), "w": self.w_at}
        where.update({f"h{n + 1}": at for n, at in enumerate(self.h_at)})
        matrix = np.zeros((inputs.stop - inputs.start, width), np.float32)
        for name, block in parts.items():
            at = where[name]
            matrix[at.start - inputs.start : at.stop - inputs.start] = block.reshape(at.stop - at.start, width)
        return matrix

    def step(self, x: np.ndarray):
        """x (B, 3) normalised -> y_hat (B, 1+6M), and phi (B, U) for a synthesis network (else None)."""
        H, row, gates = self.hidden, self.row, self.gates
        row[:, self.x_at] = x
        phi = None
        for n, (inputs, weight) in enumerate(zip(self.inputs, self.weights)):
            np.matmul(row[:, inputs], weight, out=gates)
            np.tanh(gates, out=gates)
            sigmoids = gates[:, : 3 * H]
            sigmoids *= 0.5
            sigmoids += 0.5  # (B, 3H): i, f, o
            c = self.cells[n]
            c *= gates[:, H : 2 * H]
            c += gates[:, :H] * gates[:, 3 * H :]  # c = f c + i g (eq. 9)
            h = row[:, self.h_at[n]]
            np.tanh(c, out=h)
            h *= gates[:, 2 * H : 3 * H]  # h = o tanh(c) (eq. 11), written into the row
            if n == 0 and self.text is not None:
                phi = self._window()
        return row @ self.output_weight, phi

    def _window(self) -> np.ndarray:
        """Eqs. 46-51 from h^1_t: moves kappa, writes w_t into the row, returns phi (B, U)."""
        K = self.K
        params = self.row[:, : self.hidden + 4] @ self.window_weight  # (B, 3K)
        np.exp(params, out=params)
        alpha, beta = params[:, :K, None], params[:, K : 2 * K, None]  # (B, K, 1)
        self.kappa += params[:, 2 * K :, None]  # eq. 51
        distance = self.kappa - self.positions  # (B, K, U)
        distance *= distance
        distance *= -beta
        np.exp(distance, out=distance)
        distance *= alpha
        phi = distance.sum(1)  # (B, U), eq. 46
        np.matmul(phi[:, None, :], self.text, out=self.w)  # (B, 1, A), eq. 46
        self.row[:, self.w_at] = self.w[:, 0]
        return phi
