"""The RMSProp variant of Graves (2013), eqs. 38-41.

Unlike common RMSProp, the running mean of the gradient is subtracted inside
the square root (a running variance), and the step has momentum:

    n = a n + (1 - a) g^2        g_bar = a g_bar + (1 - a) g
    delta = b delta - lr g / sqrt(n - g_bar^2 + eps)
    w = w + delta
"""

from __future__ import annotations

import torch


class GravesRMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-4, alpha: float = 0.95, momentum: float = 0.9, eps: float = 1e-4):
        # Paper values: aleph = 0.95, beth = 0.9, gimel = 0.0001, daleth = 0.0001.
        super().__init__(params, dict(lr=lr, alpha=alpha, momentum=momentum, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            a, b, lr, eps = group["alpha"], group["momentum"], group["lr"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if not state:
                    state["n"] = torch.zeros_like(p)
                    state["g"] = torch.zeros_like(p)
                    state["delta"] = torch.zeros_like(p)
                n, g, delta = state["n"], state["g"], state["delta"]
                n.mul_(a).addcmul_(grad, grad, value=1 - a)  # eq. 38
                g.mul_(a).add_(grad, alpha=1 - a)  # eq. 39
                denominator = (n - g * g + eps).sqrt_()
                delta.mul_(b).addcdiv_(grad, denominator, value=-lr)  # eq. 40
                p.add_(delta)  # eq. 41
        return loss
