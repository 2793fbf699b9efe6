"""Capsule-network pooling (seed 004 §2.3.5): squash and dynamic routing aggregation (DR-AGG)."""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import as_tensor
from .activation import softmax
from .reduction import sum as reduce_sum

__all__ = ["squash", "dynamic_routing"]


class Squash(Function):
    """v = f(n)·s with n = ||s||, f(n) = n / (1 + n²); dv/ds = f(n) I + f'(n)/n · s sᵀ, f'(n) = (1 - n²)/(1 + n²)²."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, s, axis):
        n = np.sqrt((s * s).sum(axis=axis, keepdims=True))
        one = s.dtype.type(1)
        ctx.s, ctx.axis = s, axis
        return s * (n / (one + n * n))

    @staticmethod
    def backward(ctx, grad):
        s, axis = ctx.s, ctx.axis
        one = s.dtype.type(1)
        n2 = (s * s).sum(axis=axis, keepdims=True)
        n = D.sqrt(n2)
        safe = D.where(D.raw(n) > 0, n, one)
        radial = (one - n2) / ((one + n2) ** 2 * safe)
        return grad * (n / (one + n2)) + s * (radial * (grad * s).sum(axis=axis, keepdims=True)), None


def squash(s, dim: int = -1) -> Tensor:
    """Capsule squashing (seed 004 §2.3.5, 信息压缩):

    v = ||s||² / (1 + ||s||²) · s / ||s||

    along ``dim``: the direction of s is kept and its norm mapped into [0, 1). Computed as s·||s||/(1 + ||s||²),
    which is 0 (with a finite gradient) at s = 0.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.squash(sj.tensor([[3.0, 4.0]]))
    tensor([[0.5769231, 0.7692308]])
    """
    s = as_tensor(s)
    if s.ndim == 0 or not -s.ndim <= dim < s.ndim:
        raise ValueError(f"squash: dim {dim} is out of range for a tensor of shape {s.shape}")
    return Squash.apply(s, dim % s.ndim)


def dynamic_routing(u, iterations: int = 3, mode: str = "standard") -> tuple[Tensor, Tensor]:
    """Dynamic routing aggregation, DR-AGG (seed 004 §2.3.5). ``u`` holds the messages u_ij = f(h_i, θ_j)
    from input capsule i to output capsule j, shape (N, L, M, D). With b_ij = 0 at the start, repeat
    ``iterations`` times:

    c_ij = exp(b_ij) / Σ_k exp(b_ik)   ('standard': over the output capsules j)
    c_ij = exp(b_ij) / Σ_k exp(b_kj)   ('reversed': over the input capsules i)
    s_j = Σ_i c_ij u_ij,   v_j = squash(s_j),   b_ij ← b_ij + v_j · u_ij

    (b is not updated after the last iteration). Returns (v of shape (N, M, D), c of shape (N, L, M) of the
    last iteration). Gradients flow through every iteration.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> v, c = F.dynamic_routing(sj.randn(2, 5, 3, 4))
    >>> v.shape, c.shape
    ((2, 3, 4), (2, 5, 3))
    """
    u = as_tensor(u)
    if u.ndim != 4:
        raise ValueError(f"dynamic_routing: u must have shape (N, L, M, D), got {u.shape}")
    if mode not in ("standard", "reversed"):
        raise ValueError(f"dynamic_routing: mode must be 'standard' or 'reversed', got {mode!r}")
    if not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ValueError(f"dynamic_routing: iterations must be a positive int, got {iterations!r}")
    axis = 2 if mode == "standard" else 1
    b = Tensor(B.xp_of(u.data).zeros(u.shape[:3], dtype=u.dtype))
    for it in range(iterations):
        c = softmax(b, dim=axis)
        v = squash(reduce_sum(c.unsqueeze(-1) * u, 1))
        if it + 1 < iterations:
            b = b + reduce_sum(u * v.unsqueeze(1), -1)
    return v, c
