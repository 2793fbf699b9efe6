"""Pooling (seed 004 §2.3; 004 §2.2.4 for RoI pooling): max, average, adaptive, global, k-max/k-avg,
chunk-max/chunk-avg, and RoI / deformable RoI pooling.

Window pools loop only over the kernel taps: tap (i, j) of every window is one strided slice of
the (padded) input, so the max (with its first-argmax) or the sum of a window is built with
kh·kw whole-array operations, and the backward adds the gradient back tap by tap.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from ._util import allow_unbatched, as_tensor, is_channels_last
from .conv import bilinear_gather, int_tuple, tap_slices
from .elementwise import where
from .linalg import matmul
from .reduction import Gather, MaxAlong, SortIndices, amax, mean
from .reduction import max as reduce_max
from .shape import broadcast_to, pad, stack

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "global_max_pool",
    "global_avg_pool", "kmax_pool1d", "kavg_pool1d", "chunk_max_pool1d", "chunk_avg_pool1d", "roi_pool",
    "deform_roi_pool",
]

PoolGeometry = namedtuple("PoolGeometry", "kernel stride pads dilation out_hw")


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size: ⌊ or ⌈(size + 2p - d·(k-1) - 1)/s⌉ + 1, and with ceil_mode the
    last window must start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool_geometry(x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, name: str) -> PoolGeometry:
    if x.ndim != 4:
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got {x.shape}")
    kernel = int_tuple(kernel_size, 2, "kernel_size")
    stride = kernel if stride is None or stride == [] else int_tuple(stride, 2, "stride")
    pads = int_tuple(padding, 2, "padding", minimum=0)
    dilation = int_tuple(dilation, 2, "dilation")
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{name}: padding {pads} must be at most half the kernel size {kernel}")
    out_hw = tuple(pool_out_size(*a, ceil_mode) for a in zip(x.shape[2:], kernel, stride, pads, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"{name}: input shape {x.shape} is too small for kernel {kernel} (output {out_hw})")
    return PoolGeometry(kernel, stride, pads, dilation, out_hw)


def _full(shape: tuple, value, dtype, xp, channels_last: bool):
    """An (N, C, H, W) array filled with ``value`` (uninitialised when None), in channels-last memory when asked."""
    n, c, h, w = shape
    if channels_last:
        shape = (n, h, w, c)
    out = xp.empty(shape, dtype=dtype) if value is None else xp.full(shape, value, dtype=dtype)
    return out.transpose(0, 3, 1, 2) if channels_last else out


def _in_layout(a, channels_last: bool):
    """``a`` with the memory layout of the forward pass (so element-wise steps stream both operands)."""
    if channels_last and not is_channels_last(a):
        return B.xp_of(a).ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return a


def _padded_shape(x_shape: tuple, geom: PoolGeometry) -> tuple:
    """The smallest padded shape holding the input (after the left/top padding) and every window."""
    (pt, pl), (h, w) = geom.pads, x_shape[2:]
    ext = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(geom.out_hw, geom.stride, geom.dilation, geom.kernel)]
    return x_shape[:2] + (max(ext[0], pt + h), max(ext[1], pl + w))


def _padded(x, geom: PoolGeometry, value):
    """x padded with ``value`` so that every window of ``geom`` lies inside (x itself when none is needed)."""
    shape = _padded_shape(x.shape, geom)
    if shape == x.shape:
        return x
    (pt, pl), (h, w) = geom.pads, x.shape[2:]
    out = _full(shape, value, x.dtype, B.xp_of(x), is_channels_last(x))
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def _grad_buffer(grad, x_shape: tuple, geom: PoolGeometry, channels_last: bool, value=0):
    """The padded input's shape and layout, filled with ``value`` (uninitialised when None), for the
    backward's tap-by-tap writes."""
    return _full(_padded_shape(x_shape, geom), value, grad.dtype, B.xp_of(grad), channels_last)


def _taps(arr, geom: PoolGeometry):
    """Strided slices (N, C, Ho, Wo) of the padded input, one per kernel tap, in row-major tap order."""
    for i in range(geom.kernel[0]):
        for j in range(geom.kernel[1]):
            yield arr[(slice(None), slice(None), *tap_slices((i, j), geom.out_hw, geom))]


