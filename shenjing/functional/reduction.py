"""Reductions: sum, mean, var, std, norm, max, min, median, prod, logsumexp, argmax, argmin; the
running ``cumsum``/``cumprod``; the index ops gather, scatter, index_add, sort, topk, unique, bincount.

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
from ._util import NonDifferentiable, normalize_axes, resolve_dim, resolve_keepdim
from .shape import concatenate, getitem, scatter_index, squeeze

__all__ = [
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "logsumexp", "argmax", "argmin",
    "cumsum", "gather", "topk", "sort", "cumprod", "median", "argsort", "unique", "bincount", "scatter",
    "scatter_add", "index_add",
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


def _drop(out, axes, keepdims):
    """A result computed with ``keepdims=True`` in the shape the caller asked for."""
    if keepdims:
        return out
    return out.reshape(()) if axes is None else out.squeeze(axis=axes)


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


class Std(Var):
    """σ = √var; dσ/dx = dvar/dx / (2σ), taken as 0 where σ = 0 (PyTorch's value at the kink, not 0/0)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        ctx.out = np.sqrt(Var.forward(ctx, x, axes, keepdims, correction))
        return ctx.out

    differentiable_backward = True

    @staticmethod
    def backward(ctx, grad):
        out = ctx.out
        zero = D.raw(out) == 0
        return Var.backward(ctx, D.where(zero, 0, grad / (2 * D.where(zero, 1, out))))


class Norm(Function):
    """‖x‖_p = (Σ|x_i|^p)^{1/p} over axes (p = inf: max |x_i|).

    d‖x‖_p/dx_i = sign(x_i) (|x_i| / ‖x‖_p)^{p-1} (p = 2: x_i / ‖x‖; p = 1: sign(x_i); p = inf: sign(x_i)
    shared among the tied maxima). Where ‖x‖ = 0 the gradient is 0, PyTorch's subgradient, never 0/0.
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdims):
        magnitude = np.abs(x)
        if p == np.inf:
            out = magnitude.max(axis=axes, keepdims=True)
        elif p == 2:
            out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            out = (magnitude**p).sum(axis=axes, keepdims=True) ** (1 / p)
        ctx.x, ctx.out, ctx.p, ctx.axes, ctx.keepdims = x, out, p, axes, keepdims
        return _drop(out, axes, keepdims)

    @staticmethod
    def backward(ctx, grad):
        x, out, p = ctx.x, ctx.out, ctx.p
        if p == np.inf:
            hit = np.abs(x) == out
            local = np.sign(x) * hit / hit.sum(axis=ctx.axes, keepdims=True)
        elif p == 1:
            local = np.sign(x)
        else:
            ratio = x / np.where(out == 0, 1, out)  # x = 0 wherever the norm is 0
            local = ratio if p == 2 else _power_grad(ratio, p)
        return _restore(grad, x.shape, ctx.axes, ctx.keepdims) * local.astype(grad.dtype), None, None, None


def _power_grad(ratio, p: float):
    """sign(r)|r|^{p-1}, and 0 where r = 0 (where p < 1 would give 0·inf; PyTorch takes 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ratio == 0, 0, np.sign(ratio) * np.abs(ratio) ** (p - 1))


def _norm_composite(x, p, axes, keepdims):
    """:class:`Norm` with differentiable ops (its composite)."""
    if p == np.inf:
        return D.absolute(x).amax(axes, keepdims)
    if p == 2:
        return D.sqrt((x * x).sum(axis=axes, keepdims=keepdims))
    return (D.absolute(x) ** p).sum(axis=axes, keepdims=keepdims) ** (1 / p)


Norm.composite = staticmethod(_norm_composite)


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
        out = _drop(np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m, axes, keepdims)
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
        return _drop(out, axes, keepdims)

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
    out = B.xp_of(values).zeros(shape, dtype=values.dtype)
    B.scatter_add(out, _positions(index, axis), values)
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


def _positions(index, axis: int) -> tuple:
    """The full index of every element ``index`` points at along ``axis`` (its own position elsewhere)."""
    xp = B.xp_of(index)
    positions = [xp.arange(n).reshape([-1 if d == i else 1 for d in range(index.ndim)])
                 for i, n in enumerate(index.shape)]
    positions[axis] = index
    return tuple(positions)


class Scatter(Function):
    """out = x with out[..., index[i], ...] = src[i] along one axis (``torch.scatter``); the gradient
    reaches x where it was not overwritten and src at the positions it was read from."""

    @staticmethod
    def forward(ctx, x, src, index, axis):
        ctx.positions, ctx.src_shape = _positions(index, axis), getattr(src, "shape", None)
        out = x.copy()
        out[ctx.positions] = src[tuple(slice(n) for n in index.shape)] if hasattr(src, "shape") else src
        return out

    differentiable_backward = True

    @staticmethod
    def backward(ctx, grad):
        kept = B.xp_of(D.raw(grad)).ones(grad.shape, dtype=bool)
        kept[ctx.positions] = False
        return grad * kept, _source_grad(ctx, grad), None, None


class ScatterAdd(Function):
    """out = x with src added at ``index`` along one axis, repeated indices accumulating
    (``torch.scatter_add``); d/dx = 1, d/dsrc = the gradient at the positions src went to."""

    @staticmethod
    def forward(ctx, x, src, index, axis):
        ctx.positions, ctx.src_shape = _positions(index, axis), src.shape
        out = x.copy()
        B.scatter_add(out, ctx.positions, src[tuple(slice(n) for n in index.shape)])
        return out

    differentiable_backward = True

    @staticmethod
    def backward(ctx, grad):
        return grad, _source_grad(ctx, grad), None, None


def _source_grad(ctx, grad):
    """src's gradient: what the written positions received, in src's shape (zero past the index's extent)."""
    if not ctx.needs_input_grad[1]:
        return None
    written = grad[ctx.positions]
    return scatter_index(written, ctx.src_shape, tuple(slice(n) for n in written.shape))


class Cumprod(Function):
    """y_j = Π_{k<=j} x_k along an axis; dy_j/dx_i = Π_{k<=j, k≠i} x_k for j >= i, so
    dL/dx_i = Σ_{j>=i} g_j y_j / x_i where x_i ≠ 0; where x_i = 0 that product is formed without x_i."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.x, ctx.axis = x, axis
        ctx.out = np.cumprod(x, axis=axis)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        x, axis = ctx.x, ctx.axis
        zero = x == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _reverse_cumsum(grad * ctx.out, axis) / x
        for i in np.unique(np.nonzero(zero)[axis]).tolist():  # positions holding a zero in some lane
            at_i = (slice(None),) * axis + (slice(i, i + 1),)
            without_i = x.copy()
            without_i[at_i] = 1
            from_i = _reverse_cumsum(grad * np.cumprod(without_i, axis=axis), axis)[at_i]
            out[at_i] = np.where(zero[at_i], from_i, out[at_i])
        return out, None


def _cumprod_composite(x, axis):
    """:class:`Cumprod` with differentiable ops (its composite): running products, one factor at a time."""
    lead = (slice(None),) * axis
    running = [x[lead + (slice(0, 1),)]]
    for k in range(1, x.shape[axis]):
        running.append(running[-1] * x[lead + (slice(k, k + 1),)])
    return concatenate(running, axis)


Cumprod.composite = staticmethod(_cumprod_composite)


def _reverse_cumsum(a, axis: int):
    """s_i = Σ_{j>=i} a_j along ``axis``."""
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


reverse_cumsum = D.dual(_reverse_cumsum, ReverseCumsum)
scatter_along = D.dual(_scatter_along, ScatterAlong)


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
    return _spread(Var, x, dim, unbiased, keepdim, correction, axis, keepdims)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    """Standard deviation √var (same arguments as :func:`var`); its gradient is 0 where σ = 0, as in PyTorch.

    >>> import shenjing as sj
    >>> sj.tensor([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).std(correction=0)
    tensor(2.)
    """
    return _spread(Std, x, dim, unbiased, keepdim, correction, axis, keepdims)


def _spread(op, x, dim, unbiased, keepdim, correction, axis, keepdims) -> Tensor:
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return op.apply(x, _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims), correction)


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """The p-norm ``‖x‖_p = (Σ_i |x_i|^p)^{1/p}`` over ``dim`` (all elements when None); ``p`` is a
    positive number, ``inf`` (``max |x_i|``) or ``'fro'`` (2). The gradient at ‖x‖ = 0 is 0, as in PyTorch.

    >>> import shenjing as sj
    >>> float(sj.tensor([3.0, -4.0]).norm())
    5.0
    """
    p = 2 if p == "fro" else p
    if isinstance(p, str) or not p > 0:
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r}")
    return Norm.apply(x, float(p), _axes_of(x, dim, axis), resolve_keepdim(keepdim, keepdims))


def dist(a: Tensor, b: Tensor, p=2) -> Tensor:
    """‖a - b‖_p over all elements (``torch.dist``), with :func:`norm`'s gradient (0 where a = b).

    >>> import shenjing as sj
    >>> float(sj.dist(sj.tensor([1.0, 1.0]), sj.tensor([4.0, 5.0])))
    5.0
    """
    return norm(a - b, p)


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
    indices = ArgExtreme.apply(x, axis, True, largest)
    values = MaxAlong.apply(x, indices, axis, keep)
    return MaxMin(values, indices if keep else squeeze(indices, axis))


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
    axis, index = _index_along(x, dim, index, "gather")
    return Gather.apply(x, index, axis)


def sort(x: Tensor, dim: int = -1, descending: bool = False):
    """Sorted values along ``dim`` and the indices they came from, as ``(values, indices)`` (stable).

    >>> import shenjing as sj
    >>> sj.sort(sj.tensor([3.0, 1.0, 2.0]), descending=True)
    MaxMin(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1], dtype=int64))
    """
    (axis,) = normalize_axes(dim, x.ndim)
    indices = SortIndices.apply(x, axis, x.shape[axis], descending)
    return ValuesIndices(Gather.apply(x, indices, axis), indices)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` in order, with their indices.

    >>> import shenjing as sj
    >>> sj.topk(sj.tensor([1.0, 4.0, 2.0, 3.0]), 2)
    MaxMin(values=tensor([4., 3.]), indices=tensor([1, 3], dtype=int64))
    """
    (axis,) = normalize_axes(dim, x.ndim)
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[axis]}")
    indices = SortIndices.apply(x, axis, k, largest)
    return ValuesIndices(Gather.apply(x, indices, axis), indices)


