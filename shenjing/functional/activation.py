"""Activation functions (seed 000 §4.4, seed 001 激活函数, seed 004 §3) and softmax with temperature.

Element-wise activations are built by :func:`_pointwise` from a value ``f(x, *params)`` and a
derivative ``df(x, f(x), *params)``; the backward is ``grad * df``. ``sigmoid``, ``tanh``,
``relu`` and ``abs`` live in :mod:`shenjing.functional.elementwise`, as do the overflow-free
``stable_sigmoid`` and ``stable_softplus`` the formulas here are written with.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import as_tensor, normalize_axes
from . import elementwise as E

__all__ = [
    "hardtanh", "relu6", "leaky_relu", "prelu", "rrelu", "elu", "gelu", "softplus", "softmax", "log_softmax",
    "maxout", "silu", "mish", "selu", "logsigmoid", "softsign", "hardsigmoid", "hardswish",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def erf(x):
    """The error function on a raw array (SciPy's / CuPy's ufunc when present, else ``math.erf``)."""
    xp = B.xp_of(x)
    try:
        if xp is np:
            from scipy.special import erf as impl
        else:
            from cupyx.scipy.special import erf as impl
    except ImportError:
        impl = np.vectorize(math.erf, otypes=[x.dtype])
    return impl(x).astype(x.dtype, copy=False)


class Erf(Function):
    """erf(x); d/dx = 2/√π · e^{-x²}."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return erf(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * (2 / math.sqrt(math.pi)) * D.exp(-ctx.x * ctx.x)


_erf = D.dual(erf, Erf)


def _pointwise(name: str, f, df, doc: str):
    """A Function class computing ``f`` element-wise, with backward ``grad * df(x, out, *params)``.

    ``df`` is written with ``_dispatch`` (masks on ``D.raw(x)``), so it also runs on graph values
    and every activation built here is differentiable to any order.
    """

    def forward(ctx, x, *params):
        out = f(x, *params)
        ctx.x, ctx.out, ctx.params = x, out, params
        return out

    def backward(ctx, grad):
        return (grad * df(ctx.x, ctx.out, *ctx.params),) + (None,) * len(ctx.params)

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward),
                                    "__doc__": doc, "differentiable_backward": True})


def _as_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


Hardtanh = _pointwise(
    "Hardtanh",
    lambda x, lo, hi: np.clip(x, lo, hi),
    lambda x, out, lo, hi: ((D.raw(x) > lo) & (D.raw(x) < hi)).astype(x.dtype),
    "clip(x, lo, hi); derivative 1 strictly inside (lo, hi), else 0.",
)
LeakyRelu = _pointwise(
    "LeakyRelu",
    lambda x, a: np.where(x > 0, x, x * a),
    lambda x, out, a: np.where(D.raw(x) > 0, x.dtype.type(1), x.dtype.type(a)),
    "x for x > 0, a·x otherwise.",
)
Elu = _pointwise(
    "Elu",
    lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
    lambda x, out, a: D.where(D.raw(x) > 0, x.dtype.type(1), out + x.dtype.type(a)),
    "x for x > 0, α(eˣ - 1) otherwise; derivative 1 or f(x) + α.",
)
GeluExact = _pointwise(
    "GeluExact",
    lambda x: 0.5 * x * (1 + erf(x * (1 / math.sqrt(2)))),
    lambda x, out: 0.5 * (1 + _erf(x * (1 / math.sqrt(2)))) + x * D.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi)),
    "x·Φ(x); derivative Φ(x) + x·φ(x).",
)


def _gelu_tanh_inner(x):
    return D.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))


GeluTanh = _pointwise(
    "GeluTanh",
    lambda x: 0.5 * x * (1 + _gelu_tanh_inner(x)),
    lambda x, out: _gelu_tanh_grad(x),
    "½x(1 + tanh(√(2/π)(x + 0.044715x³))).",
)


def _gelu_tanh_grad(x):
    t = _gelu_tanh_inner(x)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)


def _softplus_value(x, beta, threshold):
    z = x * beta
    return np.where(z > threshold, x, E.stable_softplus(z) / beta)


