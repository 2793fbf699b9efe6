"""Pooling layers (seed 004 §2.3, §2.2.4): window, adaptive, global, k-max/chunk, attention, capsule and RoI pooling."""

from __future__ import annotations

import math

from .. import _backend as B
from ..functional import pool as P
from ..functional.activation import softmax
from ..functional.capsule import dynamic_routing
from ..functional.conv import int_tuple
from ..functional.elementwise import where
from ..functional.linalg import einsum
from ..tensor import Tensor
from .init import uniform_parameter
from .linear import Linear
from .module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "GlobalMaxPool", "GlobalAvgPool",
    "KMaxPool1d", "KAvgPool1d", "ChunkMaxPool1d", "ChunkAvgPool1d", "AttentionPooling", "CapsulePooling",
    "RoIPool2d", "DeformRoIPool2d",
]


class _MaxPoolNd(Module):
    _fn = staticmethod(P.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        return self._fn(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (seed 004 §2.3.2), PyTorch's ``MaxPool2d``: (N, C, H, W) -> (N, C, H_out, W_out)."""


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling over L (seed 004 §2.3.2), PyTorch's ``MaxPool1d``: (N, C, L) -> (N, C, L_out)."""

    _fn = staticmethod(P.max_pool1d)


class _AvgPoolNd(Module):
    _fn = staticmethod(P.avg_pool1d)
    _keywords: tuple = ()  # further options of ``_fn``, kept as attributes of the same names

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 **keywords):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        for name in self._keywords:
            setattr(self, name, keywords[name])

    def forward(self, x: Tensor) -> Tensor:
        return self._fn(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                        **{name: getattr(self, name) for name in self._keywords})

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling (seed 004 §2.3.3), PyTorch's ``AvgPool2d`` (padding counted by default)."""

    _fn = staticmethod(P.avg_pool2d)
    _keywords = ("divisor_override",)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=divisor_override)


class AvgPool1d(_AvgPoolNd):
    """1-d average pooling over L (seed 004 §2.3.3), PyTorch's ``AvgPool1d``."""


