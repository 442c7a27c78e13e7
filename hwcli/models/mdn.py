"""Mixture density output (paper section 4, eqs. 15-26) and its bias (section 5.4).

The head maps a hidden vector to y_hat = (e_hat, pi_hat, mu_hat, sigma_hat,
rho_hat): 1 + 6M numbers. The negative log-likelihood is computed in log space. Drawing from the mixture, step by
step in numpy, is generation's job: hwcli/generate/sampler.py.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


def output_size(mixtures: int) -> int:
    return 1 + 6 * mixtures  # eq. 15: e, then pi, mu (2), sigma (2), rho per component


def layers_to_output(output: torch.nn.Linear, hs: list[Tensor]) -> Tensor:
    """y_hat = output([h^1 | ... | h^N]) (eq. 17, every layer to the output) as a sum of one
    product per layer: training never holds the (B, T, N H) concatenation or its gradient
    (176 MB each at 32 x 1,200 steps, paper size), which lowered the peak memory. The parts
    add up in float32 (under bf16 autocast each product is bfloat16)."""
    at, y_hat = 0, None
    for h in hs:
        part = F.linear(h, output.weight[:, at : at + h.shape[-1]]).float()
        y_hat, at = (part if y_hat is None else y_hat + part), at + h.shape[-1]
    return y_hat + output.bias


def split_params(y_hat: Tensor, mixtures: int, bias: float = 0.0):
    """y_hat (..., 1+6M) -> e_hat, log_pi, mu1, mu2, log_sigma1, log_sigma2, rho (eqs. 18-22).

    With bias b (section 5.4): sigma = exp(sigma_hat - b), pi = softmax(pi_hat (1 + b)).
    """
    M = mixtures
    e_hat = y_hat[..., 0]
    pi_hat, mu1, mu2, s1, s2, rho_hat = y_hat[..., 1:].split(M, dim=-1)
    log_pi = F.log_softmax(pi_hat * (1.0 + bias), dim=-1)
    return e_hat, log_pi, mu1, mu2, s1 - bias, s2 - bias, torch.tanh(rho_hat)


def log_mixture_density(params, x1: Tensor, x2: Tensor) -> Tensor:
    """log sum_j pi_j N(x | mu_j, sigma_j, rho_j) (eqs. 23-25); x1, x2 broadcast against (..., M)."""
    _, log_pi, mu1, mu2, log_s1, log_s2, rho = params
    z1 = (x1 - mu1) * torch.exp(-log_s1)
    z2 = (x2 - mu2) * torch.exp(-log_s2)
    one_minus_rho2 = (1 - rho * rho).clamp_min(1e-6)
    Z = z1 * z1 + z2 * z2 - 2 * rho * z1 * z2  # eq. 25
    log_normal = -LOG_2PI - log_s1 - log_s2 - 0.5 * torch.log(one_minus_rho2) - Z / (2 * one_minus_rho2)  # eq. 24
    return torch.logsumexp(log_pi + log_normal, dim=-1)


def negative_log_likelihood(y_hat: Tensor, target: Tensor, mixtures: int) -> Tensor:
    """-log Pr(x_{t+1} | y_t) per step (eq. 26). y_hat (..., 1+6M), target (..., 3) -> (...)."""
    params = split_params(y_hat.float(), mixtures)  # the density in float32 even under autocast
    e_hat = params[0]
    x1, x2, eos = target[..., 0:1], target[..., 1:2], target[..., 2]
    log_mixture = log_mixture_density(params, x1, x2)
    # eq. 18: e = 1 / (1 + exp(e_hat)), so log e = logsigmoid(-e_hat) and log(1 - e) = logsigmoid(e_hat).
    log_bernoulli = torch.where(eos > 0.5, F.logsigmoid(-e_hat), F.logsigmoid(e_hat))
    return -(log_mixture + log_bernoulli)


def density(y_hat: Tensor, mixtures: int, points: Tensor, bias: float = 0.0) -> Tensor:
    """Mixture density of the next (dx, dy) at `points` (P, 2) for one y_hat (1+6M,): for Fig. 10-style plots."""
    params = split_params(y_hat.float(), mixtures, bias)
    return log_mixture_density(params, points[:, :1], points[:, 1:]).exp()
