"""Matrix products of the window's training loop on oneDNN's kernels (CPU, float32 and bfloat16).

In float32 torch.mm on a CPU is MKL's sgemm, and on AMD CPUs MKL runs its AVX2
code: measured on our AVX-512 EPYC, one core, 75-93 GFLOP/s against 130-206 for
oneDNN's linear on the same products (docs/performance.md). In bfloat16 torch
already calls oneDNN. WindowLoop (hwcli/models/window.py) uses these; the
upper layers are nn.LSTM, oneDNN's own LSTM kernel on CPUs, and autograd's
products stay torch's. Other devices and dtypes (CUDA, the tests' float64)
take torch.mm.
"""

from __future__ import annotations

import torch
from torch import Tensor

from functools import lru_cache

ONEDNN_DTYPES = (torch.float32, torch.bfloat16)


@lru_cache(maxsize=None)
def _bf16_kernels() -> bool:
    # oneDNN's bf16 linear needs AVX-512 (bw, vl, dq) or AVX-NE-CONVERT; elsewhere it raises.
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _on_onednn(*tensors: Tensor) -> bool:
    first = tensors[0]
    return (first.device.type == "cpu" and first.dtype in ONEDNN_DTYPES and torch.backends.mkldnn.is_available()
            and all(t.dtype == first.dtype for t in tensors)
            and (first.dtype != torch.bfloat16 or _bf16_kernels()))


def _linear(a: Tensor, weight: Tensor) -> Tensor:
    """a @ weight.T by oneDNN; a and weight may be strided views (oneDNN reads them as they are)."""
    return torch.ops.mkldnn._linear_pointwise(a, weight, None, "none", [], "")


def mm(a: Tensor, b: Tensor) -> Tensor:
    """a @ b for 2-D a and b of one dtype."""
    return _linear(a, b.t()) if _on_onednn(a, b) else torch.mm(a, b)


class StepProduct:
    """x @ weight.T for many small x and one weight: the recurrent product of every time step.

    oneDNN's linear on a weight packed once into its blocked layout; unpacked, the
    weight would be reordered on every call. At batch 32, (32, 400) x (400, 1600),
    one core: 198 GFLOP/s packed, 158 unpacked, 84 for torch.mm in float32.
    """

    def __init__(self, weight: Tensor, batch: int):
        self.weight = weight
        self.packed = torch.ops.mkldnn._reorder_linear_weight(weight, batch) if _on_onednn(weight) else None

    def __call__(self, x: Tensor) -> Tensor:
        x = x.to(self.weight.dtype)
        return torch.mm(x, self.weight.t()) if self.packed is None else _linear(x, self.packed)