class AdaptiveAvgPool2d(Module):
    """Adaptive average pooling to a fixed ``output_size`` with PyTorch's bins."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return P.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class GlobalMaxPool(Module):
    """Max over all positions (seed 004 §2.3.2, e^max): (N, C, *) -> (N, C)."""

    def forward(self, x: Tensor) -> Tensor:
        return P.global_max_pool(x)


class GlobalAvgPool(Module):
    """Mean over all positions (seed 004 §2.3.3, e^avg): (N, C, *) -> (N, C)."""

    def forward(self, x: Tensor) -> Tensor:
        return P.global_avg_pool(x)


class _CountPool(Module):
    """A 1-d pool with one count argument (k or chunks)."""

    _fn = None
    _arg = "k"

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(x, self.count)

    def extra_repr(self) -> str:
        return f"{self._arg}={self.count}"


class KMaxPool1d(_CountPool):
    """k-max pooling (seed 004 §2.3.2): the k largest values along L in their order, (N, C, L) -> (N, C, k)."""

    _fn = staticmethod(P.kmax_pool1d)


class KAvgPool1d(_CountPool):
    """k-avg pooling (seed 004 §2.3.3): the mean of the k largest values along L, (N, C, L) -> (N, C)."""

    _fn = staticmethod(P.kavg_pool1d)


class ChunkMaxPool1d(_CountPool):
    """Chunk-max pooling (seed 004 §2.3.2): the max of each of ``chunks`` pieces of L, (N, C, L) -> (N, C, chunks)."""

    _fn = staticmethod(P.chunk_max_pool1d)
    _arg = "chunks"


class ChunkAvgPool1d(_CountPool):
    """Chunk-avg pooling (seed 004 §2.3.3): the mean of each of ``chunks`` pieces of L."""

    _fn = staticmethod(P.chunk_avg_pool1d)
    _arg = "chunks"


def _positive(value, name: str, owner: str) -> int:
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return value


class AttentionPooling(Module):
    """Self-attention pooling (seed 004 §2.3.4): a learned query q (dim,) scores every time step,

    a = softmax_i(h_i · q / √dim),   e = Σ_i a_i h_i

    Shapes: (N, L, dim) -> (N, dim); ``mask`` (N, L), True where a step is real, excludes padding.
    The weights of the last call are kept in ``attention_weights`` (N, L).
    """

    def __init__(self, dim: int, dtype=None, device=None):
        super().__init__()
        self.dim = _positive(dim, "dim", "AttentionPooling")
        self.query = uniform_parameter((dim,), 1 / math.sqrt(dim), dtype, device)
        self.attention_weights = None

    def forward(self, x: Tensor, mask=None) -> Tensor:
        if x.ndim != 3 or x.shape[2] != self.dim:
            raise ValueError(f"AttentionPooling: expected input of shape (N, L, {self.dim}), got {x.shape}")
        scores = (x @ self.query) * (1 / math.sqrt(self.dim))
        if mask is not None:
            keep = mask.bool() if isinstance(mask, Tensor) else B.xp_of(x.data).asarray(mask, dtype=bool)
            scores = where(keep, scores, x.dtype.type(-1e9))
        weights = softmax(scores, dim=1)
        self.attention_weights = weights.detach()
        return einsum("nl,nld->nd", weights, x)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class CapsulePooling(Module):
    """Capsule-network pooling with dynamic routing (seed 004 §2.3.5, DR-AGG).

    u_ij = W_j h_i + b_j (one linear map θ_j per output capsule), then ``iterations`` rounds of
    :func:`~shenjing.functional.dynamic_routing` ('standard': c = softmax over output capsules j;
    'reversed': over input positions i). Shapes: (N, L, in_dim) -> (N, out_caps, out_dim), output norms
    in [0, 1). The routing coefficients of the last call are kept in ``routing_weights`` (N, L, out_caps).
    """

    def __init__(self, in_dim: int, out_caps: int, out_dim: int, iterations: int = 3, mode: str = "standard",
                 dtype=None, device=None):
        super().__init__()
        for name, value in (("in_dim", in_dim), ("out_caps", out_caps), ("out_dim", out_dim),
                            ("iterations", iterations)):
            _positive(value, name, "CapsulePooling")
        if mode not in ("standard", "reversed"):
            raise ValueError(f"CapsulePooling: mode must be 'standard' or 'reversed', got {mode!r}")
        self.in_dim, self.out_caps, self.out_dim = in_dim, out_caps, out_dim
        self.iterations, self.mode = iterations, mode
        bound = 1 / math.sqrt(in_dim)
        self.weight = uniform_parameter((out_caps, out_dim, in_dim), bound, dtype, device)
        self.bias = uniform_parameter((out_caps, out_dim), bound, dtype, device)
        self.routing_weights = None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[2] != self.in_dim:
            raise ValueError(f"CapsulePooling: expected input of shape (N, L, {self.in_dim}), got {x.shape}")
        u = einsum("nli,jdi->nljd", x, self.weight) + self.bias
        v, c = dynamic_routing(u, self.iterations, self.mode)
        self.routing_weights = c.detach()
        return v

    def extra_repr(self) -> str:
        return (f"in_dim={self.in_dim}, out_caps={self.out_caps}, out_dim={self.out_dim}, "
                f"iterations={self.iterations}, mode={self.mode!r}")


class RoIPool2d(Module):
    """RoI max pooling (torchvision's ``RoIPool``): ``forward(x, boxes)`` with boxes (K, 5)
    [batch_index, x1, y1, x2, y2] -> (K, C, *output_size)."""

    def __init__(self, output_size, spatial_scale: float = 1.0):
        super().__init__()
        self.output_size = int_tuple(output_size, 2, "output_size")
        self.spatial_scale = float(spatial_scale)

    def forward(self, x: Tensor, boxes) -> Tensor:
        return P.roi_pool(x, boxes, self.output_size, self.spatial_scale)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, spatial_scale={self.spatial_scale}"


class DeformRoIPool2d(Module):
    """Deformable RoI pooling (seed 004 §2.2.4, DCN): a plain RoI pooling of the same feature map feeds an
    fc layer (C·ph·pw -> 2·ph·pw, zero-initialised) that predicts normalised offsets Δp̂ per bin; the bins
    are shifted by Δp = γ·Δp̂∘(w, h) and pooled again (:func:`~shenjing.functional.deform_roi_pool`).
    At initialisation it equals :class:`RoIPool2d`.
    """

    def __init__(self, in_channels: int, output_size, spatial_scale: float = 1.0, gamma: float = 0.1,
                 dtype=None, device=None):
        super().__init__()
        _positive(in_channels, "in_channels", "DeformRoIPool2d")
        self.output_size = int_tuple(output_size, 2, "output_size")
        self.spatial_scale, self.gamma = float(spatial_scale), float(gamma)
        bins = math.prod(self.output_size)
        self.offset_fc = Linear(in_channels * bins, 2 * bins, dtype=dtype, device=device)
        self.offset_fc.weight.data[...] = 0
        self.offset_fc.bias.data[...] = 0

    def forward(self, x: Tensor, boxes) -> Tensor:
        pooled = P.roi_pool(x, boxes, self.output_size, self.spatial_scale)
        offset = self.offset_fc(pooled.reshape(pooled.shape[0], -1)).reshape(-1, 2, *self.output_size)
        return P.deform_roi_pool(x, boxes, offset, self.output_size, self.spatial_scale, self.gamma)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, spatial_scale={self.spatial_scale}, gamma={self.gamma}"
