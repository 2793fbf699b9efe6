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
from . import _dispatch as D
from ._util import normalize_axes, resolve_dim, resolve_keepdim

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
        grad = D.expand_dims(grad, axes)
    return grad


def _count(shape, axes) -> int:
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


class Sum(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return D.broadcast_to(_restore(grad, ctx.shape, ctx.axes, ctx.keepdims), ctx.shape), None, None


class Mean(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _restore(grad, ctx.shape, ctx.axes, ctx.keepdims) / _count(ctx.shape, ctx.axes)
        return D.broadcast_to(grad, ctx.shape), None, None


class Var(Function):
    """var = Σ(x - x̄)² / (N - correction); d/dx = 2(x - x̄) / (N - correction)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        ctx.x, ctx.axes, ctx.keepdims = x, axes, keepdims
        ctx.denom = _count(x.shape, axes) - correction
        centered = x - x.mean(axis=axes, keepdims=True)
        return (centered**2).sum(axis=axes, keepdims=keepdims) / ctx.denom

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
        centered = x - x.mean(axis=ctx.axes, keepdims=True)
        grad = _restore(grad, x.shape, ctx.axes, ctx.keepdims)
        return grad * (2 / ctx.denom) * centered, None, None, None


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


def _prod_composite(x, axes, keepdims):
    """:class:`Prod` with differentiable ops (its composite): the factors multiplied one by one."""
    reduced = tuple(range(x.ndim)) if axes is None else axes
    kept = tuple(a for a in range(x.ndim) if a not in reduced)
    flat = x.permute(kept + reduced).reshape(tuple(x.shape[a] for a in kept) + (-1,))
    out = flat[..., 0]
    for k in range(1, flat.shape[-1]):
        out = out * flat[..., k]
    return _restore(out, x.shape, axes, False) if keepdims else out


Prod.composite = staticmethod(_prod_composite)


class Logsumexp(Function):
    """log Σ exp(x), computed as m + log Σ exp(x - m) with m = max x; gradient softmax(x)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        if not keepdims:
            out = out.reshape(()) if axes is None else out.squeeze(axis=axes)
        ctx.x, ctx.out, ctx.axes, ctx.keepdims = x, out, axes, keepdims
        return out

    @staticmethod
    def backward(ctx, grad):
        x, axes, keepdims = ctx.x, ctx.axes, ctx.keepdims
        out = _restore(ctx.out, x.shape, axes, keepdims)
        return _restore(grad, x.shape, axes, keepdims) * D.exp(x - out), None, None


class Amax(Function):
    """Max (or min) over axes; tied maxima share the gradient evenly (PyTorch's amax rule)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdims, largest):
        out = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ctx.x, ctx.out, ctx.axes, ctx.keepdims = x, out, axes, keepdims
        if keepdims:
            return out
        return out.reshape(()) if axes is None else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, grad):
        hit = D.raw(ctx.x) == ctx.out
        share = hit / hit.sum(axis=ctx.axes, keepdims=True)
        return _restore(grad, ctx.x.shape, ctx.axes, ctx.keepdims) * share.astype(grad.dtype), None, None, None


class MaxAlong(Function):
    """Values at given indices along one axis (``max(dim)``): the gradient goes to those indices."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, indices, axis, keepdims):
        ctx.shape, ctx.indices, ctx.axis, ctx.keepdims = x.shape, indices, axis, keepdims
        out = np.take_along_axis(x, indices, axis=axis)
        return out if keepdims else out.squeeze(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdims:
            grad = D.expand_dims(grad, (ctx.axis,))
        return scatter_along(grad, ctx.shape, ctx.indices, ctx.axis), None, None, None


class Cumsum(Function):
    """Running sum along an axis; the gradient is the reversed running sum of the output gradient."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return reverse_cumsum(grad, ctx.axis), None


def _reverse_cumsum(x, axis: int):
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


class ReverseCumsum(Function):
    """Σ_{j >= i} x_j along an axis: the adjoint of :class:`Cumsum`."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return _reverse_cumsum(x, axis)

    @staticmethod
    def backward(ctx, grad):
        return D.dual(np.cumsum, Cumsum)(grad, ctx.axis), None


reverse_cumsum = D.dual(_reverse_cumsum, ReverseCumsum)


class Gather(Function):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along one axis (``torch.gather``); the
    gradient is scattered back, repeated indices accumulating."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return np.take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return scatter_along(grad, ctx.shape, ctx.index, ctx.axis), None, None


def _scatter_along(values, shape: tuple, index, axis: int):
    """zeros(shape) with ``values`` added at ``index`` along ``axis``, repeats accumulating."""
    xp = B.xp_of(values)
    out = xp.zeros(shape, dtype=values.dtype)
    positions = [xp.arange(n).reshape([-1 if d == i else 1 for d in range(values.ndim)])
                 for i, n in enumerate(index.shape)]
    positions[axis] = index
    B.scatter_add(out, tuple(positions), values)
    return out


class ScatterAlong(Function):
    """The adjoint of :class:`Gather`: its backward gathers again."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, values, shape, index, axis):
        ctx.index, ctx.axis = index, axis
        return _scatter_along(values, shape, index, axis)

    @staticmethod
    def backward(ctx, grad):
        return D.dual(np.take_along_axis, Gather)(grad, ctx.index, ctx.axis), None, None, None


scatter_along = D.dual(_scatter_along, ScatterAlong)


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
    pick = np.argmax if largest else np.argmin
    indices = np.expand_dims(pick(x.data, axis=axis), axis)
    values = MaxAlong.apply(x, indices, axis, keep)
    return MaxMin(values, Tensor._wrap(indices if keep else indices.squeeze(axis)))


def max(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``max(x)``: the largest element; ``max(x, dim)``: a named tuple ``(values, indices)``."""
    return _extreme(x, dim, keepdim, axis, keepdims, True)


def min(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``min(x)``: the smallest element; ``min(x, dim)``: a named tuple ``(values, indices)``."""
    return _extreme(x, dim, keepdim, axis, keepdims, False)


def _arg(pick):
    def arg(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        dim = resolve_dim(dim, axis)
        keep = resolve_keepdim(keepdim, keepdims)
        if dim is None:
            out = pick(x.data.reshape(-1))
            return Tensor._wrap(out.reshape((1,) * x.ndim) if keep else out)
        (axis,) = normalize_axes(dim, x.ndim)
        out = pick(x.data, axis=axis)
        return Tensor._wrap(np.expand_dims(out, axis) if keep else out)

    arg.__name__ = pick.__name__
    arg.__doc__ = f"Index of the {'largest' if pick is np.argmax else 'smallest'} element (no gradient)."
    return arg


argmax, argmin = _arg(np.argmax), _arg(np.argmin)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """y_i = Σ_{j<=i} x_j along ``dim``."""
    (axis,) = normalize_axes(dim, x.ndim)
    return Cumsum.apply(x, axis)


def gather(x: Tensor, dim: int, index) -> Tensor:
    """``torch.gather``: out[i][j] = x[index[i][j]][j] for dim 0 (and so on); ``index`` has x's ndim."""
    index = index.data if isinstance(index, Tensor) else B.xp_of(x.data).asarray(index)
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"gather: index must be an integer array with {x.ndim} dims, got shape "
                         f"{tuple(index.shape)} and dtype {index.dtype}")
    (axis,) = normalize_axes(dim, x.ndim)
    return Gather.apply(x, index, axis)


def sort(x: Tensor, dim: int = -1, descending: bool = False):
    """Sorted values along ``dim`` and the indices they came from, as ``(values, indices)`` (stable)."""
    (axis,) = normalize_axes(dim, x.ndim)
    keys = -x.data if descending else x.data
    indices = np.argsort(keys, axis=axis, kind="stable")
    return ValuesIndices(Gather.apply(x, indices, axis), Tensor._wrap(indices))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` in order, with their indices."""
    (axis,) = normalize_axes(dim, x.ndim)
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[axis]}")
    keys = -x.data if largest else x.data
    indices = np.argsort(keys, axis=axis, kind="stable")[(slice(None),) * axis + (slice(0, k),)]
    return ValuesIndices(Gather.apply(x, indices, axis), Tensor._wrap(indices))