def cumprod(x: Tensor, dim: int) -> Tensor:
    """y_i = Π_{j<=i} x_j along ``dim`` (exact gradients at zeros too).

    >>> import shenjing as sj
    >>> sj.cumprod(sj.tensor([1, 2, 3]), 0)
    tensor([1, 2, 6], dtype=int64)
    """
    (axis,) = normalize_axes(dim, x.ndim)
    return Cumprod.apply(x, axis)


def median(x: Tensor, dim=None, keepdim: bool = False):
    """The lower median (element ⌊(n-1)/2⌋ in sorted order, as ``torch.median``): a scalar tensor
    with no ``dim``, else ``(values, indices)``. The gradient goes to the median element.

    >>> import shenjing as sj
    >>> sj.median(sj.tensor([3.0, 1.0, 4.0, 2.0]))
    tensor(2.)
    """
    if dim is None:
        return median(x.reshape(-1), 0).values
    (axis,) = normalize_axes(dim, x.ndim)
    middle = (x.shape[axis] - 1) // 2
    lowest = SortIndices.apply(x, axis, middle + 1, False)
    indices = getitem(lowest, (slice(None),) * axis + (slice(middle, middle + 1),))
    values = MaxAlong.apply(x, indices, axis, keepdim)
    return ValuesIndices(values, indices if keepdim else squeeze(indices, axis))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 indices that sort ``x`` along ``dim`` (ties keep their order; no gradient).

    >>> import shenjing as sj
    >>> sj.argsort(sj.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0], dtype=int64)
    """
    return sort(x, dim, descending).indices


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim=None):
    """The distinct elements of ``x`` in ascending order (``torch.unique``), or with ``dim`` its
    distinct slices along that dim in lexicographic order; with the int64 inverse indices (x's shape,
    or one per slice) and the counts when asked. No gradient.

    >>> import shenjing as sj
    >>> sj.unique(sj.tensor([3, 1, 3, 2]))
    tensor([1, 2, 3], dtype=int64)
    """
    axis = None if dim is None else normalize_axes(dim, x.ndim)[0]
    values, inverse, counts = np.unique(x.data, return_inverse=True, return_counts=True, axis=axis)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(x.shape if axis is None else -1).astype(B.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(B.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Counts of each value 0..max(x) in a 1-d non-negative integer tensor (sums of ``weights``
    when given); no gradient.

    >>> import shenjing as sj
    >>> sj.bincount(sj.tensor([0, 2, 2, 3]))
    tensor([1, 0, 2, 1], dtype=int64)
    """
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise ValueError(f"bincount: expected a 1-d integer tensor, got shape {x.shape} and dtype {x.dtype}")
    w = None if weights is None else (weights.data if isinstance(weights, Tensor) else np.asarray(weights))
    counts = B.xp_of(x.data).bincount(x.data, w, minlength)
    dtype = B.int64 if w is None else (w.dtype if w.dtype.kind == "f" else B.float64)
    return Tensor._wrap(counts.astype(dtype))


