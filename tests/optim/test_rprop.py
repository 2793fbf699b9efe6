"""Rprop and the notes' delta-bar-delta (optim/rprop.py): sign-based per-weight step sizes."""

import numpy as np
import pytest
from helpers import assert_close
from optim_helpers import assert_matches_torch, quadratic, quadratic_closure

from shenjing import Tensor, optim


CASES = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_float64(torch64, name, kwargs):
    assert_matches_torch(torch64, name, kwargs)


def test_delta_bar_delta_gains():
    """Seed 002: gain +0.05 while the sign repeats, x0.95 when it flips, clipped to the range."""
    w = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    opt = optim.DeltaBarDelta([w], lr=0.1, gain_range=(0.1, 1.08))
    grads = [np.array([1.0, 1.0]), np.array([1.0, -1.0]), np.array([2.0, 1.0])]
    # the step uses the gain held before it; the gain then adapts to this step's sign agreement
    gains_used = [np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.array([1.05, 0.95])]
    gains_after = [np.array([1.0, 1.0]), np.array([1.05, 0.95]), np.array([1.08, 0.95 * 0.95])]
    for g, used, after in zip(grads, gains_used, gains_after):
        before = w.numpy().copy()
        opt.zero_grad()
        (Tensor(g) * w).sum().backward()
        opt.step()
        assert_close(w.numpy(), before - 0.1 * used * g)
        assert_close(opt.state[w]["gain"], after)


def test_delta_bar_delta_converges_on_a_quadratic():
    a, b, solution = quadratic(4)
    x = Tensor(np.zeros(4), requires_grad=True)
    opt = optim.DeltaBarDelta([x], lr=0.01)
    closure = quadratic_closure(opt, x, a, b)
    for _ in range(400):
        opt.step(closure)
    assert_close(x, solution, rtol=1e-6, atol=1e-8)
