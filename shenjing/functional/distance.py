"""Similarities and distances between vectors: cosine similarity, and the p-norm distances of every
pair of rows (``cdist``), PyTorch's ``F.cosine_similarity`` and ``torch.cdist``."""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import elementwise as E
from . import reduction as R
from . import _dispatch as D
from ._util import as_tensor, unbroadcast

__all__ = ["cosine_similarity", "cdist"]


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos(x₁, x₂) = Σ (x₁ / max(‖x₁‖, ε)) · (x₂ / max(‖x₂‖, ε)) along ``dim`` (PyTorch's formula).

    ``x1`` and ``x2`` broadcast to one shape; ``dim`` is removed from it. A zero vector has
    similarity 0 and a finite gradient.

    >>> import shenjing as sj
    >>> float(cosine_similarity(sj.tensor([[1.0, 0.0]]), sj.tensor([[1.0, 1.0]])))  # doctest: +ELLIPSIS
    0.7071...
    """
    x1, x2 = as_tensor(x1), as_tensor(x2)
    shape = B.xp_of(x1.data).broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    return R.sum(_unit(x1, dim, eps) * _unit(x2, dim, eps), dim)


def _unit(x: Tensor, dim: int, eps: float) -> Tensor:
    # max(‖x‖², ε²) under the root: the gradient is finite at x = 0 (the root of zero has none)
    return x / E.sqrt(E.maximum(R.sum(x * x, dim, keepdim=True), eps * eps))


class CDist(Function):
    """d_ij = (Σ_k |x1_ik - x2_jk|^p)^(1/p), batched over leading dims; ∂d/∂diff = sign(diff)·|diff|^(p-1) / d^(p-1)
    (sign(diff)·[|diff| = d] for p = ∞), zero where d = 0."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        xp = B.xp_of(x1)
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        size = xp.abs(diff)
        if p == float("inf"):
            dist = size.max(-1) if size.shape[-1] else size.sum(-1)
        elif p == 0:
            dist = (size != 0).sum(-1).astype(x1.dtype)
        else:
            dist = (size ** p).sum(-1) ** (1.0 / p)
        ctx.diff, ctx.size, ctx.dist, ctx.p, ctx.shapes = diff, size, dist, p, (x1.shape, x2.shape)
        return dist

    @staticmethod
    def backward(ctx, grad):
        xp = B.xp_of(grad)
        diff, size, dist, p = ctx.diff, ctx.size, ctx.dist[..., None], ctx.p
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == float("inf"):
                slope = xp.sign(diff) * (size == dist)
            elif p == 0:
                slope = xp.zeros_like(diff)
            else:
                slope = xp.sign(diff) * size ** (p - 1) / dist ** (p - 1)
        slope = xp.where((dist == 0) | ((size == 0) & (p < 1)), 0, slope)
        term = slope * grad[..., None]
        shape1, shape2 = ctx.shapes
        return unbroadcast(term.sum(-2), shape1), unbroadcast(-term.sum(-3), shape2)



def _cdist_composite(x1, x2, p):
    """:class:`CDist` with differentiable ops (its composite)."""
    diff = x1[..., :, None, :] - x2[..., None, :, :]
    size = D.absolute(diff)
    if p == float("inf"):
        return size.amax(-1) if size.shape[-1] else size.sum(-1)
    if p == 0:
        return Tensor._wrap((D.raw(size) != 0).sum(-1).astype(size.dtype))  # piecewise constant
    if p == 2:
        return D.sqrt((diff * diff).sum(-1))
    return (size**p).sum(-1) ** (1.0 / p)


CDist.composite = staticmethod(_cdist_composite)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """Distances between every row of ``x1`` (B?, P, M) and every row of ``x2`` (B?, R, M):
    d_ij = ‖x1_i - x2_j‖_p, shape (B?, P, R); ``p`` ≥ 0 (∞ allowed). PyTorch's ``torch.cdist``.

    >>> import shenjing as sj
    >>> cdist(sj.tensor([[0.0, 0.0]]), sj.tensor([[3.0, 4.0], [1.0, 0.0]])).tolist()
    [[5.0, 1.0]]
    """
    x1, x2 = as_tensor(x1), as_tensor(x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: x1 and x2 must be (..., P, M) and (..., R, M) with the same M, "
                         f"got {tuple(x1.shape)} and {tuple(x2.shape)}")
    if not p >= 0:
        raise ValueError(f"cdist: p must be a non-negative number, got {p!r}")
    return CDist.apply(x1, x2, p=float(p))
