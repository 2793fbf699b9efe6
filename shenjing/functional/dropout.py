"""Dropout (seed 000 §5.3, seed 001 Dropout 策略, seed 004 §2.4.3.1)."""

from __future__ import annotations

from .. import _backend as B
from ..tensor import Tensor
from .elementwise import mul

__all__ = ["dropout", "dropout1d", "dropout2d"]


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
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if scale not in ("train", "test"):
        raise ValueError(f"dropout: scale must be 'train' or 'test', got {scale!r}")
    if not training:
        return input if scale == "train" or p == 0 else mul(input, 1.0 - p)
    if p == 0:
        return input
    return _drop(input, p, input.shape, 1.0 / (1.0 - p) if scale == "train" and p < 1 else 1.0)


def _drop(input: Tensor, p: float, mask_shape: tuple, factor: float) -> Tensor:
    return mul(input, Tensor._wrap(dropout_mask(mask_shape, p, input.dtype, input.device, factor)))


def _channel_dropout(input: Tensor, p: float, training: bool, ndims: tuple, layout: str, name: str) -> Tensor:
    """One draw per (sample, channel), or per channel for an unbatched (C, L): the mask is 1 past them."""
    if input.ndim not in ndims:
        raise ValueError(f"{name}: input must be {layout}, got shape {tuple(input.shape)}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    drawn = 1 if input.ndim == 2 else 2
    mask_shape = input.shape[:drawn] + (1,) * (input.ndim - drawn)
    return _drop(input, p, mask_shape, 1.0 / (1.0 - p) if p < 1 else 1.0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels: y[n, c, :] = r_nc · x[n, c, :] / (1 - p), r_nc ~ Bernoulli(1 - p), while
    training (PyTorch's ``F.dropout1d``); ``input`` (N, C, L) or (C, L).

    >>> import shenjing as sj
    >>> y = dropout1d(sj.ones(4, 8, 5), p=0.5)
    >>> sorted(set((y.numpy() == y.numpy()[:, :, :1]).all(axis=2).ravel().tolist()))  # one value per channel
    [True]
    """
    return _channel_dropout(input, p, training, (2, 3), "(N, C, L) or (C, L)", "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole feature maps (spatial dropout): y[n, c] = r_nc · x[n, c] / (1 - p) while training
    (PyTorch's ``F.dropout2d``); ``input`` (N, C, H, W). Neighbouring pixels of a map are correlated,
    so dropping single pixels barely regularises a conv net. A 3-d input is read as (N, C, L), as
    PyTorch reads it.

    >>> import shenjing as sj
    >>> dropout2d(sj.ones(2, 3, 4, 4), p=0.3, training=False).shape
    (2, 3, 4, 4)
    """
    return _channel_dropout(input, p, training, (3, 4), "(N, C, H, W) or (N, C, L)", "dropout2d")
