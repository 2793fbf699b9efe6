"""Reductions: sum, mean, var, std, max, min, prod, logsumexp, argmax, argmin.

Every reduction accepts PyTorch's ``dim=``/``keepdim=`` and NumPy's
``axis=``/``keepdims=``. The backward broadcasts the gradient back over the
reduced axes.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from ._util import NonDifferentiable, normalize_axes, resolve_dim, resolve_keepdim
from .shape import squeeze

__all__ = [
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "logsumexp", "argmax", "argmin",
    "cumsum", "gather", "topk", "sort",
]

MaxMin = namedtuple("MaxMin", ["values", "indices"])
ValuesIndices = MaxMin


def _restore(grad, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if axes is None:
        return grad.reshape((1,) * len(shape))
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return grad


def _count(shape, axes) -> int:
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_restore(grad, ctx.shape, ctx.axes, ctx.keepdims), ctx.shape), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _restore(grad, ctx.shape, ctx.axes, ctx.keepdims) / _count(ctx.shape, ctx.axes)
        return np.broadcast_to(grad, ctx.shape), None, None


class Var(Function):
    """var = Σ(x - x̄)² / (N - correction); d/dx = 2(x - x̄) / (N - correction)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        ctx.centered = x - x.mean(axis=axes, keepdims=True)
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.denom = _count(x.shape, axes) - correction
        return (ctx.centered**2).sum(axis=axes, keepdims=keepdims) / ctx.denom

    @staticmethod
    def backward(ctx, grad):
        grad = _restore(grad, ctx.centered.shape, ctx.axes, ctx.keepdims)
        return grad * (2 / ctx.denom) * ctx.centered, None, None, None


class Prod(Function):
    """Product over axes; the gradient of each factor is the product of the others
    (computed with exclusive cumulative products, so zeros are handled exactly)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.x, ctx.axes, ctx.keepdims = x, axes, keepdims
        return x.prod(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        x, axes = ctx.x, ctx.axes
        reduced = tuple(range(x.ndim)) if axes is None else axes
        kept = tuple(a for a in range(x.ndim) if a not in reduced)
        perm = kept + reduced
        moved = x.transpose(perm)
        flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
        ones = np.ones_like(flat[..., :1])
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(moved.shape).transpose(np.argsort(perm))
        return _restore(grad, x.shape, axes, ctx.keepdims) * others, None, None


class Logsumexp(Function):
    """log Σ exp(x), computed as m + log Σ exp(x - m) with m = max x; gradient softmax(x)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.x, ctx.out, ctx.axes, ctx.keepdims = x, out, axes, keepdims
        if keepdims:
            return out
        return out.reshape(()) if axes is None else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, grad):
        grad = _restore(grad, ctx.x.shape, ctx.axes, ctx.keepdims)
        return grad * np.exp(ctx.x - ctx.out), None, None


class Amax(Function):
    """Max (or min) over axes; tied maxima share the gradient evenly (PyTorch's amax rule)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, largest):
        out = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ctx.x, ctx.out, ctx.axes, ctx.keepdims = x, out, axes, keepdims
        if keepdims:
            return out
        return out.reshape(()) if axes is None else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, grad):
        hit = ctx.x == ctx.out
        share = hit / hit.sum(axis=ctx.axes, keepdims=True)
        return _restore(grad, ctx.x.shape, ctx.axes, ctx.keepdims) * share.astype(grad.dtype), None, None, None


class MaxAlong(Function):
    """Values at given indices along one axis (``max(dim)``): the gradient goes to those indices."""

    @staticmethod
    def forward(ctx, x, indices, axis, keepdims):
        ctx.shape, ctx.indices, ctx.axis, ctx.keepdims = x.shape, indices, axis, keepdims
        out = np.take_along_axis(x, indices, axis=axis)
        return out if keepdims else out.squeeze(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axis)
        out = B.xp_of(grad).zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.indices, grad, axis=ctx.axis)
        return out, None, None, None


class Cumsum(Function):
    """Running sum along an axis; the gradient is the reversed running sum of the output gradient."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis = ctx.axis
        return np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis), None


class Gather(Function):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along one axis (``torch.gather``); the
    gradient is scattered back, repeated indices accumulating."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return np.take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = B.xp_of(grad)
        out = xp.zeros(ctx.shape, dtype=grad.dtype)
        positions = [xp.arange(n).reshape([-1 if d == i else 1 for d in range(grad.ndim)])
                     for i, n in enumerate(ctx.index.shape)]
        positions[ctx.axis] = ctx.index
        B.scatter_add(out, tuple(positions), grad)
        return out, None, None


