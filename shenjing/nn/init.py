"""Parameter initialisers (seed 001 参数初始化, seed 003 §4.3.2), PyTorch's formulas and fan rules.

Every function fills a Tensor in place (without recording a graph) and returns it. Random draws
come from shenjing's generator (``shenjing.manual_seed``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend as B
from ..tensor import Tensor, no_grad
from .module import Parameter

__all__ = [
    "calculate_gain", "zeros_", "ones_", "constant_", "uniform_", "normal_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "lecun_normal_", "orthogonal_", "trunc_normal_", "uniform_parameter",
]

_LINEAR_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear, conv and sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2 / (1 + a²)) with slope
    ``param`` (default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _check(tensor) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor, got {type(tensor).__name__}")
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in = in · receptive field, fan_out = out · receptive field for a (out, in, *kernel) weight."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        tensor.data[...] = values
    return tensor


def _generator(tensor: Tensor):
    return B.rng(tensor.device)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(_check(tensor), 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(_check(tensor), 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(_check(tensor), val)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Draw from U(a, b): mean (a + b)/2, bounds [a, b) (seed 001 参数初始化: uniform)."""
    if a > b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    draw = _generator(_check(tensor)).random(tensor.shape, dtype=B.float64)
    return _fill(tensor, a + (b - a) * draw)


def uniform_parameter(shape: tuple, bound: float, dtype=None, device=None) -> Parameter:
    """A new Parameter of ``shape`` drawn from U(-bound, bound): PyTorch's default for the weights and
    biases of convolution and recurrent layers, with bound = 1/√fan_in (seed 001 参数初始化: uniform).

    >>> p = uniform_parameter((2, 3), bound=0.5)
    >>> p.shape, bool((abs(p.numpy()) <= 0.5).all())
    ((2, 3), True)
    """
    return uniform_(Parameter(B.xp_for(device).empty(shape, dtype=B.as_dtype(dtype))), -bound, bound)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Draw from N(mean, std²) (seed 001 参数初始化: Gaussian)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    draw = _generator(_check(tensor)).standard_normal(tensor.shape, dtype=B.float64)
    return _fill(tensor, mean + std * draw)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> Tensor:
    """N(mean, std²) restricted to [a, b] (seed 003 §4.3.2: truncated normal); out-of-range draws are redrawn."""
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    gen = _generator(_check(tensor))
    xp = B.xp_for(tensor.device)
    values = mean + std * gen.standard_normal(tensor.shape, dtype=B.float64)
    bad = (values < a) | (values > b)
    for _ in range(1000):
        n_bad = int(bad.sum())
        if not n_bad:
            break
        values[bad] = mean + std * gen.standard_normal(n_bad, dtype=B.float64)
        bad = (values < a) | (values > b)
    else:
        values = xp.clip(values, a, b)
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain·√(6 / (fan_in + fan_out)) (seed 001 参数初始化: Xavier)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_check(tensor))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_check(tensor))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Tensor, a, mode: str, nonlinearity: str) -> float:
    return calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He uniform: U(-b, b), b = gain·√(3 / fan) (seed 001 参数初始化: He/Kaiming; seed 003 §4.3.2)."""
    bound = math.sqrt(3.0) * _kaiming_std(_check(tensor), a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He normal: N(0, std²), std = gain / √fan (gain = √2 for ReLU)."""
    return normal_(tensor, 0.0, _kaiming_std(_check(tensor), a, mode, nonlinearity))


def lecun_normal_(tensor: Tensor) -> Tensor:
    """LeCun normal: N(0, 1/fan_in) (the variance-preserving init for linear/SELU layers)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(_check(tensor))
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``: Q of the QR decomposition of a Gaussian matrix,
    signs fixed by diag(R) (Saxe et al.; PyTorch's method). Dims after the first are flattened.
    """
    if _check(tensor).ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor with at least 2 dims, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = B.xp_for(tensor.device)
    flat = _generator(tensor).standard_normal((rows, cols), dtype=B.float64)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