Softplus = _pointwise(
    "Softplus",
    _softplus_value,
    lambda x, out, beta, threshold: D.where(D.raw(x) * beta > threshold, x.dtype.type(1), D.sigmoid(x * beta)),
    "log(1 + e^{βx})/β, linear past the threshold; derivative σ(βx).",
)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _mish_grad(x, out):
    t = D.tanh(E.stable_softplus(x))
    return t + x * (1 - t * t) * D.sigmoid(x)


Silu = _pointwise(
    "Silu", lambda x: x * E.stable_sigmoid(x),
    lambda x, out: D.sigmoid(x) * (1 + x * (1 - D.sigmoid(x))),
    "x·σ(x); derivative σ(x)(1 + x(1 - σ(x))).",
)
Mish = _pointwise(
    "Mish", lambda x: x * np.tanh(E.stable_softplus(x)), _mish_grad,
    "x·tanh(softplus(x)); derivative tanh(sp) + x·sech²(sp)·σ(x).",
)
Selu = _pointwise(
    "Selu",
    lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))).astype(x.dtype),
    lambda x, out: D.where(D.raw(x) > 0, x.dtype.type(_SELU_SCALE), out + x.dtype.type(_SELU_SCALE * _SELU_ALPHA)),
    "λ·(x if x > 0 else α(eˣ - 1)) with PyTorch's α and λ.",
)
LogSigmoid = _pointwise(
    "LogSigmoid", lambda x: -E.stable_softplus(-x),
    lambda x, out: D.sigmoid(-x),
    "log σ(x) = -softplus(-x); derivative σ(-x).",
)
Softsign = _pointwise(
    "Softsign", lambda x: x / (1 + np.abs(x)), lambda x, out: 1 / (1 + D.absolute(x)) ** 2,
    "``x / (1 + |x|)``; derivative ``1 / (1 + |x|)²``.",
)
Hardsigmoid = _pointwise(
    "Hardsigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype),
    lambda x, out: (((D.raw(x) > -3) & (D.raw(x) < 3)) / 6).astype(x.dtype),
    "clip(x/6 + ½, 0, 1); derivative 1/6 inside (-3, 3).",
)
Hardswish = _pointwise(
    "Hardswish", lambda x: x * np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype),
    lambda x, out: D.where(D.raw(x) < -3, 0, D.where(D.raw(x) <= 3, x / 3 + 0.5, 1)),
    "x·hardsigmoid(x); derivative 0 below -3, x/3 + ½ up to 3, then 1 (PyTorch's).",
)


def _unary(fn_class, name: str, doc: str):
    """The public function ``name(x)`` that applies ``fn_class`` element-wise (any shape)."""

    def apply(x: Tensor) -> Tensor:
        return fn_class.apply(x)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc
    return apply


silu = _unary(Silu, "silu", "SiLU(x) = x·σ(x) (swish). Any shape.")
mish = _unary(Mish, "mish", "Mish(x) = x·tanh(softplus(x)). Any shape.")
selu = _unary(Selu, "selu", "SELU(x) = λ(x if x > 0 else α(eˣ - 1)), λ ≈ 1.0507, α ≈ 1.6733. Any shape.")
logsigmoid = _unary(LogSigmoid, "logsigmoid", "log σ(x), computed without overflow. Any shape.")
softsign = _unary(Softsign, "softsign", "``x / (1 + |x|)``. Any shape.")
hardsigmoid = _unary(Hardsigmoid, "hardsigmoid", "ReLU6(x + 3) / 6, a piecewise-linear sigmoid. Any shape.")
hardswish = _unary(Hardswish, "hardswish", "x·ReLU6(x + 3) / 6. Any shape.")


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """HardTanh(x) = min(max(x, min_val), max_val) (seed 001 激活函数: hard tanh). Any shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.hardtanh(sj.tensor([-3.0, 0.5, 3.0]))
    tensor([-1. ,  0.5,  1. ])
    """
    lo, hi = _as_float(min_val, "hardtanh: min_val"), _as_float(max_val, "hardtanh: max_val")
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({lo}) must not exceed max_val ({hi})")
    return Hardtanh.apply(x, lo, hi)


