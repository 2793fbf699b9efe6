"""Bind Tensor's operators and methods to the functional ops (done once, at import)."""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..tensor import Tensor
from . import activation as A
from . import elementwise as E
from . import linalg as L
from . import reduction as R
from . import shape as S
from ._util import NonDifferentiable


def _swap(fn):
    return lambda self, other: fn(other, self)


def _shape_method(fn):
    return lambda self, *shape: fn(self, *shape)


def _inplace(op, ufunc):
    """``x += y`` / ``x.add_(y)``: written into x's array when no gradient is involved (or under
    ``no_grad``); recorded as ``x = op(x, y)`` on the same object otherwise, as PyTorch records it."""

    def method(self, other):
        if self._records_write(other):
            return self._rebind(op(self._previous(), other))
        ufunc(self.data, other.data if isinstance(other, Tensor) else other, out=self.data)
        return self

    return method


def _clamp_(self, min=None, max=None):
    if self._records_write():
        return self._rebind(E.clip(self._previous(), min, max))
    np.clip(self.data, min, max, out=self.data)
    return self


def _fill_(self, value):
    S.setitem(self, Ellipsis, value)
    return self


def _random_(draw):
    """In-place random fill from the seeded CPU generator (the same draws on every device)."""

    def method(self, *args):
        values = draw(B.rng("cpu"), self.shape, *args)
        return _fill_(self, B.to_device(values.astype(self.dtype), self.device))

    return method


def _to_type(dtype):
    return lambda self: self.to(dtype)


class ArrayMethod(NonDifferentiable):
    """A method whose result is a plain (boolean or index) tensor outside the graph: ``fn(x, *args)``."""

    @staticmethod
    def forward(ctx, x, fn, *args, **kwargs):
        return fn(x, *args, **kwargs)


def _no_grad(fn):
    return lambda self, *args, **kwargs: ArrayMethod.apply(self, fn, *args, **kwargs)


def _all(a, dim=None):
    return a.all(axis=dim)


def _any(a, dim=None):
    return a.any(axis=dim)


def _norm(self, p=2, dim=None, keepdim=False):
    """‖x‖_p over ``dim`` (all elements when None): p = 2 (default), 1 or ``inf``."""
    if p == 2:
        return E.sqrt(R.sum(self * self, dim, keepdim))
    if p == 1:
        return R.sum(E.abs(self), dim, keepdim)
    if p == float("inf"):
        return R.amax(E.abs(self), dim, keepdim)
    return R.sum(E.abs(self) ** p, dim, keepdim) ** (1.0 / p)


def _new(fill):
    return lambda self, *size: Tensor._wrap(B.xp_of(self.data).full(S.shape_arg(size), fill, dtype=self.dtype))


def bind_tensor_methods() -> None:
    methods = {
        "__add__": E.add, "__radd__": _swap(E.add), "__sub__": E.sub, "__rsub__": _swap(E.sub),
        "__mul__": E.mul, "__rmul__": _swap(E.mul), "__truediv__": E.div, "__rtruediv__": _swap(E.div),
        "__pow__": E.pow, "__rpow__": _swap(E.pow), "__matmul__": L.matmul, "__rmatmul__": _swap(L.matmul),
        "__neg__": E.neg, "__abs__": E.abs, "__getitem__": S.getitem, "__setitem__": S.setitem,
        "__iadd__": _inplace(E.add, np.add), "__isub__": _inplace(E.sub, np.subtract),
        "__imul__": _inplace(E.mul, np.multiply), "__itruediv__": _inplace(E.div, np.divide),
        "add_": _inplace(E.add, np.add), "sub_": _inplace(E.sub, np.subtract),
        "mul_": _inplace(E.mul, np.multiply), "div_": _inplace(E.div, np.divide),
        "clamp_": _clamp_, "clip_": _clamp_, "fill_": _fill_, "zero_": lambda self: _fill_(self, 0),
        "copy_": _fill_,
        "uniform_": _random_(lambda rng, shape, a=0.0, b=1.0: rng.uniform(a, b, shape)),
        "normal_": _random_(lambda rng, shape, mean=0.0, std=1.0: rng.normal(mean, std, shape)),
        "__eq__": E.eq, "__ne__": E.ne, "__lt__": E.lt, "__le__": E.le, "__gt__": E.gt, "__ge__": E.ge,
        "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
        "add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow, "neg": E.neg, "abs": E.abs,
        "exp": E.exp, "log": E.log, "log1p": E.log1p, "sqrt": E.sqrt, "sin": E.sin, "cos": E.cos,
        "tanh": E.tanh, "sigmoid": E.sigmoid, "relu": E.relu, "clip": E.clip, "clamp": E.clip,
        "maximum": E.maximum, "minimum": E.minimum, "sign": E.sign, "square": lambda self: self * self,
        "softmax": A.softmax, "log_softmax": A.log_softmax,
        "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
        "amax": R.amax, "amin": R.amin, "prod": R.prod, "logsumexp": R.logsumexp,
        "argmax": R.argmax, "argmin": R.argmin, "cumsum": R.cumsum, "gather": R.gather,
        "sort": R.sort, "topk": R.topk, "norm": _norm,
        "all": _no_grad(_all), "any": _no_grad(_any),
        "isnan": _no_grad(np.isnan), "isinf": _no_grad(np.isinf), "isfinite": _no_grad(np.isfinite),
        "reshape": _shape_method(S.reshape), "view": _shape_method(S.reshape),
        "permute": _shape_method(S.permute), "expand": _shape_method(S.expand),
        "broadcast_to": _shape_method(S.broadcast_to), "repeat": _shape_method(S.repeat),
        "view_as": lambda self, other: S.reshape(self, other.shape),
        "reshape_as": lambda self, other: S.reshape(self, other.shape),
        "expand_as": lambda self, other: S.broadcast_to(self, other.shape),
        "transpose": S.transpose, "swapaxes": S.swapaxes, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
        "t": lambda self: S.transpose(self, 0, 1) if self.ndim == 2 else self,
        "flatten": S.flatten, "split": S.split, "chunk": S.chunk,
        "unbind": lambda self, dim=0: tuple(
            S.getitem(self, (slice(None),) * (dim % self.ndim) + (i,)) for i in range(self.shape[dim])),
        "flip": lambda self, *dims: S.getitem(self, tuple(
            slice(None, None, -1) if d in {x % self.ndim for x in S.shape_arg(dims)} else slice(None)
            for d in range(self.ndim))),
        "masked_fill": lambda self, mask, value: E.where(mask, value, self),
        "contiguous": lambda self: self,
        "matmul": L.matmul, "dot": L.dot,
        "long": _to_type(B.int64), "int": _to_type(B.int32), "bool": _to_type(B.bool_), "half": _to_type(B.float16),
        "type": lambda self, dtype=None: f"shenjing.{self.dtype}" if dtype is None else self.to(dtype),
        "new_zeros": _new(0), "new_ones": _new(1),
        "new_full": lambda self, size, value: _new(value)(self, size),
        "new_tensor": lambda self, data: Tensor(data, dtype=self.dtype, device=self.device),
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))
    Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
