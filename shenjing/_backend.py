"""The one place that knows about array modules (NumPy or CuPy), dtypes, devices and seeds.

Everything else asks this module for an array module (``xp``) instead of
importing CuPy itself, so the same code runs on the CPU and on an NVIDIA GPU.
"""

from __future__ import annotations

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_default_dtype = float32
_cupy = None
_cupy_checked = False


def cupy():
    """The ``cupy`` module, or None when it is not importable or no GPU is present."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy as cp

            if cp.cuda.runtime.getDeviceCount() > 0:
                _cupy = cp
        except Exception:  # noqa: BLE001 - any failure means "no usable GPU"
            _cupy = None
    return _cupy


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return cupy() is not None


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy)."""
    return 0 if cupy() is None else cupy().cuda.runtime.getDeviceCount()


class device(str):
    """A device name, as ``torch.device``: ``device('cpu')``, ``device('cuda:0')``, ``device('cuda', 0)``.

    It is the string itself (so it compares equal to ``'cpu'`` or ``'cuda:0'`` and goes wherever a
    device string does, ``.to()`` included), with PyTorch's ``type`` and ``index`` attributes.

    >>> device('cuda:1').type, device('cuda:1').index, device('cpu') == 'cpu'
    ('cuda', 1, True)
    """

    type: str
    index: int | None

    def __new__(cls, spec, index: int | None = None):
        if isinstance(spec, device) and index is None:
            return spec
        text = str(spec)
        kind, _, number = text.partition(":")
        if kind not in ("cpu", "cuda") or (number and not number.isdigit()):
            raise RuntimeError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
        if index is not None:
            if number or not isinstance(index, (int, np.integer)) or index < 0:
                raise RuntimeError(f"device index must be a non-negative integer given once, got {spec!r}, {index!r}")
            number = str(int(index))
        self = super().__new__(cls, f"{kind}:{number}" if number else kind)
        self.type, self.index = kind, int(number) if number else None
        return self

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


_CPU, _CUDA = device("cpu"), device("cuda")


def parse_device(device) -> str:
    """Normalise a device spec to ``'cpu'`` or ``'cuda'``; raise TypeError otherwise."""
    if device is None:
        return "cpu"
    name = str(device).split(":")[0]
    if name not in ("cpu", "cuda"):
        raise TypeError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if name == "cuda" and cupy() is None:
        raise TypeError("device 'cuda' requested but CuPy with a GPU is not available")
    return name


def xp_of(array):
    """The array module (numpy or cupy) that owns ``array``."""
    if type(array) is np.ndarray:
        return np
    cp = cupy()
    return np if cp is None else cp.get_array_module(array)


def xp_for(device: str):
    """The array module for a device name."""
    return cupy() if parse_device(device) == "cuda" else np


def device_of(array) -> device:
    return _CPU if xp_of(array) is np else _CUDA


def to_device(array, device: str):
    """Move ``array`` to ``device`` (a no-op when it is already there)."""
    device = parse_device(device)
    if device_of(array) == device:
        return array
    if device == "cuda":
        return _cupy.asarray(array)
    return _cupy.asnumpy(array)


def ensure_array(data):
    """``data`` itself when it is an ndarray (NumPy or CuPy), else a 0-d NumPy array of it.

    NumPy arithmetic on 0-d arrays returns NumPy *scalars* (``np.float32``), which are not
    ndarrays: every array a Tensor holds passes through here, so ``.data`` is always an ndarray.
    """
    if type(data) is np.ndarray or (_cupy is not None and isinstance(data, _cupy.ndarray)):
        return data
    return np.asarray(data)


def to_numpy(array) -> np.ndarray:
    return array if type(array) is np.ndarray else to_device(array, "cpu")


def get_default_dtype() -> np.dtype:
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python floats and random draws (float32 or float64)."""
    global _default_dtype
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"default dtype must be a floating type, got {dtype}")
    _default_dtype = dtype


def as_dtype(dtype) -> np.dtype:
    """Turn a dtype spec (np.float32, 'float64', shenjing.float32, ...) into a NumPy dtype."""
    if dtype is None:
        return _default_dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy-style dtype, got {dtype!r}") from None
    if dtype.kind not in "fiub":
        raise TypeError(f"unsupported dtype {dtype}; expected a float, int or bool type")
    return dtype


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(a, b):
    """The smallest dtype holding both: the higher category (bool < integer < float) wins, as in
    PyTorch (int64 with float16 is float16); within a category, NumPy's promotion."""
    if a is None or b is None:
        return a if b is None else b
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def can_cast(source: np.dtype, target: np.dtype) -> bool:
    """Whether an in-place result of dtype ``source`` may be written into ``target`` (PyTorch's rule:
    never to a lower category, bool < integer < float)."""
    return _CATEGORY[source.kind] <= _CATEGORY[target.kind]


