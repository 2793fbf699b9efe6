"""Convolution layers (seed 004 §2.2): Conv1d, Conv2d, DepthwiseSeparableConv2d, DeformConv2d."""

from __future__ import annotations

import math

import numpy as np

from ..functional.conv import conv1d, conv2d, conv_pads, deform_conv2d, int_tuple
from ..functional.conv_transpose import conv_transpose1d, conv_transpose2d, transposed_size
from ..functional.shape import pad
from ..tensor import Tensor
from .init import uniform_parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "DepthwiseSeparableConv2d", "DeformConv2d"]


class _ConvNd(Module):
    """Shared parameters of the convolution layers: ``weight`` (out, in/groups, *kernel) and ``bias`` (out,).

    Default initialisation as PyTorch's: Kaiming-uniform with a = √5, i.e. weight and bias uniform on
    [-1/√fan_in, 1/√fan_in] with fan_in = in/groups · Π kernel.
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None, device=None):
        super().__init__()
        name = type(self).__name__
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.padding_mode = padding_mode
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels {in_channels} and out_channels {out_channels} must be "
                             f"divisible by groups {groups}")
        nd = self._nd
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = int_tuple(kernel_size, nd, "kernel_size")
        self.stride = int_tuple(stride, nd, "stride")
        self.dilation = int_tuple(dilation, nd, "dilation")
        self.padding = padding if isinstance(padding, str) else int_tuple(padding, nd, "padding", minimum=0)
        shape = self._weight_shape()
        bound = 1 / math.sqrt(math.prod(shape[1:]))  # fan_in
        self.weight = uniform_parameter(shape, bound, dtype, device)
        if bias:
            self.bias = uniform_parameter((out_channels,), bound, dtype, device)
        else:
            self.register_parameter("bias", None)

    def _weight_shape(self) -> tuple:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def _padded(self, x: Tensor):
        """(input, padding) for the convolution: non-zero padding modes pad the input explicitly first."""
        if self.padding_mode == "zeros":
            return x, self.padding
        pads = conv_pads(self.padding, self.kernel_size, self.stride, self.dilation)
        flat = [p for pair in reversed(pads) for p in pair]  # F.pad lists pairs from the last dim
        return pad(x, flat, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
             f"padding={self.padding}")
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + f", bias={self.bias is not None}"


class Conv2d(_ConvNd):
    """2-d convolution layer (seed 004 §2.2.1): ``conv2d(x, weight, bias, stride, padding, dilation, groups)``.

    (N, C_in, H, W) -> (N, C_out, H_out, W_out); parameters C_out·C_in/groups·kh·kw + C_out. Like PyTorch's
    ``Conv2d``; ``padding`` may be an int, a pair, 'valid' or 'same'.
    """

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-d convolution layer over sequences (N, C_in, L) -> (N, C_out, L_out), PyTorch's ``Conv1d``."""

    _nd = 1

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        padding = padding if isinstance(padding, (str, int)) else padding[0]
        return conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class ConvTranspose2d(_ConvNd):
    """2-d transposed convolution layer, PyTorch's ``ConvTranspose2d`` (see
    :func:`shenjing.nn.functional.conv_transpose2d`): (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H - 1)·s - 2p + d·(k - 1) + output_padding + 1. ``weight`` is (C_in, C_out/groups, kh, kw),
    initialised as PyTorch's with fan_in = C_out/groups · kh·kw. ``forward(x, output_size)`` may name the
    wanted output size instead of ``output_padding``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         dtype=dtype, device=device)
        self.output_padding = int_tuple(output_padding, self._nd, "output_padding", minimum=0)

    def _weight_shape(self) -> tuple:
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    def _output_padding(self, x: Tensor, output_size) -> tuple:
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)[-self._nd:]
        smallest = [transposed_size(*a, 0, d) for a, d in
                    zip(zip(x.shape[-self._nd:], self.kernel_size, self.stride, self.padding), self.dilation)]
        extra = tuple(int(w) - m for w, m in zip(wanted, smallest))
        if len(wanted) != self._nd or any(not 0 <= e < max(s, d) for e, s, d in zip(extra, self.stride,
                                                                                     self.dilation)):
            raise ValueError(f"{type(self).__name__}: output_size {tuple(output_size)} is not reachable from input "
                             f"shape {tuple(x.shape)}; the smallest output is {tuple(smallest)}")
        return extra

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups, self.dilation)

    def extra_repr(self) -> str:
        extra = f", output_padding={self.output_padding}" if any(self.output_padding) else ""
        return super().extra_repr().replace(", bias=", extra + ", bias=")


class ConvTranspose1d(ConvTranspose2d):
    """1-d transposed convolution layer, PyTorch's ``ConvTranspose1d``: (N, C_in, L) -> (N, C_out, L_out)."""

    _nd = 1

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        (output_padding,) = self._output_padding(x, output_size)
        return conv_transpose1d(x, self.weight, self.bias, self.stride[0], self.padding[0], output_padding,
                                self.groups, self.dilation[0])


class DepthwiseSeparableConv2d(Module):
    """Depthwise separable convolution (seed 004 §2.2.2, Xception): a depthwise k×k convolution
    (groups = in, one kernel per channel) followed by a 1×1 pointwise convolution that mixes channels.

    Parameters in·k·k + in·out (+ in + out biases) against in·out·k·k (+ out) for a standard convolution.
    (N, in, H, W) -> (N, out, H_out, W_out).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, bias: bool = True,
                 dtype=None, device=None):
        super().__init__()
        self.depthwise = Conv2d(in_channels, in_channels, kernel_size, stride, padding, groups=in_channels,
                                bias=bias, dtype=dtype, device=device)
        self.pointwise = Conv2d(in_channels, out_channels, 1, bias=bias, dtype=dtype, device=device)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


class DeformConv2d(_ConvNd):
    """Deformable convolution layer (seed 004 §2.2.4, DCN): an extra convolution ``offset_conv`` (same
    kernel, stride, padding and dilation, 2·kh·kw outputs, zero-initialised so training starts from the
    regular grid) predicts per-pixel tap offsets (Δy, Δx), then ``deform_conv2d`` samples the input
    bilinearly at the shifted taps. Owns ``weight`` (out, in, kh, kw), ``bias`` (out,) and ``offset_conv``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, dtype=None, device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias=bias, dtype=dtype,
                         device=device)
        self.offset_conv = Conv2d(in_channels, 2 * math.prod(self.kernel_size), kernel_size, stride, padding,
                                  dilation, dtype=dtype, device=device)
        self.offset_conv.weight.data[...] = 0
        self.offset_conv.bias.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        offset = self.offset_conv(x)
        return deform_conv2d(x, offset, self.weight, self.bias, self.stride, self.padding, self.dilation)
