"""Adam, AdamW, Adamax, NAdam and SWATS (optim/adam.py): torch.optim parity and the notes' forms."""

import numpy as np
import pytest
from helpers import assert_close
from optim_helpers import assert_matches_torch, constant_gradient_velocities, quadratic, quadratic_closure

from shenjing import Tensor, optim


CASES = [
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_float64(torch64, name, kwargs):
    assert_matches_torch(torch64, name, kwargs)


def test_adam_without_bias_correction_first_step():
    """Seed 002: θ ← θ - η m/(√v + ε) with m = (1-β1)g, v = (1-β2)g² at step 1."""
    g, lr, (b1, b2), eps = np.array([0.3, -2.0]), 0.1, (0.9, 0.999), 1e-8
    first = constant_gradient_velocities(lambda p: optim.Adam(p, lr=lr, bias_correction=False), g, 1)[0]
    assert_close(first, -lr * (1 - b1) * g / (np.sqrt((1 - b2) * g * g) + eps))
    corrected = constant_gradient_velocities(lambda p: optim.Adam(p, lr=lr), g, 1)[0]
    assert_close(corrected, -lr * g / (np.abs(g) + eps))


def test_swats_adam_phase_switch_and_sgd_phase():
    """arXiv:1712.07628 Alg. 1 under a constant gradient: γ is constant, so SWATS switches at step 2."""
    g, lr, (b1, b2), eps = np.array([0.3, -2.0]), 0.1, (0.9, 0.999), 1e-8
    v, opt = constant_gradient_velocities(lambda p: optim.SWATS(p, lr=lr, switch_tol=1e-6), g, 5, with_optimizer=True)

    def adam_step(k):  # m_k = (1-β1^k) g and v_k = (1-β2^k) g² under a constant gradient
        return -lr * np.sqrt(1 - b2**k) / (1 - b1**k) * (1 - b1**k) * g / (np.sqrt((1 - b2**k) * g * g) + eps)

    gammas = [adam_step(k) @ adam_step(k) / -(adam_step(k) @ g) for k in (1, 2)]
    rate = ((1 - b2) * b2 * gammas[0] + (1 - b2) * gammas[1]) / (1 - b2**2)
    assert_close(v[0], adam_step(1))
    assert_close(v[1], adam_step(2))
    assert opt.switched
    assert_close(opt.sgd_lr, rate)
    assert_close(v[2], -(1 - b1) * rate * g)
    assert_close(v[3], -(1 - b1) * rate * (1 + b1) * g)
    saved = opt.state_dict()
    assert saved["swats"]["switched"] is True


def test_swats_does_not_switch_while_the_estimate_moves():
    a, b, _ = quadratic(4)
    x = Tensor(np.zeros(4), requires_grad=True)
    opt = optim.SWATS([x], lr=0.05)
    closure = quadratic_closure(opt, x, a, b)
    losses = [float(opt.step(closure)) for _ in range(100)]
    assert not opt.switched and "momentum_buffer" not in opt.state[x]
    assert losses[-1] < losses[0]
