"""The mixture density head (paper eqs. 15-26, bias section 5.4) against numpy written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hwcli.generate.sampler import sample_mixture
from hwcli.models import mdn

M = 4  # mixture components in these tests


def random_y_hat(rng: np.random.Generator, shape: tuple[int, ...], mixtures: int = M) -> np.ndarray:
    """Raw outputs of moderate size: densities stay well inside float64's range."""
    y = rng.normal(0.0, 1.0, size=(*shape, 1 + 6 * mixtures))
    y[..., 1 + 3 * mixtures : 1 + 5 * mixtures] *= 0.5  # sigma_hat: sigma in about [0.3, 3]
    return y


def numpy_parts(y: np.ndarray, mixtures: int, bias: float = 0.0):
    """e, pi, mu1, mu2, sigma1, sigma2, rho from y_hat (eqs. 18-22 and the bias of section 5.4)."""
    e_hat = y[..., 0]
    pi_hat, mu1, mu2, s1_hat, s2_hat, rho_hat = (y[..., 1 + k * mixtures : 1 + (k + 1) * mixtures] for k in range(6))
    e = 1.0 / (1.0 + np.exp(e_hat))  # eq. 18
    scaled = pi_hat * (1.0 + bias)
    pi = np.exp(scaled - scaled.max(-1, keepdims=True))
    pi = pi / pi.sum(-1, keepdims=True)  # eq. 19
    return e, pi, mu1, mu2, np.exp(s1_hat - bias), np.exp(s2_hat - bias), np.tanh(rho_hat)  # eqs. 20-22


def numpy_bivariate_normal(x1, x2, mu1, mu2, s1, s2, rho):
    """N(x | mu, sigma, rho), eqs. 24-25, exactly as printed."""
    Z = (x1 - mu1) ** 2 / s1**2 + (x2 - mu2) ** 2 / s2**2 - 2 * rho * (x1 - mu1) * (x2 - mu2) / (s1 * s2)
    return np.exp(-Z / (2 * (1 - rho**2))) / (2 * np.pi * s1 * s2 * np.sqrt(1 - rho**2))


def numpy_nll(y: np.ndarray, target: np.ndarray, mixtures: int) -> np.ndarray:
    """-log Pr(x_{t+1} | y_t), eq. 26: mixture sum and Bernoulli, no log-space tricks."""
    e, pi, mu1, mu2, s1, s2, rho = numpy_parts(y, mixtures)
    x1, x2, eos = target[..., 0:1], target[..., 1:2], target[..., 2]
    mixture = (pi * numpy_bivariate_normal(x1, x2, mu1, mu2, s1, s2, rho)).sum(-1)
    bernoulli = np.where(eos == 1, e, 1 - e)
    return -np.log(mixture) - np.log(bernoulli)


def test_output_size_is_one_plus_six_m():
    assert mdn.output_size(20) == 121  # paper section 4: 121 outputs for M = 20


def test_negative_log_likelihood_matches_numpy():
    rng = np.random.default_rng(0)
    y = random_y_hat(rng, (3, 7))
    target = np.concatenate([rng.normal(0, 1.5, (3, 7, 2)), rng.integers(0, 2, (3, 7, 1))], axis=-1)
    got = mdn.negative_log_likelihood(torch.from_numpy(y), torch.from_numpy(target), M)
    # The head computes in float32 on purpose (autocast-safe); compare at float32 precision.
    np.testing.assert_allclose(got.numpy(), numpy_nll(y, target, M), rtol=1e-5, atol=1e-4)


