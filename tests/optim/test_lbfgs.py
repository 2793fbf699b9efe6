"""L-BFGS with and without the strong-Wolfe line search, step for step against torch.optim.LBFGS."""

import numpy as np
import pytest

import shenjing.functional as F
from shenjing import Tensor, optim


def _logistic_data(seed=0, n=64, features=3):
    """Noisy labels, so the classes overlap and the minimum is finite (no run-away weights)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    y = (x @ rng.normal(size=features) + 2 * rng.normal(size=n) > 0).astype(np.float64)
    return x, y


def _logistic_run(make_tensor, make_optimizer, bce, x, y, steps, **kwargs):
    """``steps`` calls of ``step(closure)`` on a logistic regression; the loss and (w, b) after each, and the state."""
    w = make_tensor(np.zeros(x.shape[1]), requires_grad=True)
    b = make_tensor(np.zeros(1), requires_grad=True)
    inputs, targets = make_tensor(x), make_tensor(y)
    opt = make_optimizer([w, b], **kwargs)

    def closure():
        opt.zero_grad()
        loss = bce(inputs @ w + b, targets)
        loss.backward()
        return loss

    losses, params = [], []
    for _ in range(steps):
        opt.step(closure)
        losses.append(float(closure().detach()))
        params.append(np.concatenate([np.asarray(w.detach()), np.asarray(b.detach())]))
    return np.array(losses), np.array(params), opt.state[w]


def _both(torch, steps=10, seed=0, **kwargs):
    x, y = _logistic_data(seed)
    ours = _logistic_run(Tensor, optim.LBFGS, F.binary_cross_entropy_with_logits, x, y, steps, **kwargs)
    theirs = _logistic_run(lambda a, requires_grad=False: torch.tensor(a, requires_grad=requires_grad),
                           torch.optim.LBFGS, torch.nn.functional.binary_cross_entropy_with_logits, x, y, steps,
                           **kwargs)
    return ours, theirs


@pytest.mark.parametrize("seed", [0, 2])
@pytest.mark.parametrize("lr,max_iter", [(1.0, 20), (0.01, 3), (10.0, 3)], ids=["defaults", "extrapolate", "zoom"])
def test_strong_wolfe_trajectory_matches_torch(torch, seed, lr, max_iter):
    """10 steps: losses and parameters at 1e-10, and the same number of closure calls and iterations.

    lr=0.01 makes the first trial step too short, so the search extrapolates by cubic interpolation
    within [t + 0.01(t - t_prev), 10t]; lr=10 overshoots, so it brackets and zooms.
    """
    (losses, params, state), (t_losses, t_params, t_state) = _both(
        torch, seed=seed, lr=lr, max_iter=max_iter, history_size=4, line_search_fn="strong_wolfe")
    np.testing.assert_allclose(losses, t_losses, rtol=0, atol=1e-10)
    np.testing.assert_allclose(params, t_params, rtol=0, atol=1e-10)
    assert state["func_evals"] == t_state["func_evals"]
    assert state["n_iter"] == t_state["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_terminates_where_torch_does(torch, line_search_fn):
    """Loose tolerances end each step early (gradient, step and loss-change tests) after torch's count."""
    kwargs = dict(tolerance_grad=1e-4, tolerance_change=1e-6, line_search_fn=line_search_fn,
                  lr=1.0 if line_search_fn else 0.5)
    (losses, params, state), (t_losses, t_params, t_state) = _both(torch, steps=3, **kwargs)
    assert state["n_iter"] == t_state["n_iter"] < 3 * 20
    assert state["func_evals"] == t_state["func_evals"]
    np.testing.assert_allclose(params, t_params, rtol=0, atol=1e-10)


def test_converged_start_returns_without_moving(torch):
    """max|g| ≤ tolerance_grad at the start: one closure call, the parameters stay put."""
    (losses, params, state), _ = _both(torch, steps=2, tolerance_grad=1e3, line_search_fn="strong_wolfe")
    assert state["func_evals"] == 2 and state["n_iter"] == 0
    np.testing.assert_array_equal(params, 0.0)
    assert losses[-1] == pytest.approx(np.log(2.0), abs=1e-15)
