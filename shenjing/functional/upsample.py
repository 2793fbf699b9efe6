"""Resizing feature maps (PyTorch's ``F.interpolate``): nearest-neighbour and (bi)linear.

Both modes are linear maps applied axis by axis: along each spatial axis the output is A·x with an
interpolation matrix A (out, in) holding one 1 per row (nearest) or the two weights 1 - λ and λ
(linear). So the gradient is Aᵀ·g axis by axis, one Function for every mode and dimension.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import as_tensor

__all__ = ["interpolate", "upsample"]

_SPATIAL = {"nearest": (1, 2), "nearest-exact": (1, 2), "linear": (1,), "bilinear": (2,)}


class Resample(Function):
    """y = x ×_1 A_1 ×_2 A_2 ... (the matrices act on the trailing axes); dx = g ×_1 A_1ᵀ ×_2 A_2ᵀ ..."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, matrices):
        ctx.matrices = matrices
        return _along_axes(x, matrices)

    @staticmethod
    def backward(ctx, grad):
        return D.dual(_along_axes, Resample)(grad, [a.T for a in ctx.matrices]), None


def _along_axes(x, matrices):
    xp = B.xp_of(x)
    first = x.ndim - len(matrices)
    for k, a in enumerate(matrices):
        x = xp.moveaxis(xp.tensordot(x, a, axes=([first + k], [1])), -1, first + k)
    return xp.ascontiguousarray(x)


def _nearest_matrix(n_in: int, n_out: int, scale, exact: bool, dtype):
    """src(o) = min(⌊o·s⌋, n_in - 1) (``'nearest-exact'``: ⌊(o + ½)·s⌋), s = n_in/n_out or 1/scale_factor,
    in float32 as PyTorch computes it."""
    s = np.float32(n_in / n_out if scale is None else 1.0 / scale)
    o = np.arange(n_out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    src = np.minimum(np.floor(o * s).astype(np.int64), n_in - 1)
    a = np.zeros((n_out, n_in), dtype=dtype)
    a[np.arange(n_out), src] = 1
    return a


def _linear_matrix(n_in: int, n_out: int, scale, align_corners: bool, dtype):
    """Row o weighs x[i₀] by 1 - λ and x[i₀ + 1] by λ, where src = i₀ + λ is o·(n_in - 1)/(n_out - 1) with
    ``align_corners``, else max(s·(o + ½) - ½, 0) with s = n_in/n_out or 1/scale_factor."""
    o = np.arange(n_out, dtype=dtype)
    if align_corners:
        src = o * dtype.type((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        s = dtype.type(n_in / n_out if scale is None else 1.0 / scale)
        src = np.maximum(s * (o + dtype.type(0.5)) - dtype.type(0.5), 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = (src - i0).astype(dtype)
    a = np.zeros((n_out, n_in), dtype=dtype)
    np.add.at(a, (np.arange(n_out), i0), 1 - lam)
    np.add.at(a, (np.arange(n_out), i1), lam)
    return a


def _sizes(input: Tensor, size, scale_factor, spatial: int) -> tuple[tuple, tuple]:
    """(output sizes, the scale factors the index maps use: None where they use n_in/n_out)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = input.shape[2:]
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != spatial or any(int(s) < 1 for s in sizes):
            raise ValueError(f"interpolate: size must be a positive int or {spatial} of them, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * spatial
    scales = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scales) != spatial or any(not s > 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {spatial} of them, "
                         f"got {scale_factor!r}")
    sizes = tuple(math.floor(n * float(s)) for n, s in zip(in_sizes, scales))
    if min(sizes) < 1:
        raise RuntimeError(f"interpolate: scale_factor {scale_factor!r} gives an empty output from {in_sizes}")
    return sizes, tuple(float(s) for s in scales)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Tensor:
    """Resize the spatial axes of ``input`` (N, C, L) or (N, C, H, W), PyTorch's ``F.interpolate``.

    ``mode='nearest'``: y[o] = x[min(⌊o·s⌋, n_in - 1)]; ``'nearest-exact'``: x[⌊(o + ½)·s⌋];
    ``'linear'`` (3-d input) and ``'bilinear'`` (4-d, separable): y[o] = (1 - λ)·x[i₀] + λ·x[i₀ + 1]
    at the source coordinate i₀ + λ = max(s·(o + ½) - ½, 0), or o·(n_in - 1)/(n_out - 1) with
    ``align_corners=True``. s = 1/scale_factor when a scale factor is given (and not
    ``recompute_scale_factor``), else n_in/n_out. The output size is ``size``, or ⌊n_in·scale_factor⌋.

    >>> import shenjing as sj
    >>> interpolate(sj.tensor([[[0.0, 1.0]]]), scale_factor=2, mode="linear").tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    """
    input = as_tensor(input)
    if mode not in _SPATIAL:
        raise NotImplementedError(f"interpolate: mode must be one of {sorted(_SPATIAL)}, got {mode!r}")
    spatial = input.ndim - 2
    if spatial not in _SPATIAL[mode]:
        raise NotImplementedError(f"interpolate: mode {mode!r} takes {' or '.join(str(s + 2) for s in _SPATIAL[mode])}"
                                  f"-d input (N, C, *spatial), got shape {tuple(input.shape)}")
    linear = mode in ("linear", "bilinear")
    if align_corners is not None and not linear:
        raise ValueError("interpolate: align_corners can only be set with the linear modes")
    if input.dtype.kind != "f":
        raise TypeError(f"interpolate: input must be a floating tensor, got {input.dtype}")
    sizes, scales = _sizes(input, size, scale_factor, spatial)
    if recompute_scale_factor:
        scales = (None,) * spatial
    matrices = [_linear_matrix(n, m, s, bool(align_corners), input.dtype) if linear
                else _nearest_matrix(n, m, s, mode == "nearest-exact", input.dtype)
                for n, m, s in zip(input.shape[2:], sizes, scales)]
    xp = B.xp_of(input.data)
    return Resample.apply(input, [xp.asarray(a) for a in matrices])


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """``F.upsample``: the older name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)
