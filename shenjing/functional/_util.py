"""Helpers shared by the functional ops (not public)."""

from __future__ import annotations

import functools

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, no_grad


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``.

    The backward of every broadcasting op (seed 000 §1.2.2): an input that was
    repeated along an axis receives the sum of the gradients of its copies.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def resolve_dim(dim, axis, name: str = "dim"):
    """Accept PyTorch's ``dim=`` and NumPy's ``axis=`` spellings (not both)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"pass either dim or axis, not both (got dim={dim!r}, axis={axis!r})")
        return axis
    return dim


def resolve_keepdim(keepdim, keepdims) -> bool:
    return bool(keepdims) if keepdims is not None else bool(keepdim)


class DimensionError(IndexError, ValueError):
    """A dim out of range: an IndexError as in PyTorch, and a ValueError as bad input."""


class DtypeError(TypeError, RuntimeError):
    """An op given dtypes it cannot take or mix: a RuntimeError as in PyTorch, and a TypeError as a wrong dtype."""


def normalize_axes(axis, ndim: int):
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative ints, or None."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -max(ndim, 1) <= a < max(ndim, 1):
            raise DimensionError(f"dim {a!r} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    return tuple(sorted(set(out)))


class NonDifferentiable(Function):
    """An op whose result lies outside the graph (indices, booleans, signs, integer casts).

    A Function all the same, so that observers of ``Function.apply`` (the ONNX tracer) see it
    rather than a constant; its output never requires grad.
    """

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        with no_grad():
            return super().apply(*args, **kwargs)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("a non-differentiable op has no backward")


def as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def shape_arg(shape) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def allow_unbatched(batched_ndim: int):
    """Let a function of (N, C, *spatial) inputs also take one unbatched sample (C, *spatial), as
    PyTorch's convolutions and pools do: the sample is given a batch dim of 1 and loses it again."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(input, *args, **kwargs):
            if isinstance(input, Tensor) and input.ndim == batched_ndim - 1:
                return fn(input.unsqueeze(0), *args, **kwargs).squeeze(0)
            return fn(input, *args, **kwargs)

        return wrapper

    return decorate


def is_channels_last(a) -> bool:
    """True when an (N, C, H, W) array lies in memory as (N, H, W, C) (as convolution outputs do)."""
    return a.ndim == 4 and not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous
