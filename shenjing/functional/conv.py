"""Convolutions (seed 004 §2.2; 001 CNN): standard, grouped/depthwise, dilated and deformable.

A convolution is computed as im2col plus one GEMM per group: the input is padded
into a channels-last array (N, H', W', C), a strided view exposes every window
as (N, H_out, W_out, groups, kh, kw, C/groups) without copying, one copy makes it a
matrix of rows (one per output pixel), and a (batched) matrix product with the
weight gives the output. The output is returned as an (N, C, H, W) view of
channels-last memory, so the next layer's windows read contiguous channels.
The backward uses the same two GEMMs and a col2im that loops only over the
kh·kw kernel taps (strided slice-adds).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from ._util import as_tensor
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


def _padded_channels_last(x, pads):
    """(N, C, H, W) -> zero-padded (N, H + pads, W + pads, C); a view when there is no padding."""
    xl = x.transpose(0, 2, 3, 1)
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return xl
    n, h, w, c = xl.shape
    out = B.xp_of(x).zeros((n, h + pt + pb, w + pl + pr, c), dtype=x.dtype)
    out[:, pt : pt + h, pl : pl + w] = xl
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


class Conv2dFunction(Function):
    """y[n, o] = b[o] + Σ_{c ∈ group(o), i, j} W[o, c, i, j] · x_pad[n, c, s·h + d·i, s·w + d·j] (seed 004 §2.2.1)."""

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        xp = B.xp_of(x)
        n, _, h, w = x.shape
        o, cg, kh, kw = weight.shape
        g = geom.groups
        out_hw = tuple(conv_out_size(*a) for a in zip((h, w), (kh, kw), geom.stride, geom.pads, geom.dilation))
        xl = _padded_channels_last(x, geom.pads)
        rows = n * out_hw[0] * out_hw[1]
        cols = xp.ascontiguousarray(_windows(xl, out_hw, (kh, kw), geom)).reshape(rows, g, kh * kw * cg)
        wm = weight.reshape(g, o // g, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, o // g, kh * kw * cg)
        out = xp.empty((rows, g, o // g), dtype=x.dtype)
        _group_matmul(cols.transpose(1, 0, 2), wm.transpose(0, 2, 1), out.transpose(1, 0, 2))
        out = out.reshape(rows, o)
        if bias is not None:
            out += bias
        need_x, need_w = ctx.needs_input_grad[:2] or (False, False)
        ctx.cols = cols if need_w else None
        ctx.wm = wm if need_x else None
        ctx.meta = (x.shape, xl.shape, weight.shape, out_hw, geom)
        return out.reshape(n, *out_hw, o).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        x_shape, xl_shape, w_shape, out_hw, geom = ctx.meta
        o, cg, kh, kw = w_shape
        g = geom.groups
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        gm = grad.transpose(0, 2, 3, 1).reshape(-1, g, o // g)
        gb = gm.reshape(-1, o).sum(axis=0) if need_b else None
        gw = gx = None
        if need_w:
            gwm = _group_matmul(gm.transpose(1, 2, 0), ctx.cols.transpose(1, 0, 2))
            gw = gwm.reshape(g, o // g, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(w_shape)
        if need_x:
            gx = _col2im(gm, ctx.wm, x_shape, xl_shape, (kh, kw), out_hw, geom)
        return gx, gw, gb, None


def _col2im(gm, wm, x_shape, xl_shape, kernel, out_hw, geom):
    """Input gradient, tap by tap: the gradient reaching kernel tap (i, j) is grad · W[:, :, i, j] (one
    GEMM per group), added to the input positions that tap read (one strided slice-add)."""
    xp = B.xp_of(gm)
    rows, g, og = gm.shape
    cg = wm.shape[2] // (kernel[0] * kernel[1])
    wt = wm.reshape(g, og, *kernel, cg)
    gmg = gm.transpose(1, 0, 2)
    tap = xp.empty((g, rows, cg), dtype=gm.dtype)
    tap_l = tap.transpose(1, 0, 2).reshape(xl_shape[0], *out_hw, g, cg)
    dxl = xp.zeros(xl_shape, dtype=gm.dtype)
    dxg = dxl.reshape(*xl_shape[:3], g, cg)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            _group_matmul(gmg, wt[:, :, i, j], tap)
            dxg[(slice(None), *tap_slices((i, j), out_hw, geom))] += tap_l
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


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-d cross-correlation, PyTorch's ``conv2d`` (seed 004 §2.2.1-2.2.3):

    y[n, o, h, w] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x[n, g(o)·C/G + c, s_h·h + d_h·i - p_t, s_w·w + d_w·j - p_l]

    Shapes: input (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, H_out, W_out) with
    H_out = ⌊(H + 2p - d·(kh-1) - 1)/s⌋ + 1. ``padding`` is an int, a pair, 'valid' (0) or 'same'
    (stride 1 only); ``groups = C`` is the depthwise convolution of seed 004 §2.2.2, dilation > 1 the
    dilated convolution of §2.2.3.
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


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-d cross-correlation, PyTorch's ``conv1d``:
    y[n, o, l] = b[o] + Σ_{c, i} W[o, c, i] · x[n, c, s·l + d·i - p] (seed 004 §2.2).

    Shapes: input (N, C, L), weight (O, C/groups, k), bias (O,) -> (N, O, L_out); computed as a
    conv2d over a height-1 image.
    """
    input, weight = as_tensor(input), as_tensor(weight)
    _check_conv_args(input, weight, bias, 1, groups, "conv1d")
    (stride,), (dilation,) = int_tuple(stride, 1, "stride"), int_tuple(dilation, 1, "dilation")
    if not isinstance(padding, str):
        (padding,) = int_tuple(padding, 1, "padding", minimum=0)
        padding = (0, padding)
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), padding, (1, dilation), groups)
    return out.squeeze(2)


def _bilinear_corners(py, px, h: int, w: int):
    """The four integer neighbours of each point (y, x): (row, col, weight, dweight/dy, dweight/dx).

    Rows/cols are clipped into the image; neighbours outside it get weight 0 (zero padding).
    """
    y0, x0 = np.floor(py), np.floor(px)
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
        xl = x.transpose(0, 2, 3, 1)
        b = batch.reshape(batch.shape + (1,) * (py.ndim - 1))
        out = None
        for yi, xi, wt, _, _ in _bilinear_corners(py, px, *x.shape[2:]):
            term = xl[b, yi, xi] * wt[..., None]
            out = term if out is None else out + term
        return out

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
