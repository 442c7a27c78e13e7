"""The soft window (paper section 5, eqs. 46-52) against plain loops, and the two networks' structure:
the synthesis network steps only layer 1 and the window, the prediction network not at all. The fused
loop (`WindowLoop`, hand-written backward) against gradcheck and the plain autograd loop.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hwcli.models import mdn, window
from hwcli.models.prediction import PredictionConfig, PredictionNetwork
from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork
from hwcli.models.window import WindowLayer, WindowLoop
from hwcli.training import loop
from hwcli.training.batches import TrainingData

B, T, U, A, H, K = 2, 9, 5, 7, 6, 3


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def one_hot_text(batch: int = B, length: int = U, alphabet: int = A, lengths=None) -> torch.Tensor:
    """(B, U, A) one-hot, zero rows past each text's end (as training batches pad them)."""
    codes = torch.randint(0, alphabet, (batch, length))
    text = torch.nn.functional.one_hot(codes, alphabet).float()
    if lengths is not None:
        for b, n in enumerate(lengths):
            text[b, n:] = 0
    return text


def test_window_weights_match_a_loop():
    alpha, beta = torch.rand(B, K) + 0.1, torch.rand(B, K) + 0.1
    kappa = torch.rand(B, K) * U
    positions = torch.arange(1, U + 1, dtype=torch.float32)
    got = window.window_weights(alpha, beta, kappa, positions)
    assert got.shape == (B, U)
    for b in range(B):
        for u in range(1, U + 1):
            expected = sum(float(alpha[b, k]) * np.exp(-float(beta[b, k]) * (float(kappa[b, k]) - u) ** 2) for k in range(K))
            assert float(got[b, u - 1]) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_forward_equals_stepping_by_hand():
    """forward() (precomputed input projection, unbind loop) == the equations stepped one t at a time."""
    layer = WindowLayer(3, A, H, K, steps_per_char=2.0)
    x, text = torch.randn(B, T, 3), one_hot_text(lengths=[U, 3])
    h1, w, final, phi = layer(x, text, return_phi=True)
    assert h1.shape == (B, T, H) and w.shape == (B, T, A) and phi.shape == (B, T, U)

    positions = torch.arange(1, U + 1, dtype=torch.float32)
    h, c, kappa, w_prev = torch.zeros(B, H), torch.zeros(B, H), torch.zeros(B, K), torch.zeros(B, A)
    for t in range(T):
        # eq. 52: h^1_t from x_t, h^1_{t-1} and w_{t-1}; gate order i, f, g, o as in nn.LSTM
        gates = x[:, t] @ layer.w_input.T + torch.cat([h, w_prev], 1) @ layer.w_recurrent.T + layer.bias
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        alpha_hat, beta_hat, kappa_hat = layer.window(h).chunk(3, 1)  # eq. 48
        kappa = kappa + torch.exp(kappa_hat)  # eq. 51
        phi_t = window.window_weights(torch.exp(alpha_hat), torch.exp(beta_hat), kappa, positions)
        w_prev = torch.einsum("bu,bua->ba", phi_t, text)  # eq. 47: w_t = sum_u phi(t, u) c_u
        torch.testing.assert_close(h1[:, t], h, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(phi[:, t], phi_t, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(w[:, t], w_prev, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(final[2], kappa, rtol=1e-5, atol=1e-6)


def test_step_method_equals_forward():
    layer = WindowLayer(3, A, H, K, steps_per_char=2.0)
    x, text = torch.randn(B, T, 3), one_hot_text()
    h1, w, _, phi = layer(x, text, return_phi=True)
    state = layer.initial_state(B, A, x.device)
    positions = torch.arange(1, U + 1, dtype=torch.float32)
    gates_x = x @ layer.w_input.T + layer.bias
    for t in range(T):
        state, phi_t = layer.step(gates_x[:, t], state, text, positions)
        torch.testing.assert_close(state[0], h1[:, t], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(state[3], w[:, t], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(phi_t, phi[:, t], rtol=1e-5, atol=1e-6)


def test_chunks_with_carried_state_equal_one_call():
    layer = WindowLayer(3, A, H, K, steps_per_char=2.0)
    x, text = torch.randn(B, T, 3), one_hot_text()
    h_all, w_all, final_all, _ = layer(x, text)
    h_a, w_a, state, _ = layer(x[:, :4], text)
    h_b, w_b, final, _ = layer(x[:, 4:], text, state)
    torch.testing.assert_close(torch.cat([h_a, h_b], 1), h_all)
    torch.testing.assert_close(torch.cat([w_a, w_b], 1), w_all)
    for a, b in zip(final, final_all):
        torch.testing.assert_close(a, b)


def test_kappa_only_moves_forward():
    """kappa_t = kappa_{t-1} + exp(kappa_hat) (eq. 51): monotone non-decreasing, whatever the input."""
    layer = WindowLayer(3, A, H, K, steps_per_char=2.0)
    x, text = torch.randn(B, 40, 3) * 3, one_hot_text()
    state = layer.initial_state(B, A, x.device)
    kappas = []
    for t in range(40):
        _, _, state, _ = layer(x[:, t : t + 1], text, state)
        kappas.append(state[2])
    kappas = torch.stack(kappas, 1)  # (B, T, K)
    assert (kappas.diff(dim=1) >= 0).all() and (kappas[:, 0] > 0).all()


def test_initial_window_speed_follows_steps_per_char():
    """The kappa bias starts the window at about one character per steps_per_char steps."""
    layer = WindowLayer(3, A, H, K, steps_per_char=25.0)
    with torch.no_grad():
        layer.window.weight.zero_()
        _, _, state, _ = layer(torch.zeros(1, 50, 3), one_hot_text(1))
    torch.testing.assert_close(state[2], torch.full((1, K), 2.0), rtol=1e-5, atol=1e-6)  # 50 / 25


def test_window_vector_is_phi_times_text():
    """w_t = sum_u phi(t, u) c_u (eq. 47), checked in numpy from the returned phi."""
    layer = WindowLayer(3, A, H, K, steps_per_char=2.0)
    text = one_hot_text(lengths=[U, 2])
    _, w, _, phi = layer(torch.randn(B, T, 3), text, return_phi=True)
    expected = np.einsum("btu,bua->bta", phi.detach().numpy(), text.numpy())
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-5, atol=1e-7)
    assert np.all(w.detach().numpy()[1][:, [c for c in range(A) if text[1, :2, c].sum() == 0]] == 0)


def test_synthesis_network_returns_phi():
    net = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=H, layers=3, mixtures=4, window_mixtures=K))
    y_hat, state, phi = net(torch.randn(B, T, 3), one_hot_text(), return_phi=True)
    assert y_hat.shape == (B, T, mdn.output_size(4))
    assert phi.shape == (B, T, U)
    assert net(torch.randn(B, T, 3), one_hot_text())[2] is None


def test_synthesis_chunks_with_carried_state_equal_one_call():
    net = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=H, layers=2, mixtures=3, window_mixtures=K))
    x, text = torch.randn(B, T, 3), one_hot_text()
    whole, _, _ = net(x, text)
    state, parts = None, []
    for t in range(T):
        y_hat, state, _ = net(x[:, t : t + 1], text, state)
        parts.append(y_hat)
    torch.testing.assert_close(torch.cat(parts, 1), whole, rtol=1e-5, atol=1e-6)


