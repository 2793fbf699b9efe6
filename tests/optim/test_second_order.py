"""Full-batch methods (optim/second_order.py): L-BFGS against torch, Newton and conjugate gradient."""

import numpy as np
import pytest
from helpers import assert_close
from optim_helpers import make_closure, quadratic, quadratic_closure, rosenbrock, Tanh

import shenjing as sj
from shenjing import Tensor, optim


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(torch64, line_search_fn):
    torch = torch64
    start = np.array([-1.2, 1.0])
    p, tp = Tensor(start.copy(), requires_grad=True), torch.tensor(start.copy(), requires_grad=True)
    kwargs = dict(lr=1 if line_search_fn else 0.05, history_size=5, max_iter=10, line_search_fn=line_search_fn)
    opt, topt = optim.LBFGS([p], **kwargs), torch.optim.LBFGS([tp], **kwargs)

    closure, tclosure = make_closure(opt, lambda: rosenbrock(p)), make_closure(topt, lambda: rosenbrock(tp))
    for _ in range(4):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        assert abs(float(loss) - tloss.item()) < 1e-8
    assert abs(float(rosenbrock(p)) - rosenbrock(tp).item()) < 1e-8
    assert opt.state[p]["func_evals"] == topt.state[tp]["func_evals"]
    if line_search_fn:
        assert float(rosenbrock(p)) < 1e-8


def test_newton_one_step_on_a_quadratic():
    a, b, solution = quadratic(5)
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.Newton([x])
    opt.step(quadratic_closure(opt, x, a, b))
    assert_close(x, solution, atol=1e-8)
    assert_close(opt.hessian(quadratic_closure(opt, x, a, b)), a, rtol=1e-7, atol=1e-8)


def test_newton_pseudo_inverse_on_a_singular_hessian():
    """A flat direction has singular value 0: the pseudo-inverse leaves it alone instead of dividing by 0."""
    x = Tensor(np.array([3.0, 5.0]), requires_grad=True)
    opt = optim.Newton([x])
    opt.step(make_closure(opt, lambda: (x[0] - 1.0) ** 2))
    assert_close(x, np.array([1.0, 5.0]), atol=1e-8)


def test_newton_damping_shortens_the_step():
    x = Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.Newton([x], damping=2.0)
    opt.step(make_closure(opt, lambda: (x**2).sum()))
    assert_close(x, np.array([2.0 - 4.0 / (2.0 + 2.0)]), atol=1e-8)


def test_conjugate_gradient_solves_quadratic_in_n_steps():
    n = 6
    a, b, solution = quadratic(n, seed=3)
    x = Tensor(np.zeros(n), requires_grad=True)
    opt = optim.ConjugateGradient([x])
    closure = quadratic_closure(opt, x, a, b)
    for _ in range(n):
        opt.step(closure)
    assert_close(x, solution, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("factory", [
    lambda p: optim.ConjugateGradient(p),
    lambda p: optim.Newton(p, damping=1e-3),
    lambda p: optim.LBFGS(p, line_search_fn="strong_wolfe"),
])
def test_full_batch_methods_minimise_rosenbrock(factory):
    p = Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = factory([p])
    closure = make_closure(opt, lambda: rosenbrock(p))
    for _ in range(100):
        opt.step(closure)
    assert_close(p, np.array([1.0, 1.0]), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("factory,hidden,steps", [
    (lambda p: optim.Newton(p, damping=0.3), 4, 20),
    (lambda p: optim.ConjugateGradient(p), 16, 60),
    (lambda p: optim.LBFGS(p, line_search_fn="strong_wolfe", max_iter=5), 16, 12),
])
def test_full_batch_methods_train_an_mlp(factory, hidden, steps):
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(32, 3)))
    y = Tensor(np.sin(x.numpy().sum(axis=1, keepdims=True)))
    sj.manual_seed(0)
    model = sj.nn.Sequential(sj.nn.Linear(3, hidden, dtype=np.float64), Tanh(),
                             sj.nn.Linear(hidden, 1, dtype=np.float64))
    opt = factory(list(model.parameters()))
    closure = make_closure(opt, lambda: ((model(x) - y) ** 2).mean())
    first = float(closure())
    for _ in range(steps):
        opt.step(closure)
    assert float(closure()) < 0.1 * first
