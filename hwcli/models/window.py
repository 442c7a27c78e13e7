"""The Gaussian attention window of the synthesis network (paper section 5, eqs. 46-51),
stepped through time together with the first LSTM layer.

Layer 1 and the window depend on each other step by step (w_{t-1} feeds layer
1, h^1_t sets the window at t), so only they run in a Python loop; layer 1's
input projection W_{i h1} x_t is precomputed for the whole sequence.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from hwcli.models.lstm import clip_gradient, init_forget_bias, lstm_cell


def window_weights(alpha: Tensor, beta: Tensor, kappa: Tensor, positions: Tensor) -> Tensor:
    """phi(t, u) = sum_k alpha^k exp(-beta^k (kappa^k - u)^2) (eq. 46).

    alpha, beta, kappa (B, K); positions (U,) holding u = 1..U -> phi (B, U).
    """
    distance = kappa.unsqueeze(2) - positions  # (B, K, U)
    return (alpha.unsqueeze(2) * torch.exp(-beta.unsqueeze(2) * distance * distance)).sum(1)


class WindowLayer(nn.Module):
    """LSTM layer 1 plus the window: h^1_t = H(W x_t + W h^1_{t-1} + W w_{t-1} + b) (eq. 52)."""

    def __init__(self, input_size: int, alphabet_size: int, hidden: int, window_mixtures: int, steps_per_char: float):
        super().__init__()
        self.hidden, self.K = hidden, window_mixtures
        scale = 1.0 / math.sqrt(hidden)
        self.w_input = nn.Parameter(torch.empty(4 * hidden, input_size).uniform_(-scale, scale))
        # Recurrent and window weights in one matrix: one product per step for [h, w].
        self.w_recurrent = nn.Parameter(torch.empty(4 * hidden, hidden + alphabet_size).uniform_(-scale, scale))
        self.bias = nn.Parameter(torch.empty(4 * hidden).uniform_(-scale, scale))
        init_forget_bias(self.bias, hidden)
        self.window = nn.Linear(hidden, 3 * window_mixtures)  # eq. 47: (alpha_hat, beta_hat, kappa_hat)
        with torch.no_grad():
            # The window should start moving about one character per `steps_per_char`
            # steps, the data's own pace, instead of exp(0) = 1 character per step.
            self.window.bias[2 * window_mixtures :].fill_(-math.log(steps_per_char))

    def initial_state(self, batch: int, alphabet_size: int, device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        zeros = lambda n: torch.zeros(batch, n, device=device)  # noqa: E731
        return zeros(self.hidden), zeros(self.hidden), zeros(self.K), zeros(alphabet_size)  # h, c, kappa, w

    def step(self, gates_x: Tensor, state, text: Tensor, positions: Tensor):
        """One time step. gates_x (B, 4H) precomputed; text (B, U, A) one-hot. Returns new state and phi (B, U)."""
        h, c, kappa, w = state
        gates = torch.addmm(gates_x, torch.cat([h, w], dim=1), self.w_recurrent.t())  # (B, 4H)
        h, c = lstm_cell(gates, c)
        alpha, beta, kappa_step = torch.exp(self.window(h)).chunk(3, dim=1)  # eqs. 48-50, each (B, K)
        kappa = kappa + kappa_step  # eq. 51
        phi = window_weights(alpha, beta, kappa, positions)  # (B, U)
        w = torch.bmm(phi.unsqueeze(1), text).squeeze(1)  # eq. 46: (B, A)
        return (h, c, kappa, w), phi

    def forward(self, x: Tensor, text: Tensor, state=None, return_phi: bool = False, grad_clip: float = 0.0):
        """x (B, T, 3), text (B, U, A) -> h^1 (B, T, H), w (B, T, A), final state, phi (B, T, U) or None."""
        B, T, _ = x.shape
        if state is None:
            state = self.initial_state(B, text.shape[2], x.device)
        positions = torch.arange(1, text.shape[1] + 1, device=x.device, dtype=x.dtype)
        gates_x = torch.addmm(self.bias, x.reshape(B * T, -1), self.w_input.t()).view(B, T, -1)  # (B, T, 4H)
        hs, ws, phis = [], [], []
        # unbind, not gates_x[:, t]: the backward of T slices would zero-fill T full-size tensors.
        for gates_t in gates_x.unbind(1):
            state, phi = self.step(gates_t, state, text, positions)
            h = clip_gradient(state[0], grad_clip)
            state = (h, *state[1:])
            hs.append(h)
            ws.append(state[3])
            if return_phi:
                phis.append(phi)
        phi = torch.stack(phis, 1) if return_phi else None
        return torch.stack(hs, 1), torch.stack(ws, 1), state, phi
