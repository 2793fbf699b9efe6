"""SGD with momentum, dampening and Nesterov (optim/sgd.py): torch.optim parity and seed 000 §3.1.1's momentum."""

import numpy as np
import pytest
from helpers import assert_close
from optim_helpers import assert_matches_torch, constant_gradient_velocities

from shenjing import optim


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_float64(torch64, name, kwargs):
    assert_matches_torch(torch64, name, kwargs)


def test_momentum_terminal_velocity():
    """Seed 000 §3.1.1: v ← αv - εg tends to -εg/(1-α) under a constant gradient (10x for α = 0.9)."""
    g, eps, alpha = np.array([0.5, -2.0]), 0.01, 0.9
    v = constant_gradient_velocities(lambda p: optim.SGD(p, lr=eps, momentum=alpha), g, 300)
    assert_close(v[0], -eps * g)
    assert_close(v[1], -eps * g * (1 + alpha))
    assert_close(v[-1], -eps * g / (1 - alpha))


def test_momentum_as_average_is_dampening():
    """SGD(momentum=b, dampening=b): m = b m + (1-b) g after the first step, which starts at g."""
    g, b = np.array([1.0, -3.0]), 0.8
    v = constant_gradient_velocities(lambda p: optim.SGD(p, lr=0.1, momentum=b, dampening=b), g, 5)
    for step in v:
        assert_close(step, -0.1 * g)