class ArgExtreme(NonDifferentiable):
    """Index of the largest (or smallest) element along ``axis`` (of the flattened array when None)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims, largest):
        pick = np.argmax if largest else np.argmin
        if axis is None:
            out = pick(x.reshape(-1))
            return out.reshape((1,) * x.ndim) if keepdims else out
        out = pick(x, axis=axis)
        return np.expand_dims(out, axis) if keepdims else out


class SortIndices(NonDifferentiable):
    """The first ``k`` indices of a stable sort along ``axis`` (descending when ``largest``)."""

    @staticmethod
    def forward(ctx, x, axis, k, largest):
        indices = np.argsort(-x if largest else x, axis=axis, kind="stable")
        return indices[(slice(None),) * axis + (slice(0, k),)]


def _axes_of(x: Tensor, dim, axis):
    return normalize_axes(resolve_dim(dim, axis), x.ndim)


def sum(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Σ over ``dim`` (all elements when None)."""
    return Sum.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def mean(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Arithmetic mean over ``dim``."""
    return Mean.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    """Variance Σ(x - x̄)² / (N - correction); ``correction=1`` (default) is the unbiased estimate.

    As in PyTorch, ``x.var(dim, unbiased, keepdim)`` positionally, or ``correction=`` by keyword
    (``unbiased=False`` is ``correction=0``).
    """
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims), correction)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    """Standard deviation √var (same arguments as :func:`var`)."""
    from .elementwise import sqrt

    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims))


def prod(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Π over ``dim``."""
    return Prod.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def logsumexp(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """log Σ_i exp(x_i), stable (max subtracted first)."""
    return Logsumexp.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def amax(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Maximum over ``dim`` (ties share the gradient evenly)."""
    return Amax.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims), True)


def amin(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Minimum over ``dim`` (ties share the gradient evenly)."""
    return Amax.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims), False)


def _extreme(x, dim, keepdim, axis, keepdims, largest):
    if isinstance(dim, Tensor):  # torch.max(a, b) is the element-wise maximum
        from .elementwise import maximum, minimum

        return (maximum if largest else minimum)(x, dim)
    dim = resolve_dim(dim, axis)
    keep = resolve_keepdim(keepdim, keepdims)
    if dim is None:
        return Amax.apply(x, None, keep, largest)
    (axis,) = normalize_axes(dim, x.ndim)
    indices = ArgExtreme.apply(x, axis, True, largest)
    values = MaxAlong.apply(x, indices, axis, keep)
    return MaxMin(values, indices if keep else squeeze(indices, axis))


def max(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``max(x)``: the largest element; ``max(x, dim)``: a named tuple ``(values, indices)``."""
    return _extreme(x, dim, keepdim, axis, keepdims, True)


def min(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``min(x)``: the smallest element; ``min(x, dim)``: a named tuple ``(values, indices)``."""
    return _extreme(x, dim, keepdim, axis, keepdims, False)


def _arg(largest: bool):
    def arg(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        dim = resolve_dim(dim, axis)
        axis = None if dim is None else normalize_axes(dim, x.ndim)[0]
        return ArgExtreme.apply(x, axis, resolve_keepdim(keepdim, keepdims), largest)

    arg.__name__ = "argmax" if largest else "argmin"
    arg.__doc__ = f"Index of the {'largest' if largest else 'smallest'} element (no gradient)."
    return arg


argmax, argmin = _arg(True), _arg(False)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """y_i = Σ_{j<=i} x_j along ``dim``."""
    (axis,) = normalize_axes(dim, x.ndim)
    return Cumsum.apply(x, axis)


def gather(x: Tensor, dim: int, index) -> Tensor:
    """``torch.gather``: out[i][j] = x[index[i][j]][j] for dim 0 (and so on); ``index`` has x's ndim."""
    index = index if isinstance(index, Tensor) else B.xp_of(x.data).asarray(index)
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"gather: index must be an integer array with {x.ndim} dims, got shape "
                         f"{tuple(index.shape)} and dtype {index.dtype}")
    (axis,) = normalize_axes(dim, x.ndim)
    return Gather.apply(x, index, axis)


def sort(x: Tensor, dim: int = -1, descending: bool = False):
    """Sorted values along ``dim`` and the indices they came from, as ``(values, indices)`` (stable)."""
    (axis,) = normalize_axes(dim, x.ndim)
    indices = SortIndices.apply(x, axis, x.shape[axis], descending)
    return ValuesIndices(Gather.apply(x, indices, axis), indices)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` in order, with their indices."""
    (axis,) = normalize_axes(dim, x.ndim)
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[axis]}")
    indices = SortIndices.apply(x, axis, k, largest)
    return ValuesIndices(Gather.apply(x, indices, axis), indices)
