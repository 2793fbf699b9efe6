"""Normalisation: batch, layer, instance and group norm (seed 000 §5.1, seed 004 §2.4.2).

All four are one fused op, :class:`Normalize`: y = γ x̂ + β with x̂ = (x - μ) / √(σ² + ε), where
μ and σ² are taken over some axes of the input (the batch statistics) or given (running
statistics in evaluation). They differ only in the axes: BN over (N, H, W) per channel, LN over
the trailing normalised dims, IN over (H, W) per sample and channel, GN over (C/G, H, W) per group.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from . import elementwise as E
from . import reduction as R
from .shape import reshape

__all__ = ["batch_norm", "layer_norm", "instance_norm", "group_norm", "normalize"]


class Normalize(Function):
    """y = γ (x - μ)/√(σ² + ε) + β.

    With batch statistics (μ, σ² computed from x over ``axes``, biased σ²) the backward is
    dx = (1/√(σ²+ε)) (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = γ g; with given statistics
    dx = γ g / √(σ²+ε). dγ = Σ g x̂ and dβ = Σ g over the axes γ is broadcast along.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, axes, param_shape, batch_stats, centered=None):
        invstd = 1 / np.sqrt(var + eps)
        xhat = (x - mean if centered is None else centered) * invstd
        w = None if weight is None else weight.reshape(param_shape)
        out = xhat if w is None else xhat * w
        if bias is not None:
            if out is xhat:
                out = xhat + bias.reshape(param_shape)
            else:
                out += bias.reshape(param_shape)
        ctx.xhat, ctx.invstd, ctx.w, ctx.axes, ctx.batch_stats = xhat, invstd, w, axes, batch_stats
        ctx.param_shape = param_shape
        ctx.wshape = None if weight is None else weight.shape
        ctx.bshape = None if bias is None else bias.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        xhat, axes, w = ctx.xhat, ctx.axes, ctx.w
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes_p = _param_axes(grad.ndim, ctx.param_shape)
        gx = gw = gb = None
        if need_x and ctx.batch_stats and (w is None or axes_p == axes):
            # Σg and Σg·x̂ over the statistics' axes serve dx and, when the axes agree (BN), dγ and dβ
            sum_g = grad.sum(axis=axes, keepdims=True)
            sum_gx = (grad * xhat).sum(axis=axes, keepdims=True)
            count = grad.size // sum_g.size
            gx = xhat * (sum_gx * (-1.0 / count))
            gx += grad
            gx -= sum_g * (1.0 / count)
            gx *= ctx.invstd if w is None else ctx.invstd * w
            if axes_p == axes:
                gw = sum_gx.reshape(ctx.wshape) if need_w else None
                gb = sum_g.reshape(ctx.bshape) if need_b else None
                return gx, gw, gb, None, None, None, None, None, None, None
        elif need_x:
            gh = grad if w is None else grad * w
            if ctx.batch_stats:
                gx = ctx.invstd * (gh - gh.mean(axis=axes, keepdims=True)
                                   - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
            else:
                gx = gh * ctx.invstd
        if need_w:
            gw = (grad * xhat).sum(axis=axes_p).reshape(ctx.wshape)
        if need_b:
            gb = grad.sum(axis=axes_p).reshape(ctx.bshape)
        return gx, gw, gb, None, None, None, None, None, None, None


def _normalize_composite(x, weight, bias, mean, var, eps, axes, param_shape, batch_stats, centered=None):
    """:class:`Normalize` written with differentiable ops (its ``composite``): the batch statistics
    are recomputed from ``x`` so that second derivatives flow through μ and σ² too."""
    if batch_stats:
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
    else:
        centered = x - mean
    out = centered * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight.reshape(param_shape)
    return out if bias is None else out + bias.reshape(param_shape)


Normalize.composite = staticmethod(_normalize_composite)


def _param_axes(ndim: int, param_shape) -> tuple:
    """The axes a parameter of ``param_shape`` (right-aligned) is broadcast along."""
    padded = (1,) * (ndim - len(param_shape)) + tuple(param_shape)
    return tuple(i for i, p in enumerate(padded) if p == 1)


def _check_param(param, size: int, name: str, what: str) -> None:
    if param is not None and param.numel() != size:
        raise ValueError(f"{name}: {what} must have {size} elements, got shape {param.shape}")


def _moments(x, axes):
    """(mean, biased variance, x - mean) over ``axes``, statistics with kept dims."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return mean, (centered * centered).mean(axis=axes, keepdims=True), centered


def _update_running(running_mean, running_var, mean, var, count: int, momentum: float) -> None:
    """running ← (1 - m)·running + m·batch, with the unbiased variance m/(m-1)·σ²_B (seed 004 §2.4.2.1)."""
    if running_mean is not None:
        running_mean.data *= 1 - momentum
        running_mean.data += momentum * mean.reshape(running_mean.shape)
    if running_var is not None:
        running_var.data *= 1 - momentum
        running_var.data += (momentum * count / (count - 1)) * var.reshape(running_var.shape)


def _normalize(x: Tensor, weight, bias, mean, var, eps, axes, param_shape, batch_stats, centered=None) -> Tensor:
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    return Normalize.apply(x, weight, bias, mean, var, float(eps), axes, param_shape, batch_stats, centered)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over (N, L) or (N, H, W) per channel of dim 1 (seed 000 §5.1, 004 §2.4.2.1).

    Training: μ_B = mean, σ²_B = biased variance of the batch; x̂ = (x - μ_B)/√(σ²_B + ε);
    y = γ x̂ + β. The running statistics (updated in place when given) follow
    r ← (1 - momentum) r + momentum·s with the unbiased m/(m-1)·σ²_B for the variance.
    Evaluation (``training=False``) normalises with the running statistics.
    ``input`` is (N, C), (N, C, L) or (N, C, H, W); weight, bias and the running stats are (C,).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x = sj.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> F.batch_norm(x, None, None, training=True)
    tensor([[-0.999995, -1.      ],
            [ 0.999995,  1.      ]])
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {input.shape}")
    channels = input.shape[1]
    for t, what in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"), (running_var, "running_var")):
        _check_param(t, channels, "batch_norm", what)
    axes = (0,) + tuple(range(2, input.ndim))
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.data.size // channels
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"of shape {input.shape}")
        mean, var, centered = _moments(input.data, axes)
        _update_running(running_mean, running_var, mean, var, count, momentum)
        return _normalize(input, weight, bias, mean, var, eps, axes, param_shape, True, centered)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    mean, var = reshape(running_mean, param_shape), reshape(running_var, param_shape)
    return _normalize(input, weight, bias, mean, var, eps, axes, param_shape, False)


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the trailing ``normalized_shape`` dims of each sample (seed 004 §2.4.2.1).

    x̂ = (x - μ)/√(σ² + ε) with μ, σ² (biased) of each sample's last dims; y = γ x̂ + β with γ, β
    of shape ``normalized_shape``. Same in training and evaluation.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.layer_norm(sj.tensor([[1.0, 2.0, 3.0]]), (3,))
    tensor([[-1.2247356,  0.       ,  1.2247356]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape or len(shape) > input.ndim:
        raise ValueError(f"layer_norm: input shape {input.shape} does not end with normalized_shape {shape}")
    size = int(np.prod(shape))
    _check_param(weight, size, "layer_norm", "weight")
    _check_param(bias, size, "layer_norm", "bias")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mean, var, centered = _moments(input.data, axes)
    return _normalize(input, weight, bias, mean, var, eps, axes, shape, True, centered)


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation: each (sample, channel) over its spatial dims (seed 004 §2.4.2.1).

    ``input`` is (N, C, L) or (N, C, H, W). Running statistics, when given, are updated with the
    batch average of the per-instance mean and unbiased variance, and used when
    ``use_input_stats=False``.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> y = F.instance_norm(sj.randn(2, 3, 4, 4) * 5 + 1)
    >>> round(abs(float(y[0, 0].mean())), 4), round(float(y[0, 0].std(correction=0)), 3)
    (0.0, 1.0)
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: input must be (N, C, L) or (N, C, H, W), got shape {input.shape}")
    channels = input.shape[1]
    for t, what in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"), (running_var, "running_var")):
        _check_param(t, channels, "instance_norm", what)
    axes = tuple(range(2, input.ndim))
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        mean, var = reshape(running_mean, param_shape), reshape(running_var, param_shape)
        return _normalize(input, weight, bias, mean, var, eps, axes, param_shape, False)
    count = int(np.prod(input.shape[2:]))
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element, got input of shape {input.shape}")
    mean, var, centered = _moments(input.data, axes)
    _update_running(running_mean, running_var, mean.mean(axis=0), var.mean(axis=0), count, momentum)
    return _normalize(input, weight, bias, mean, var, eps, axes, param_shape, True, centered)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Group normalisation: channels split into ``num_groups`` groups, each normalised over its
    channels and spatial dims per sample (seed 004 §2.4.2.1); γ, β are per channel (C,).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.group_norm(sj.randn(2, 6, 5), num_groups=3).shape
    (2, 6, 5)
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm: input must be (N, C, ...), got shape {input.shape}")
    n, channels = input.shape[:2]
    if not isinstance(num_groups, int) or num_groups <= 0 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups must be a positive int dividing C={channels}, got {num_groups!r}")
    _check_param(weight, channels, "group_norm", "weight")
    _check_param(bias, channels, "group_norm", "bias")
    grouped = reshape(input, (n, num_groups, channels // num_groups) + input.shape[2:])
    axes = tuple(range(2, grouped.ndim))
    param_shape = (1, num_groups, channels // num_groups) + (1,) * (input.ndim - 2)
    mean, var, centered = _moments(grouped.data, axes)
    out = _normalize(grouped, weight, bias, mean, var, eps, axes, param_shape, True, centered)
    return reshape(out, input.shape)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, ε) along ``dim`` (PyTorch's ``F.normalize``): unit-norm vectors.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.normalize(sj.tensor([[3.0, 4.0]]))
    tensor([[0.6, 0.8]])
    """
    if p <= 0:
        raise ValueError(f"normalize: p must be positive, got {p}")
    return input / E.maximum(R.norm(input, p, dim, keepdim=True), eps)
