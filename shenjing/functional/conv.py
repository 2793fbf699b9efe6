"""Convolutions (seed 004 §2.2; 001 CNN): standard, grouped/depthwise, dilated and deformable.

A convolution is computed as im2col plus one GEMM per group, a batch chunk at a time: a strided
view exposes every window of the padded input without copying, one copy of a chunk of it (sized
to stay in cache) makes a matrix of rows (one per output pixel), and a matrix product with the
weight gives those output rows. The output is returned as an (N, C, H, W) view of channels-last
memory, so the next layer's windows read contiguous channels. The backward rebuilds each chunk's
matrix for the weight gradient (nothing the size of the column matrix is kept between passes)
and adds the input gradient back tap by tap (strided slice-adds over the kh·kw kernel taps).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import allow_unbatched, as_tensor, is_channels_last
from .linalg import linear

__all__ = ["conv1d", "conv2d", "deform_conv2d"]

Geometry = namedtuple("Geometry", "stride pads dilation groups")


def int_tuple(value, n: int, name: str, minimum: int = 1) -> tuple:
    """``value`` (an int or a sequence of n ints) as an n-tuple of ints >= ``minimum``."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    values = (value,) * n if is_int(value) else value
    if isinstance(values, str) or not hasattr(values, "__len__") or not all(is_int(v) for v in values):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if len(values) != n or any(v < minimum for v in values):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def conv_pads(padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Per-axis (before, after) zero padding for ``padding`` = int, tuple, 'valid' or 'same'.

    'same' pads d·(k-1) in total, the odd element after (PyTorch's rule); it needs stride 1.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in int_tuple(padding, n, "padding", minimum=0))


def conv_out_size(size: int, kernel: int, stride: int, pads: tuple, dilation: int) -> int:
    """⌊(size + p_before + p_after - d·(k-1) - 1) / s⌋ + 1."""
    return (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


def _padded(x, pads, channels_last: bool):
    """(N, C, H, W) zero-padded on H and W, as (N, H', W', C) when ``channels_last`` else (N, C, H', W');
    a view when there is no padding."""
    a = x.transpose(0, 2, 3, 1) if channels_last else x
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return a
    h_axis = 1 if channels_last else 2
    shape = list(a.shape)
    shape[h_axis] += pt + pb
    shape[h_axis + 1] += pl + pr
    out = B.xp_of(x).zeros(tuple(shape), dtype=x.dtype)
    inside = [slice(None)] * 4
    inside[h_axis], inside[h_axis + 1] = slice(pt, pt + x.shape[2]), slice(pl, pl + x.shape[3])
    out[tuple(inside)] = a
    return out


def _windows(xl, out_hw: tuple, kernel: tuple, geom: Geometry):
    """Strided view (N, Ho, Wo, G, kh, kw, C/G) of a channels-last array: no copy."""
    n, _, _, c = xl.shape
    sn, sh, sw, sc = xl.strides
    cg = c // geom.groups
    shape = (n, *out_hw, geom.groups, *kernel, cg)
    strides = (sn, sh * geom.stride[0], sw * geom.stride[1], sc * cg, sh * geom.dilation[0], sw * geom.dilation[1], sc)
    return B.xp_of(xl).lib.stride_tricks.as_strided(xl, shape, strides)


def tap_slices(tap: tuple, out_hw: tuple, geom) -> tuple:
    """Slices of the padded spatial axes that kernel tap (i, j) reads for every output pixel
    (``geom`` has ``stride`` and ``dilation`` pairs)."""
    return tuple(
        slice(t * d, t * d + s * (o - 1) + 1, s) for t, o, s, d in zip(tap, out_hw, geom.stride, geom.dilation)
    )


def _group_matmul(a, b, out=None):
    """out[g] = a[g] @ b[g] for each group g: one 2-d GEMM per group (2-d products take BLAS's fast path)."""
    xp = B.xp_of(a)
    if out is None:
        out = xp.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=a.dtype)
    for g in range(a.shape[0]):
        xp.matmul(a[g], b[g], out=out[g])
    return out


CHUNK_BYTES = 1 << 22
GPU_CHUNK_BYTES = 1 << 30  # on a GPU, kernel launches cost more than cache misses: few, large chunks


def _batch_chunks(n: int, sample_bytes: int, xp=np) -> list:
    """[start, stop) ranges of the batch whose column matrices take about CHUNK_BYTES (at least one sample)."""
    budget = CHUNK_BYTES if xp is np else GPU_CHUNK_BYTES
    step = max(1, budget // max(sample_bytes, 1))
    return [(s, min(s + step, n)) for s in range(0, n, step)]


class Lowering:
    """The im2col lowering of one convolution, done a batch chunk at a time: each chunk's column
    matrices (G, rows, kh·kw·C/G) are built in one cache-sized buffer and multiplied while they are
    hot, so the whole column matrix never exists (the backward rebuilds a chunk where it needs it).

    A channels-last input is copied window by window (runs of kw·C contiguous values); any other
    layout tap by tap into a tap-major buffer (G, kh, kw, C/G, rows), whose runs are image rows.
    """

    def __init__(self, x, out_hw: tuple, kernel: tuple, geom: Geometry):
        n, c = x.shape[:2]
        self.out_hw, self.kernel, self.geom = out_hw, kernel, geom
        self.planar = not is_channels_last(x)
        self.source = _padded(x, geom.pads, not self.planar)
        self.k = kernel[0] * kernel[1] * (c // geom.groups)
        self.pixels = out_hw[0] * out_hw[1]
        self.chunks = _batch_chunks(n, self.pixels * c * kernel[0] * kernel[1] * x.itemsize, B.xp_of(x))
        first = self.chunks[0][1] - self.chunks[0][0]
        self.buffer = B.xp_of(x).empty(first * self.pixels * geom.groups * self.k, dtype=x.dtype)

    def padded_shape(self) -> tuple:
        """The padded input's shape as (N, H', W', C)."""
        shape = self.source.shape
        return (shape[0], *shape[2:], shape[1]) if self.planar else shape

    def cols(self, start: int, stop: int):
        """The (G, rows, K) column matrices of samples [start, stop)."""
        m, g = stop - start, self.geom.groups
        buf = self.buffer[: m * self.pixels * g * self.k]
        src = self.source[start:stop]
        if not self.planar:
            B.xp_of(buf).copyto(buf.reshape((m, *self.out_hw, g, *self.kernel, -1)),
                                _windows(src, self.out_hw, self.kernel, self.geom))
            return buf.reshape(-1, g, self.k).transpose(1, 0, 2)
        taps = buf.reshape(g, *self.kernel, -1, m, *self.out_hw)
        for i in range(self.kernel[0]):
            for j in range(self.kernel[1]):
                tap = src[(slice(None), slice(None), *tap_slices((i, j), self.out_hw, self.geom))]
                taps[:, i, j] = tap.reshape(m, g, -1, *self.out_hw).transpose(1, 2, 0, 3, 4)
        return buf.reshape(g, self.k, -1).transpose(0, 2, 1)


def _by_group(a, start: int, stop: int, groups: int):
    """Rows [start, stop) of a channels-last (N, Ho, Wo, C) array as (G, rows, C/G)."""
    return a[start:stop].reshape(-1, groups, a.shape[3] // groups).transpose(1, 0, 2)


class Conv2dFunction(Function):
    """y[n, o] = b[o] + Σ_{c ∈ group(o), i, j} W[o, c, i, j] · x_pad[n, c, s·h + d·i, s·w + d·j] (seed 004 §2.2.1)."""

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        out, low, wm = conv_forward(x, weight, bias, geom)
        need_x, need_w = ctx.needs_input_grad[:2] or (False, False)
        ctx.low = low if need_w else None
        ctx.wm = wm if need_x else None
        ctx.meta = (x.shape, weight.shape, low.padded_shape(), out.shape[2:], geom)
        return out

    @staticmethod
    def backward(ctx, grad):
        x_shape, w_shape, xl_shape, out_hw, geom = ctx.meta
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        gl = grad.transpose(0, 2, 3, 1)
        gb = column_sums(gl.reshape(-1, w_shape[0])) if need_b else None
        gw = weight_grad(gl, ctx.low, w_shape) if need_w else None
        gx = input_grad(gl, ctx.wm, x_shape, xl_shape, w_shape[2:], out_hw, geom) if need_x else None
        return gx, gw, gb, None


def _conv2d_composite(x, weight, bias, geom):
    """:class:`Conv2dFunction` written with differentiable ops (its composite): one einsum per kernel tap
    over the zero-padded input, y = b + Σ_{i,j} x_pad[taps (i, j)] · W[:, :, i, j] per group."""
    from .linalg import einsum
    from .shape import pad

    x, weight = as_tensor(x), as_tensor(weight)
    n, _, h, w = x.shape
    o, cg, kh, kw = weight.shape
    g = geom.groups
    (pt, pb), (pl, pr) = geom.pads
    out_hw = tuple(conv_out_size(*a) for a in zip((h, w), (kh, kw), geom.stride, geom.pads, geom.dilation))
    padded = pad(x, (pl, pr, pt, pb))
    grouped = weight.reshape(g, o // g, cg, kh, kw)
    out = None
    for i in range(kh):
        for j in range(kw):
            tap = padded[(slice(None), slice(None), *tap_slices((i, j), out_hw, geom))].reshape(n, g, cg, *out_hw)
            term = einsum("ngchw,goc->ngohw", tap, grouped[:, :, :, i, j])
            out = term if out is None else out + term
    out = out.reshape(n, o, *out_hw)
    return out if bias is None else out + as_tensor(bias).reshape(1, o, 1, 1)


Conv2dFunction.composite = staticmethod(_conv2d_composite)


def conv_forward(x, weight, bias, geom: Geometry):
    """The convolution on arrays: (output (N, O, Ho, Wo) as a channels-last view, the lowering, the
    weight as (G, O/G, kh·kw·C/G) matrices)."""
    xp = B.xp_of(x)
    n, _, h, w = x.shape
    o, cg, kh, kw = weight.shape
    g = geom.groups
    out_hw = tuple(conv_out_size(*a) for a in zip((h, w), (kh, kw), geom.stride, geom.pads, geom.dilation))
    low = Lowering(x, out_hw, (kh, kw), geom)
    wm = weight_matrices(weight, g)
    out = xp.empty((n, *out_hw, o), dtype=x.dtype)
    for start, stop in low.chunks:
        _group_matmul(low.cols(start, stop), wm.transpose(0, 2, 1), _by_group(out, start, stop, g))
        if bias is not None:
            out[start:stop] += bias
    return out.transpose(0, 3, 1, 2), low, wm


def weight_matrices(weight, groups: int):
    """A weight (O, C/G, kh, kw) as G matrices (O/G, kh·kw·C/G), the column order of the lowering."""
    o, cg, kh, kw = weight.shape
    return weight.reshape(groups, o // groups, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(groups, o // groups, -1)


def column_sums(m):
    """Σ over the rows of a 2-d array, as one matrix-vector product."""
    return B.xp_of(m).ones(m.shape[0], dtype=m.dtype) @ m


def weight_grad(gl, low: Lowering, w_shape: tuple):
    """dW[g]ᵀ = Σ_chunks cols[g]ᵀ · grad[g], the column matrices rebuilt chunk by chunk."""
    o, cg, kh, kw = w_shape
    g = low.geom.groups
    gwt = B.xp_of(gl).zeros((g, low.k, o // g), dtype=gl.dtype)
    part = gwt.copy()
    for start, stop in low.chunks:
        gwt += _group_matmul(low.cols(start, stop).transpose(0, 2, 1), _by_group(gl, start, stop, g), part)
    return gwt.reshape(g, kh, kw, cg, o // g).transpose(0, 4, 3, 1, 2).reshape(w_shape)


def input_grad(gl, wm, x_shape, xl_shape, kernel, out_hw, geom):
    """Input gradient, chunk by chunk and tap by tap: the gradient reaching kernel tap (i, j) is
    grad · W[:, :, i, j] (one GEMM per group), added to the input positions that tap read (one
    strided slice-add)."""
    xp = B.xp_of(gl)
    g, og, _ = wm.shape
    cg = xl_shape[3] // g
    wt = wm.reshape(g, og, *kernel, cg)
    dxl = xp.zeros(xl_shape, dtype=gl.dtype)
    chunks = _batch_chunks(xl_shape[0], out_hw[0] * out_hw[1] * (xl_shape[3] + g * og) * gl.itemsize, xp)
    tap = xp.empty((g, (chunks[0][1] - chunks[0][0]) * out_hw[0] * out_hw[1], cg), dtype=gl.dtype)
    for start, stop in chunks:
        gmg = _by_group(gl, start, stop, g)
        part = tap[:, : gmg.shape[1]]
        part_l = part.transpose(1, 0, 2).reshape(stop - start, *out_hw, g, cg)
        dxg = dxl[start:stop].reshape(stop - start, *xl_shape[1:3], g, cg)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                _group_matmul(gmg, wt[:, :, i, j], part)
                dxg[(slice(None), *tap_slices((i, j), out_hw, geom))] += part_l
    (pt, _), (pl, _) = geom.pads
    h, w = x_shape[2:]
    return dxl[:, pt : pt + h, pl : pl + w].transpose(0, 3, 1, 2)


def _check_conv_args(input: Tensor, weight: Tensor, bias, nd: int, groups: int, name: str) -> None:
    if input.ndim != nd + 2 or weight.ndim != nd + 2:
        raise ValueError(f"{name}: expected input of {nd + 2} dims (N, C, *spatial) and weight of {nd + 2} dims "
                         f"(out, in/groups, *kernel), got shapes {input.shape} and {weight.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    c, o = input.shape[1], weight.shape[0]
    if c % groups or o % groups or weight.shape[1] * groups != c:
        raise ValueError(f"{name}: input shape {input.shape} and weight shape {weight.shape} do not match "
                         f"groups={groups} (need in_channels = weight.shape[1]·groups, out_channels % groups == 0)")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{name}: bias shape {tuple(bias.shape)} does not match out_channels {o}")
    for t in (weight, bias):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} and parameter dtype {t.dtype} differ")


@allow_unbatched(4)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-d cross-correlation, PyTorch's ``conv2d`` (seed 004 §2.2.1-2.2.3):

    y[n, o, h, w] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x[n, g(o)·C/G + c, s_h·h + d_h·i - p_t, s_w·w + d_w·j - p_l]

    Shapes: input (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, H_out, W_out) with
    H_out = ⌊(H + 2p - d·(kh-1) - 1)/s⌋ + 1. ``padding`` is an int, a pair, 'valid' (0) or 'same'
    (stride 1 only); ``groups = C`` is the depthwise convolution of seed 004 §2.2.2, dilation > 1 the
    dilated convolution of §2.2.3.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, w = sj.ones(1, 3, 8, 8), sj.ones(4, 3, 3, 3)
    >>> F.conv2d(x, w).shape, F.conv2d(x, w, stride=2, padding=1).shape, F.conv2d(x, w, dilation=2).shape
    ((1, 4, 6, 6), (1, 4, 4, 4), (1, 4, 4, 4))
    """
    input, weight = as_tensor(input), as_tensor(weight)
    _check_conv_args(input, weight, bias, 2, groups, "conv2d")
    kernel = weight.shape[2:]
    stride, dilation = int_tuple(stride, 2, "stride"), int_tuple(dilation, 2, "dilation")
    pads = conv_pads(padding, kernel, stride, dilation)
    geom = Geometry(stride, pads, dilation, int(groups))
    for size, k, s, p, d in zip(input.shape[2:], kernel, stride, pads, dilation):
        if conv_out_size(size, k, s, p, d) < 1:
            raise ValueError(f"conv2d: input shape {input.shape} is smaller than the dilated kernel {kernel} "
                             f"(dilation {dilation}, padding {pads})")
    return Conv2dFunction.apply(input, weight, bias, geom)


@allow_unbatched(3)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-d cross-correlation, PyTorch's ``conv1d``:
    y[n, o, l] = b[o] + Σ_{c, i} W[o, c, i] · x[n, c, s·l + d·i - p] (seed 004 §2.2).

    Shapes: input (N, C, L), weight (O, C/groups, k), bias (O,) -> (N, O, L_out); computed as a
    conv2d over a height-1 image.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.conv1d(sj.tensor([[[1.0, 2.0, 3.0, 4.0]]]), sj.tensor([[[1.0, 0.0, -1.0]]]))
    tensor([[[-2., -2.]]])
    >>> F.conv1d(sj.ones(2, 4, 10), sj.ones(8, 2, 3), padding=2, dilation=2, groups=2).shape
    (2, 8, 10)
    """
    input, weight = as_tensor(input), as_tensor(weight)
    _check_conv_args(input, weight, bias, 1, groups, "conv1d")
    (stride,), (dilation,) = int_tuple(stride, 1, "stride"), int_tuple(dilation, 1, "dilation")
    if not isinstance(padding, str):
        (padding,) = int_tuple(padding, 1, "padding", minimum=0)
        padding = (0, padding)
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), padding, (1, dilation), groups)
    return out.squeeze(2).contiguous()  # contiguous as PyTorch's, so .view works on it


def _bilinear_corners(py, px, h: int, w: int):
    """The four integer neighbours of each point (y, x): (row, col, weight, dweight/dy, dweight/dx).

    Rows/cols are clipped into the image; neighbours outside it get weight 0 (zero padding).
    """
    y0, x0 = np.floor(D.raw(py)), np.floor(D.raw(px))
    ly, lx = py - y0, px - x0
    y0, x0 = y0.astype(np.intp), x0.astype(np.intp)
    one = py.dtype.type(1)
    corners = []
    for dy, wy, sy in ((0, one - ly, -one), (1, ly, one)):
        yi = y0 + dy
        vy = (yi >= 0) & (yi < h)
        for dx, wx, sx in ((0, one - lx, -one), (1, lx, one)):
            xi = x0 + dx
            valid = (vy & (xi >= 0) & (xi < w)).astype(py.dtype)
            corners.append((np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1),
                            wy * wx * valid, sy * wx * valid, wy * sx * valid))
    return corners


class BilinearGather(Function):
    """v[m, *s, c] = Σ_corners w · x[batch[m], c, y_corner, x_corner]: bilinear samples at real points
    (py, px), zero outside the image; differentiable in x and in the positions."""

    @staticmethod
    def forward(ctx, x, batch, py, px):
        ctx.x, ctx.batch, ctx.py, ctx.px = x, batch, py, px
        return _bilinear_sample(x, batch, py, px)

    @staticmethod
    def backward(ctx, grad):
        x, py, px = ctx.x, ctx.py, ctx.px
        xl = x.transpose(0, 2, 3, 1)
        b = ctx.batch.reshape(ctx.batch.shape + (1,) * (py.ndim - 1))
        need_x, _, need_y, need_x_pos = ctx.needs_input_grad
        dxl = B.xp_of(x).zeros(xl.shape, dtype=grad.dtype) if need_x else None
        gy = gxp = 0
        for yi, xi, wt, dwy, dwx in _bilinear_corners(py, px, *x.shape[2:]):
            if need_x:
                B.scatter_add(dxl, (b, yi, xi), grad * wt[..., None])
            if need_y or need_x_pos:
                gv = (grad * xl[b, yi, xi]).sum(axis=-1)
                gy, gxp = gy + gv * dwy, gxp + gv * dwx
        gx = dxl.transpose(0, 3, 1, 2) if need_x else None
        return gx, None, gy if need_y else None, gxp if need_x_pos else None


def _bilinear_sample(x, batch, py, px):
    """The bilinear samples (raw arrays, or Tensors: then it is :class:`BilinearGather`'s composite)."""
    xl = D.permute(x, (0, 2, 3, 1))
    b = batch.reshape(batch.shape + (1,) * (py.ndim - 1))
    out = None
    for yi, xi, wt, _, _ in _bilinear_corners(py, px, *x.shape[2:]):
        term = xl[b, yi, xi] * wt[..., None]
        out = term if out is None else out + term
    return out


BilinearGather.composite = staticmethod(_bilinear_sample)


def bilinear_gather(x: Tensor, batch, py: Tensor, px: Tensor) -> Tensor:
    """Bilinear samples of images ``x`` (N, C, H, W) at points (py, px) of shape (M, *S), point m of image
    ``batch[m]``; returns (M, *S, C). Zero outside the image (torchvision's deformable sampling)."""
    xp = B.xp_of(x.data)
    return BilinearGather.apply(x, xp.asarray(batch, dtype=np.intp), as_tensor(py), as_tensor(px))


def deform_conv2d(input, offset, weight, bias=None, stride=1, padding=0, dilation=1) -> Tensor:
    """Deformable convolution (seed 004 §2.2.4, DCN): each kernel tap k samples at a learned offset,

    y[n, o, h, w] = b[o] + Σ_{c, k} W[o, c, k] · x̃[n, c, s·h - p + d·i_k + Δy_k, s·w - p + d·j_k + Δx_k]

    where x̃ is the bilinear interpolation of x (zero outside the image). Shapes: input (N, C, H, W),
    offset (N, 2·kh·kw, H_out, W_out) with channel 2k = Δy and 2k+1 = Δx of tap k (torchvision's layout),
    weight (O, C, kh, kw), bias (O,) -> (N, O, H_out, W_out). Zero offsets give ``conv2d``.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, w = sj.randn(1, 2, 5, 5), sj.randn(3, 2, 3, 3)
    >>> offset = sj.zeros(1, 2 * 3 * 3, 3, 3)
    >>> bool(sj.abs(F.deform_conv2d(x, offset, w) - F.conv2d(x, w)).max() < 1e-5)
    True
    """
    input, offset, weight = as_tensor(input), as_tensor(offset), as_tensor(weight)
    _check_conv_args(input, weight, bias, 2, 1, "deform_conv2d")
    n, c, h, w = input.shape
    o, _, kh, kw = weight.shape
    stride, dilation = int_tuple(stride, 2, "stride"), int_tuple(dilation, 2, "dilation")
    pads = conv_pads(padding, (kh, kw), stride, dilation)
    ho, wo = (conv_out_size(*a) for a in zip((h, w), (kh, kw), stride, pads, dilation))
    k = kh * kw
    if offset.shape != (n, 2 * k, ho, wo):
        raise ValueError(f"deform_conv2d: offset shape {offset.shape} does not match (N, 2·kh·kw, H_out, W_out) "
                         f"= {(n, 2 * k, ho, wo)} for input shape {input.shape} and weight shape {weight.shape}")
    xp, dt = B.xp_of(input.data), input.dtype
    taps_i, taps_j = (a.reshape(-1) for a in xp.meshgrid(xp.arange(kh), xp.arange(kw), indexing="ij"))
    base_y = (xp.arange(ho)[:, None, None] * stride[0] - pads[0][0] + taps_i * dilation[0]).astype(dt)
    base_x = (xp.arange(wo)[None, :, None] * stride[1] - pads[1][0] + taps_j * dilation[1]).astype(dt)
    off = offset.reshape(n, k, 2, ho, wo).permute(0, 3, 4, 1, 2)
    cols = bilinear_gather(input, xp.arange(n), off[..., 0] + base_y, off[..., 1] + base_x)
    out = linear(cols.reshape(n, ho, wo, k * c), weight.permute(0, 2, 3, 1).reshape(o, k * c), bias)
    return out.permute(0, 3, 1, 2)
