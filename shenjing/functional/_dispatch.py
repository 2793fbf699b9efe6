"""Array functions that follow their argument, so one ``backward`` serves both passes.

Given raw arrays (the first-order fast path) they are the backend's functions; given
Tensors (``create_graph=True``, where ``autograd.Function.graph_backward`` hands a
backward the gradient and the saved inputs as graph values) they are shenjing's
differentiable ops, so the backward is recorded and can be differentiated again.
Python operators already dispatch this way; these cover the rest. This is HIPS
autograd's idea (one derivative, written against a namespace that may trace) on
top of Chainer's (``retain_inputs``: saved inputs come back as graph values).
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _backend as B
from ..tensor import Tensor


def dual(array_fn, function):
    """``array_fn(x, *args)`` for a raw array ``x``; ``function.apply(x, *args)`` for a Tensor.

    ``function`` is the Function whose forward is ``array_fn``: the differentiable twin.
    """

    def call(x, *args):
        return function.apply(x, *args) if isinstance(x, Tensor) else array_fn(x, *args)

    call.__name__ = array_fn.__name__
    return call


@functools.cache
def _functional():
    from . import elementwise, reduction, shape

    return elementwise, shape, reduction


def _follow(name: str, array_fn, module_index: int = 0):
    def call(x, *args, **kwargs):
        if isinstance(x, Tensor):
            return getattr(_functional()[module_index], name)(x, *args, **kwargs)
        return array_fn(x, *args, **kwargs)

    call.__name__ = name
    return call


exp = _follow("exp", np.exp)
log = _follow("log", np.log)
sqrt = _follow("sqrt", np.sqrt)
sin = _follow("sin", np.sin)
cos = _follow("cos", np.cos)
tanh = _follow("tanh", np.tanh)
sigmoid = _follow("sigmoid", lambda x: _functional()[0].stable_sigmoid(x))
permute = _follow("permute", lambda x, axes: x.transpose(axes), 1)
broadcast_to = _follow("broadcast_to", np.broadcast_to, 1)
concatenate = _follow("concatenate", np.concatenate, 1)


def is_graph(*values) -> bool:
    return any(isinstance(v, Tensor) for v in values)


def raw(x):
    """The array behind a Tensor (for masks and indices, which carry no derivative)."""
    return x.data if isinstance(x, Tensor) else x


def where(cond, a, b):
    """``a`` where ``cond`` else ``b``; a Tensor when either branch is one."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _functional()[0].where(raw(cond), a, b)
    return B.xp_of(raw(cond)).where(raw(cond), a, b)


def expand_dims(x, axes):
    shape = list(x.shape)
    for a in sorted(axes):
        shape.insert(a, 1)
    return x.reshape(tuple(shape))


def zeros_like(x):
    """Zeros shaped like ``x``: a constant (a Tensor without a graph when ``x`` is a Tensor)."""
    zeros = B.xp_of(raw(x)).zeros_like(raw(x))
    return Tensor._wrap(zeros) if isinstance(x, Tensor) else zeros


def cast(x, dtype):
    return _functional()[0].cast(x, dtype) if isinstance(x, Tensor) else x.astype(dtype, copy=False)


log1p = _follow("log1p", np.log1p)
absolute = _follow("abs", np.abs)
maximum = _follow("maximum", np.maximum)
