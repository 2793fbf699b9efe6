"""On a GPU, Adam runs as one fused kernel per parameter; it must follow the CPU trajectory."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import optim

pytestmark = pytest.mark.skipif(not sj.cuda_available(), reason="needs CuPy and an NVIDIA GPU")


def trajectory(factory, device, dtype, steps=20):
    rng = np.random.default_rng(0)
    w = sj.tensor(rng.standard_normal((5, 3)).astype(dtype), requires_grad=True, device=device)
    target = sj.tensor(rng.standard_normal((5, 3)).astype(dtype), device=device)
    opt = factory([w])
    for _ in range(steps):
        opt.zero_grad()
        ((w - target) ** 2 * w).sum().backward()
        opt.step()
    return w.numpy()


@pytest.mark.parametrize("factory", [
    lambda p: optim.Adam(p, lr=0.05),
    lambda p: optim.Adam(p, lr=0.05, weight_decay=0.1),
    lambda p: optim.AdamW(p, lr=0.05, weight_decay=0.1),
    lambda p: optim.Adam(p, lr=0.05, bias_correction=False),
    lambda p: optim.Adam(p, lr=0.05, maximize=True),
    lambda p: optim.Adam(p, lr=0.05, amsgrad=True),
], ids=["adam", "adam_l2", "adamw", "uncorrected", "maximize", "amsgrad_unfused"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_adam_on_gpu_matches_cpu(factory, dtype):
    assert_close(trajectory(factory, "cuda", dtype), trajectory(factory, "cpu", dtype), np.dtype(dtype))
