"""The exponential moving average with bias correction (seed 004 §5.1.2)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["ema"]


def ema(xs, beta: float, bias_correction: bool = True) -> np.ndarray:
    r"""Exponentially smoothed sequence m_1 … m_T of ``xs`` (seed 004 §5.1.2).

    ::

        m_0 = 0,   m_t = β m_{t-1} + (1 - β) x_t = Σ_{k≤t} (1 - β) β^{t-k} x_k
        m̂_t = m_t / (1 - βᵗ)            (bias correction, when ``bias_correction``)

    Without the correction the first values are pulled towards m_0 = 0; dividing by 1 - βᵗ
    (the sum of the weights so far) removes that pull, and matters less as t grows. This is
    how Adam corrects its moments (``Adam(bias_correction=...)``).

    ``xs``: a sequence, array or Tensor of shape (T, ...); smoothing runs along the first axis.
    Returns a NumPy array of the same shape (floating inputs keep their dtype).

    >>> from shenjing.optim import ema
    >>> ema([10.0, 10.0, 10.0], beta=0.9, bias_correction=False)
    array([1.  , 1.9 , 2.71])
    >>> ema([10.0, 10.0, 10.0], beta=0.9)
    array([10., 10., 10.])
    """
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"ema: beta must be in [0, 1), got {beta!r}")
    x = xs.numpy() if isinstance(xs, Tensor) else np.asarray(xs)
    if x.ndim == 0:
        raise ValueError("ema: xs must have at least one dimension (the time axis), got a scalar")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    out = np.empty_like(x)
    m = np.zeros(x.shape[1:], dtype=x.dtype)
    for t in range(len(x)):
        m = beta * m + (1.0 - beta) * x[t]
        out[t] = m
    if bias_correction and len(x):
        weight_sums = 1.0 - beta ** np.arange(1, len(x) + 1)
        out /= weight_sums.reshape((-1,) + (1,) * (x.ndim - 1))
    return out
