"""Full-batch methods that use curvature: L-BFGS, Newton's method, nonlinear conjugate gradient.

Seed 002 "参数更新2：牛顿下降法" (Newton with an SVD pseudo-inverse Hessian) and "总结" (conjugate
gradient and L-BFGS for small data sets, full batch). Each ``step(closure)`` needs a closure that
zeroes the gradients, recomputes the loss, calls ``backward()`` and returns the loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np

from .. import _backend as B
from .. import autograd
from ..tensor import enable_grad, no_grad, record_backward
from .optimizer import Optimizer, add_to_params, flat_grad, flat_params, set_params

__all__ = ["LBFGS", "Newton", "ConjugateGradient"]


class _ClosureOptimizer(Optimizer):
    """One parameter group, a required closure, and evaluation of (loss, flat gradient) along a line."""

    def __init__(self, params: Iterable, defaults: dict):
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError(f"{type(self).__name__} supports a single parameter group")
        super().add_param_group(param_group)

    def _loss_and_grad(self, closure: Callable) -> tuple[float, np.ndarray]:
        if closure is None:
            raise ValueError(f"{type(self).__name__}.step: closure is required (it must call backward())")
        loss = self._evaluate(closure)
        return float(loss), flat_grad(self._params)

    def _directional(self, closure: Callable, x0, t: float, d) -> tuple[float, np.ndarray]:
        """(f, ∇f) at x0 + t·d; the parameters are put back to x0 afterwards."""
        add_to_params(self._params, t, d)
        loss, grad = self._loss_and_grad(closure)
        set_params(self._params, x0)
        return loss, grad

    def _line(self, closure: Callable, d) -> Callable:
        """φ(t) = (f, ∇f) at θ + t·d, θ being the current parameters."""
        x0 = flat_params(self._params)
        return lambda t: self._directional(closure, x0, t, d)


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """Minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clipped to ``bounds``.

    Falls back to the middle of the bounds when the cubic has no minimum (Nocedal & Wright eq. 3.59)
    or the two points coincide.
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:
        return (low + high) / 2.0
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
    else:
        t = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
    return min(max(t, low), high)


class _Point(NamedTuple):
    """A trial step t along d: the loss f, the gradient g and the slope gtd = ∇fᵀd there."""

    t: float
    f: float
    g: object
    gtd: float


def _strong_wolfe(phi: Callable, t: float, d, f: float, g, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25):
    """Line search for a step t satisfying the strong Wolfe conditions (Nocedal & Wright Alg. 3.5-3.6).

    f(x + t d) ≤ f(x) + c1 t ∇fᵀd  and  |∇f(x + t d)ᵀd| ≤ c2 |∇fᵀd|. ``phi(t)`` returns
    (f, ∇f) at x + t d. At most ``max_ls`` steps after the first trial ``t``, shared by the two
    phases. Returns (f_new, g_new, t, evaluations), as minFunc and PyTorch do.
    """
    evals = 0

    def probe(step: float) -> _Point:
        nonlocal evals
        evals += 1
        f_step, g_step = phi(step)
        return _Point(step, f_step, g_step, float(g_step @ d))

    def armijo_fails(p: _Point) -> bool:
        return p.f > f + c1 * p.t * gtd

    def curvature_holds(p: _Point) -> bool:
        return abs(p.gtd) <= -c2 * gtd

    bracket, done, ls_iter = _bracket(probe, _Point(0.0, f, g, gtd), probe(t), max_ls, armijo_fails,
                                      curvature_holds)
    best = bracket[0] if done else _zoom(probe, bracket, ls_iter, max_ls, float(np.abs(d).max()),
                                         tolerance_change, armijo_fails, curvature_holds)
    return best.f, best.g, best.t, evals