def count_lstm_calls(net, *inputs) -> int:
    calls = []
    handles = [m.register_forward_hook(lambda *_: calls.append(1)) for m in net.modules() if isinstance(m, torch.nn.LSTM)]
    net(*inputs)
    for handle in handles:
        handle.remove()
    return len(calls)


def test_prediction_network_has_no_loop_over_time():
    """One whole-sequence nn.LSTM call per layer, whatever T; and it equals stepping with carried state."""
    net = PredictionNetwork(PredictionConfig(hidden=H, layers=3, mixtures=3))
    x = torch.randn(B, 25, 3)
    assert count_lstm_calls(net, x) == 3
    assert count_lstm_calls(net, torch.randn(B, 400, 3)) == 3
    whole, final, _ = net(x)
    state, parts = None, []
    for t in range(x.shape[1]):
        y_hat, state, _ = net(x[:, t : t + 1], None, state)
        parts.append(y_hat)
    torch.testing.assert_close(torch.cat(parts, 1), whole, rtol=1e-5, atol=1e-6)
    for (h_a, c_a), (h_b, c_b) in zip(state, final):
        torch.testing.assert_close(h_a, h_b, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(c_a, c_b, rtol=1e-5, atol=1e-6)


def test_synthesis_upper_layers_run_whole_sequence():
    net = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=H, layers=3, mixtures=3, window_mixtures=K))
    assert count_lstm_calls(net, torch.randn(B, 30, 3), one_hot_text()) == 2  # layers 2 and 3


