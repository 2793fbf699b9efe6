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


def _axes_of(x: Tensor, dim, axis):
    return normalize_axes(resolve_dim(dim, axis), x.ndim)


def sum(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Σ over ``dim`` (all elements when None).

    >>> import shenjing as sj
    >>> x = sj.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> sj.sum(x), x.sum(dim=0), x.sum(1, keepdim=True).shape
    (tensor(10.), tensor([4., 6.]), (2, 1))
    """
    return Sum.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def mean(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Arithmetic mean over ``dim``.

    >>> import shenjing as sj
    >>> sj.tensor([[1.0, 2.0], [3.0, 4.0]]).mean(dim=1)
    tensor([1.5, 3.5])
    """
    return Mean.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    """Variance Σ(x - x̄)² / (N - correction); ``correction=1`` (default) is the unbiased estimate.

    As in PyTorch, ``x.var(dim, unbiased, keepdim)`` positionally, or ``correction=`` by keyword
    (``unbiased=False`` is ``correction=0``).

    >>> import shenjing as sj
    >>> x = sj.tensor([1.0, 2.0, 3.0, 4.0])
    >>> x.var(), x.var(correction=0)
    (tensor(1.6666666), tensor(1.25))
    """
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims), correction)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    """Standard deviation √var (same arguments as :func:`var`).

    >>> import shenjing as sj
    >>> sj.tensor([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).std(correction=0)
    tensor(2.)
    """
    from .elementwise import sqrt

    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims))


def prod(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Π over ``dim``.

    >>> import shenjing as sj
    >>> x = sj.tensor([2.0, 3.0, 4.0], requires_grad=True)
    >>> x.prod().backward()
    >>> x.grad
    tensor([12.,  8.,  6.])
    """
    return Prod.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def logsumexp(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """log Σ_i exp(x_i), stable (max subtracted first).

    >>> import shenjing as sj
    >>> sj.logsumexp(sj.tensor([1000.0, 1000.0]), dim=0)
    tensor(1000.6932)
    """
    return Logsumexp.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def amax(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Maximum over ``dim`` (ties share the gradient evenly).

    >>> import shenjing as sj
    >>> x = sj.tensor([3.0, 1.0, 3.0], requires_grad=True)
    >>> sj.amax(x).backward()
    >>> x.grad
    tensor([0.5, 0. , 0.5])
    """
    return Amax.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims), True)


def amin(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Minimum over ``dim`` (ties share the gradient evenly).

    >>> import shenjing as sj
    >>> sj.amin(sj.tensor([[3.0, 1.0], [0.0, 2.0]]), dim=1)
    tensor([1., 0.])
    """
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
    """``max(x)``: the largest element; ``max(x, dim)``: a named tuple ``(values, indices)``.

    >>> import shenjing as sj
    >>> x = sj.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> x.max()
    tensor(7.)
    >>> values, indices = x.max(dim=1)
    >>> values, indices
    (tensor([5., 7.]), tensor([1, 0], dtype=int64))
    """
    return _extreme(x, dim, keepdim, axis, keepdims, True)


def min(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``min(x)``: the smallest element; ``min(x, dim)``: a named tuple ``(values, indices)``.

    >>> import shenjing as sj
    >>> sj.tensor([[1.0, 5.0], [7.0, 2.0]]).min(dim=0).indices
    tensor([0, 1], dtype=int64)
    """
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
    """y_i = Σ_{j<=i} x_j along ``dim``.

    >>> import shenjing as sj
    >>> sj.cumsum(sj.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 3., 6.])
    """
    (axis,) = normalize_axes(dim, x.ndim)
    return Cumsum.apply(x, axis)


def gather(x: Tensor, dim: int, index) -> Tensor:
    """``torch.gather``: out[i][j] = x[index[i][j]][j] for dim 0 (and so on); ``index`` has x's ndim.

    >>> import shenjing as sj
    >>> scores = sj.tensor([[0.1, 0.9], [0.8, 0.2]])
    >>> sj.gather(scores, 1, sj.tensor([[1], [0]]))
    tensor([[0.9],
            [0.8]])
    """
    index = index.data if isinstance(index, Tensor) else B.xp_of(x.data).asarray(index)
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"gather: index must be an integer array with {x.ndim} dims, got shape "
                         f"{tuple(index.shape)} and dtype {index.dtype}")
    (axis,) = normalize_axes(dim, x.ndim)
    return Gather.apply(x, index, axis)


def sort(x: Tensor, dim: int = -1, descending: bool = False):
    """Sorted values along ``dim`` and the indices they came from, as ``(values, indices)`` (stable).

    >>> import shenjing as sj
    >>> sj.sort(sj.tensor([3.0, 1.0, 2.0]), descending=True)
    MaxMin(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1], dtype=int64))
    """
    (axis,) = normalize_axes(dim, x.ndim)
    keys = -x.data if descending else x.data
    indices = np.argsort(keys, axis=axis, kind="stable")
    return ValuesIndices(Gather.apply(x, indices, axis), Tensor._wrap(indices))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` in order, with their indices.

    >>> import shenjing as sj
    >>> sj.topk(sj.tensor([1.0, 4.0, 2.0, 3.0]), 2)
    MaxMin(values=tensor([4., 3.]), indices=tensor([1, 3], dtype=int64))
    """
    (axis,) = normalize_axes(dim, x.ndim)
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[axis]}")
    keys = -x.data if largest else x.data
    indices = np.argsort(keys, axis=axis, kind="stable")[(slice(None),) * axis + (slice(0, k),)]
    return ValuesIndices(Gather.apply(x, indices, axis), Tensor._wrap(indices))
