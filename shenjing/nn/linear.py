"""Fully-connected layers: Linear, Maxout and RBF units."""

from __future__ import annotations

import math

from .. import _backend as B
from ..functional.activation import maxout
from ..functional.elementwise import exp
from ..functional.linalg import linear
from ..functional.reduction import sum as reduce_sum
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Maxout", "RBF"]


def _check_features(name: str, **values) -> None:
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: {key} must be a positive int, got {value!r}")


def _empty(shape, dtype, device) -> Parameter:
    return Parameter(B.xp_for(device).empty(shape, dtype=B.as_dtype(dtype)))


def reset_linear_parameters(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default: W ~ kaiming_uniform(a=√5), i.e. U(-1/√fan_in, 1/√fan_in); b ~ U(-1/√fan_in, 1/√fan_in)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x Wᵀ + b (seed 000 §2.3); W is (out_features, in_features). Input (*, in) -> (*, out).

    Default initialisation as PyTorch's (see :func:`reset_linear_parameters`).
    Parameters: in·out + out (the notes' n1·n2 + n2).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, device=None):
        super().__init__()
        _check_features("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty((out_features, in_features), dtype, device)
        if bias:
            self.bias = _empty((out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_linear_parameters(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(f"Linear: expected input of shape (*, {self.in_features}), got {x.shape}")
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Maxout(Linear):
    """Maxout unit (seed 000 §4.4.5, seed 001 激活函数): h_i = max_{j<k} (x W_{ij}ᵀ + b_{ij}).

    ``k`` affine pieces per output; ``weight`` is (out·k, in) with the pieces of output i in
    rows i·k .. i·k + k - 1. Input (*, in) -> (*, out).
    """

    def __init__(self, in_features: int, out_features: int, k: int, bias: bool = True, dtype=None, device=None):
        _check_features("Maxout", in_features=in_features, out_features=out_features, k=k)
        super().__init__(in_features, out_features * k, bias, dtype, device)
        self.out_features, self.k = out_features, k

    def forward(self, x: Tensor) -> Tensor:
        return maxout(super().forward(x), self.k)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, k={self.k}"


class RBF(Module):
    """Radial-basis units: h_i = exp(-||c_i - x||² / σ_i²) (seed 001 激活函数: RBF).

    ``centers`` (out, in) ~ U(-1, 1), ``log_sigma`` (out,) = 0 (σ = 1). Input (*, in) -> (*, out).
    ||c - x||² is expanded as ||x||² - 2 x·c + ||c||² (one matrix product).
    """

    def __init__(self, in_features: int, out_features: int, dtype=None, device=None):
        super().__init__()
        _check_features("RBF", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.centers = _empty((out_features, in_features), dtype, device)
        self.log_sigma = _empty((out_features,), dtype, device)
        init.uniform_(self.centers, -1.0, 1.0)
        init.zeros_(self.log_sigma)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(f"RBF: expected input of shape (*, {self.in_features}), got {x.shape}")
        c = self.centers
        sq = reduce_sum(x * x, dim=-1, keepdim=True) - 2.0 * linear(x, c) + reduce_sum(c * c, dim=-1)
        return exp(-sq * exp(-2.0 * self.log_sigma))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