def _bracket(probe: Callable, start: _Point, new: _Point, max_ls: int, armijo_fails: Callable,
             curvature_holds: Callable) -> tuple[list, bool, int]:
    """Phase 1: lengthen the step (cubic extrapolation within [t + 0.01(t - t_prev), 10 t]) until
    [previous, new] brackets a strong-Wolfe step, or ``new`` is one (done).

    Returns (bracket, done, iterations); after ``max_ls`` iterations the bracket is [start, new].
    """
    prev, ls_iter = start, 0
    while ls_iter < max_ls:
        if armijo_fails(new) or (ls_iter > 1 and new.f >= prev.f):
            return [prev, new], False, ls_iter
        if curvature_holds(new):
            return [new], True, ls_iter
        if new.gtd >= 0:
            return [prev, new], False, ls_iter
        bounds = (new.t + 0.01 * (new.t - prev.t), new.t * 10.0)
        step = _cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd, bounds)
        prev, new = new, probe(step)
        ls_iter += 1
    return [start, new], False, ls_iter


def _zoom(probe: Callable, bracket: list, ls_iter: int, max_ls: int, d_norm: float, tolerance_change: float,
          armijo_fails: Callable, curvature_holds: Callable) -> _Point:
    """Phase 2: shrink the bracket [low, high] (low has the lower loss) by cubic interpolation until
    a step satisfies both conditions, the bracket is shorter than ``tolerance_change`` (in max|Δx|)
    or the iterations run out; returns the low end."""
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    insufficient_progress = done = False
    while not done and ls_iter < max_ls:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < tolerance_change:
            break
        t, insufficient_progress = _away_from_ends(_cubic_minimum(a.t, a.f, a.gtd, b.t, b.f, b.gtd), a.t, b.t,
                                                   insufficient_progress)
        new = probe(t)
        ls_iter += 1
        if armijo_fails(new) or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if curvature_holds(new):
                done = True
            elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    return bracket[low]


def _away_from_ends(t: float, ta: float, tb: float, insufficient_progress: bool) -> tuple[float, bool]:
    """A trial step within 10 % of the bracket's length from an end is moved to that distance when
    the previous trial was also too close (or t is outside): the bracket must keep shrinking.
    Returns (t, whether this trial made insufficient progress)."""
    top, bottom = max(ta, tb), min(ta, tb)
    eps = 0.1 * (top - bottom)
    if min(top - t, t - bottom) >= eps:
        return t, False
    if insufficient_progress or t >= top or t <= bottom:
        return (top - eps if abs(t - top) < abs(t - bottom) else bottom + eps), False
    return t, True