def test_skip_connections_every_layer_sees_the_input_and_feeds_the_output():
    """Eqs. 1-5: the input reaches every layer, every layer reaches the output."""
    net = PredictionNetwork(PredictionConfig(hidden=H, layers=3, mixtures=3))
    for n, layer in enumerate(net.lstm.layers):
        assert layer.input_size == 3 + (H if n else 0)
    assert net.output.in_features == 3 * H


def parameters(net) -> int:
    return sum(p.numel() for p in net.parameters())


def test_paper_size_parameter_counts():
    """Paper: about 3.4M weights (prediction, section 4) and 3.7M (synthesis, section 5)."""
    prediction = parameters(PredictionNetwork(PredictionConfig()))
    counts = {"prediction": prediction}
    for alphabet in (57, 80):
        counts[f"synthesis (alphabet {alphabet})"] = parameters(SynthesisNetwork(SynthesisConfig(alphabet_size=alphabet)))
    print("paper-size weights:", {k: f"{v:,}" for k, v in counts.items()})
    assert 3.2e6 < prediction < 3.6e6
    assert 3.5e6 < counts["synthesis (alphabet 57)"] < 3.9e6
    assert 3.5e6 < counts["synthesis (alphabet 80)"] < 4.0e6


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_synthesis_network_of_any_depth(layers):
    """layers counts the window layer: 1 means no LSTM above it (SkipLSTM of 0 layers)."""
    net = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=H, layers=layers, mixtures=3, window_mixtures=K))
    assert len(net.upper.layers) == layers - 1
    y_hat, _, _ = net(torch.randn(B, T, 3), one_hot_text())
    assert y_hat.shape == (B, T, mdn.output_size(3))
    assert count_lstm_calls(net, torch.randn(B, T, 3), one_hot_text()) == layers - 1


def test_synthesis_network_equals_the_equations_with_lstm_cells():
    """Section 5 wiring written out with nn.LSTMCell: layer 1 gets [x_t, w_{t-1}], layer n gets
    [x_t, w_t, h^{n-1}_t], the output gets every layer's h (eqs. 52-53, 17)."""
    net = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=H, layers=3, mixtures=3, window_mixtures=K))
    x, text = torch.randn(B, T, 3), one_hot_text(lengths=[U, 4])
    wl = net.window_layer
    first = torch.nn.LSTMCell(3 + A, H)
    upper = [torch.nn.LSTMCell(3 + A + H, H) for _ in net.upper.layers]
    with torch.no_grad():
        first.weight_ih.copy_(torch.cat([wl.w_input, wl.w_recurrent[:, H:]], 1))
        first.weight_hh.copy_(wl.w_recurrent[:, :H])
        first.bias_ih.copy_(wl.bias)
        first.bias_hh.zero_()
        for cell, layer in zip(upper, net.upper.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(layer, f"{name}_l0"))
        positions = torch.arange(1, U + 1, dtype=torch.float32)
        states = [(torch.zeros(B, H), torch.zeros(B, H)) for _ in range(3)]
        kappa, w = torch.zeros(B, K), torch.zeros(B, A)
        expected = []
        for t in range(T):
            states[0] = first(torch.cat([x[:, t], w], 1), states[0])
            alpha, beta, kappa_step = torch.exp(wl.window(states[0][0])).chunk(3, 1)
            kappa = kappa + kappa_step
            w = torch.einsum("bu,bua->ba", window.window_weights(alpha, beta, kappa, positions), text)
            for n, cell in enumerate(upper, start=1):
                states[n] = cell(torch.cat([x[:, t], w, states[n - 1][0]], 1), states[n])
            expected.append(net.output(torch.cat([h for h, _ in states], 1)))
        y_hat, _, _ = net(x, text)
    torch.testing.assert_close(y_hat, torch.stack(expected, 1), rtol=1e-5, atol=1e-5)