def _unpad(dxp, x_shape, geom: PoolGeometry):
    (pt, pl), (h, w) = geom.pads, x_shape[2:]
    return dxp[:, :, pt : pt + h, pl : pl + w]


class MaxPool2dFunction(Function):
    """y = max over each window; the gradient goes to the first maximum of the window (PyTorch's rule;
    a window whose maximum is NaN sends it to its first element).

    Branch-free on whole arrays: the forward is kh·kw element-wise maxima of tap slices, then the
    index of each window's first maximum (one small integer per output, walking the taps backwards);
    the backward routes the gradient tap by tap with that index. When the windows tile the input
    (stride = kernel, no padding or overlap) every input element is written once, with no zero fill.
    """

    @staticmethod
    def forward(ctx, x, geom):
        padded = _padded(x, geom, -np.inf)
        out = None
        for v in _taps(padded, geom):
            out = v.copy(order="K") if out is None else np.maximum(out, v, out=out)
        taps = list(_taps(padded, geom))
        first = B.xp_of(x).zeros_like(out, dtype=np.min_scalar_type(len(taps) - 1))
        for t in range(len(taps) - 1, -1, -1):
            first -= (first - first.dtype.type(t)) * (taps[t] == out).view(np.uint8)
        ctx.first, ctx.x_shape, ctx.geom = first, x.shape, geom
        return out

    @staticmethod
    def backward(ctx, grad):
        geom, x_shape, first = ctx.geom, ctx.x_shape, ctx.first
        layout = is_channels_last(first)
        grad = _in_layout(grad, layout)
        tiled = geom.stride == geom.kernel and geom.dilation == (1, 1) and _padded_shape(x_shape, geom) == x_shape
        tiled = tiled and all(o * k == s for o, k, s in zip(geom.out_hw, geom.kernel, x_shape[2:]))
        dxp = _grad_buffer(grad, x_shape, geom, layout, None if tiled else 0)
        for t, view in enumerate(_taps(dxp, geom)):
            if tiled:
                np.multiply(grad, first == t, out=view)
            else:
                view += grad * (first == t)
        return _unpad(dxp, x_shape, geom), None


