"""Sharpness: the largest Hessian eigenvalue of the loss and the learning rate it allows.

On a quadratic L(θ) = ½ θᵀHθ gradient descent θ ← θ - η Hθ multiplies the component along an
eigenvector of eigenvalue λ by (1 - ηλ), so it converges only for η < 2/λ_max: the learning
rate past which the loss oscillates and diverges (the notes' lr sweep stops where the loss
starts to oscillate, seed 002 神经网络调参 第二步).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .. import _backend as B
from ..autograd import grad
from ..tensor import Tensor

__all__ = ["sharpness", "hvp"]


def _loss(loss_closure: Callable) -> Tensor:
    loss = loss_closure()
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        raise ValueError("sharpness: loss_closure must return the loss as a one-element Tensor")
    return loss


def _gradients(loss_closure: Callable, params: list) -> list:
    return [None if g is None else g.data for g in grad(_loss(loss_closure), params, allow_unused=True)]


def hvp(loss_closure: Callable, params: list, vector: list, eps: float | None = None) -> list:
    """Hessian-vector product H·v of ``loss_closure()`` at ``params`` (lists of arrays like the params).

    Exact by double back-propagation, H v = ∇_θ (∇_θ L · v) (``create_graph=True``), when every op
    of the loss is twice differentiable. A loss with a first-order-only op (a user ``Function`` on raw
    arrays) falls back to central differences of gradients, H v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε
    with ‖v‖ = 1 and ε = u^{1/3}·max(1, ‖θ‖) (u the unit roundoff of the params' dtype), error O(ε²).
    ``eps`` forces the finite-difference form. The parameters are restored exactly.
    """
    if eps is None:
        try:
            return _exact_hvp(loss_closure, params, vector)
        except RuntimeError:
            pass  # some op is first-order only
    return _finite_difference_hvp(loss_closure, params, vector, eps)


def _exact_hvp(loss_closure: Callable, params: list, vector: list) -> list:
    loss = _loss(loss_closure)
    grads = grad(loss, params, create_graph=True, allow_unused=True)
    used = [(g, Tensor._wrap(v)) for g, v in zip(grads, vector) if g is not None]
    directional = sum((g * v).sum() for g, v in used)
    if not isinstance(directional, Tensor) or not directional.requires_grad:
        return [np.zeros_like(p.data) for p in params]
    return [np.zeros_like(p.data) if h is None else h.data
            for p, h in zip(params, grad(directional, params, allow_unused=True))]


def _finite_difference_hvp(loss_closure: Callable, params: list, vector: list, eps: float | None) -> list:
    saved = [p.data.copy() for p in params]
    scale = math.sqrt(sum(float((s.astype(np.float64) ** 2).sum()) for s in saved))
    if eps is None:
        eps = np.finfo(saved[0].dtype).eps ** (1 / 3) * max(1.0, scale)
    try:
        grads = []
        for sign in (1.0, -1.0):
            for p, s, v in zip(params, saved, vector):
                p.data = (s + (sign * eps) * v).astype(s.dtype)
            grads.append(_gradients(loss_closure, params))
    finally:
        for p, s in zip(params, saved):
            p.data = s
    return [_difference(gp, gm, p) / (2 * eps) for gp, gm, p in zip(grads[0], grads[1], params)]


def _difference(g_plus, g_minus, param):
    if g_plus is None:
        return np.zeros_like(param.data)
    return g_plus - g_minus


def _norm(arrays) -> float:
    return math.sqrt(sum(float((a.astype(np.float64) ** 2).sum()) for a in arrays))


def sharpness(loss_closure: Callable[[], Tensor], params: Sequence[Tensor], iters: int = 20,
              seed: int = 0) -> tuple[float, float]:
    """``(lambda_max, stable_lr)``: the dominant Hessian eigenvalue of ``loss_closure()`` with
    respect to ``params`` by power iteration on Hessian-vector products (:func:`hvp`), and the
    stable learning rate 2/λ_max of gradient descent (inf when λ_max ≤ 0).

    v ← Hv/‖Hv‖ from a seeded random start, ``iters`` times; λ is the Rayleigh quotient vᵀHv.
    ``loss_closure()`` returns the loss (it does not call backward); ``.grad`` and the
    parameters are left as they were. Cost: iters double-backward passes (2·iters gradient
    evaluations where the finite-difference fallback is used).

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, 1.0], dtype=sj.float64, requires_grad=True)
    >>> lam, lr = sharpness(lambda: (sj.tensor([3.0, 1.0], dtype=sj.float64) * w * w).sum(), [w])
    >>> round(lam, 6), round(lr, 6)
    (6.0, 0.333333)
    """
    params = list(params)
    if not params or not all(isinstance(p, Tensor) and p.requires_grad for p in params):
        raise ValueError("sharpness: params must be a non-empty sequence of Tensors that require grad")
    if not isinstance(iters, int) or iters < 1:
        raise ValueError(f"sharpness: iters must be a positive integer, got {iters!r}")
    rng = np.random.default_rng(seed)
    vector = [B.to_device(rng.standard_normal(p.shape).astype(p.data.dtype), B.device_of(p.data)) for p in params]
    lam = 0.0
    for _ in range(iters):
        norm = _norm(vector)
        vector = [v / norm for v in vector]
        product = hvp(loss_closure, params, vector)
        lam = sum(float((v.astype(np.float64) * h).sum()) for v, h in zip(vector, product))
        if _norm(product) == 0:
            break
        vector = product
    return lam, (2.0 / lam if lam > 0 else math.inf)