def relu6(x: Tensor) -> Tensor:
    """ReLU6(x) = min(6, max(0, x)): the clipped ReLU of seed 004 §3.1.3 (against exploding gradients).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.relu6(sj.tensor([-1.0, 3.0, 9.0]))
    tensor([0., 3., 6.])
    """
    return Hardtanh.apply(x, 0.0, 6.0)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """LeakyReLU(x) = x if x > 0 else a·x (seed 000 §4.4.4, seed 004 §3.1.3). Any shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.leaky_relu(sj.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2,  3. ])
    """
    return LeakyRelu.apply(x, _as_float(negative_slope, "leaky_relu: negative_slope"))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU(x) = x if x > 0 else α(eˣ - 1) (PyTorch's ELU). Any shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.elu(sj.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.63212055,  0.        ,  2.        ])
    """
    return Elu.apply(x, _as_float(alpha, "elu: alpha"))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2)) (seed 004 §3.1.4, BERT form).

    ``approximate='tanh'`` gives the OpenAI form ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    The notes write erf(z) where erf(z/√2) is meant; this is the published GELU. Any shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x = sj.tensor([-1.0, 0.0, 1.0])
    >>> F.gelu(x), F.gelu(x, approximate="tanh")
    (tensor([-0.15865526,  0.        ,  0.8413447 ]), tensor([-0.158808,  0.      ,  0.841192]))
    """
    if approximate == "none":
        return GeluExact.apply(x)
    if approximate == "tanh":
        return GeluTanh.apply(x)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus(x) = (1/β) log(1 + e^{βx}); equals x where βx > threshold (seed 001 激活函数). Any shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.softplus(sj.tensor([0.0, 30.0]))
    tensor([ 0.6931472, 30.       ])
    """
    beta = _as_float(beta, "softplus: beta")
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(x, beta, _as_float(threshold, "softplus: threshold"))


class Prelu(Function):
    """x if x > 0 else a_c·x with a learned slope per channel (dim 1), or one shared slope."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight):
        ctx.x, ctx.weight = x, weight
        return np.where(x > 0, x, _per_channel(weight, x.ndim) * x)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.x, _per_channel(ctx.weight, ctx.x.ndim)
        positive = D.raw(x) > 0
        gx = D.where(positive, grad, grad * w) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            local = D.where(positive, 0, grad * x)
            axes = tuple(i for i in range(x.ndim) if not (i == 1 and int(np.prod(w.shape)) > 1))
            gw = local.sum(axis=axes).reshape(ctx.weight.shape)
        return gx, gw


def _per_channel(weight, ndim: int):
    """PReLU's slopes shaped to broadcast over dim 1 of an ``ndim``-d input (one shared slope as is)."""
    shared = int(np.prod(weight.shape)) == 1
    return weight if ndim < 2 or shared else weight.reshape((1, -1) + (1,) * (ndim - 2))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """PReLU(x) = max(0, x) + a·min(0, x), ``a`` learned (seed 001 激活函数, seed 004 §3.1.3).

    ``weight`` has one element (shared) or C elements, one per channel of dim 1 of ``x``.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.prelu(sj.tensor([-2.0, 3.0]), sj.tensor([0.25]))
    tensor([-0.5,  3. ])
    """
    weight = as_tensor(weight)
    if weight.numel() > 1 and (x.ndim < 2 or x.shape[1] != weight.numel()):
        raise ValueError(
            f"prelu: weight has {weight.numel()} elements but the input's channel dim is "
            f"{x.shape[1] if x.ndim >= 2 else 'missing'} (input shape {x.shape})"
        )
    return Prelu.apply(x, weight)


def rrelu(x: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """RReLU: x if x ≥ 0 else a·x (seed 004 §3.1.3, seed 001 激活函数).

    While training, ``a ~ U(lower, upper)`` is drawn per element; in evaluation ``a = (lower + upper)/2``.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.rrelu(sj.tensor([-3.0, 2.0]), training=False)
    tensor([-0.6875,  2.    ])
    """
    lower, upper = _as_float(lower, "rrelu: lower"), _as_float(upper, "rrelu: upper")
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: need 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return LeakyRelu.apply(x, (lower + upper) / 2)
    gen = B.rng(x.device)
    slopes = gen.random(x.shape, dtype=x.dtype if x.dtype in (B.float32, B.float64) else B.float64)
    slopes = (lower + (upper - lower) * slopes).astype(x.dtype, copy=False)
    factor = np.where(x.data >= 0, x.dtype.type(1), slopes)
    return E.mul(x, Tensor._wrap(factor))


def _class_axis(x: Tensor, dim) -> int:
    (axis,) = normalize_axes(dim, x.ndim)
    return axis


def _temperature(temperature) -> float:
    t = _as_float(temperature, "temperature")
    if t <= 0:
        raise ValueError(f"temperature must be positive, got {t}")
    return t


def log_softmax_array(z, axis: int):
    """log softmax of a raw array along ``axis``: z - m - log Σ exp(z - m)."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """s = softmax(x / T); backward: (s ⊙ (g - Σ g·s)) / T."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axis, t):
        z = x / t if t != 1 else x
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        ctx.out, ctx.axis, ctx.t = e, axis, t
        return e

    @staticmethod
    def backward(ctx, grad):
        s = ctx.out
        gz = s * (grad - (grad * s).sum(axis=ctx.axis, keepdims=True))
        return (gz / ctx.t if ctx.t != 1 else gz), None, None


class LogSoftmax(Function):
    """y = log softmax(x / T); backward: (g - softmax·Σ g) / T."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axis, t):
        out = log_softmax_array(x / t if t != 1 else x, axis)
        ctx.out, ctx.axis, ctx.t = out, axis, t
        return out

    @staticmethod
    def backward(ctx, grad):
        gz = grad - D.exp(ctx.out) * grad.sum(axis=ctx.axis, keepdims=True)
        return (gz / ctx.t if ctx.t != 1 else gz), None, None


def softmax(x: Tensor, dim: int = -1, temperature: float = 1.0) -> Tensor:
    """softmax(x)_i = e^{x_i/T} / Σ_j e^{x_j/T} along ``dim`` (seed 004 §3.2; T: soft softmax, §4.2.3.2).

    Stable: the maximum is subtracted first. T = 1 is the plain softmax; larger T flattens it.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> z = sj.tensor([2.0, 1.0, 0.0])
    >>> F.softmax(z), F.softmax(z, temperature=10.0)
    (tensor([0.66524094, 0.24472846, 0.09003057]), tensor([0.36716542, 0.33222502, 0.30060962]))
    """
    return Softmax.apply(x, _class_axis(x, dim), _temperature(temperature))


def log_softmax(x: Tensor, dim: int = -1, temperature: float = 1.0) -> Tensor:
    """log softmax(x/T)_i = x_i/T - log Σ_j e^{x_j/T} along ``dim`` (log-sum-exp form; seed 004 §4.2.3.1).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.log_softmax(sj.tensor([1000.0, 0.0]))
    tensor([    0., -1000.])
    """
    return LogSoftmax.apply(x, _class_axis(x, dim), _temperature(temperature))


def maxout(x: Tensor, pieces: int) -> Tensor:
    """Maxout over the last dim: (..., m·k) -> (..., m), h_i = max_{j<k} z_{i,j} (seed 000 §4.4.5).

    Consecutive groups of ``pieces`` features are pooled; tied maxima share the gradient.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.maxout(sj.tensor([[1.0, 5.0, 2.0, 0.0, -1.0, 3.0]]), 3)
    tensor([[5., 3.]])
    """
    from .reduction import amax
    from .shape import reshape

    if not isinstance(pieces, int) or pieces < 1 or x.shape[-1] % pieces:
        raise ValueError(f"maxout: pieces must be a positive int dividing the last dim {x.shape[-1]}, got {pieces!r}")
    return amax(reshape(x, x.shape[:-1] + (x.shape[-1] // pieces, pieces)), dim=-1)
