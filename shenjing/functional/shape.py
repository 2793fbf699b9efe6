"""Shape ops: reshape, transpose/permute, squeeze/unsqueeze, expand, flatten,
concatenate/stack/split, pad, repeat and indexing.

Their backward moves the gradient back to where each element came from.
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import is_channels_last, normalize_axes, resolve_dim, shape_arg, unbroadcast
from .elementwise import promote, where

__all__ = [
    "reshape", "view", "transpose", "permute", "swapaxes", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "flatten", "concatenate", "cat", "stack", "split", "chunk", "pad", "repeat",
    "getitem", "setitem", "clone", "roll", "tile", "repeat_interleave", "unflatten", "movedim", "narrow",
    "index_select", "masked_fill", "contiguous",
]


class Reshape(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Squeeze(Reshape):
    """Drop the size-1 dims ``axes`` (a reshape that says which dims go)."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.shape = x.shape
        return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


class Unsqueeze(Reshape):
    """Insert a size-1 dim at ``axis`` (a reshape that says where)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.shape = x.shape
        return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


class Permute(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return D.permute(grad, tuple(int(a) for a in np.argsort(ctx.axes))), None


class BroadcastTo(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape), None


class Concatenate(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1].tolist()
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        edges = [0, *ctx.bounds, grad.shape[ctx.axis]]
        return tuple(grad[lead + (slice(lo, hi),)] for lo, hi in zip(edges, edges[1:]))


class Stack(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(grad[lead + (i,)] for i in range(grad.shape[ctx.axis]))


class Pad(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, widths, mode, value):
        ctx.shape, ctx.widths, ctx.mode = x.shape, widths, mode
        if mode == "constant":
            return np.pad(x, widths, mode="constant", constant_values=value)
        xp = B.xp_of(x)
        ctx.sources = [_pad_sources(n, w, mode, xp) for n, w in zip(x.shape, widths)]
        out = x
        for axis, src in enumerate(ctx.sources):
            if src is not None:
                out = out.take(src, axis=axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.mode == "constant":
            index = tuple(slice(lo, lo + n) for (lo, _), n in zip(ctx.widths, ctx.shape))
            return grad[index], None, None, None
        for axis in reversed(range(grad.ndim)):
            src = ctx.sources[axis]
            if src is not None:  # every padded position adds its gradient to the position it copies
                shape = grad.shape[:axis] + (ctx.shape[axis],) + grad.shape[axis + 1 :]
                grad = scatter_index(grad, shape, (slice(None),) * axis + (src,))
        return grad, None, None, None


def _pad_sources(n: int, widths, mode: str, xp):
    """For each padded position along an axis of length n, the source index it copies."""
    if widths == (0, 0):
        return None
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return xp.asarray(np.pad(np.arange(n), widths, mode=np_mode))


class Repeat(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape, ctx.reps = x.shape, reps
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        shape = (1,) * (len(ctx.reps) - len(ctx.shape)) + ctx.shape
        split = [d for pair in zip(ctx.reps, shape) for d in pair]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.shape), None


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class GetItem(Function):
    """``x[index]``; basic indices give views, integer and boolean arrays gather.

    The backward scatters the gradient back; repeated integer indices accumulate.
    """

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return scatter_index(grad, ctx.shape, ctx.index), None


def _scatter_index(values, shape: tuple, index):
    """zeros(shape) with ``values`` added at ``index`` (repeated integer indices accumulate)."""
    out = B.xp_of(values).zeros(shape, dtype=values.dtype)
    if _is_basic(index):
        out[index] = values
    else:
        B.scatter_add(out, index, values)
    return out


class ScatterIndex(Function):
    """The adjoint of :class:`GetItem`: its backward indexes again."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        return _scatter_index(values, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None


scatter_index = D.dual(_scatter_index, ScatterIndex)


