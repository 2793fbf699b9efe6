"""Dropout (seed 000 §5.3, seed 001 Dropout 策略, seed 004 §2.4.3.1)."""

from __future__ import annotations

from .. import _backend as B
from ..tensor import Tensor
from .elementwise import mul

__all__ = ["dropout"]


def dropout_mask(shape, p: float, dtype, device: str, scale: float):
    """A mask r_j ~ Bernoulli(1 - p) (1 keeps a unit), multiplied by ``scale``, drawn from shenjing's RNG."""
    draw_dtype = dtype if dtype in (B.float32, B.float64) else B.float64
    keep = B.rng(device).random(shape, dtype=draw_dtype) >= p
    return keep.astype(dtype) * dtype.type(scale)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, scale: str = "train") -> Tensor:
    """Zero each element with probability ``p`` while training (seed 004 §2.4.3.1).

    ``scale='train'`` (inverted dropout, PyTorch's): y = r ⊙ x / (1 - p) in training, y = x at test.
    ``scale='test'`` (the notes' second way): y = r ⊙ x in training, y = (1 - p) x at test.
    r_j ~ Bernoulli(1 - p). Any shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> sj.manual_seed(0)
    >>> x = sj.ones(8)
    >>> F.dropout(x, 0.5)
    tensor([2., 2., 2., 0., 0., 0., 0., 0.])
    >>> F.dropout(x, 0.5, training=False, scale="test")
    tensor([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if scale not in ("train", "test"):
        raise ValueError(f"dropout: scale must be 'train' or 'test', got {scale!r}")
    if not training:
        return input if scale == "train" or p == 0 else mul(input, 1.0 - p)
    if p == 0:
        return input
    factor = 1.0 / (1.0 - p) if scale == "train" and p < 1 else 1.0
    mask = dropout_mask(input.shape, p, input.dtype, input.device, factor)
    return mul(input, Tensor._wrap(mask))
