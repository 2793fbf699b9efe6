"""The trace of one forward pass, and the ONNX graph built from it.

:class:`Trace` is a hook of ``Function.apply`` (``autograd.apply_hooks``): it records every op
call with its arguments and output. :class:`Graph` turns those calls into ONNX nodes, one
converter per Function class (``CONVERTERS``, filled by ``shenjing.onnx._ops``); a tensor that
no recorded op produced is a graph input, a parameter or buffer (an initializer under its
state-dict name) or a constant (an initializer of its own).
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import _backend as B
from ..autograd import apply_hooks
from ..tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

CONVERTERS: dict = {}


def converts(*classes):
    """Register ``fn(g, out, *args, **kwargs) -> output name`` as the converter of each Function class."""

    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn

    return register


class UnsupportedOperatorError(NotImplementedError):
    """An op of the traced forward pass has no ONNX form."""


class Trace:
    """``with Trace() as trace:`` records ``(fn_class, args, kwargs, output)`` for every op call.

    In-place updates (``x[i] = v``, ``x += y`` without gradients) write into arrays without an op
    call, so each output is kept as a copy too: :meth:`check_unchanged` finds any that changed.
    """

    def __init__(self):
        self.calls, self.copies = [], []

    def __call__(self, cls, args, kwargs, out) -> None:
        self.calls.append((cls, args, kwargs, out))
        self.copies.append(out.data.copy())

    def check_unchanged(self) -> None:
        for (cls, _, _, out), copy in zip(self.calls, self.copies):
            if not np.array_equal(out.data, copy, equal_nan=out.dtype.kind in "fc"):
                raise UnsupportedOperatorError(
                    f"onnx.export: the output of {cls.__name__} was updated in place later in the forward pass; "
                    "an in-place update (x[i] = v, x += y) has no ONNX form, write it out of place")

    def __enter__(self):
        apply_hooks.append(self)
        return self

    def __exit__(self, *exc):
        apply_hooks.remove(self)
        return False


class Graph:
    """ONNX nodes and initializers under construction.

    Values are named by the array a tensor holds, so a tensor that shares another's array
    (``detach()``, ``state_dict()`` entries) is the same graph value.
    """

    def __init__(self, onnx, opset: int, named_tensors: dict):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes, self.initializers = [], []
        self.names = {}  # id(tensor.data) -> graph name
        self.named = {id(t.data): (name, t) for name, t in named_tensors.items()}
        self.kept = []  # tensors named here, kept alive so that their arrays' ids stay theirs
        self._counter = itertools.count()

    def bind(self, t: Tensor, name: str) -> None:
        """Name the value ``t`` holds."""
        self.names[id(t.data)] = name
        self.kept.append(t)

    def knows(self, t: Tensor) -> bool:
        return id(t.data) in self.names

    def fresh(self, base: str) -> str:
        return f"{base}_{next(self._counter)}"

    def initializer(self, name: str, value) -> str:
        array = np.asarray(B.to_numpy(value), order="C")
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def const(self, value, dtype=None) -> str:
        """A new initializer holding ``value`` (as ``dtype`` when given)."""
        array = np.asarray(B.to_numpy(value) if hasattr(value, "shape") else value)
        return self.initializer(self.fresh("const"), array if dtype is None else array.astype(dtype))

    def ints(self, values) -> str:
        return self.const(np.asarray(values, dtype=np.int64))

    def value(self, x, dtype=None) -> str:
        """The graph name of an op argument: a traced tensor, a parameter or buffer, or a constant
        (a Python scalar becomes one of ``dtype``)."""
        if not isinstance(x, Tensor):
            return self.const(x, dtype)
        if not self.knows(x):
            owner = self.named.get(id(x.data))
            self.bind(x, self.initializer(*owner) if owner else self.const(x.data))
        return self.names[id(x.data)]

    def optional(self, x, dtype=None) -> str:
        """An optional input: '' for None."""
        return "" if x is None else self.value(x, dtype)

    def node(self, op: str, inputs, outputs: int = 1, **attrs):
        """Append one node; returns its output name (a list of them when ``outputs`` > 1)."""
        names = [self.fresh(op) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    # ----- nodes whose form changed between opsets -------------------------------------------
    def reduce(self, op: str, x: str, axes, keepdims: bool) -> str:
        """``op`` (ReduceSum, ReduceMean, ...) over ``axes`` (all when None)."""
        if axes is None:
            return self.node(op, [x], keepdims=int(keepdims))
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.ints(list(axes))], keepdims=int(keepdims))
        return self.node(op, [x], axes=list(axes), keepdims=int(keepdims))

    def unsqueeze(self, x: str, axes) -> str:
        return self.node("Unsqueeze", [x, self.ints(list(axes))])

    def squeeze(self, x: str, axes) -> str:
        return self.node("Squeeze", [x, self.ints(list(axes))])

    def reshape(self, x: str, shape) -> str:
        return self.node("Reshape", [x, self.ints(list(shape))])

    def convert(self, cls, args, kwargs, out) -> None:
        converter = CONVERTERS.get(cls)
        if converter is None:
            raise UnsupportedOperatorError(f"onnx.export: the op {cls.__name__} has no ONNX form")
        self.bind(out, converter(self, out, *args, **kwargs))


def elem_type(onnx, dtype) -> int:
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
