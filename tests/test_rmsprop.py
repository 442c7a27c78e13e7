"""The paper's RMSProp (eqs. 38-41) against the equations written out in numpy."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from hwcli.training.rmsprop import GravesRMSprop


def numpy_graves_rmsprop(w, grads, lr=1e-4, aleph=0.95, beth=0.9, daleth=1e-4):
    """Eqs. 38-41 exactly as printed: the running mean g is subtracted inside the square root."""
    n, g, delta = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for epsilon in grads:
        n = aleph * n + (1 - aleph) * epsilon**2  # eq. 38
        g = aleph * g + (1 - aleph) * epsilon  # eq. 39
        delta = beth * delta - lr * epsilon / np.sqrt(n - g**2 + daleth)  # eq. 40
        w = w + delta  # eq. 41
    return w, n, g, delta


def run_optimizer(w0, grads, **options):
    p = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    optimizer = GravesRMSprop([p], **options)
    for epsilon in grads:
        p.grad = torch.from_numpy(epsilon.copy())
        optimizer.step()
    return p.detach().numpy(), optimizer.state[p]


def test_matches_equations_over_several_steps():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 5))
    grads = [rng.normal(0, 2.0, size=(4, 5)) for _ in range(12)]
    w, state = run_optimizer(w0, grads)
    w_ref, n, g, delta = numpy_graves_rmsprop(w0, grads)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state["n"].numpy(), n, rtol=1e-12)
    np.testing.assert_allclose(state["g"].numpy(), g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(state["delta"].numpy(), delta, rtol=1e-12, atol=1e-15)


def test_paper_defaults():
    """aleph = 0.95, beth = 0.9, gimel = 1e-4, daleth = 1e-4 (paper section 4)."""
    defaults = GravesRMSprop([torch.nn.Parameter(torch.zeros(1))]).defaults
    assert defaults == {"lr": 1e-4, "alpha": 0.95, "momentum": 0.9, "eps": 1e-4}


def test_other_hyper_parameters():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=7)
    grads = [rng.normal(size=7) for _ in range(6)]
    w, _ = run_optimizer(w0, grads, lr=3e-3, alpha=0.8, momentum=0.5, eps=1e-3)
    w_ref, *_ = numpy_graves_rmsprop(w0, grads, lr=3e-3, aleph=0.8, beth=0.5, daleth=1e-3)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12)


def test_constant_gradient_still_moves():
    """The running variance of a constant gradient is 0, so the step is lr * eps / sqrt(eps) on step 1, then momentum."""
    w, _ = run_optimizer(np.zeros(1), [np.ones(1)])
    assert w[0] == pytest.approx(-1e-4 / np.sqrt(0.05 - 0.05**2 + 1e-4))


def test_parameters_without_gradient_are_left_alone():
    a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    optimizer = GravesRMSprop([a, b])
    a.grad = torch.ones(3)
    optimizer.step()
    assert torch.equal(b, torch.ones(3)) and b not in optimizer.state
    assert not torch.equal(a, torch.ones(3))


def test_state_dict_round_trip_continues_identically():
    """What resume relies on: a reloaded optimizer takes exactly the same next step."""
    rng = np.random.default_rng(2)
    grads = [torch.from_numpy(rng.normal(size=6)) for _ in range(5)]
    p = torch.nn.Parameter(torch.zeros(6, dtype=torch.float64))
    optimizer = GravesRMSprop([p])
    for grad in grads[:3]:
        p.grad = grad.clone()
        optimizer.step()
    # Through a file, as a checkpoint does (an in-memory state_dict shares its tensors).
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    q = torch.nn.Parameter(p.detach().clone())
    reloaded = GravesRMSprop([q])
    reloaded.load_state_dict(torch.load(buffer, weights_only=True))
    for grad in grads[3:]:
        p.grad, q.grad = grad.clone(), grad.clone()
        optimizer.step()
        reloaded.step()
    assert torch.equal(p, q)