class LBFGS(_ClosureOptimizer):
    r"""Limited-memory BFGS (Nocedal 1980; seed 002 "总结": full-batch training) — ``torch.optim.LBFGS``.

    Each ``step(closure)`` runs up to ``max_iter`` iterations. With s_i = θ_{i+1} - θ_i and
    y_i = g_{i+1} - g_i over the last ``history_size`` iterations (kept only when yᵀs > 1e-10),
    the direction d = -H g comes from the two-loop recursion::

        q ← g;  for i = k-1 … 0:  a_i = ρ_i s_iᵀq,  q ← q - a_i y_i        (ρ_i = 1 / y_iᵀs_i)
        r ← (s_{k-1}ᵀy_{k-1} / y_{k-1}ᵀy_{k-1}) q
        for i = 0 … k-1:  b = ρ_i y_iᵀr,  r ← r + (a_i - b) s_i;      d = -r

    then θ ← θ + t d with t = lr (the first iteration: min(1, 1/‖g‖₁)·lr), or t from a strong
    Wolfe line search when ``line_search_fn='strong_wolfe'``. Stops early when
    ``max|g| ≤ tolerance_grad``, or a step or loss change is below tolerance_change.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], dtype=sj.float64, requires_grad=True)
    >>> opt = sj.optim.LBFGS([w])
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - sj.tensor([3.0, 0.5], dtype=sj.float64)) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    ...
    >>> loss = opt.step(closure)
    >>> w.detach()
    tensor([3. , 0.5], dtype=float64)
    """

    def __init__(self, params: Iterable, lr: float = 1.0, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "tolerance_grad", "tolerance_change")
        for name in ("max_iter", "max_eval", "history_size"):
            self._check(isinstance(group[name], int) and group[name] >= 1, name, "an int >= 1", group[name])
        self._check(group["line_search_fn"] in (None, "strong_wolfe"), "line_search_fn", "None or 'strong_wolfe'",
                    group["line_search_fn"])

    def _direction(self, state: dict, grad, history_size: int):
        """The quasi-Newton direction -H g after adding the latest (s, y) pair to the history."""
        xp = B.xp_of(grad)
        if state["n_iter"] == 1:
            n = grad.size
            state.update(old_dirs=xp.zeros((0, n), grad.dtype), old_stps=xp.zeros((0, n), grad.dtype),
                         ro=xp.zeros(0, grad.dtype), H_diag=1.0)
            return -grad
        y = grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = float(y @ s)
        if ys > 1e-10:
            drop = max(0, len(state["ro"]) + 1 - history_size)
            state["old_dirs"] = np.concatenate([state["old_dirs"][drop:], y[None]])
            state["old_stps"] = np.concatenate([state["old_stps"][drop:], s[None]])
            state["ro"] = np.concatenate([state["ro"][drop:], xp.full(1, 1.0 / ys, dtype=grad.dtype)])
            state["H_diag"] = ys / float(y @ y)
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], [float(v) for v in state["ro"]]
        q = -grad
        al = [0.0] * len(ro)
        for i in range(len(ro) - 1, -1, -1):
            al[i] = float(old_stps[i] @ q) * ro[i]
            q -= al[i] * old_dirs[i]
        r = q * state["H_diag"]
        for i in range(len(ro)):
            be_i = float(old_dirs[i] @ r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r

    def step(self, closure: Callable | None = None):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss before the first one."""
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with no_grad():
            loss, grad = self._loss_and_grad(closure)
            orig_loss, evals = loss, 1
            state["func_evals"] += 1
            if float(np.abs(grad).max()) <= tolerance_grad:
                return orig_loss
            for n_iter in range(1, max_iter + 1):
                state["n_iter"] += 1
                d = self._direction(state, grad, group["history_size"])
                state["prev_flat_grad"], state["prev_loss"] = grad.copy(), loss
                t = min(1.0, 1.0 / float(np.abs(grad).sum())) * lr if state["n_iter"] == 1 else lr
                gtd = float(grad @ d)
                if gtd > -tolerance_change:
                    state["d"], state["t"] = d, t
                    break
                if group["line_search_fn"] == "strong_wolfe":
                    loss, grad, t, ls_evals = _strong_wolfe(self._line(closure, d), t, d, loss, grad, gtd,
                                                            max_ls=max_eval - evals)
                    add_to_params(self._params, t, d)
                else:
                    add_to_params(self._params, t, d)
                    ls_evals = 0
                    if n_iter != max_iter:
                        loss, grad = self._loss_and_grad(closure)
                        ls_evals = 1
                state["d"], state["t"] = d, t
                evals += ls_evals
                state["func_evals"] += ls_evals
                if (n_iter == max_iter or evals >= max_eval or float(np.abs(grad).max()) <= tolerance_grad
                        or float(np.abs(d * t).max()) <= tolerance_change
                        or abs(loss - state["prev_loss"]) < tolerance_change):
                    break
        return orig_loss


class Newton(_ClosureOptimizer):
    r"""Newton's method with an SVD pseudo-inverse of the Hessian (seed 002 "牛顿下降法").

    From the second-order Taylor expansion L(θ + Δ) ≈ L(θ) + gᵀΔ + ½ΔᵀHΔ, the step that
    zeroes its derivative is Δ = -H⁻¹g::

        H ← (H + Hᵀ)/2 + damping·I
        H = U S Vᵀ,   H⁺ = V S⁺ Uᵀ  (singular values below rcond·max(S) dropped)
        θ ← θ - lr · H⁺ g

    ``hessian='exact'`` (the default) differentiates the back-propagated gradient again: one
    closure call, whose ``backward()`` is recorded, then one backward pass per parameter
    (``H_ij = ∂_j g_i``). ``hessian='finite_difference'`` builds it from central differences of the
    gradient, ``H_ij ≈ (∂_i L(θ + h_j e_j) - ∂_i L(θ - h_j e_j)) / (2 h_j)`` with
    ``h_j = ∛ε_mach · max(1, |θ_j|)``: 2n extra closure calls, for models with first-order-only ops.
    Either way this is for small models; on a quadratic one step lands on the minimum.
    ``damping`` > 0 (Levenberg-Marquardt) keeps steps short where the curvature is small or negative.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], dtype=sj.float64, requires_grad=True)
    >>> opt = sj.optim.Newton([w])
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - sj.tensor([3.0, 0.5], dtype=sj.float64)) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    ...
    >>> loss = opt.step(closure)
    >>> w.detach()
    tensor([3. , 0.5], dtype=float64)
    """

    def __init__(self, params: Iterable, lr: float = 1.0, damping: float = 0.0, rcond: float = 1e-10,
                 hessian: str = "exact"):
        super().__init__(params, dict(lr=lr, damping=damping, rcond=rcond, hessian=hessian))

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "damping", "rcond")
        self._check(group["hessian"] in ("exact", "finite_difference"), "hessian",
                    "'exact' or 'finite_difference'", group["hessian"])

    def hessian(self, closure: Callable) -> np.ndarray:
        """The symmetrised Hessian (n, n) at the current parameters, in float64."""
        if self.param_groups[0]["hessian"] == "exact":
            return self._exact_loss_grad_hessian(closure)[2]
        return self._finite_difference_hessian(closure)

    def _exact_loss_grad_hessian(self, closure: Callable) -> tuple:
        """(loss, flat gradient, H) from one closure call whose backward is recorded."""
        if closure is None:
            raise ValueError("Newton.step: closure is required (it must call backward())")
        params = self._params
        with enable_grad(), record_backward():
            loss = closure()
            grads = [p.grad for p in params]
            if any(g is None for g in grads):
                raise RuntimeError("Newton: the closure left a parameter without a gradient")
            flat = flat_grad(params)
            rows = [self._hessian_row(grads, j) for j in range(flat.size)]
        for p in params:
            p.grad = p.grad.detach()
        hess = np.stack(rows)
        return float(loss), flat, (hess + hess.T) / 2.0

    def _hessian_row(self, grads: list, j: int) -> np.ndarray:
        """Row j of H: the gradient of the j-th gradient entry (over all parameters, flattened)."""
        upstream, offset = [], j
        for g in grads:
            unit = B.xp_of(g.data).zeros(g.shape, dtype=g.dtype)
            if 0 <= offset < g.numel():
                unit.reshape(-1)[offset] = 1
            offset -= g.numel()
            upstream.append(unit)
        live = [(g, u) for g, u in zip(grads, upstream) if g.requires_grad]
        row = autograd.grad([g for g, _ in live], self._params, [u for _, u in live], retain_graph=True,
                            allow_unused=True) if live else [None] * len(self._params)
        return np.concatenate([
            np.zeros(p.numel()) if r is None else B.to_numpy(r.data).astype(np.float64).reshape(-1)
            for p, r in zip(self._params, row)
        ])

    def _finite_difference_hessian(self, closure: Callable) -> np.ndarray:
        """The symmetrised central-difference Hessian (n, n) at the current parameters, in float64."""
        x0 = flat_params(self._params)
        n = x0.size
        h = np.cbrt(np.finfo(x0.dtype).eps) * np.maximum(1.0, np.abs(B.to_numpy(x0).astype(np.float64)))
        hess = np.empty((n, n))
        unit = B.xp_of(x0).zeros(n, dtype=x0.dtype)
        for j in range(n):
            unit[j] = 1
            _, g_plus = self._directional(closure, x0, float(h[j]), unit)
            _, g_minus = self._directional(closure, x0, -float(h[j]), unit)
            unit[j] = 0
            hess[:, j] = B.to_numpy(g_plus - g_minus).astype(np.float64) / (2.0 * h[j])
        return (hess + hess.T) / 2.0

    def step(self, closure: Callable | None = None):
        """One Newton step; returns the loss before it."""
        group = self.param_groups[0]
        if group["hessian"] == "exact":
            loss, grad, hess = self._exact_loss_grad_hessian(closure)
        else:
            with no_grad():
                loss, grad = self._loss_and_grad(closure)
                hess = self._finite_difference_hessian(closure)
        hess = hess + float(group["damping"]) * np.eye(grad.size)
        with no_grad():
            u, s, vt = np.linalg.svd(hess)
            inverse_s = np.divide(1.0, s, out=np.zeros_like(s), where=s > float(group["rcond"]) * s[0])
            delta = vt.T @ (inverse_s * (u.T @ B.to_numpy(grad).astype(np.float64)))
            add_to_params(self._params, -float(group["lr"]), B.to_device(delta, self._params[0].device))
        return loss


class ConjugateGradient(_ClosureOptimizer):
    r"""Nonlinear conjugate gradient, Polak-Ribière with restarts (seed 002 "总结": full batch).

    Each ``step(closure)`` is one iteration::

        β_k = max(0, g_kᵀ(g_k - g_{k-1}) / g_{k-1}ᵀg_{k-1})           (PR+)
        d_k = -g_k + β_k d_{k-1}      (d_k = -g_k at k = 0, every ``restart`` iterations,
                                       and whenever d_k is not a descent direction)
        θ_{k+1} = θ_k + t_k d_k,      t_k from a line search

    The line search first probes t₀ along d_k, takes the secant step t = t₀ φ'(0)/(φ'(0) - φ'(t₀))
    on the directional derivative φ'(t) = ∇L(θ + t d)ᵀd (exact for a quadratic), and refines it
    with a strong Wolfe search (c₂ = 0.1). With exact line searches on an n-dimensional
    quadratic the directions are conjugate and the minimum is reached in at most n steps.
    ``restart`` defaults to n, the number of parameters.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], dtype=sj.float64, requires_grad=True)
    >>> opt = sj.optim.ConjugateGradient([w])
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - sj.tensor([3.0, 0.5], dtype=sj.float64)) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    ...
    >>> loss = opt.step(closure)
    >>> w.detach()
    tensor([3. , 0.5], dtype=float64)
    """

    def __init__(self, params: Iterable, restart: int | None = None, lr: float = 1.0, max_ls: int = 25):
        super().__init__(params, dict(restart=restart, lr=lr, max_ls=max_ls))

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr")
        restart = group["restart"]
        self._check(restart is None or isinstance(restart, int) and restart >= 1, "restart", "None or an int >= 1",
                    restart)
        self._check(isinstance(group["max_ls"], int) and group["max_ls"] >= 1, "max_ls", "an int >= 1",
                    group["max_ls"])

    def _direction(self, state: dict, grad, restart: int):
        k = state.get("n_iter", 0)
        if k % restart == 0:
            return -grad
        prev = state["prev_grad"]
        beta = max(0.0, float(grad @ (grad - prev)) / float(prev @ prev))
        d = -grad + beta * state["d"]
        return d if float(grad @ d) < 0 else -grad

    def step(self, closure: Callable | None = None):
        """One conjugate-gradient iteration with a line search; returns the loss before it."""
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        with no_grad():
            loss, grad = self._loss_and_grad(closure)
            restart = group["restart"] or grad.size
            d = self._direction(state, grad, restart)
            gtd = float(grad @ d)
            if gtd == 0:
                return loss
            phi = self._line(closure, d)
            t0 = state.get("t") or min(1.0, 1.0 / float(np.abs(grad).sum())) * float(group["lr"])
            _, g0 = phi(t0)
            slope_change = float(g0 @ d) - gtd
            t = t0 * -gtd / slope_change if slope_change > 0 else t0
            _, _, t, _ = _strong_wolfe(phi, t, d, loss, grad, gtd, c2=0.1, max_ls=group["max_ls"])
            add_to_params(self._params, t, d)
            state.update(n_iter=state.get("n_iter", 0) + 1, d=d, prev_grad=grad, t=t)
        return loss
