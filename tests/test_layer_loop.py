"""LayerLoop (hwcli/models/lstm.py), the training path of the upper LSTM layers, against nn.LSTM on the same weights."""

import pytest
import torch

from hwcli.models import lstm as lstm_module
from hwcli.models.lstm import SkipLSTM


def run(lstm: SkipLSTM, loop: str, side, below, state, clip: float):
    """Outputs and every gradient of a loss that reaches each layer's outputs and final state."""
    lstm.loop = loop
    lstm.zero_grad()
    below = below.detach().requires_grad_()
    hs, finals = lstm(side, below, state, grad_clip=clip)
    weights = [torch.arange(h.numel(), dtype=h.dtype).view_as(h).sin() for h in hs]
    loss = sum((h * w).sum() for h, w in zip(hs, weights)) + sum(h.sum() + (c * c).sum() for h, c in finals)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in lstm.named_parameters()}
    return torch.cat([h.flatten() for h in hs]), finals, grads, below.grad


@pytest.mark.parametrize("clip", [0.0, 0.05])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("chunk", [64, 5])  # 13 steps: one chunk of the backward, or 5 + 5 + 3
def test_layer_loop_equals_nn_lstm_in_float64(clip, with_state, chunk, monkeypatch):
    monkeypatch.setattr(lstm_module, "BACKWARD_CHUNK", chunk)
    torch.manual_seed(0)
    lstm = SkipLSTM(5, 7, 6, 3).double()
    side, below = torch.randn(4, 13, 5, dtype=torch.float64), torch.randn(4, 13, 7, dtype=torch.float64)
    state = [(torch.randn(1, 4, 6, dtype=torch.float64), torch.randn(1, 4, 6, dtype=torch.float64)) for _ in range(3)]
    fused = run(lstm, "fused", side, below, state if with_state else None, clip)
    reference = run(lstm, "reference", side, below, state if with_state else None, clip)
    torch.testing.assert_close(fused[0], reference[0], rtol=0, atol=1e-12)
    for (h_a, c_a), (h_b, c_b) in zip(fused[1], reference[1]):
        torch.testing.assert_close(h_a, h_b, rtol=0, atol=1e-12)
        torch.testing.assert_close(c_a, c_b, rtol=0, atol=1e-12)
    assert fused[2].keys() == reference[2].keys()
    for name in fused[2]:
        torch.testing.assert_close(fused[2][name], reference[2][name], rtol=0, atol=1e-10, msg=name)
    torch.testing.assert_close(fused[3], reference[3], rtol=0, atol=1e-10)
    if clip:  # the clip changed something, so the test compares clipped gradients
        assert not torch.allclose(run(lstm, "fused", side, below, None, 0.0)[3], run(lstm, "fused", side, below, None, clip)[3])


def test_layer_loop_under_bf16_autocast_is_close_to_float32():
    """Under autocast the products are bfloat16 (about 3 significant digits), the cell float32."""
    torch.manual_seed(1)
    lstm = SkipLSTM(3, 0, 32, 2)
    side = torch.randn(8, 40, 3)
    exact, _, exact_grads, _ = run(lstm, "fused", side, torch.zeros(8, 40, 0), None, 0.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        rounded, _, rounded_grads, _ = run(lstm, "fused", side, torch.zeros(8, 40, 0), None, 0.0)
    assert rounded.dtype == torch.float32
    assert (rounded - exact).abs().max() < 0.03
    for name, grad in exact_grads.items():
        assert (rounded_grads[name] - grad).norm() < 0.05 * grad.norm(), name


def test_layer_loop_without_gradients_is_nn_lstm():
    """Validation and the no-grad paths call nn.LSTM itself: the same outputs, bit for bit."""
    torch.manual_seed(2)
    lstm = SkipLSTM(4, 0, 8, 2)
    side = torch.randn(3, 20, 4)
    with torch.no_grad():
        lstm.loop = "fused"
        fused = lstm(side)[0]
        lstm.loop = "reference"
        reference = lstm(side)[0]
    for a, b in zip(fused, reference):
        assert torch.equal(a, b)