class SetItem(Function):
    """``x[index] = value`` as a new array: x's gradient is zero where it was overwritten, and
    value's gradient is the gradient of the overwritten region (summed over broadcast axes)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.value_shape = index, np.shape(value)
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            kept = B.xp_of(D.raw(grad)).ones(grad.shape, dtype=bool)
            kept[ctx.index] = False
            gx = grad * kept
        if ctx.needs_input_grad[1]:
            gv = unbroadcast(grad[ctx.index], ctx.value_shape)
        return gx, gv, None


class Clone(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def reshape(x: Tensor, *shape) -> Tensor:
    """Same elements, new shape (one dimension may be -1).

    >>> import shenjing as sj
    >>> sj.arange(6).reshape(2, -1)
    tensor([[0, 1, 2],
            [3, 4, 5]], dtype=int64)
    """
    shape = shape_arg(shape)
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    free = shape.count(-1)
    fits = known == x.numel() if free == 0 else free == 1 and known > 0 and x.numel() % known == 0
    if not fits:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into shape {shape}")
    return Reshape.apply(x, shape)


def view(x: Tensor, *shape) -> Tensor:
    """``reshape`` that never copies, as PyTorch's ``view``: the result shares x's memory, and a
    tensor whose layout cannot take the new shape without a copy (a transposed or strided one)
    raises RuntimeError; ``reshape`` copies instead. The one exception is the channels-last
    layout convolutions keep their outputs in (contiguous in PyTorch): such a tensor is copied.

    >>> import shenjing as sj
    >>> sj.arange(6).view(3, 2).shape
    (3, 2)
    """
    out = reshape(x, *shape)
    shared = B.xp_of(x.data).may_share_memory(out.data, x.data)
    if x.numel() and not shared and not is_channels_last(x.data):
        raise RuntimeError(f"view: shape {out.shape} is not compatible with the memory layout of a tensor of "
                           f"shape {x.shape} (it is not contiguous); use .reshape(...) instead")
    return out


def contiguous(x: Tensor) -> Tensor:
    """x itself when its array is C-contiguous, else a contiguous copy that stays in the graph."""
    return x if x.data.flags.c_contiguous else clone(x)


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder the dimensions: output dim i is input dim ``dims[i]``.

    >>> import shenjing as sj
    >>> sj.ones(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    dims = shape_arg(dims)
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims of shape {x.shape}")
    return Permute.apply(x, tuple(d % x.ndim for d in dims))


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dimensions (PyTorch's ``transpose(dim0, dim1)``).

    >>> import shenjing as sj
    >>> sj.ones(2, 3, 4).transpose(0, 2).shape
    (4, 3, 2)
    """
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    d0, d1 = normalize_axes(dim0, x.ndim)[0], normalize_axes(dim1, x.ndim)[0]
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(x, tuple(axes))


swapaxes = transpose


