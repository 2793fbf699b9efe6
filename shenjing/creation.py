"""Tensor creation functions (``zeros``, ``randn``, ``arange``, ...)."""

from __future__ import annotations

import numpy as np

from . import _backend as B
from .functional._util import shape_arg
from .generator import numpy_generator
from .tensor import Tensor

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "empty_like", "rand_like", "randn_like", "numel", "eye", "arange", "linspace", "rand", "randn",
    "randint", "randperm",
]


def _make(array, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor from ``data`` (a list, a NumPy array, a scalar or a Tensor)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` itself when it already is a Tensor of that dtype/device, else a new tensor."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _filled(fill, shape, dtype, device, requires_grad) -> Tensor:
    xp = B.xp_for(device)
    return _make(xp.full(shape_arg(shape), fill, dtype=B.as_dtype(dtype)), requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(0, shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled(1, shape, dtype, device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(B.xp_for(device).empty(shape_arg(shape), dtype=B.as_dtype(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``, of the value's dtype unless ``dtype`` is given
    (as PyTorch: 7 gives int64, True bool, 7.0 the default float dtype)."""
    dtype = B.scalar_dtype(fill_value) if dtype is None else dtype
    return _filled(fill_value, (shape,) if isinstance(shape, int) else shape, dtype, device, requires_grad)


def _like(fill, other: Tensor, dtype, requires_grad) -> Tensor:
    return _filled(fill, other.shape, dtype or other.dtype, other.device, requires_grad)


def zeros_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(0, other, dtype, requires_grad)


def ones_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(1, other, dtype, requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(fill_value, other, dtype, requires_grad)


def empty_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``other``'s shape, dtype and device."""
    return _make(B.xp_of(other.data).empty(other.shape, dtype=B.as_dtype(dtype or other.dtype)), requires_grad)


def rand_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) draws of ``other``'s shape, dtype and device (seeded global generator)."""
    return rand(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def randn_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws of ``other``'s shape, dtype and device (seeded global generator)."""
    return randn(other.shape, dtype=dtype or other.dtype, device=other.device, requires_grad=requires_grad)


def numel(x: Tensor) -> int:
    """The number of elements of ``x``."""
    return x.numel()


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(B.xp_for(device).eye(n, m, dtype=B.as_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: int64 for integer arguments, the default float dtype otherwise."""
    if end is None:
        start, end = 0, start
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = B.as_dtype(dtype) if dtype is not None else (B.int64 if is_int else B.get_default_dtype())
    return _make(B.xp_for(device).arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(B.xp_for(device).linspace(start, end, steps).astype(B.as_dtype(dtype)), requires_grad)


def _random(draw, device, generator):
    """``draw(rng)`` from ``generator`` (moved to ``device``) or from the global stream of ``device``."""
    device = B.parse_device(device)
    if generator is None:
        return draw(B.rng(device))
    return B.to_device(draw(numpy_generator(generator)), device)


def rand(*shape, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform draws on [0, 1) from ``generator`` or the seeded global stream (``shenjing.manual_seed``)."""
    arr = _random(lambda g: g.random(shape_arg(shape)), device, generator).astype(B.as_dtype(dtype))
    return _make(arr, requires_grad)


def randn(*shape, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws from ``generator`` or the seeded global stream."""
    arr = _random(lambda g: g.standard_normal(shape_arg(shape)), device, generator).astype(B.as_dtype(dtype))
    return _make(arr, requires_grad)


def randint(low: int, high: int | None = None, size=(), *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high) (int64 by default)."""
    if high is None:
        low, high = 0, low
    size = shape_arg((size,)) if size != () else ()
    arr = _random(lambda g: g.integers(low, high, size=size), device, generator)
    return Tensor._wrap(arr.astype(B.as_dtype(dtype) if dtype is not None else B.int64))


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64 by default)."""
    arr = _random(lambda g: g.permutation(n), device, generator)
    return Tensor._wrap(arr.astype(B.as_dtype(dtype) if dtype is not None else B.int64))
