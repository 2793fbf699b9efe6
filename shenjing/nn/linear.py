"""Fully-connected layers."""

from __future__ import annotations

import math

from .. import _backend as B
from ..functional.linalg import linear
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["Linear"]


class Linear(Module):
    """y = x Wᵀ + b (seed 000 §2.3); W is (out_features, in_features).

    Default initialisation as PyTorch's: W and b uniform on [-1/√in, 1/√in]
    (Kaiming-uniform with a = √5). Parameters: in·out + out (the notes' n1·n2 + n2).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, device=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive int, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        xp, dtype = B.xp_for(device), B.as_dtype(dtype)
        bound = 1 / math.sqrt(in_features)
        rng = B.rng(B.parse_device(device))
        self.weight = Parameter(xp.asarray(rng.uniform(-bound, bound, (out_features, in_features))).astype(dtype))
        if bias:
            self.bias = Parameter(xp.asarray(rng.uniform(-bound, bound, (out_features,))).astype(dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
