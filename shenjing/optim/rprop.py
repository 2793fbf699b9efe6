"""Sign-based adaptive steps: Rprop and the per-weight adaptive gains of seed 002 (delta-bar-delta)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .optimizer import Optimizer

__all__ = ["Rprop", "DeltaBarDelta"]


def _sign_agreement(grad, prev):
    """Boolean masks (same sign, opposite sign) of g_t·g_{t-1}, elementwise."""
    product = grad * prev
    return product > 0, product < 0


class Rprop(Optimizer):
    r"""Resilient back-propagation (Riedmiller & Braun 1993; seed 002 "RMSProp") — ``torch.optim.Rprop``.

    Only the sign of the gradient is used; each weight has its own step size Δ::

        Δ_t = clip(η⁺ Δ_{t-1}, Δmin, Δmax)    if g_t g_{t-1} > 0
        Δ_t = clip(η⁻ Δ_{t-1}, Δmin, Δmax),  g_t ← 0    if g_t g_{t-1} < 0
        Δ_t = Δ_{t-1}                         otherwise        (Δ_0 = lr)
        θ_t = θ_{t-1} - sign(g_t) Δ_t

    Meant for full batches: the notes explain why it breaks with mini-batches (RMSprop fixes that).

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.Rprop([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.636    , -1.6359999])
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50.0), *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr")
        etaminus, etaplus = group["etas"]
        self._check(0.0 < etaminus < 1.0 < etaplus, "etas", "(etaminus, etaplus) with 0 < etaminus < 1 < etaplus",
                    group["etas"])
        low, high = group["step_sizes"]
        self._check(0.0 <= low <= high, "step_sizes", "(min, max) with 0 <= min <= max", group["step_sizes"])

    def _update(self, param, grad, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(param)
            state["step_size"] = np.full_like(param, group["lr"])
        state["step"] += 1
        etaminus, etaplus = map(float, group["etas"])
        step_size = state["step_size"]
        same, flipped = _sign_agreement(grad, state["prev"])
        step_size[same] *= etaplus
        step_size[flipped] *= etaminus
        np.clip(step_size, *map(float, group["step_sizes"]), out=step_size)
        grad = np.where(flipped, 0, grad)
        param -= np.sign(grad) * step_size
        state["prev"][...] = grad


class DeltaBarDelta(Optimizer):
    r"""Per-weight adaptive gains (seed 002 "自适应学习率"; Jacobs 1988, Hinton's lecture 6d).

    Each weight has a gain g (starting at 1): the step uses the current gain, which then grows
    additively if the gradient kept its sign and shrinks multiplicatively if it flipped, clipped
    to a range (DESIGN's order: update, then adapt the gain for the next step)::

        w_t = w_{t-1} - η g_{t-1} ∂L/∂w_t
        g_t = g_{t-1} + increment    if ∂L/∂w_t · ∂L/∂w_{t-1} > 0
        g_t = g_{t-1} · decay        if ∂L/∂w_t · ∂L/∂w_{t-1} < 0
        g_t = g_{t-1}                otherwise (first step, zero gradient)
        g_t ← clip(g_t, *gain_range)

    The notes' values are increment 0.05, decay 0.95, range [0.1, 10] (or [0.01, 100]). Use
    full batches or large mini-batches so that gradient signs are not sampling noise.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.DeltaBarDelta([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.5056, -1.0112])
    """

    def __init__(self, params: Iterable, lr: float = 0.01, increment: float = 0.05, decay: float = 0.95,
                 gain_range: tuple[float, float] = (0.1, 10.0)):
        super().__init__(params, dict(lr=lr, increment=increment, decay=decay, gain_range=tuple(gain_range)))

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "increment")
        self._check(0.0 < group["decay"] <= 1.0, "decay", "in (0, 1]", group["decay"])
        low, high = group["gain_range"]
        self._check(0.0 < low <= 1.0 <= high, "gain_range", "(low, high) with 0 < low <= 1 <= high",
                    group["gain_range"])

    def _update(self, param, grad, state: dict, group: dict) -> None:
        if not state:
            state["gain"] = np.ones_like(param)
            state["prev"] = np.zeros_like(param)
        gain = state["gain"]
        param -= float(group["lr"]) * gain * grad
        same, flipped = _sign_agreement(grad, state["prev"])
        gain[same] += float(group["increment"])
        gain[flipped] *= float(group["decay"])
        np.clip(gain, *map(float, group["gain_range"]), out=gain)
        state["prev"][...] = grad