def scalar_dtype(value) -> np.dtype:
    """The dtype a Python (or NumPy) scalar stands for: bool, int64 or the default float dtype."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return _default_dtype


def _combine(higher, lower):
    """``lower`` (a less dimensioned group) only counts when it is of a higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "f":
        return higher
    if higher == bool_ or lower.kind == "f":
        return _promote(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype of an element-wise op on ``operands`` (arrays, Tensors or scalars), as ``torch.result_type``.

    Operands fall into three groups: dimensioned arrays, 0-d arrays, and scalars (Python or NumPy:
    bool, int64, or the default float dtype). Within a group dtypes promote; a less dimensioned group
    changes the result only when its category (bool < integer < float) is higher, so float32 with a
    0-d float64 gives float32 and an int64 array with 2.5 gives the default float dtype.
    """
    dimensioned = zero_dim = scalar = None
    for x in operands:
        if isinstance(x, (np.generic, bool, int, float)):
            scalar = _promote(scalar, scalar_dtype(x))
        elif not hasattr(x, "dtype"):
            raise TypeError(f"expected a Tensor, an array or a number as an operand, got {type(x).__name__}")
        elif x.ndim == 0:
            zero_dim = _promote(zero_dim, x.dtype)
        else:
            dimensioned = _promote(dimensioned, x.dtype)
    return _combine(dimensioned, _combine(zero_dim, scalar))


def asarray(data, dtype=None, device=None, copy: bool = False):
    """Build an array from ``data`` with shenjing's dtype rules.

    Python floats (and lists of them) become the default dtype (float32); arrays
    keep their dtype unless ``dtype`` is given. ``copy=True`` never returns ``data`` itself.
    """
    xp = np if device is None else xp_for(device)
    if dtype is not None:
        dtype = as_dtype(dtype)
    if isinstance(data, (np.ndarray, np.generic)) or (_cupy is not None and isinstance(data, _cupy.ndarray)):
        arr = ensure_array(data) if device is None else to_device(ensure_array(data), device)
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy and arr is data else arr
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(f"cannot build a tensor from {type(data).__name__}: {err}") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"cannot build a tensor from data of dtype {arr.dtype}; expected numbers")
    if dtype is None and arr.dtype.kind == "f":
        dtype = _default_dtype
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr if xp is np else xp.asarray(arr)


_rng = np.random.default_rng()
_cuda_rng = None


def manual_seed(seed: int) -> None:
    """Seed every random draw shenjing makes (CPU generator, and the GPU one if present)."""
    global _rng, _cuda_rng
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    _cuda_rng = None
    if cupy() is not None:
        _cuda_rng = _cupy.random.default_rng(int(seed))


def rng(device: str = "cpu"):
    """The global random generator for ``device`` (a ``numpy.random.Generator`` on the CPU)."""
    global _cuda_rng
    if device == "cuda":
        if _cuda_rng is None:
            _cuda_rng = cupy().random.default_rng(int(_rng.integers(2**63)))
        return _cuda_rng
    return _rng


def get_rng_state() -> dict:
    """The CPU generator's state (a plain dict, so checkpoints need no pickle)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    _rng.bit_generator.state = state


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` with repeated indices accumulated (np.add.at)."""
    xp_of(target).add.at(target, index, values)


_kernels: dict = {}


def fused_kernel(name: str, in_params: str, out_params: str, operation: str):
    """A fused element-wise GPU kernel (``cupy.ElementwiseKernel``, compiled once and cached), for
    updates that would otherwise launch one kernel per NumPy-style operation. None without CuPy."""
    cp = cupy()
    if cp is None:
        return None
    if name not in _kernels:
        _kernels[name] = cp.ElementwiseKernel(in_params, out_params, operation, name)
    return _kernels[name]
