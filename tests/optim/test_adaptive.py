"""Adagrad, Adadelta and RMSprop (optim/adaptive.py): torch.optim parity and hand-computed steps."""

import numpy as np
import pytest
from helpers import assert_close
from optim_helpers import assert_matches_torch, constant_gradient_velocities

from shenjing import optim


CASES = [
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_float64(torch64, name, kwargs):
    assert_matches_torch(torch64, name, kwargs)


def test_rmsprop_nesterov_hand_computed():
    g, lr, alpha, mu, eps = np.array([1.0, -0.5]), 0.01, 0.9, 0.5, 1e-8
    v = constant_gradient_velocities(
        lambda p: optim.RMSprop(p, lr=lr, alpha=alpha, momentum=mu, nesterov=True, eps=eps), g, 2)
    u1 = g / (np.sqrt((1 - alpha) * g * g) + eps)
    assert_close(v[0], -lr * (u1 + mu * u1))
    u2 = g / (np.sqrt((1 - alpha**2) * g * g) + eps)
    b2 = mu * u1 + u2
    assert_close(v[1], -lr * (u2 + mu * b2))