def _index_along(x: Tensor, dim: int, index, name: str):
    (axis,) = normalize_axes(dim, x.ndim)
    index = index if isinstance(index, Tensor) else B.xp_of(x.data).asarray(index)
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"{name}: index must be an integer array with {x.ndim} dims, got shape "
                         f"{tuple(index.shape)} and dtype {index.dtype}")
    return axis, index


def _scatter(op, x: Tensor, dim: int, index, src, name: str) -> Tensor:
    axis, index = _index_along(x, dim, index, name)
    if isinstance(src, Tensor) and src.dtype != x.dtype:
        src = src.to(x.dtype)
    return op.apply(x, src, index, axis)


def scatter(x: Tensor, dim: int, index, src) -> Tensor:
    """x with ``src`` (a tensor, or a scalar) written at ``index`` along ``dim`` (``torch.scatter``):
    for dim 0, out[index[i][j]][j] = src[i][j].

    >>> import shenjing as sj
    >>> sj.scatter(sj.zeros(2, 3), 1, sj.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    return _scatter(Scatter, x, dim, index, src, "scatter")


def scatter_add(x: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """x with ``src`` added at ``index`` along ``dim``, repeats accumulating (``torch.scatter_add``).

    >>> import shenjing as sj
    >>> sj.scatter_add(sj.zeros(3), 0, sj.tensor([0, 2, 2]), sj.tensor([1.0, 2.0, 3.0]))
    tensor([1., 0., 5.])
    """
    return _scatter(ScatterAdd, x, dim, index, src, "scatter_add")


def index_add(x: Tensor, dim: int, index, source: Tensor, alpha=1) -> Tensor:
    """x with alpha·source[i] added to slice index[i] along ``dim``, repeats accumulating (``torch.index_add``).

    >>> import shenjing as sj
    >>> sj.index_add(sj.zeros(3, 2), 0, sj.tensor([0, 0]), sj.ones(2, 2))
    tensor([[2., 2.],
            [0., 0.],
            [0., 0.]])
    """
    (axis,) = normalize_axes(dim, x.ndim)
    index = index.data if isinstance(index, Tensor) else B.xp_of(x.data).asarray(index)
    if index.ndim != 1 or source.ndim != x.ndim or source.shape[axis] != len(index):
        raise ValueError(f"index_add: expected a 1-d index and a source with one slice per index along dim {dim}, "
                         f"got index shape {tuple(index.shape)}, source shape {source.shape}, x shape {x.shape}")
    shape = [1] * x.ndim
    shape[axis] = len(index)
    full_index = B.xp_of(index).broadcast_to(index.reshape(shape), source.shape)
    return scatter_add(x, dim, full_index, source if alpha == 1 else source * alpha)
