"""Problems and drivers shared by the optimiser tests: a small tanh regression stepped beside torch.optim,
constant-gradient velocity traces, quadratics with known minimisers, and full-batch closures."""

import numpy as np
from helpers import assert_close

import shenjing as sj
from shenjing import Tensor, optim


STEPS = 30


def initial_params(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(4,)).astype(dtype)]


def regression_batch(dtype=np.float64):
    rng = np.random.default_rng(1)
    return rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype)


def tanh_loss(w, b, x, y, tanh):
    """A small non-quadratic loss: mean squared error of a tanh layer plus a quartic penalty."""
    return ((tanh(x @ w + b) - y) ** 2).mean() + 0.05 * (w**4).sum()


def trajectories(torch, ours, theirs, steps=STEPS, dtype=np.float64, groups=False):
    x, y = regression_batch(dtype)
    params = [Tensor(a.copy(), requires_grad=True) for a in initial_params(dtype)]
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in initial_params(dtype)]
    tx, ty = torch.tensor(x), torch.tensor(y)
    if groups:
        params = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.03}]
        tparams = [{"params": [tparams[0]]}, {"params": [tparams[1]], "lr": 0.03}]
    opt, topt = ours(params), theirs(tparams)
    flat = [p for g in opt.param_groups for p in g["params"]]
    tflat = [p for g in topt.param_groups for p in g["params"]]
    for _ in range(steps):
        opt.zero_grad()
        tanh_loss(flat[0], flat[1], Tensor(x), Tensor(y), sj.tanh).backward()
        opt.step()
        topt.zero_grad()
        tanh_loss(tflat[0], tflat[1], tx, ty, torch.tanh).backward()
        topt.step()
        for p, tp in zip(flat, tflat):
            assert_close(p, tp)
    return opt


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def make_closure(opt, loss_fn):
    """The closure a full-batch optimiser calls: zero the gradients, evaluate ``loss_fn()``, back-propagate."""
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    return closure


def constant_gradient_velocities(opt_factory, g, steps, with_optimizer=False):
    """Parameter increments under the loss (g·w).sum(), whose gradient is the constant g."""
    w = Tensor(np.zeros_like(g), requires_grad=True)
    opt = opt_factory([w])
    previous, velocities = w.numpy().copy(), []
    for _ in range(steps):
        opt.zero_grad()
        (Tensor(g) * w).sum().backward()
        opt.step()
        velocities.append(w.numpy() - previous)
        previous = w.numpy().copy()
    return (velocities, opt) if with_optimizer else velocities


def quadratic(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    a = m @ m.T + n * np.eye(n)
    b = rng.normal(size=n)
    return a, b, np.linalg.solve(a, b)


def quadratic_closure(opt, x, a, b):
    return make_closure(opt, lambda: 0.5 * (x @ (Tensor(a) @ x)) - (Tensor(b) * x).sum())


class Tanh(sj.nn.Module):
    def forward(self, x):
        return sj.tanh(x)


def assert_matches_torch(torch, name: str, kwargs: dict) -> None:
    """``optim.<name>(**kwargs)`` follows ``torch.optim.<name>(**kwargs)``'s trajectory step for step."""
    trajectories(torch, lambda p: getattr(optim, name)(p, **kwargs), lambda p: getattr(torch.optim, name)(p, **kwargs))
