"""Combining the predictions of several models: probability averaging, rank averaging, voting (seed 004 §7)."""

from __future__ import annotations

import numpy as np

__all__ = ["average", "rank_average", "vote"]


def _stack(name: str, values, min_ndim: int) -> np.ndarray:
    """One array (T, ...) from a list of T per-model arrays (or Tensors), or from an array already stacked."""
    if isinstance(values, (list, tuple)):
        if not values:
            raise ValueError(f"{name}: expected at least one model's predictions, got an empty sequence")
        shapes = {np.shape(v) for v in values}
        if len(shapes) != 1:
            raise ValueError(f"{name}: every model's predictions must have the same shape, got {sorted(shapes)}")
        arr = np.stack([np.asarray(v) for v in values])
    else:
        arr = np.asarray(values)
    if arr.ndim < min_ndim:
        raise ValueError(f"{name}: expected an array of at least {min_ndim} dims (models first), got shape {arr.shape}")
    return arr


def average(probs, weights=None) -> np.ndarray:
    """Weighted probability averaging: H(x) = Σ_i w_i h_i(x) / Σ_i w_i (seed 004 §7, 概率平均).

    ``probs``: T per-model predictions (a list, or an array (T, N, ...)); returns (N, ...).
    ``weights`` (T,), non-negative, default equal. The notes write H = (1/T) Σ w_i h_i with
    weights of mean 1; dividing by Σ w_i is the same thing for any scaling of w.

    >>> from shenjing import ensemble
    >>> ensemble.average([[[0.9, 0.1]], [[0.5, 0.5]]], weights=[3, 1])
    array([[0.8, 0.2]])
    """
    probs = _stack("average", probs, 2)
    dtype = probs.dtype if probs.dtype.kind == "f" else np.float64
    if weights is None:
        return probs.mean(0, dtype=dtype)
    weights = np.asarray(weights, dtype=dtype)
    if weights.shape != (probs.shape[0],):
        raise ValueError(f"average: weights must have shape ({probs.shape[0]},) (one per model), got {weights.shape}")
    if (weights < 0).any() or not weights.sum() > 0:
        raise ValueError("average: weights must be non-negative with a positive sum")
    return np.tensordot(weights / weights.sum(), probs.astype(dtype, copy=False), axes=1)


def _average_ranks(column: np.ndarray) -> np.ndarray:
    """Ranks 1..N of a 1-D array, tied values sharing the mean of their ranks."""
    ordered = np.sort(column)
    below = np.searchsorted(ordered, column, side="left")
    upto = np.searchsorted(ordered, column, side="right")
    return (below + upto + 1) / 2


def rank_average(scores) -> np.ndarray:
    """Rank averaging (seed 004 §7, 排序平均): mean over models of each sample's rank, divided by N.

    ``scores``: T per-model scores (a list, or an array (T, N) or (T, N, C)). Each model's
    scores are ranked over the N samples (per class column; ties get their mean rank),
    so models on different scales (probabilities, logits, margins) count equally.
    Returns (N,) or (N, C) in (0, 1]: r̄(x) = (1/(T·N)) Σ_i rank_i(x).

    >>> from shenjing import ensemble
    >>> ensemble.rank_average([[0.1, 0.9, 0.5], [10.0, 30.0, 20.0]])
    array([0.33333333, 1.        , 0.66666667])
    """
    scores = _stack("rank_average", scores, 2)
    if scores.ndim > 3:
        raise ValueError(f"rank_average: scores must have shape (T, N) or (T, N, C), got {scores.shape}")
    per_class = scores if scores.ndim == 3 else scores[..., None]
    ranks = np.apply_along_axis(_average_ranks, 1, per_class)
    mean_rank = ranks.mean(0) / scores.shape[1]
    return mean_rank if scores.ndim == 3 else mean_rank[:, 0]


def vote(labels, probs=None) -> np.ndarray:
    """Majority vote over T models' labels (seed 004 §7, 投票), ties broken by the mean probability.

    ``labels``: (T, N) integer class indices in [0, C). ``probs``: optional (T, N, C)
    probabilities; among the classes with the most votes, the one with the largest mean
    probability (``average(probs)``) wins — the notes' 【技1】. Without ``probs`` a tie goes
    to the smallest class index. Returns (N,) int64.

    >>> from shenjing import ensemble
    >>> ensemble.vote([[0, 1, 1], [0, 0, 2], [1, 0, 2]])
    array([0, 0, 2])
    """
    labels = _stack("vote", labels, 2)
    if labels.ndim != 2 or labels.dtype.kind not in "iu":
        raise ValueError(f"vote: labels must be integer class indices of shape (T, N), got {labels.dtype} "
                         f"{labels.shape}")
    n_models, n = labels.shape
    if probs is not None:
        probs = _stack("vote", probs, 3)
        if probs.shape[:2] != (n_models, n):
            raise ValueError(f"vote: probs must have shape ({n_models}, {n}, C) to match labels, got {probs.shape}")
    n_classes = probs.shape[2] if probs is not None else int(labels.max(initial=0)) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"vote: labels must lie in [0, {n_classes}), got range [{labels.min()}, {labels.max()}]")
    counts = np.zeros((n, n_classes), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(n), labels.shape), labels), 1)
    if probs is None:
        return counts.argmax(1)
    tied = counts == counts.max(1, keepdims=True)
    return np.where(tied, average(probs), -np.inf).argmax(1)