def squeeze(x: Tensor, dim=None, *, axis=None) -> Tensor:
    """Drop size-1 dimensions (all of them, or only ``dim``).

    >>> import shenjing as sj
    >>> sj.ones(1, 3, 1).squeeze().shape, sj.ones(1, 3, 1).squeeze(0).shape
    ((3,), (3, 1))
    """
    dim = resolve_dim(dim, axis)
    axes = normalize_axes(dim, x.ndim)
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    return Squeeze.apply(x, tuple(i for i in axes if x.shape[i] == 1))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``.

    >>> import shenjing as sj
    >>> sj.ones(3).unsqueeze(0).shape
    (1, 3)
    """
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise ValueError(f"unsqueeze: dim {dim} out of range for shape {x.shape}")
    return Unsqueeze.apply(x, dim % (x.ndim + 1))


def broadcast_to(x: Tensor, *shape) -> Tensor:
    """Repeat along size-1 (or new leading) dimensions; the backward sums the copies.

    >>> import shenjing as sj
    >>> x = sj.ones(3, requires_grad=True)
    >>> sj.nn.functional.broadcast_to(x, (2, 3)).sum().backward()
    >>> x.grad
    tensor([2., 2., 2.])
    """
    shape = shape_arg(shape)
    try:
        target = np.broadcast_shapes(x.shape, shape)
    except ValueError:
        target = None
    if target != shape:
        raise ValueError(f"expand: cannot broadcast shape {x.shape} to shape {shape}")
    return BroadcastTo.apply(x, shape)


def expand(x: Tensor, *sizes) -> Tensor:
    """PyTorch's ``expand``: like :func:`broadcast_to`, with -1 meaning "keep this size".

    >>> import shenjing as sj
    >>> sj.ones(3, 1).expand(-1, 4).shape
    (3, 4)
    """
    sizes = shape_arg(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one.

    >>> import shenjing as sj
    >>> sj.ones(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    if x.ndim == 0:
        return Reshape.apply(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    merged = int(np.prod(x.shape[start : end + 1], dtype=np.int64))
    return Reshape.apply(x, x.shape[:start] + (merged,) + x.shape[end + 1 :])


def _tensors_arg(tensors, name: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise TypeError(f"{name}: tensors are on different devices {sorted(devices)}")
    return promote(*tensors)


def concatenate(tensors, dim: int | None = None, *, axis=None) -> Tensor:
    """Join tensors along an existing dimension (default 0); all other dimensions must match.
    Mixed dtypes promote as ``torch.result_type`` (an int64 and a float32 tensor give float32).

    >>> import shenjing as sj
    >>> sj.cat([sj.ones(2, 3), sj.zeros(1, 3)]).shape
    (3, 3)
    """
    tensors = _tensors_arg(tensors, "concatenate")
    dim = resolve_dim(dim, axis) or 0
    ref = tensors[0].shape
    (axis,) = normalize_axes(dim, len(ref))
    for t in tensors[1:]:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(ref, t.shape)) if i != axis):
            raise ValueError(f"concatenate: shapes {ref} and {t.shape} differ outside dim {dim}")
    return Concatenate.apply(*tensors, axis=axis)


cat = concatenate


def stack(tensors, dim: int | None = None, *, axis=None) -> Tensor:
    """Join same-shaped tensors along a new dimension (default 0).

    >>> import shenjing as sj
    >>> sj.stack([sj.ones(3), sj.zeros(3)], dim=1).shape
    (3, 2)
    """
    tensors = _tensors_arg(tensors, "stack")
    dim = resolve_dim(dim, axis) or 0
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: shapes {tensors[0].shape} and {t.shape} differ")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise ValueError(f"stack: dim {dim} out of range for {ndim} output dimensions")
    return Stack.apply(*tensors, axis=dim % ndim)


def split(x: Tensor, split_size_or_sections, dim: int | None = None, *, axis=None) -> tuple:
    """PyTorch's ``split``: pieces of ``split_size`` (the last may be smaller), or of the listed sizes
    (along ``dim``, default 0).

    >>> import shenjing as sj
    >>> [t.shape for t in sj.split(sj.arange(5), 2)]
    [(2,), (2,), (1,)]
    >>> [t.shape for t in sj.split(sj.arange(5), [1, 4])]
    [(1,), (4,)]
    """
    dim = resolve_dim(dim, axis) or 0
    (axis,) = normalize_axes(dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} do not add up to {n} (dim {dim} of shape {x.shape})")
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(GetItem.apply(x, index))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` nearly equal pieces (PyTorch's ``chunk``).

    >>> import shenjing as sj
    >>> [t.tolist() for t in sj.chunk(sj.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    """
    n = x.shape[normalize_axes(dim, x.ndim)[0]]
    return split(x, -(-n // chunks), dim)


def pad(x: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (left, right) pairs starting from the last dimension.

    ``mode`` is 'constant' (fill with ``value``), 'reflect', 'replicate' or 'circular'.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.pad(sj.ones(1, 2), (1, 2))
    tensor([[0., 1., 1., 0., 0.]])
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected pairs for at most {x.ndim} dims, got {pad}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding is not supported, got {pad}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    widths = tuple([(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1])
    return Pad.apply(x, widths, mode, value)


def repeat(x: Tensor, *sizes) -> Tensor:
    """PyTorch's ``repeat`` (NumPy's ``tile``): repeat the whole tensor ``sizes[i]`` times along dim i.

    >>> import shenjing as sj
    >>> sj.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]], dtype=int64)
    """
    sizes = shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: need at least {x.ndim} sizes for shape {x.shape}, got {sizes}")
    return Repeat.apply(x, sizes)


class Roll(Function):
    """Elements shifted cyclically along dims (``torch.roll``); the gradient is shifted back."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return B.xp_of(x).roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        back = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-s for s in ctx.shifts)
        return D.dual(lambda g, s, a: B.xp_of(g).roll(g, s, a), Roll)(grad, back, ctx.axes), None, None


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """out[(i + shift) mod n] = x[i] along each of ``dims`` (over the flattened tensor when None).

    >>> import shenjing as sj
    >>> sj.roll(sj.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3], dtype=int64)
    """
    if dims is None:
        return Roll.apply(x, int(shifts), None)
    shifts, dims = (shifts, dims) if isinstance(dims, (tuple, list)) else ((shifts,), (dims,))
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(x, tuple(int(s) for s in shifts), tuple(normalize_axes(d, x.ndim)[0] for d in dims))


def tile(x: Tensor, dims) -> Tensor:
    """``torch.tile``: ``repeat`` with missing leading repeat counts taken as 1.

    >>> import shenjing as sj
    >>> sj.tile(sj.tensor([1, 2]), (2,))
    tensor([1, 2, 1, 2], dtype=int64)
    """
    dims = shape_arg((dims,))
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(x: Tensor, repeats, dim: int | None = None) -> Tensor:
    """Each element (each slice along ``dim``; of the flattened tensor when None) repeated ``repeats``
    times in place: [a, b] -> [a, a, b, b] (``repeats`` an int or one count per element).

    >>> import shenjing as sj
    >>> sj.repeat_interleave(sj.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2], dtype=int64)
    """
    if dim is None:
        x, dim = x.reshape(-1), 0
    (axis,) = normalize_axes(dim, x.ndim)
    counts = B.to_numpy(repeats.data) if isinstance(repeats, Tensor) else repeats
    return index_select(x, axis, np.repeat(np.arange(x.shape[axis]), counts))


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one may be -1): (2, 12) with dim 1, (3, 4) -> (2, 3, 4).

    >>> import shenjing as sj
    >>> sj.unflatten(sj.ones(2, 12), 1, (3, 4)).shape
    (2, 3, 4)
    """
    (axis,) = normalize_axes(dim, x.ndim)
    return reshape(x, x.shape[:axis] + tuple(sizes) + x.shape[axis + 1:])


def movedim(x: Tensor, source, destination) -> Tensor:
    """Dims ``source`` moved to positions ``destination``, the others keeping their order (``torch.movedim``).

    >>> import shenjing as sj
    >>> sj.movedim(sj.ones(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise ValueError(f"movedim: source {source} and destination {destination} must have the same length")
    source = [normalize_axes(d, x.ndim)[0] for d in source]
    order = [d for d in range(x.ndim) if d not in source]
    for to, moved in sorted(zip((normalize_axes(d, x.ndim)[0] for d in destination), source)):
        order.insert(to, moved)
    return permute(x, tuple(order))


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """x[..., start:start + length, ...] along ``dim`` (``start`` may be negative).

    >>> import shenjing as sj
    >>> sj.narrow(sj.arange(6), 0, 1, 3)
    tensor([1, 2, 3], dtype=int64)
    """
    (axis,) = normalize_axes(dim, x.ndim)
    start = start + x.shape[axis] if start < 0 else start
    if not 0 <= start <= start + length <= x.shape[axis]:
        raise IndexError(f"narrow: start {start} and length {length} exceed dim {dim} of size {x.shape[axis]}")
    return getitem(x, (slice(None),) * axis + (slice(start, start + length),))


def index_select(x: Tensor, dim: int, index) -> Tensor:
    """The slices of ``x`` along ``dim`` at the 1-d ``index`` (repeats allowed: their gradients add up).

    >>> import shenjing as sj
    >>> sj.index_select(sj.arange(6).reshape(3, 2), 0, sj.tensor([2, 0]))
    tensor([[4, 5],
            [0, 1]], dtype=int64)
    """
    (axis,) = normalize_axes(dim, x.ndim)
    index = _index_arg(index, B.xp_of(x.data))
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-d integer tensor, got shape {index.shape} "
                         f"and dtype {index.dtype}")
    return getitem(x, (slice(None),) * axis + (index,))


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """``value`` where the boolean ``mask`` (broadcast to x) holds, x elsewhere, in x's dtype.

    >>> import shenjing as sj
    >>> x = sj.tensor([1.0, -2.0, 3.0])
    >>> x.masked_fill(x < 0, 0.0)
    tensor([1., 0., 3.])
    """
    value = value.to(x.dtype) if isinstance(value, Tensor) else value
    out = where(mask, value, x)
    return out if out.dtype == x.dtype else out.to(x.dtype)


def _index_arg(index, xp):
    """Index arrays (Tensors, lists, arrays) as arrays of the indexed tensor's device."""
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, tuple):
        return tuple(_index_arg(i, xp) for i in index)
    if isinstance(index, list) or hasattr(index, "shape"):
        return xp.asarray(index)
    return index


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` with NumPy semantics (basic, integer-array and boolean indexing).

    >>> import shenjing as sj
    >>> x = sj.arange(6).reshape(2, 3)
    >>> x[1], x[:, [0, 2]], x[x > 2]
    (tensor([3, 4, 5], dtype=int64), tensor([[0, 2],
            [3, 5]], dtype=int64), tensor([3, 4, 5], dtype=int64))
    """
    return GetItem.apply(x, _index_arg(index, B.xp_of(x.data)))


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``. Under ``no_grad``, or when no gradient is involved, the array is written
    in place; otherwise the write is recorded (x becomes the output of :class:`SetItem`, as PyTorch
    records an in-place op), so gradients flow through the new values.

    >>> import shenjing as sj
    >>> x = sj.zeros(3)
    >>> x[1] = 5.0
    >>> x
    tensor([0., 5., 0.])
    """
    index = _index_arg(index, B.xp_of(x.data))
    if x._records_write(value):
        x._rebind(SetItem.apply(x._previous(), value, index))
        return
    value = value.data if isinstance(value, Tensor) else value
    if hasattr(value, "shape"):
        value = B.to_device(value, x.device)
    try:
        x.data[index] = value
    except (ValueError, IndexError) as err:
        raise type(err)(f"setitem on a tensor of shape {x.shape}: {err}") from None


def clone(x: Tensor) -> Tensor:
    """A copy that stays in the graph (the gradient passes through unchanged).

    >>> import shenjing as sj
    >>> x = sj.tensor([1.0, 2.0], requires_grad=True)
    >>> (x.clone() * 3).sum().backward()
    >>> x.grad
    tensor([3., 3.])
    """
    return Clone.apply(x)
