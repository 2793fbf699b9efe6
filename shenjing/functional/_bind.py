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
from ._util import DtypeError, NonDifferentiable


def _swap(fn):
    return lambda self, other: fn(other, self)


def _shape_method(fn):
    return lambda self, *shape: fn(self, *shape)


def _inplace(op, ufunc):
    """``x += y`` / ``x.add_(y)``: written into x's array when no gradient is involved (or under
    ``no_grad``); recorded as ``x = op(x, y)`` on the same object otherwise, as PyTorch records it.
    x keeps its dtype; a result of a higher category (a float into an int tensor) raises, as in PyTorch."""

    def method(self, other):
        _check_castable(self, other, op.__name__)
        if self._records_write(other):
            return self._rebind(op(self._previous(), other).to(self.dtype))
        ufunc(self.data, other.data if isinstance(other, Tensor) else other, out=self.data)
        return self

    return method


def _inplace_of(fn, other_at: int):
    """``x.f_(*args)`` for an out-of-place ``fn(x, *args)``: recorded as ``x = fn(x, ...)`` on the same
    object when a gradient is involved (``args[other_at]`` is the other input that may need one),
    else the result is written into x's array."""

    def method(self, *args, **kwargs):
        other = args[other_at] if len(args) > other_at else None
        if self._records_write(other):
            return self._rebind(fn(self._previous(), *args, **kwargs))
        self.data[...] = fn(self.detach(), *args, **kwargs).data
        return self

    return method


def _check_castable(self, other, name: str) -> None:
    operand = E._scalar(other)
    if not isinstance(operand, (Tensor, bool, int, float)):
        operand = B.asarray(operand)  # a list or an array
    result = B.result_type(self, operand)
    if not B.can_cast(result, self.dtype):
        raise DtypeError(f"{name}_: the result type {result} can't be cast to the tensor's dtype {self.dtype}")


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


def _new(fill):
    return lambda self, *size: Tensor._wrap(B.xp_of(self.data).full(S.shape_arg(size), fill, dtype=self.dtype))


def bind_tensor_methods() -> None:
    methods = {
        "__add__": E.add, "__radd__": _swap(E.add), "__sub__": E.sub, "__rsub__": _swap(E.sub),
        "__mul__": E.mul, "__rmul__": _swap(E.mul), "__truediv__": E.div, "__rtruediv__": _swap(E.div),
        "__pow__": E.pow, "__rpow__": _swap(E.pow), "__matmul__": L.matmul, "__rmatmul__": _swap(L.matmul),
        "__neg__": E.neg, "__abs__": E.abs, "__floordiv__": E.floor_divide, "__rfloordiv__": _swap(E.floor_divide),
        "__mod__": E.remainder, "__rmod__": _swap(E.remainder), "__and__": E.bitwise_and,
        "__rand__": _swap(E.bitwise_and), "__or__": E.bitwise_or, "__ror__": _swap(E.bitwise_or),
        "__xor__": E.bitwise_xor, "__rxor__": _swap(E.bitwise_xor), "__invert__": E.bitwise_not,
        "__iand__": _inplace(E.bitwise_and, np.bitwise_and), "__ior__": _inplace(E.bitwise_or, np.bitwise_or),
        "__ixor__": _inplace(E.bitwise_xor, np.bitwise_xor), "__imod__": _inplace(E.remainder, np.remainder),
        "__ifloordiv__": _inplace(E.floor_divide, np.floor_divide),
        "floor_divide": E.floor_divide, "remainder": E.remainder, "fmod": E.fmod,
        "bitwise_and": E.bitwise_and, "bitwise_or": E.bitwise_or, "bitwise_xor": E.bitwise_xor,
        "bitwise_not": E.bitwise_not, "logical_and": E.logical_and, "logical_or": E.logical_or,
        "logical_xor": E.logical_xor, "logical_not": E.logical_not, "__getitem__": S.getitem, "__setitem__": S.setitem,
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
        "sort": R.sort, "topk": R.topk, "norm": R.norm, "dist": R.dist,
        "all": _no_grad(_all), "any": _no_grad(_any),
        "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite,
        "reshape": _shape_method(S.reshape), "view": _shape_method(S.view),
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
        "masked_fill": S.masked_fill, "masked_fill_": _inplace_of(S.masked_fill, 1),
        "scatter": R.scatter, "scatter_": _inplace_of(R.scatter, 2), "scatter_add": R.scatter_add,
        "scatter_add_": _inplace_of(R.scatter_add, 2), "index_add": R.index_add,
        "index_add_": _inplace_of(R.index_add, 2), "index_select": S.index_select,
        "cumprod": R.cumprod, "median": R.median, "argsort": R.argsort, "unique": R.unique,
        "bincount": R.bincount, "floor": E.floor, "ceil": E.ceil, "trunc": E.trunc, "round": E.round,
        "nonzero": E.nonzero, "allclose": E.allclose, "equal": E.equal,
        "where": lambda self, condition, other: E.where(condition, self, other),
        "repeat_interleave": S.repeat_interleave, "unflatten": S.unflatten, "movedim": S.movedim,
        "narrow": S.narrow, "roll": S.roll, "tile": S.tile,
        "mm": L.mm, "bmm": L.bmm, "outer": L.outer, "diag": L.diag, "tril": L.tril, "triu": L.triu,
        "type_as": lambda self, other: self.to(other.dtype),
        "is_floating_point": lambda self: self.dtype.kind == "f",
        "is_contiguous": lambda self: bool(self.data.flags.c_contiguous),
        "contiguous": lambda self: self if self.data.flags.c_contiguous else S.clone(self),
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
