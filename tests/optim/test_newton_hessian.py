"""Newton's method with the exact Hessian (the default) and with finite differences."""

import numpy as np
import pytest
from helpers import RawCube, assert_close, load_example

import shenjing as sj
from shenjing import Tensor, optim


def _counting_closure(opt, loss_fn):
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    return closure, calls


def test_exact_newton_lands_on_the_minimiser_of_a_quadratic_in_one_closure_call():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(6, 6))
    a, b = m @ m.T + 6 * np.eye(6), rng.normal(size=6)
    x = Tensor(rng.normal(size=6), requires_grad=True)
    opt = optim.Newton([x])
    closure, calls = _counting_closure(opt, lambda: 0.5 * (x @ (Tensor(a) @ x)) - (Tensor(b) * x).sum())
    opt.step(closure)
    assert_close(x, np.linalg.solve(a, b), rtol=1e-10, atol=1e-10)
    assert len(calls) == 1
    assert x.grad.grad_fn is None  # the recorded gradient is handed back as a plain one


def _logistic_data():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(40, 3))
    labels = (features @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=40) > 0).astype(np.float64)
    return features, labels


def _logistic_loss(lib, w, b, features, labels):
    z = features @ w + b
    return (lib.nn.functional.softplus(z) - labels * z).mean() + 0.01 * (w * w).sum()


def test_exact_newton_step_on_logistic_regression_equals_torch_hessian_step(torch):
    features, labels = _logistic_data()
    w0, b0 = np.array([0.1, -0.2, 0.3]), np.array([0.05])
    w, b = Tensor(w0, requires_grad=True), Tensor(b0, requires_grad=True)
    opt = optim.Newton([w, b])
    closure, _ = _counting_closure(opt, lambda: _logistic_loss(sj, w, b, Tensor(features), Tensor(labels)))
    opt.step(closure)

    tf, tl = torch.tensor(features), torch.tensor(labels)

    def flat_loss(theta):
        return _logistic_loss(torch, theta[:3], theta[3:], tf, tl)

    theta = torch.tensor(np.concatenate([w0, b0]))
    hess = torch.autograd.functional.hessian(flat_loss, theta).numpy()
    grad = torch.autograd.functional.vjp(flat_loss, theta)[1].numpy()
    expected = np.concatenate([w0, b0]) - np.linalg.pinv(hess) @ grad
    assert_close(np.concatenate([w.numpy(), b.numpy()]), expected, rtol=1e-10, atol=1e-12)


def test_exact_and_finite_difference_hessians_agree():
    features, labels = _logistic_data()
    w = Tensor(np.array([0.4, 0.1, -0.3]), requires_grad=True)
    b = Tensor(np.array([0.2]), requires_grad=True)
    hessians = []
    for kind in ("exact", "finite_difference"):
        opt = optim.Newton([w, b], hessian=kind)
        closure, _ = _counting_closure(opt, lambda: _logistic_loss(sj, w, b, Tensor(features), Tensor(labels)))
        hessians.append(opt.hessian(closure))
    assert_close(hessians[0], hessians[1], rtol=1e-6, atol=1e-8)


def test_newton_rejects_an_unknown_hessian_kind():
    with pytest.raises(ValueError, match="hessian"):
        optim.Newton([Tensor(np.zeros(2), requires_grad=True)], hessian="bfgs")


def test_exact_newton_through_a_first_order_op_names_it():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Newton([x])
    closure, _ = _counting_closure(opt, lambda: RawCube.apply(x).sum())
    with pytest.raises(RuntimeError, match="RawCube"):
        opt.step(closure)
    optim.Newton([x], hessian="finite_difference").step(closure)


def test_newton_example_compares_the_hessians_and_lbfgs(capsys):
    rows = {r["method"]: r for r in load_example("newton").main(["--steps", "2"])}
    exact, finite = rows["Newton, exact Hessian"], rows["Newton, finite differences"]
    assert exact["closure calls"] == 2
    assert finite["closure calls"] == 2 * (1 + 2 * 65)
    assert abs(exact["final loss"] - finite["final loss"]) < 1e-6
    assert "closure calls" in capsys.readouterr().out