# --- the fused loop: its hand-written backward against gradcheck and the plain autograd loop ---------


def loop_inputs(dtype=torch.float64, B=2, T=5, U=4, A=5, H=3, K=2):
    """WindowLoop's differentiable inputs at tiny sizes: gates_x, weights, initial state (all requiring grad)."""
    g = torch.Generator().manual_seed(3)
    rand = lambda *shape, scale=1.0: (torch.randn(*shape, generator=g, dtype=dtype) * scale).requires_grad_()  # noqa: E731
    text = torch.nn.functional.one_hot(torch.randint(0, A, (B, U), generator=g), A).to(dtype)
    text[1, 2:] = 0  # a shorter text, padded as batches pad it
    tensors = [rand(T, B, 4 * H), rand(4 * H, H + A, scale=0.5), rand(3 * K, H, scale=0.5), rand(3 * K, scale=0.5),
               rand(B, H), rand(B, H), (torch.rand(B, K, generator=g, dtype=dtype) * U).requires_grad_(), rand(B, A)]
    return tensors, text


def test_fused_loop_passes_gradcheck():
    """float64 finite differences of every output (h^1, w, final c and kappa) against the hand-written backward."""
    tensors, text = loop_inputs()
    gates_x, w_recurrent, w_window, b_window, *state = tensors
    fn = lambda *t: WindowLoop.apply(*t[:4], text, *t[4:], 0.0, torch.float64)  # noqa: E731
    assert torch.autograd.gradcheck(fn, tuple(tensors), eps=1e-6, atol=1e-7, rtol=1e-5)


def layer_pair(dtype=torch.float32, hidden=H):
    """The same WindowLayer twice: the fused loop and the plain autograd reference."""
    fused = WindowLayer(3, A, hidden, K, steps_per_char=2.0).to(dtype)
    reference = WindowLayer(3, A, hidden, K, steps_per_char=2.0).to(dtype)
    reference.load_state_dict(fused.state_dict())
    fused.loop, reference.loop = "fused", "reference"
    return fused, reference


def layer_gradients(layer, x, text, weights, clip):
    """Outputs and gradients (x, initial state, weights) of a loss over every output, final state included."""
    xx = x.clone().requires_grad_()
    start = [s.requires_grad_() for s in layer.initial_state(B, A, x.device, x.dtype)]
    layer.zero_grad()
    h1, w, final, _ = layer(xx, text, state=start, grad_clip=clip)
    ((h1 * weights[0]).sum() + (w * weights[1]).sum() + final[1].sum() + final[2].sum()).backward()
    return [h1, w, *final, xx.grad, *(s.grad for s in start), *(p.grad.clone() for p in layer.parameters())]


@pytest.mark.parametrize("clip", [0.0, 0.02])
def test_fused_loop_equals_the_autograd_loop_with_clipping(clip):
    """Outputs and every gradient (weights, x, initial state) agree, with the per-step clamp on dL/dh^1_t
    binding (clip 0.02) or off."""
    fused, reference = layer_pair(torch.float64)
    x, text = torch.randn(B, T, 3, dtype=torch.float64), one_hot_text(lengths=[U, 2]).double()
    weights = [torch.randn(B, T, H, dtype=torch.float64), torch.randn(B, T, A, dtype=torch.float64) * 5]
    got, expected = (layer_gradients(layer, x, text, weights, clip) for layer in (fused, reference))
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    if clip:  # the clamp really binds: without it the gradients differ
        free = layer_gradients(fused, x, text, weights, 0.0)
        assert not torch.allclose(free[-4], got[-4], rtol=1e-3)  # w_recurrent


