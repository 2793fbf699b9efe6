"""Bind Tensor's operators and methods to the functional ops (done once, at import)."""

from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as E
from . import linalg as L
from . import reduction as R
from . import shape as S


def _swap(fn):
    return lambda self, other: fn(other, self)


def _shape_method(fn):
    return lambda self, *shape: fn(self, *shape)


def bind_tensor_methods() -> None:
    methods = {
        "__add__": E.add, "__radd__": _swap(E.add), "__sub__": E.sub, "__rsub__": _swap(E.sub),
        "__mul__": E.mul, "__rmul__": _swap(E.mul), "__truediv__": E.div, "__rtruediv__": _swap(E.div),
        "__pow__": E.pow, "__rpow__": _swap(E.pow), "__matmul__": L.matmul, "__rmatmul__": _swap(L.matmul),
        "__neg__": E.neg, "__abs__": E.abs, "__getitem__": S.getitem,
        "__eq__": E.eq, "__ne__": E.ne, "__lt__": E.lt, "__le__": E.le, "__gt__": E.gt, "__ge__": E.ge,
        "add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow, "neg": E.neg, "abs": E.abs,
        "exp": E.exp, "log": E.log, "log1p": E.log1p, "sqrt": E.sqrt, "sin": E.sin, "cos": E.cos,
        "tanh": E.tanh, "sigmoid": E.sigmoid, "relu": E.relu, "clip": E.clip, "clamp": E.clip,
        "maximum": E.maximum, "minimum": E.minimum, "sign": E.sign,
        "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
        "amax": R.amax, "amin": R.amin, "prod": R.prod, "logsumexp": R.logsumexp,
        "argmax": R.argmax, "argmin": R.argmin,
        "reshape": _shape_method(S.reshape), "view": _shape_method(S.reshape),
        "permute": _shape_method(S.permute), "expand": _shape_method(S.expand),
        "broadcast_to": _shape_method(S.broadcast_to), "repeat": _shape_method(S.repeat),
        "transpose": S.transpose, "swapaxes": S.swapaxes, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
        "flatten": S.flatten, "split": S.split, "chunk": S.chunk,
        "matmul": L.matmul, "dot": L.dot,
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))
    Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
