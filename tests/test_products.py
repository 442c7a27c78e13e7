"""hwcli.models.products against numpy: oneDNN's products where they apply, torch.mm elsewhere."""

import numpy as np
import pytest
import torch

from hwcli.models.products import StepProduct, mm


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mm_equals_numpy_for_strided_operands(dtype):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(300, 70, generator=g, dtype=dtype).t()  # (70, 300), a transposed view as the loops pass
    b = torch.randn(300, 50, generator=g, dtype=dtype)
    want = a.numpy().astype(np.float64) @ b.numpy().astype(np.float64)
    got = mm(a, b)
    assert got.dtype == dtype and got.shape == (70, 50)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-3 if dtype == torch.float32 else 1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_step_product_equals_numpy(dtype):
    g = torch.Generator().manual_seed(1)
    weight = torch.randn(64, 24, generator=g).to(dtype)
    product = StepProduct(weight, batch=8)
    for _ in range(3):  # the packed weight serves every step
        x = torch.randn(8, 24, generator=g)  # float32 state: the product casts it to the weight's dtype
        want = x.to(dtype).double().numpy() @ weight.double().numpy().T
        got = product(x)
        assert got.dtype == dtype
        tolerance = 0.1 if dtype == torch.bfloat16 else 1e-4 if dtype == torch.float32 else 1e-12
        np.testing.assert_allclose(got.double().numpy(), want, rtol=0, atol=tolerance)
