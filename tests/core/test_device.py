"""CuPy back end: the same code on an NVIDIA GPU (skipped without CuPy and a GPU)."""

import numpy as np
import pytest

import shenjing as sj

pytestmark = pytest.mark.skipif(not sj.cuda_available(), reason="needs CuPy and an NVIDIA GPU")


def test_tensor_moves_between_devices_and_gradient_flows_back():
    x = sj.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


def test_mixing_devices_is_a_type_error():
    with pytest.raises(TypeError, match="different devices"):
        sj.ones(2) + sj.ones(2, device="cuda")


def test_seeded_draws_on_gpu_repeat():
    sj.manual_seed(3)
    a = sj.randn(4, 5, device="cuda").numpy()
    sj.manual_seed(3)
    assert np.array_equal(a, sj.randn(4, 5, device="cuda").numpy())


def test_module_trains_on_gpu():
    sj.manual_seed(0)
    model = sj.nn.Sequential(sj.nn.Linear(4, 16), sj.nn.Linear(16, 1)).to("cuda")
    x = sj.randn(64, 4, device="cuda")
    y = (x.sum(1, keepdim=True) * 0.5).detach()
    losses = []
    for _ in range(50):
        model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with sj.no_grad():
            for p in model.parameters():
                p.data -= 0.05 * p.grad.data
        losses.append(loss.item())
    assert all(p.device == "cuda" for p in model.parameters())
    assert losses[-1] < 0.1 * losses[0]