def padded_batch(alphabet: int):
    """A training batch as training makes it: lines of uneven length (masked padding) and uneven texts."""
    g = np.random.default_rng(0)
    lines = [np.c_[g.normal(size=(n, 2)), g.random(n) < 0.1].astype(np.float32) for n in (14, 9, 5)]
    texts = [g.integers(0, alphabet, n) for n in (4, 2, 3)]
    return TrainingData(lines, texts, alphabet).batch([0, 1, 2])


def synthesis_pair(alphabet: int = A):
    config = SynthesisConfig(alphabet_size=alphabet, hidden=H, layers=3, mixtures=3, window_mixtures=K)
    fused, reference = SynthesisNetwork(config), SynthesisNetwork(config)
    with torch.no_grad():
        fused.output.weight.mul_(30.0)  # big output derivatives: the paper's clips bind
    reference.load_state_dict(fused.state_dict())
    fused.window_layer.loop, reference.window_layer.loop = "fused", "reference"
    return fused, reference


def test_fused_network_gradients_equal_the_reference_in_training():
    """loop.batch_loss with clip=True (both of the paper's clips, the loss masked over padding):
    every parameter gradient of the fused network equals the plain autograd one."""
    fused, reference = synthesis_pair()
    batch = padded_batch(A)
    assert batch.mask.sum() < batch.mask.numel()  # there is padding
    grads = []
    for net in (fused, reference):
        loss, _, _ = loop.batch_loss(net, batch, 3, clip=True)
        loss.backward()
        grads.append({name: p.grad for name, p in net.named_parameters()})
    for name, grad in grads[0].items():  # float32 rounding apart (the order of the sums differs)
        scale = float(grads[1][name].abs().max())
        torch.testing.assert_close(grad, grads[1][name], rtol=0, atol=2e-4 * scale, msg=name)


def test_fused_network_under_bf16_autocast_is_close_to_the_reference():
    """Under bf16 autocast the fused loop's recurrent products are bf16, its state float32.
    The loss stays within 1% of float32's for both loops. With the output scaled 30x
    (clips bind) the loss itself moves by up to 17% under bf16 rounding for either loop,
    so there only the gradients' direction is compared: fused against reference."""
    torch.manual_seed(0)
    fused, reference = synthesis_pair()
    batch = padded_batch(A)
    with torch.no_grad():
        for net in (fused, reference):
            net.output.weight.div_(30.0)  # the plain initialisation
            exact = float(loop.batch_loss(net, batch, 3, clip=True)[0])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                rounded = float(loop.batch_loss(net, batch, 3, clip=True)[0])
            assert rounded == pytest.approx(exact, rel=1e-2), net.window_layer.loop
            net.output.weight.mul_(30.0)
    grads = []
    for net in (fused, reference):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss, _, _ = loop.batch_loss(net, batch, 3, clip=True)
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in net.parameters()]))
    assert torch.isfinite(grads[0]).all()
    cosine = torch.nn.functional.cosine_similarity(grads[0], grads[1], dim=0)
    assert cosine > 0.99, float(cosine)


def test_fused_loop_without_grad_equals_the_reference():
    """Validation runs under no_grad: the same outputs, and no autograd graph."""
    fused, reference = layer_pair()
    x, text = torch.randn(B, T, 3), one_hot_text(lengths=[U, 3])
    with torch.no_grad():
        got, expected = fused(x, text), reference(x, text)
    assert not got[0].requires_grad
    for a, b in zip([got[0], got[1], *got[2]], [expected[0], expected[1], *expected[2]]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
