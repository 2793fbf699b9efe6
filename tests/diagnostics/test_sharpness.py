"""sharpness: power iteration on Hessian-vector products against the exact Hessian's eigenvalues."""

import math

import numpy as np
import pytest
from helpers import RawCube

import shenjing as sj
from shenjing import nn
from shenjing.diagnostics import hvp, sharpness


def problem(seed=0):
    sj.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 3, 12)
    closure = lambda: nn.functional.cross_entropy(model(sj.tensor(X)), sj.tensor(y))
    return model, X, y, closure


def exact_hessian(torch, model, X, y):
    """The Hessian of the same loss in PyTorch, over the parameters flattened in model order."""
    shapes = [p.shape for p in model.parameters()]
    flat = torch.tensor(np.concatenate([np.asarray(p).ravel() for p in model.parameters()]))

    def loss(theta):
        parts, start = [], 0
        for shape in shapes:
            size = math.prod(shape)
            parts.append(theta[start:start + size].reshape(shape))
            start += size
        w1, b1, w2, b2 = parts
        out = torch.tanh(torch.tensor(X) @ w1.T + b1) @ w2.T + b2
        return torch.nn.functional.cross_entropy(out, torch.tensor(y))

    return torch.autograd.functional.hessian(loss, flat).numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lambda_max_matches_the_exact_hessian(torch, seed):
    model, X, y, closure = problem(seed)
    eigenvalues = np.linalg.eigvalsh(exact_hessian(torch, model, X, y))
    dominant = eigenvalues[np.argmax(np.abs(eigenvalues))]
    lam, stable_lr = sharpness(closure, list(model.parameters()), iters=20)
    assert lam == pytest.approx(dominant, rel=1e-3)
    assert stable_lr == pytest.approx(2 / dominant, rel=1e-3)


def test_hvp_matches_the_exact_hessian_times_a_vector(torch):
    model, X, y, closure = problem()
    params = list(model.parameters())
    rng = np.random.default_rng(3)
    vector = [rng.standard_normal(p.shape) for p in params]
    norm = math.sqrt(sum((v ** 2).sum() for v in vector))
    vector = [v / norm for v in vector]
    expected = exact_hessian(torch, model, X, y) @ np.concatenate([v.ravel() for v in vector])
    exact = np.concatenate([h.ravel() for h in hvp(closure, params, vector)])
    np.testing.assert_allclose(exact, expected, rtol=1e-10, atol=1e-12)  # double back-propagation
    differences = np.concatenate([h.ravel() for h in hvp(closure, params, vector, eps=1e-5)])
    np.testing.assert_allclose(differences, expected, rtol=1e-5, atol=1e-7)


def test_a_first_order_only_op_falls_back_to_finite_differences():
    w = sj.tensor([1.0, -2.0], dtype=sj.float64, requires_grad=True)
    lam, _ = sharpness(lambda: RawCube.apply(w).sum(), [w], iters=30)
    assert lam == pytest.approx(-12.0, rel=1e-6)  # H = diag(6w) = diag(6, -12): the dominant eigenvalue


def test_parameters_and_gradients_are_left_as_they_were():
    model, _, _, closure = problem()
    closure().backward()
    before = [(np.asarray(p).copy(), np.asarray(p.grad).copy()) for p in model.parameters()]
    sharpness(closure, list(model.parameters()), iters=3)
    for p, (value, grad) in zip(model.parameters(), before):
        assert np.array_equal(np.asarray(p), value)
        assert np.array_equal(np.asarray(p.grad), grad)


def test_a_quadratic_gives_its_curvature_and_the_gd_stability_limit():
    w = sj.tensor([0.3, -2.0, 1.0], dtype=sj.float64, requires_grad=True)
    curvature = sj.tensor([4.0, 1.0, 0.5], dtype=sj.float64)
    lam, stable_lr = sharpness(lambda: 0.5 * (curvature * w * w).sum(), [w], iters=60)
    assert lam == pytest.approx(4.0, rel=1e-6)
    assert stable_lr == pytest.approx(0.5, rel=1e-6)
    # gradient descent just below 2/λ converges, just above it diverges
    for lr, converges in ((0.95 * stable_lr, True), (1.05 * stable_lr, False)):
        theta = np.array([0.3, -2.0, 1.0])
        for _ in range(300):
            theta = theta - lr * np.array([4.0, 1.0, 0.5]) * theta
        assert (np.abs(theta).max() < 1e-3) == converges


def test_bad_arguments():
    w = sj.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="params must be a non-empty"):
        sharpness(lambda: (w * w).sum(), [])
    with pytest.raises(ValueError, match="iters must be a positive integer"):
        sharpness(lambda: (w * w).sum(), [w], iters=0)
    with pytest.raises(ValueError, match="one-element Tensor"):
        sharpness(lambda: w * sj.ones(2), [w])