def test_negative_log_likelihood_in_float64_space():
    """The same maths in float64: the log-space formulation is the printed formula, not an approximation."""
    rng = np.random.default_rng(1)
    y = random_y_hat(rng, (50,))
    target = np.concatenate([rng.normal(0, 1.0, (50, 2)), rng.integers(0, 2, (50, 1))], axis=-1)
    params = [p.double() for p in mdn.split_params(torch.from_numpy(y), M)]
    log_mix = mdn.log_mixture_density(params, torch.from_numpy(target[:, :1]), torch.from_numpy(target[:, 1:2]))
    e, pi, mu1, mu2, s1, s2, rho = numpy_parts(y, M)
    expected = np.log((pi * numpy_bivariate_normal(target[:, :1], target[:, 1:2], mu1, mu2, s1, s2, rho)).sum(-1))
    np.testing.assert_allclose(log_mix.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_end_of_stroke_probability_is_one_over_one_plus_exp():
    """e = 1 / (1 + exp(e_hat)) (eq. 18): a large e_hat means "pen stays down"."""
    y = torch.zeros(2, 1 + 6 * M)
    y[:, 0] = torch.tensor([2.0, -3.0])
    up = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    down = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    bernoulli_up = mdn.negative_log_likelihood(y, up, M) - mdn.negative_log_likelihood(y, down, M)
    e = 1 / (1 + np.exp([2.0, -3.0]))
    np.testing.assert_allclose(bernoulli_up.numpy(), -np.log(e) + np.log(1 - e), rtol=1e-5)


def test_extreme_outputs_stay_finite():
    """Log space: far-away points and saturated rho give large but finite losses, not inf or NaN."""
    y = torch.zeros(1, 1 + 6 * M)
    y[:, 1 + 3 * M : 1 + 5 * M] = -6.0  # sigma = exp(-6)
    y[:, 1 + 5 * M :] = 30.0  # rho -> 1
    y[:, 0] = 80.0
    nll = mdn.negative_log_likelihood(y, torch.tensor([[50.0, -50.0, 1.0]]), M)
    assert torch.isfinite(nll).all() and nll.item() > 100


@pytest.mark.parametrize("bias", [0.0, 0.15, 1.0, 3.0])
def test_split_params_with_bias(bias):
    rng = np.random.default_rng(2)
    y = random_y_hat(rng, (5,))
    e_hat, log_pi, mu1, mu2, log_s1, log_s2, rho = mdn.split_params(torch.from_numpy(y), M, bias)
    e, pi, nmu1, nmu2, s1, s2, nrho = numpy_parts(y, M, bias)
    np.testing.assert_allclose(e_hat.numpy(), y[:, 0])
    np.testing.assert_allclose(log_pi.exp().numpy(), pi, rtol=1e-12)
    np.testing.assert_allclose(mu1.numpy(), nmu1)
    np.testing.assert_allclose(mu2.numpy(), nmu2)
    np.testing.assert_allclose(log_s1.exp().numpy(), s1, rtol=1e-12)  # sigma = exp(sigma_hat - b)
    np.testing.assert_allclose(log_s2.exp().numpy(), s2, rtol=1e-12)
    np.testing.assert_allclose(rho.numpy(), nrho, rtol=1e-12)


def test_bias_sharpens_the_mixture_weights():
    y = torch.from_numpy(random_y_hat(np.random.default_rng(3), (1,)))
    entropies = []
    for bias in (0.0, 0.5, 2.0):
        pi = mdn.split_params(y, M, bias)[1].exp()
        entropies.append(float(-(pi * pi.log()).sum()))
    assert entropies[0] > entropies[1] > entropies[2]


def test_density_integrates_to_one():
    """The mixture density over a fine grid sums to 1: an independent check of the normalising constant."""
    y = torch.from_numpy(random_y_hat(np.random.default_rng(4), ())).float()
    y[1 + 3 * M : 1 + 5 * M] = torch.linspace(-1.0, 0.0, 2 * M)  # sigma in [0.37, 1]
    y[1 + M : 1 + 3 * M] *= 0.3
    step = 0.02
    axis = torch.arange(-8.0, 8.0, step)
    grid = torch.cartesian_prod(axis, axis)  # (P, 2)
    mass = float(mdn.density(y, M, grid).sum()) * step * step
    assert mass == pytest.approx(1.0, abs=2e-3)


def one_component(mu=(0.5, -1.0), sigma=(0.8, 0.3), rho=0.6, e=0.2, rows=40_000) -> np.ndarray:
    """y_hat (rows, 7) for M = 1 with the given parameters (inverting eqs. 18-22)."""
    e_hat = math.log(1 / e - 1)  # e = 1 / (1 + exp(e_hat))
    row = [e_hat, 0.0, mu[0], mu[1], math.log(sigma[0]), math.log(sigma[1]), math.atanh(rho)]
    return np.tile(np.float32(row), (rows, 1))


def test_sample_matches_the_gaussian_and_bernoulli():
    mu, sigma, rho, e = (0.5, -1.0), (0.8, 0.3), 0.6, 0.2
    draws = sample_mixture(one_component(mu, sigma, rho, e), 1, 0.0, np.random.default_rng(0)).astype(np.float64)
    assert draws.shape == (40_000, 3)
    n = len(draws)
    # Standard errors at n = 40,000 are ~0.004 for the means: 5 sigma of slack.
    np.testing.assert_allclose(draws[:, :2].mean(0), mu, atol=5 * max(sigma) / math.sqrt(n))
    cov = np.cov(draws[:, :2].T)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), sigma, rtol=0.02)
    assert cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) == pytest.approx(rho, abs=0.02)
    assert set(np.unique(draws[:, 2])) <= {0.0, 1.0}
    assert draws[:, 2].mean() == pytest.approx(e, abs=0.01)


def test_sample_picks_components_by_pi():
    """Two far-apart components with pi = (0.25, 0.75): the draws split in that proportion."""
    y = np.zeros((20_000, 1 + 6 * 2), np.float32)
    y[:, 1:3] = [0.0, math.log(3.0)]  # pi_hat -> softmax (0.25, 0.75)
    y[:, 3:5] = [-10.0, 10.0]  # mu1 of each component
    y[:, 7:11] = math.log(0.1)  # small sigmas
    draws = sample_mixture(y, 2, 0.0, np.random.default_rng(1))
    assert float((draws[:, 0] > 0).mean()) == pytest.approx(0.75, abs=0.015)


def test_bias_shrinks_the_spread():
    """sigma = exp(sigma_hat - b): the spread of the draws shrinks by exp(-b)."""
    y = one_component(rho=0.0)
    rng = np.random.default_rng(2)
    spread = {b: sample_mixture(y, 1, b, rng)[:, :2].std(0) for b in (0.0, 1.0)}
    assert (spread[1.0] < spread[0.0]).all()
    np.testing.assert_allclose(spread[1.0] / spread[0.0], math.exp(-1.0), rtol=0.03)


def test_sample_is_reproducible_with_a_generator():
    y = one_component(rows=10)
    a = sample_mixture(y, 1, 0.0, np.random.default_rng(7))
    b = sample_mixture(y, 1, 0.0, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_layers_to_output_equals_the_linear_layer_on_the_concatenation():
    """Eq. 17: y_hat = W [h^1 | h^2 | h^3] + b, here one product per layer, against numpy."""
    torch.manual_seed(0)
    output = torch.nn.Linear(3 * 5, mdn.output_size(2))
    hs = [torch.randn(2, 7, 5) for _ in range(3)]
    got = mdn.layers_to_output(output, hs)
    stacked = np.concatenate([h.numpy() for h in hs], axis=-1)
    want = stacked @ output.weight.detach().numpy().T + output.bias.detach().numpy()
    assert got.shape == (2, 7, mdn.output_size(2))
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=0, atol=1e-5)