class AvgPool2dFunction(Function):
    """y = (Σ over each window) / divisor; the gradient of every window element is g / divisor."""

    @staticmethod
    def forward(ctx, x, geom, divisor):
        taps = _taps(_padded(x, geom, 0), geom)
        out = next(taps).copy(order="K")
        for v in taps:
            out += v
        out /= divisor
        ctx.x_shape, ctx.geom, ctx.divisor, ctx.layout = x.shape, geom, divisor, is_channels_last(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        geom = ctx.geom
        dxp = _grad_buffer(grad, ctx.x_shape, geom, ctx.layout)
        scaled = _in_layout(grad, ctx.layout) / ctx.divisor
        for view in _taps(dxp, geom):
            view += scaled
        return _unpad(dxp, ctx.x_shape, geom), None, None


def _stacked_taps(x, geom: PoolGeometry, value):
    """(kh·kw, N, C, Ho, Wo): every kernel tap of x padded with ``value``, built with differentiable ops."""
    (pt, pl), (h, w) = geom.pads, x.shape[2:]
    shape = _padded_shape(x.shape, geom)
    return stack(list(_taps(pad(x, (pl, shape[3] - pl - w, pt, shape[2] - pt - h), value=value), geom)))


def _max_pool_composite(x, geom):
    """:class:`MaxPool2dFunction` with differentiable ops: the first maximum over the stacked taps."""
    return reduce_max(_stacked_taps(x, geom, -np.inf), dim=0).values


def _avg_pool_composite(x, geom, divisor):
    """:class:`AvgPool2dFunction` with differentiable ops: the sum over the stacked taps / divisor."""
    return _stacked_taps(x, geom, 0.0).sum(axis=0) * (1 / divisor)


MaxPool2dFunction.composite = staticmethod(_max_pool_composite)
AvgPool2dFunction.composite = staticmethod(_avg_pool_composite)


def _avg_divisor(x: Tensor, geom: PoolGeometry, count_include_pad: bool, divisor_override):
    """(Ho, Wo) window sizes as PyTorch counts them: the window clipped to the padded input
    (count_include_pad) or to the input itself."""
    xp = B.xp_of(x.data)
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or divisor_override <= 0:
            raise ValueError(f"divisor_override must be a positive int, got {divisor_override!r}")
        return x.dtype.type(divisor_override)
    counts = []
    for size, o, k, s, p in zip(x.shape[2:], geom.out_hw, geom.kernel, geom.stride, geom.pads):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return xp.asarray(np.outer(*counts).astype(x.dtype))


@allow_unbatched(4)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    """2-d max pooling, PyTorch's ``max_pool2d`` (seed 004 §2.3.2, CV down-sampling):
    y[n, c, h, w] = max_{i, j} x_pad[n, c, s·h + d·i, s·w + d·j], padding with -∞.

    Shapes: (N, C, H, W) -> (N, C, H_out, W_out), H_out = ⌊(H + 2p - d·(k-1) - 1)/s⌋ + 1 (⌈⌉ with
    ``ceil_mode``). ``stride`` defaults to ``kernel_size``. Ties send the gradient to the first maximum.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.max_pool2d(sj.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    input = as_tensor(input)
    geom = _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    return MaxPool2dFunction.apply(input, geom)


@allow_unbatched(4)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override=None) -> Tensor:
    """2-d average pooling, PyTorch's ``avg_pool2d`` (seed 004 §2.3.3): y = Σ_window x_pad / divisor.

    The divisor is the window size clipped to the zero-padded input (``count_include_pad=True``, the
    default) or to the input alone, or ``divisor_override``. Shapes as :func:`max_pool2d`.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.avg_pool2d(sj.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    """
    input = as_tensor(input)
    geom = _pool_geometry(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    return AvgPool2dFunction.apply(input, geom, _avg_divisor(input, geom, count_include_pad, divisor_override))


def _as_1d(fn, input, kernel_size, stride, padding, name: str, **kw) -> Tensor:
    """Run a 2-d pool over (N, C, 1, L) with a (1, k) window."""
    input = as_tensor(input)
    if input.ndim != 3:
        raise ValueError(f"{name}: expected input of shape (N, C, L), got {input.shape}")
    (k,) = int_tuple(kernel_size, 1, "kernel_size")
    (s,) = (k,) if stride is None else int_tuple(stride, 1, "stride")
    (p,) = int_tuple(padding, 1, "padding", minimum=0)
    return fn(input.unsqueeze(2), (1, k), (1, s), (0, p), **kw).squeeze(2)


@allow_unbatched(3)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    """1-d max pooling over L (seed 004 §2.3.2): y[n, c, l] = max_i x_pad[n, c, s·l + d·i].

    Shapes: (N, C, L) -> (N, C, L_out); arguments as :func:`max_pool2d`.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.max_pool1d(sj.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0, 0.0]]]), 2)
    tensor([[[3., 5., 4.]]])
    """
    (d,) = int_tuple(dilation, 1, "dilation")
    return _as_1d(max_pool2d, input, kernel_size, stride, padding, "max_pool1d", dilation=(1, d), ceil_mode=ceil_mode)


@allow_unbatched(3)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over L (seed 004 §2.3.3): y[n, c, l] = Σ_i x_pad[n, c, s·l + i] / divisor.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.avg_pool1d(sj.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _as_1d(avg_pool2d, input, kernel_size, stride, padding, "avg_pool1d", ceil_mode=ceil_mode,
                  count_include_pad=count_include_pad)


def _bin_matrix(size: int, bins: int, dtype, xp):
    """(bins, size) averaging matrix of PyTorch's adaptive bins [⌊i·size/bins⌋, ⌈(i+1)·size/bins⌉)."""
    i = np.arange(bins)
    start, end = (i * size) // bins, ((i + 1) * size + bins - 1) // bins
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return Tensor(xp.asarray((inside / (end - start)[:, None]).astype(dtype)))


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Adaptive average pooling, PyTorch's bins: output (i, j) averages rows [⌊iH/H_o⌋, ⌈(i+1)H/H_o⌉) and
    columns [⌊jW/W_o⌋, ⌈(j+1)W/W_o⌉). Computed as A_h · x · A_wᵀ with averaging matrices.

    Shapes: (N, C, H, W) -> (N, C, H_o, W_o); ``output_size`` an int or a pair (None keeps that size).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.adaptive_avg_pool2d(sj.ones(2, 3, 7, 5), (2, 2)).shape
    (2, 3, 2, 2)
    """
    input = as_tensor(input)
    if input.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected input of shape (N, C, H, W), got {input.shape}")
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    sizes = [s if o is None else o for o, s in zip(output_size, input.shape[2:])]
    int_tuple(sizes, 2, "output_size")
    xp = B.xp_of(input.data)
    a_h, a_w = (_bin_matrix(s, o, input.dtype, xp) for s, o in zip(input.shape[2:], sizes))
    return matmul(matmul(a_h, input), a_w.T)


def global_avg_pool(input) -> Tensor:
    """Mean over every axis after the channel axis (seed 004 §2.3.3, e^avg = (1/L) Σ h_i): ``(N, C, *) -> (N, C)``.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.global_avg_pool(sj.arange(8.0).reshape(1, 2, 4))
    tensor([[1.5, 5.5]])
    """
    input = as_tensor(input)
    if input.ndim < 3:
        raise ValueError(f"global_avg_pool: expected input of shape (N, C, *spatial), got {input.shape}")
    return mean(input, tuple(range(2, input.ndim)))


def global_max_pool(input) -> Tensor:
    """Max over every axis after the channel axis (seed 004 §2.3.2, e^max = max_i h_i): ``(N, C, *) -> (N, C)``.
    Tied maxima share the gradient evenly (``amax``).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.global_max_pool(sj.arange(8.0).reshape(1, 2, 4))
    tensor([[3., 7.]])
    """
    input = as_tensor(input)
    if input.ndim < 3:
        raise ValueError(f"global_max_pool: expected input of shape (N, C, *spatial), got {input.shape}")
    return amax(input, tuple(range(2, input.ndim)))


def _check_seq(input, count: int, name: str, what: str) -> Tensor:
    input = as_tensor(input)
    if input.ndim < 1:
        raise ValueError(f"{name}: expected input of shape (N, C, L), got {input.shape}")
    if not isinstance(count, (int, np.integer)) or not 1 <= count <= input.shape[-1]:
        raise ValueError(f"{name}: {what} must be an int in [1, L={input.shape[-1]}], got {count!r}")
    return input


def kmax_pool1d(input, k: int) -> Tensor:
    """k-max pooling (seed 004 §2.3.2): the k largest values along L, kept in their original order.

    Shapes: (N, C, L) (or any ``(*, L)``) -> (N, C, k). Among equal values the earlier positions are taken.
    The gradient goes to the chosen positions.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.kmax_pool1d(sj.tensor([[[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]]]), 3)
    tensor([[[4., 5., 9.]]])
    """
    input = _check_seq(input, k, "kmax_pool1d", "k")
    axis = input.ndim - 1
    top = SortIndices.apply(input, axis, k, True)
    in_order = Gather.apply(top, SortIndices.apply(top, axis, k, False), axis)
    return MaxAlong.apply(input, in_order, axis, True)


def kavg_pool1d(input, k: int) -> Tensor:
    """k-avg pooling (seed 004 §2.3.3, by analogy with k-max): the mean of the k largest values along L,
    (1/k) Σ_{i ∈ top-k} h_i. Shapes: (N, C, L) -> (N, C).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.kavg_pool1d(sj.tensor([[[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]]]), 2)
    tensor([[7.]])
    """
    return mean(kmax_pool1d(input, k), -1)


def _chunk_bounds(length: int, chunks: int):
    """Start and size of ``chunks`` contiguous chunks of ``length`` (``np.array_split``: the first
    length % chunks chunks are one longer)."""
    sizes = np.full(chunks, length // chunks)
    sizes[: length % chunks] += 1
    return np.cumsum(sizes) - sizes, sizes


def chunk_max_pool1d(input, chunks: int) -> Tensor:
    """Chunk-max pooling (seed 004 §2.3.2): split L into ``chunks`` contiguous pieces (np.array_split sizes)
    and take the max of each, keeping their order. Shapes: (N, C, L) -> (N, C, chunks).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.chunk_max_pool1d(sj.tensor([[[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]]]), 3)
    tensor([[[3., 4., 9.]]])
    """
    input = _check_seq(input, chunks, "chunk_max_pool1d", "chunks")
    start, sizes = _chunk_bounds(input.shape[-1], chunks)
    index = start[:, None] + np.minimum(np.arange(sizes.max()), sizes[:, None] - 1)
    return reduce_max(input[..., B.xp_of(input.data).asarray(index)], -1).values


def chunk_avg_pool1d(input, chunks: int) -> Tensor:
    """Chunk-avg pooling (seed 004 §2.3.3, by analogy with chunk-max): the mean of each of ``chunks``
    contiguous pieces of L (np.array_split sizes). Shapes: (N, C, L) -> (N, C, chunks).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.chunk_avg_pool1d(sj.tensor([[[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]]]), 3)
    tensor([[[2. , 2.5, 7. ]]])
    """
    input = _check_seq(input, chunks, "chunk_avg_pool1d", "chunks")
    length = input.shape[-1]
    start, sizes = _chunk_bounds(length, chunks)
    pos = np.arange(length)
    inside = (pos[:, None] >= start) & (pos[:, None] < start + sizes)
    avg = Tensor(B.xp_of(input.data).asarray((inside / sizes).astype(input.dtype)))
    return matmul(input, avg)


def _round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _roi_bins(boxes, output_size: tuple, spatial_scale: float, size: tuple):
    """torchvision's RoIPool bins for (K, 5) boxes [batch, x1, y1, x2, y2].

    Corners are scaled and rounded (half away from zero); the RoI is (x2 - x1 + 1) × (y2 - y1 + 1) cells
    (at least 1), split into bins [⌊i·bin⌋, ⌈(i+1)·bin⌉) shifted by the RoI start and clipped to the map.
    Returns the batch indices, per axis (y then x) the (K, bins) start and end, and the RoI extents.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    corners = _round_half_away(boxes[:, 1:] * spatial_scale).astype(np.int64)
    starts, ends, extents = [], [], []
    for axis, bins, limit in ((1, output_size[0], size[0]), (0, output_size[1], size[1])):
        lo = corners[:, axis]
        extent = np.maximum(corners[:, axis + 2] - lo + 1, 1)
        step = extent[:, None] / bins
        i = np.arange(bins)
        starts.append(np.clip(np.floor(i * step).astype(np.int64) + lo[:, None], 0, limit))
        ends.append(np.clip(np.ceil((i + 1) * step).astype(np.int64) + lo[:, None], 0, limit))
        extents.append(extent)
    return boxes[:, 0].astype(np.intp), starts, ends, extents


