"""The numpy step-by-step sampler against the torch networks' whole-sequence forward pass:
the same y_hat and phi at every step, for both networks, any depth, a batch of uneven texts.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hwcli.models.prediction import PredictionConfig, PredictionNetwork
from hwcli.generate.stepper import Stepper, one_hot
from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork

B, T, A = 2, 15, 7
CODES = [np.array([1, 2, 3, 4, 5, 6]), np.array([6, 1, 0])]  # uneven lengths: zero rows pad the second


def randomise_biases(network: torch.nn.Module) -> None:
    """Trained networks have non-zero biases everywhere: give every bias some, so each is checked."""
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            if "bias" in name:
                parameter.add_(torch.randn_like(parameter) * 0.3)


def steps(stepper: Stepper, x: torch.Tensor):
    y_hats, phis = [], []
    for t in range(x.shape[1]):
        y_hat, phi = stepper.step(x[:, t].numpy())
        y_hats.append(y_hat.copy())
        phis.append(None if phi is None else phi.copy())
    return np.stack(y_hats, 1), phis


@pytest.mark.parametrize("layers", [1, 2, 3, 4])
def test_synthesis_steps_match_the_forward_pass(layers):
    torch.manual_seed(layers)
    config = SynthesisConfig(alphabet_size=A, hidden=12, layers=layers, mixtures=3, window_mixtures=2, steps_per_char=3)
    network = SynthesisNetwork(config).eval()
    randomise_biases(network)
    x = torch.randn(B, T, 3)
    text = one_hot(CODES, A, 7)  # (B, U + 1, A)
    with torch.no_grad():
        y_hat, _, phi = network(x, torch.from_numpy(text), return_phi=True)
    got_y_hat, got_phi = steps(Stepper(network, B, text), x)
    np.testing.assert_allclose(got_y_hat, y_hat.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.stack(got_phi, 1), phi.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layers", [1, 2, 3, 4])
def test_prediction_steps_match_the_forward_pass(layers):
    torch.manual_seed(10 + layers)
    network = PredictionNetwork(PredictionConfig(hidden=12, layers=layers, mixtures=3)).eval()
    randomise_biases(network)
    x = torch.randn(B, T, 3)
    with torch.no_grad():
        y_hat, _, _ = network(x)
    got_y_hat, got_phi = steps(Stepper(network, B), x)
    np.testing.assert_allclose(got_y_hat, y_hat.numpy(), rtol=1e-4, atol=1e-5)
    assert got_phi == [None] * T


def test_batch_rows_are_independent():
    """Line b of a batch steps exactly as it would alone."""
    torch.manual_seed(3)
    network = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=12, mixtures=3, window_mixtures=2)).eval()
    x = torch.randn(B, T, 3)
    text = one_hot(CODES, A, 7)
    together, _ = steps(Stepper(network, B, text), x)
    alone, _ = steps(Stepper(network, 1, text[1:]), x[1:])
    np.testing.assert_allclose(together[1:], alone, rtol=1e-5, atol=1e-6)


def test_repeated_state_steps_as_the_forward_pass_of_each_copy():
    """Read 6 steps at batch 2, repeat every line 3 times, go on: each copy follows the torch
    forward pass of its line over all 15 steps (the window's text repeated with it)."""
    torch.manual_seed(4)
    network = SynthesisNetwork(SynthesisConfig(alphabet_size=A, hidden=12, mixtures=3, window_mixtures=2)).eval()
    randomise_biases(network)
    x = torch.randn(B, T, 3)
    text = one_hot(CODES, A, 7)
    with torch.no_grad():
        expected, _ = network(x, torch.from_numpy(text))[:2]
    stepper = Stepper(network, B, text)
    head, _ = steps(stepper, x[:, :6])
    stepper.repeat(3)
    tail, _ = steps(stepper, x[:, 6:].repeat_interleave(3, dim=0))
    np.testing.assert_allclose(head, expected[:, :6].numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tail, expected[:, 6:].repeat_interleave(3, dim=0).numpy(), rtol=1e-4, atol=1e-5)


def test_one_hot_rows_and_padding():
    text = one_hot(CODES, A, 7)
    assert text.shape == (B, 7, A) and text.dtype == np.float32
    np.testing.assert_array_equal(text[0, :6].argmax(1), CODES[0])
    np.testing.assert_array_equal(text[1, :3].argmax(1), CODES[1])
    assert text[0, 6:].sum() == 0 and text[1, 3:].sum() == 0


def test_weight_blocks_cover_every_weight_in_place():
    """The named blocks, put back side by side in input order, are the modules' own matrices."""
    import torch

    from hwcli.models.prediction import PredictionConfig, PredictionNetwork
    from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork

    net = SynthesisNetwork(SynthesisConfig(alphabet_size=7, hidden=5, layers=3, mixtures=2, window_mixtures=2))
    first, second, third = net.weight_blocks()
    torch.testing.assert_close(torch.cat([first["h1"], first["w"]], 1), net.window_layer.w_recurrent)
    assert first["x"] is net.window_layer.w_input
    for blocks, n, lstm in ((second, 2, net.upper.layers[0]), (third, 3, net.upper.layers[1])):
        torch.testing.assert_close(torch.cat([blocks["x"], blocks["w"], blocks[f"h{n - 1}"]], 1), lstm.weight_ih_l0)
        assert blocks[f"h{n}"] is lstm.weight_hh_l0
        torch.testing.assert_close(blocks["1"], lstm.bias_ih_l0 + lstm.bias_hh_l0)
    pred = PredictionNetwork(PredictionConfig(hidden=5, layers=2, mixtures=2))
    one, two = pred.weight_blocks()
    assert set(one) == {"x", "h1", "1"} and set(two) == {"x", "h1", "h2", "1"}
    torch.testing.assert_close(torch.cat([two["x"], two["h1"]], 1), pred.lstm.layers[1].weight_ih_l0)
