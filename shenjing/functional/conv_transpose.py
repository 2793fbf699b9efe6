"""Transposed convolutions (PyTorch's ``conv_transpose1d/2d``): the adjoint of a convolution, which
up-samples. Its forward is a convolution's input gradient and its input gradient a convolution, so
both reuse the lowering of :mod:`shenjing.functional.conv`."""

from __future__ import annotations

from ..autograd import Function
from ..tensor import Tensor
from ._util import allow_unbatched, as_tensor
from .conv import (Geometry, Lowering, column_sums, conv_forward, input_grad, int_tuple, tap_slices, weight_grad,
                   weight_matrices)
from .linalg import einsum
from .shape import scatter_index

__all__ = ["conv_transpose1d", "conv_transpose2d"]


def transposed_size(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    """H_out = (H - 1)·s - 2p + d·(k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class ConvTranspose2dFunction(Function):
    """y = Cᵀx for the convolution C with weight W (C_in, C_out/G, kh, kw) read as (O, C/G, kh, kw):
    y[n, o, s·h + d·i - p, s·w + d·j - p] += Σ_c W[c, o, i, j] · x[n, c, h, w], plus b[o]."""

    @staticmethod
    def forward(ctx, x, weight, bias, geom, out_hw):
        n, _, h, w = x.shape
        c_out = weight.shape[1] * geom.groups
        (pt, pb), (pl, pr) = geom.pads
        padded = (n, out_hw[0] + pt + pb, out_hw[1] + pl + pr, c_out)
        wm = weight_matrices(weight, geom.groups)
        out = input_grad(x.transpose(0, 2, 3, 1), wm, (n, c_out, *out_hw), padded, weight.shape[2:], (h, w), geom)
        if bias is not None:
            out = out + bias[:, None, None]
        ctx.x, ctx.weight, ctx.geom = x, weight, geom
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, geom = ctx.x, ctx.weight, ctx.geom
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gb = column_sums(grad.transpose(0, 2, 3, 1).reshape(-1, grad.shape[1])) if need_b else None
        gx = conv_forward(grad, weight, None, geom)[0][:, :, : x.shape[2], : x.shape[3]] if need_x else None
        gw = None
        if need_w:
            low = Lowering(grad, x.shape[2:], weight.shape[2:], geom)
            gw = weight_grad(x.transpose(0, 2, 3, 1), low, weight.shape)
        return gx, gw, gb, None, None


def _conv_transpose_composite(x, weight, bias, geom, out_hw):
    """:class:`ConvTranspose2dFunction` with differentiable ops (its composite): each kernel tap's product
    x · W[:, :, i, j] (per group) added into the strided positions it reaches of the padded output."""
    x, weight = as_tensor(x), as_tensor(weight)
    n, c, h, w = x.shape
    g, (kh, kw) = geom.groups, weight.shape[2:]
    o = weight.shape[1]
    (pt, pb), (pl, pr) = geom.pads
    padded = (n, g * o, out_hw[0] + pt + pb, out_hw[1] + pl + pr)
    grouped_x, grouped_w = x.reshape(n, g, c // g, h, w), weight.reshape(g, c // g, o, kh, kw)
    out = None
    for i in range(kh):
        for j in range(kw):
            term = einsum("ngchw,gco->ngohw", grouped_x, grouped_w[:, :, :, i, j]).reshape(n, g * o, h, w)
            placed = scatter_index(term, padded, (slice(None), slice(None), *tap_slices((i, j), (h, w), geom)))
            out = placed if out is None else out + placed
    out = out[:, :, pt : pt + out_hw[0], pl : pl + out_hw[1]]
    return out if bias is None else out + as_tensor(bias).reshape(1, -1, 1, 1)


ConvTranspose2dFunction.composite = staticmethod(_conv_transpose_composite)


def _check(input: Tensor, weight: Tensor, bias, nd: int, groups: int, name: str) -> None:
    if input.ndim != nd + 2 or weight.ndim != nd + 2:
        raise ValueError(f"{name}: expected input of {nd + 2} dims (N, C_in, *spatial) and weight of {nd + 2} dims "
                         f"(C_in, C_out/groups, *kernel), got shapes {tuple(input.shape)} and {tuple(weight.shape)}")
    if not isinstance(groups, int) or groups < 1 or input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"{name}: input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)} and "
                         f"groups={groups!r} do not match (need C_in = weight.shape[0], divisible by groups)")
    if bias is not None and tuple(bias.shape) != (weight.shape[1] * groups,):
        raise ValueError(f"{name}: bias shape {tuple(bias.shape)} does not match C_out {weight.shape[1] * groups}")
    for t in (weight, bias):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} and parameter dtype {t.dtype} differ")


@allow_unbatched(4)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """2-d transposed convolution ("deconvolution"), PyTorch's ``conv_transpose2d``: the adjoint of
    ``conv2d`` with the same stride, padding and dilation, so it maps a conv's output shape back to
    its input shape (up-sampling by the stride).

    Shapes: input (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out,) ->
    (N, C_out, H_out, W_out), H_out = (H - 1)·s - 2p + d·(kh - 1) + output_padding + 1;
    ``output_padding`` < max(stride, dilation) picks among the input sizes a strided conv maps alike.

    >>> import shenjing as sj
    >>> conv_transpose2d(sj.ones(1, 2, 3, 3), sj.ones(2, 4, 3, 3), stride=2, padding=1, output_padding=1).shape
    (1, 4, 6, 6)
    """
    input, weight = as_tensor(input), as_tensor(weight)
    _check(input, weight, bias, 2, groups, "conv_transpose2d")
    stride, dilation = int_tuple(stride, 2, "stride"), int_tuple(dilation, 2, "dilation")
    padding = int_tuple(padding, 2, "padding", minimum=0)
    output_padding = int_tuple(output_padding, 2, "output_padding", minimum=0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than stride {stride} "
                         f"or dilation {dilation}")
    out_hw = tuple(transposed_size(*a) for a in zip(input.shape[2:], weight.shape[2:], stride, padding,
                                                     output_padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"conv_transpose2d: input shape {tuple(input.shape)} gives an empty output {out_hw}")
    geom = Geometry(stride, tuple((p, p) for p in padding), dilation, groups)
    return ConvTranspose2dFunction.apply(input, weight, bias, geom, out_hw)


@allow_unbatched(3)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """1-d transposed convolution, PyTorch's ``conv_transpose1d``: input (N, C_in, L), weight
    (C_in, C_out/groups, k) -> (N, C_out, (L - 1)·s - 2p + d·(k - 1) + output_padding + 1); computed
    as a conv_transpose2d over a height-1 image.

    >>> import shenjing as sj
    >>> conv_transpose1d(sj.ones(2, 3, 5), sj.ones(3, 1, 4), stride=2).shape
    (2, 1, 12)
    """
    input, weight = as_tensor(input), as_tensor(weight)
    _check(input, weight, bias, 1, groups, "conv_transpose1d")
    (stride,), (dilation,) = int_tuple(stride, 1, "stride"), int_tuple(dilation, 1, "dilation")
    (padding,) = int_tuple(padding, 1, "padding", minimum=0)
    (output_padding,) = int_tuple(output_padding, 1, "output_padding", minimum=0)
    out = conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), (0, padding),
                           (0, output_padding), groups, (1, dilation))
    return out.squeeze(2).contiguous()  # contiguous as PyTorch's, so .view works on it