def _bin_index(start, end):
    """(K, bins, M) positions of each bin, the last one repeated to a common length M (so a first-max
    over them is the first max of the bin), clipped to stay valid for empty bins."""
    longest = max(int((end - start).max()), 1)
    return start[..., None] + np.clip(np.minimum(np.arange(longest), end[..., None] - start[..., None] - 1), 0, None)


def _check_roi_args(input: Tensor, boxes, output_size, name: str):
    if input.ndim != 4:
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got {input.shape}")
    boxes = boxes.data if isinstance(boxes, Tensor) else boxes
    boxes = B.to_numpy(boxes) if hasattr(boxes, "shape") else np.asarray(boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        raise ValueError(f"{name}: boxes must have shape (K, 5) [batch_index, x1, y1, x2, y2], got {boxes.shape}")
    if len(boxes) and not (0 <= boxes[:, 0].min() and boxes[:, 0].max() < input.shape[0]):
        raise ValueError(f"{name}: boxes[:, 0] must be batch indices in [0, {input.shape[0]})")
    return boxes, int_tuple(output_size, 2, "output_size")


def _bin_max(values: Tensor, empty) -> Tensor:
    """values (K, ph, Mh, pw, Mw, C) -> (K, C, ph, pw): first max of each bin, 0 for empty bins."""
    k, ph, mh, pw, mw, c = values.shape
    flat = values.permute(0, 5, 1, 3, 2, 4).reshape(k, c, ph, pw, mh * mw)
    out = reduce_max(flat, -1).values
    xp = B.xp_of(out.data)
    return where(xp.asarray(empty)[:, None], xp.zeros((), dtype=out.dtype), out)


def roi_pool(input, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """RoI max pooling (Fast R-CNN; the plain pooling inside seed 004 §2.2.4's deformable RoI pooling),
    torchvision's ``roi_pool`` semantics: each RoI is cut into output_size bins and

    y[k, c, i, j] = max_{(h, w) ∈ bin(k, i, j)} x[batch_k, c, h, w]   (0 for an empty bin)

    with the bins of :func:`_roi_bins`. Shapes: input (N, C, H, W), boxes (K, 5) [batch_index, x1, y1,
    x2, y2] in input coordinates times ``spatial_scale`` -> (K, C, ph, pw). The gradient goes to the first
    maximum of each bin; boxes get none.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x = sj.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.roi_pool(x, sj.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]]), (2, 2))
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    input = as_tensor(input)
    boxes, output_size = _check_roi_args(input, boxes, output_size, "roi_pool")
    batch, (ys, xs), (ye, xe), _ = _roi_bins(boxes, output_size, spatial_scale, input.shape[2:])
    hh, ww = _bin_index(ys, ye), _bin_index(xs, xe)
    xp = B.xp_of(input.data)
    index = (xp.asarray(batch[:, None, None, None, None]), slice(None),
             xp.asarray(np.minimum(hh, input.shape[2] - 1)[:, :, :, None, None]),
             xp.asarray(np.minimum(ww, input.shape[3] - 1)[:, None, None, :, :]))
    empty = (ye <= ys)[:, :, None] | (xe <= xs)[:, None, :]
    return _bin_max(input[index], empty)


def deform_roi_pool(input, boxes, offset, output_size, spatial_scale: float = 1.0, gamma: float = 0.1) -> Tensor:
    """Deformable RoI max pooling (seed 004 §2.2.4, DCN): every bin (i, j) of :func:`roi_pool` is shifted by

    Δp_ij = γ · Δp̂_ij ∘ (w, h)

    (w, h the RoI's width and height in cells, γ = 0.1 in the notes) and its points are read by bilinear
    interpolation (zero outside the map), so the result is differentiable in the normalised offsets.
    Shapes: input (N, C, H, W), boxes (K, 5), offset (K, 2, ph, pw) with channel 0 = Δx̂ and 1 = Δŷ
    (mmcv's layout) -> (K, C, ph, pw). Zero offsets give :func:`roi_pool` exactly.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, boxes = sj.randn(1, 3, 8, 8), sj.tensor([[0.0, 1.0, 1.0, 6.0, 6.0]])
    >>> plain = F.roi_pool(x, boxes, (2, 2))
    >>> moved = F.deform_roi_pool(x, boxes, sj.zeros(1, 2, 2, 2), (2, 2))
    >>> moved.shape, bool(sj.abs(moved - plain).max() < 1e-6)
    ((1, 3, 2, 2), True)
    """
    input, offset = as_tensor(input), as_tensor(offset)
    boxes, output_size = _check_roi_args(input, boxes, output_size, "deform_roi_pool")
    if offset.shape != (len(boxes), 2, *output_size):
        raise ValueError(f"deform_roi_pool: offset shape {offset.shape} must be (K, 2, ph, pw) = "
                         f"{(len(boxes), 2, *output_size)}")
    batch, (ys, xs), (ye, xe), (eh, ew) = _roi_bins(boxes, output_size, spatial_scale, input.shape[2:])
    hh, ww = _bin_index(ys, ye), _bin_index(xs, xe)
    xp, dt = B.xp_of(input.data), input.dtype
    scale_x = xp.asarray((gamma * ew).astype(dt)[:, None, None, None, None])
    scale_y = xp.asarray((gamma * eh).astype(dt)[:, None, None, None, None])
    dx = offset[:, 0][:, :, None, :, None] * scale_x
    dy = offset[:, 1][:, :, None, :, None] * scale_y
    shape = (len(boxes), output_size[0], hh.shape[2], output_size[1], ww.shape[2])
    py = broadcast_to(dy + xp.asarray(hh[:, :, :, None, None].astype(dt)), shape)
    px = broadcast_to(dx + xp.asarray(ww[:, None, None, :, :].astype(dt)), shape)
    empty = (ye <= ys)[:, :, None] | (xe <= xs)[:, None, :]
    return _bin_max(bilinear_gather(input, batch, py, px), empty)
