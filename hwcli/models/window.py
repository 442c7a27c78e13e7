"""The Gaussian attention window of the synthesis network (paper section 5, eqs. 46-51),
stepped through time together with the first LSTM layer.

Layer 1 and the window depend on each other step by step (w_{t-1} feeds layer
1, h^1_t sets the window at t), so only they run in a Python loop; layer 1's
input projection W_{i h1} x_t is precomputed for the whole sequence.

Two implementations of the same function: `WindowLoop`, one autograd node for
the whole loop with a hand-written backward through time, and the plain
autograd loop over `WindowLayer.step`, which the tests check it against.
Training runs the fused loop: it measured as fast or faster at both precisions
and uses less memory (docs/performance.md).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
from torch import Tensor, nn

from hwcli.models.lstm import clip_gradient, init_forget_bias, lstm_cell
from hwcli.models.products import StepProduct, mm


def window_weights(alpha: Tensor, beta: Tensor, kappa: Tensor, positions: Tensor) -> Tensor:
    """phi(t, u) = sum_k alpha^k exp(-beta^k (kappa^k - u)^2) (eq. 46).

    alpha, beta, kappa (B, K); positions (U,) holding u = 1..U -> phi (B, U).
    """
    distance = kappa.unsqueeze(2) - positions  # (B, K, U)
    return (alpha.unsqueeze(2) * torch.exp(-beta.unsqueeze(2) * distance * distance)).sum(1)


class WindowLayer(nn.Module):
    """LSTM layer 1 plus the window: h^1_t = H(W x_t + W h^1_{t-1} + W w_{t-1} + b) (eq. 52).

    `loop`: "fused" (WindowLoop) or "reference" (the plain autograd loop over `step`).
    """

    loop = "fused"

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

    def weight_blocks(self) -> dict[str, Tensor]:
        """Layer 1's weights as named blocks (4H, width), gate order i, f, g, o (see SkipLSTM)."""
        H = self.hidden
        return {"x": self.w_input, "h1": self.w_recurrent[:, :H], "w": self.w_recurrent[:, H:], "1": self.bias}

    def initial_state(self, batch: int, alphabet_size: int, device, dtype=None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        zeros = lambda n: torch.zeros(batch, n, device=device, dtype=dtype)  # noqa: E731
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
        if state is None:
            state = self.initial_state(x.shape[0], text.shape[2], x.device, x.dtype)
        # Under autocast only the recurrent products take its dtype (bf16 ones are ~3x faster on
        # CPUs with AVX-512 BF16); the state, the window and every elementwise op stay in float32.
        device = x.device.type
        product_dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else x.dtype
        if self.loop == "reference" or return_phi:  # phi is for plots, never trained on: the plain loop keeps it simple
            return self.forward_reference(x, text, state, return_phi, grad_clip)
        B, T, _ = x.shape
        with torch.autocast(device, enabled=False):
            gates_x = torch.addmm(self.bias, x.transpose(0, 1).reshape(T * B, -1), self.w_input.t()).view(T, B, -1)
            h1, w, c, kappa = WindowLoop.apply(gates_x, self.w_recurrent, self.window.weight, self.window.bias,
                                               text, *state, grad_clip, product_dtype)
        return h1, w, (h1[:, -1], c, kappa, w[:, -1]), None

    def forward_reference(self, x: Tensor, text: Tensor, state, return_phi: bool, grad_clip: float):
        """The plain autograd loop: one `step` per t and a clipping hook on every h^1_t."""
        B, T, _ = x.shape
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


class WindowLoop(torch.autograd.Function):
    """Layer 1 + window through all T steps as one autograd node (eqs. 46-52, LSTM eqs. 7-11).

    Forward writes each step's activations into preallocated time-major buffers
    instead of building T x ~20 autograd nodes; backward goes back through time
    by hand and clamps the derivative reaching each h^1_t to [-grad_clip, grad_clip],
    as `clip_gradient` on every step's h does in the reference loop. The weight
    gradients are one product each over all steps. `text` gets no gradient.
    The recurrent products run in `product_dtype` (bfloat16 under autocast), accumulating
    into float32 gates.
    """

    @staticmethod
    def forward(ctx, gates_x, w_recurrent, w_window, b_window, text, h0, c0, kappa0, w0, grad_clip: float,
                product_dtype: torch.dtype):
        """gates_x (T, B, 4H) = W_{i h1} x_t + b; text (B, U, A); h0, c0 (B, H); kappa0 (B, K); w0 (B, A).

        Returns h^1 (B, T, H), w (B, T, A), c_T (B, H), kappa_T (B, K).
        """
        T, B, G = gates_x.shape
        H = G // 4
        buf = _buffers(gates_x, text, w_window.shape[0] // 3)
        buf.hw[0, :, :H], buf.hw[0, :, H:], buf.cs[0], buf.kappas[0] = h0, w0, c0, kappa0
        positions = _positions(text)
        w_product = w_recurrent.to(product_dtype)
        w_window_t = w_window.t()
        recurrent = StepProduct(w_product, B)
        for t in range(T):
            gates = torch.add(gates_x[t], recurrent(buf.hw[t]), out=buf.acts[t])  # [h_{t-1}, w_{t-1}] (eq. 52)
            h = _cell_forward(gates, buf.cs[t], buf.cs[t + 1], buf.tanh_c[t], buf.hw[t + 1, :, :H])
            alpha, beta, kappa_step = torch.addmm(b_window, h, w_window_t, out=buf.e[t]).exp_().chunk(3, 1)  # eqs. 48-50
            kappa = torch.add(buf.kappas[t], kappa_step, out=buf.kappas[t + 1])  # eq. 51
            terms = _window_terms(beta, kappa, positions, buf.distance[t], buf.terms[t])
            phi = torch.bmm(alpha.unsqueeze(1), terms)  # eq. 46: (B, 1, U)
            buf.hw[t + 1, :, H:] = torch.bmm(phi, text).squeeze(1)  # eq. 47: w_t (B, A)
        # save_for_backward, not ctx attributes: autograd frees them right after backward
        # (they are the bulk of training memory), unless retain_graph asks otherwise.
        ctx.save_for_backward(w_product, w_window, text, *vars(buf).values())
        ctx.buffer_names, ctx.grad_clip = list(vars(buf)), grad_clip
        return (buf.hw[1:, :, :H].transpose(0, 1).contiguous(), buf.hw[1:, :, H:].transpose(0, 1).contiguous(),
                buf.cs[T].clone(), buf.kappas[T].clone())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_h, grad_w, grad_c, grad_kappa):
        w_recurrent, w_window, text, *buffers = ctx.saved_tensors
        buf, clip = SimpleNamespace(**dict(zip(ctx.buffer_names, buffers))), ctx.grad_clip
        T, B, G = buf.acts.shape
        H = G // 4
        grad_h, grad_w = grad_h.transpose(0, 1), grad_w.transpose(0, 1)  # (T, B, .)
        d_gates, d_e = torch.empty_like(buf.acts), torch.empty_like(buf.e)
        d_hw = buf.hw.new_zeros(B, buf.hw.shape[2])  # d[h_t, w_t] through step t+1's recurrent product
        d_c, d_kappa = grad_c.clone(), grad_kappa.clone()  # both carried back through time
        recurrent = StepProduct(w_recurrent.t().contiguous(), B)  # d[h, w]_{t-1} = d gates_t W
        with torch.autocast(buf.hw.device.type, enabled=False):
            for t in range(T - 1, -1, -1):
                _window_backward(grad_w[t] + d_hw[:, H:], buf.e[t], buf.distance[t], buf.terms[t], text, d_kappa, d_e[t])
                d_h = torch.addmm(grad_h[t] + d_hw[:, :H], d_e[t], w_window)  # everything that reaches h^1_t
                if clip > 0:
                    d_h.clamp_(-clip, clip)
                d_c = _cell_backward(d_h, d_c, buf.acts[t], buf.cs[t], buf.tanh_c[t], d_gates[t])
                d_hw = recurrent(d_gates[t])
            flat = lambda x: x.reshape(-1, x.shape[-1])  # noqa: E731  (T, B, n) -> (T B, n)
            d_recurrent = mm(flat(d_gates).t().to(w_recurrent.dtype), flat(buf.hw[:-1]).to(w_recurrent.dtype))
            d_window = mm(flat(d_e).t(), flat(buf.hw[1:]))[:, :H]
        d_hw = d_hw.to(d_c.dtype)
        return (d_gates, d_recurrent.to(d_c.dtype), d_window, flat(d_e).sum(0), None, d_hw[:, :H], d_c, d_kappa,
                d_hw[:, H:], None, None)


def _buffers(gates_x: Tensor, text: Tensor, K: int) -> SimpleNamespace:
    """Per-step activations, time-major so that each step reads and writes contiguous rows.

    hw[t] = [h_{t-1}, w_{t-1}] (the recurrent product's input), cs[t] = c_{t-1}, kappas[t] = kappa_{t-1};
    acts[t] the activated gates i, f, g, o; e[t] = (alpha, beta, exp(kappa_hat)) of step t;
    distance[t], terms[t] (B, K, U) = kappa_t - u and exp(-beta (kappa_t - u)^2).
    """
    _, U, alphabet_size = text.shape
    T, B, G = gates_x.shape
    new = lambda *shape: gates_x.new_empty(shape)  # noqa: E731
    return SimpleNamespace(hw=new(T + 1, B, G // 4 + alphabet_size), acts=new(T, B, G), cs=new(T + 1, B, G // 4),
                           tanh_c=new(T, B, G // 4), e=new(T, B, 3 * K), kappas=new(T + 1, B, K),
                           distance=new(T, B, K, U), terms=new(T, B, K, U))


def _positions(text: Tensor) -> Tensor:
    return torch.arange(1, text.shape[1] + 1, device=text.device, dtype=text.dtype)  # u = 1..U


def _cell_forward(gates: Tensor, c_prev: Tensor, c_out: Tensor, tanh_out: Tensor, h_out: Tensor) -> Tensor:
    """The LSTM cell (eqs. 7-11, no peepholes) in place: gates (B, 4H) become i, f, g, o; writes c_t, tanh c_t, h_t."""
    H = c_prev.shape[1]
    gates[:, : 2 * H].sigmoid_()
    gates[:, 2 * H : 3 * H].tanh_()
    gates[:, 3 * H :].sigmoid_()
    i, f, g, o = gates.chunk(4, 1)
    torch.mul(f, c_prev, out=c_out).addcmul_(i, g)  # eq. 9
    torch.tanh(c_out, out=tanh_out)
    return torch.mul(o, tanh_out, out=h_out)  # eq. 11


def _cell_backward(d_h: Tensor, d_c: Tensor, acts: Tensor, c_prev: Tensor, tanh_c: Tensor, d_gates: Tensor) -> Tensor:
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


def _window_terms(beta: Tensor, kappa: Tensor, positions: Tensor, distance: Tensor, terms: Tensor) -> Tensor:
    """Writes kappa - u and exp(-beta (kappa - u)^2) (B, K, U), the terms of eq. 46 without alpha; returns the latter."""
    torch.sub(kappa.unsqueeze(2), positions, out=distance)
    return torch.mul(distance, distance, out=terms).mul_(beta.unsqueeze(2)).neg_().exp_()


def _window_backward(d_w: Tensor, e: Tensor, distance: Tensor, terms: Tensor, text: Tensor, d_kappa: Tensor,
                     d_e: Tensor) -> None:
    """Back through eqs. 46-51 at one step: d_w (B, A) -> d_e (B, 3K) = d(alpha_hat, beta_hat, kappa_hat).

    d_kappa (B, K) carries dL/dkappa_t back through kappa_t = kappa_{t-1} + exp(kappa_hat_t), updated in place.
    """
    alpha, beta, _ = e.chunk(3, 1)
    d_phi = torch.bmm(text, d_w.unsqueeze(2)).transpose(1, 2)  # (B, 1, U): w_t = sum_u phi(t, u) c_u
    weighted = terms * d_phi  # (B, K, U)
    d_exponent = weighted * alpha.unsqueeze(2)  # dL/d(-beta (kappa - u)^2) per term
    d_distance = d_exponent * distance
    d_kappa.addcmul_(beta, d_distance.sum(2), value=-2.0)
    torch.cat([weighted.sum(2), -(d_distance * distance).sum(2), d_kappa], 1, out=d_e)
    d_e.mul_(e)  # d exp(x) = exp(x) dx: alpha, beta and the kappa step are exps (eqs. 48-50)
