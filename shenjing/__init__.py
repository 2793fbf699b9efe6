"""shenjing (神经): a deep-learning framework on NumPy (CuPy on NVIDIA GPUs).

Every formula of the notes in runnable, inspectable code: tensors with
broadcasting and N-d dot, back-propagation, layers, losses, optimisers,
schedules, metrics and the training practice around them.
"""

from __future__ import annotations

import importlib

from . import _backend, _memory
from ._memory import retain_freed_memory
from ._backend import (
    bool_, cuda_available, device, float16, float32, float64, get_default_dtype, get_rng_state, int8, int16, int32,
    int64, manual_seed, set_default_dtype, set_rng_state, uint8,
)
from .generator import Generator
from .creation import *  # noqa: F403
from .tensor import Tensor, detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import autograd, functional  # noqa: E402  (binds Tensor's operators)
from .functional.elementwise import abs, clip, clamp, cos, exp, log, log1p, maximum, minimum, relu, sigmoid
from .functional.elementwise import sin, sqrt, tanh, where
from .functional.elementwise import add, div, mul, neg, pow, sub
from .functional.elementwise import (allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, equal, floor,
                                     floor_divide, fmod, isfinite, isinf, isnan, logical_and, logical_not, logical_or,
                                     logical_xor, nonzero, remainder, round, sign, trunc)
from .functional.linalg import bmm, diag, dot, einsum, matmul, mm, outer, tensordot, tril, triu
from .functional.distance import cdist
from .functional.activation import log_softmax, softmax
from .functional.reduction import amax, amin, argmax, argmin, cumsum, gather, logsumexp, max, mean, min, prod
from .functional.reduction import argsort, bincount, cumprod, dist, index_add, median, norm, scatter, scatter_add
from .functional.reduction import sort, std, sum, topk, unique, var
from .functional.shape import cat, chunk, concatenate, flatten, permute, reshape, split, squeeze, stack
from .functional.shape import index_select, masked_fill, movedim, narrow, repeat_interleave, roll, tile, transpose
from .functional.shape import unflatten, unsqueeze
from . import nn, optim, metrics, data, cuda  # noqa: E402
from .io import save, load  # noqa: E402

# torch's dtype aliases (they shadow builtins only as attributes: ``shenjing.float``)
float, double, half, long, int, short, bool = float32, float64, float16, int64, int32, int16, bool_  # noqa: A001

__version__ = "0.1.0"

_memory.retain_on_import()

_LAZY = ("train", "ensemble", "viz", "io", "classic", "sklearn", "cli", "utils", "distributed", "onnx")


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'shenjing' has no attribute '{name}'")
