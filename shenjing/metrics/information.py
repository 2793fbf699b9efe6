"""Information-theoretic measures: entropy, cross-entropy, KL divergence, mutual information, perplexity.

Seed 004 §4.2.2 (information entropy, conditional entropy, relative entropy / KL divergence, cross
entropy, mutual information) and §1.7 (perplexity). Natural logarithms (nats) unless ``base`` is given,
as in ``scipy.stats.entropy``; 0·log 0 = 0.

Distributions (``entropy``, ``cross_entropy``, ``kl_divergence``) are arrays of non-negative weights along
``axis`` (the last by default), normalised to sum to 1 like scipy does. Joint measures
(``mutual_information``, ``conditional_entropy``, ``joint_entropy``) take two label vectors of the same
length and use their empirical joint distribution, like ``sklearn.metrics.mutual_info_score``.
"""

from __future__ import annotations

import math

import numpy as np

from ._util import as_labels, check_length, to_numpy

__all__ = [
    "entropy", "cross_entropy", "kl_divergence", "mutual_information", "conditional_entropy", "joint_entropy",
    "perplexity",
]


def _distribution(p, name: str, axis: int) -> np.ndarray:
    p = to_numpy(p, name)
    if p.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {p.dtype}")
    p = p.astype(np.float64, copy=False)
    if p.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    total = np.sum(p, axis=axis, keepdims=True)
    if np.any(total == 0):
        raise ValueError(f"{name} has a distribution whose weights sum to 0")
    return p / total


def _sum(terms: np.ndarray, axis: int, base):
    total = np.sum(terms, axis=axis)
    if base is not None:
        total = total / math.log(base)
    return float(total) if total.ndim == 0 else total


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x·log y with 0·log y = 0 (also for y = 0)."""
    with np.errstate(divide="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def entropy(p, *, axis: int = -1, base: float | None = None):
    """Shannon entropy H(p) = −Σ_x p(x) log p(x) (seed 004 §4.2.2).

    p: weights along ``axis`` (normalised to sum to 1), any shape; returns a float for 1-D p, else an
    array with ``axis`` removed. Maximal (log n) for the uniform distribution.

    >>> round(entropy([0.5, 0.5]), 6)
    0.693147
    """
    p = _distribution(p, "p", axis)
    return _sum(-_xlogy(p, p), axis, base)


def _pair(p, q, axis):
    p, q = _distribution(p, "p", axis), _distribution(q, "q", axis)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return p, q


def cross_entropy(p, q, *, axis: int = -1, base: float | None = None):
    """Cross-entropy H(p, q) = −Σ_x p(x) log q(x) = H(p) + D_KL(p ‖ q) (seed 004 §4.2.2).

    p, q: weights of the same shape along ``axis`` (each normalised). Infinite where q(x) = 0 < p(x).

    >>> round(cross_entropy([0.5, 0.5], [0.25, 0.75]), 6)
    0.836988
    """
    p, q = _pair(p, q, axis)
    return _sum(-_xlogy(p, q), axis, base)


def kl_divergence(p, q, *, axis: int = -1, base: float | None = None):
    """Relative entropy D_KL(p ‖ q) = Σ_x p(x) log(p(x) / q(x)) (seed 004 §4.2.2); ``scipy.stats.entropy(p, q)``.

    Zero iff p = q; not symmetric. Infinite where q(x) = 0 < p(x). Shapes as :func:`cross_entropy`.

    >>> round(kl_divergence([0.5, 0.5], [0.25, 0.75]), 6)
    0.143841
    """
    p, q = _pair(p, q, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = p / q
    return _sum(_xlogy(p, ratio), axis, base)


def _contingency(a, b) -> np.ndarray:
    """Counts n(a_i, b_j) of the label pairs, shape (|A|, |B|)."""
    a = as_labels(a, "a")
    b = as_labels(b, "b")
    check_length(a, b, "a and b")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    na, nb = ia.max() + 1, ib.max() + 1
    return np.bincount(ia * nb + ib, minlength=na * nb).reshape(na, nb)


def _plogp(counts: np.ndarray) -> float:
    """−Σ (n/N) log(n/N) over the non-zero counts."""
    counts = counts[counts > 0].astype(np.float64)
    total = counts.sum()
    return float(-np.sum(counts / total * (np.log(counts) - math.log(total))))


def mutual_information(a, b) -> float:
    """Mutual information I(A; B) = Σ_{a,b} p(a, b) log(p(a, b) / (p(a) p(b))) of two label vectors.

    Seed 004 §4.2.2 (whose formula carries a stray minus sign; I ≥ 0 as published).
    I(A; B) = H(A) − H(A | B) = H(A) + H(B) − H(A, B). Same value and computation as
    ``sklearn.metrics.mutual_info_score(a, b)``. Shapes: a, b (N,) -> float.

    >>> round(mutual_information([0, 0, 1, 1], [0, 0, 1, 1]), 6)
    0.693147
    """
    c = _contingency(a, b)
    if 1 in c.shape:
        return 0.0
    rows, cols = np.nonzero(c)
    values = c[rows, cols].astype(np.float64)
    total = c.sum()
    pi, pj = c.sum(axis=1), c.sum(axis=0)
    outer = pi[rows].astype(np.int64) * pj[cols].astype(np.int64)
    log_outer = -np.log(outer) + math.log(pi.sum()) + math.log(pj.sum())
    share = values / total
    mi = share * (np.log(values) - math.log(total)) + share * log_outer
    mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
    return float(np.clip(mi.sum(), 0.0, None))


def joint_entropy(a, b) -> float:
    """Joint entropy H(A, B) = −Σ_{a,b} p(a, b) log p(a, b) of two label vectors (seed 004 §4.2.2).

    Shapes: a, b (N,) -> float.

    >>> round(joint_entropy([0, 0, 1, 1], [0, 1, 0, 1]), 6)
    1.386294
    """
    return _plogp(_contingency(a, b))


def conditional_entropy(a, b) -> float:
    """Conditional entropy H(A | B) = −Σ_{a,b} p(a, b) log p(a | b) = H(A, B) − H(B) (seed 004 §4.2.2).

    The uncertainty left in the labels ``a`` once ``b`` is known. Shapes: a, b (N,) -> float.

    >>> round(conditional_entropy([0, 0, 1, 1], [0, 0, 0, 0]), 6)
    0.693147
    """
    c = _contingency(a, b)
    return max(0.0, _plogp(c) - _plogp(c.sum(axis=0)))


def negative_log_likelihoods(y_true, y_prob) -> np.ndarray:
    """−log y_prob[..., y_true] for y_prob (N, C) with y_true (N,), or (N, L, C) with (N, L); float64, flat."""
    prob = to_numpy(y_prob, "y_prob")
    target = to_numpy(y_true, "y_true")
    if prob.ndim not in (2, 3) or target.shape != prob.shape[:-1]:
        raise ValueError(f"y_prob must be (N, C) with y_true (N,), or (N, L, C) with y_true (N, L); got y_prob "
                         f"{prob.shape} and y_true {target.shape}")
    if target.dtype.kind not in "biu" or np.any(target < 0) or np.any(target >= prob.shape[-1]):
        raise ValueError(f"y_true must hold integer class indices in [0, {prob.shape[-1]})")
    if prob.dtype.kind != "f" or np.any(prob < 0) or np.any(prob > 1):
        raise ValueError("y_prob must hold probabilities in [0, 1]")
    picked = np.take_along_axis(prob, target[..., None].astype(np.intp), axis=-1).astype(np.float64)
    with np.errstate(divide="ignore"):
        return -np.log(picked.ravel())


def perplexity(y_true, y_prob) -> float:
    """Perplexity PPL = exp(−(1/N) Σ_i log p(w_i)) = P(w_1 … w_N)^(−1/N) (seed 004 §1.7).

    The exponential of the mean negative log-likelihood of the true classes: y_prob (N, C) with y_true
    (N,), or (N, L, C) with y_true (N, L) (every token counts once). Lower is better; a uniform model over
    C classes scores C; a zero probability on a true class gives inf.

    >>> perplexity([0, 1], [[0.5, 0.5], [0.5, 0.5]])
    2.0
    """
    return float(np.exp(np.mean(negative_log_likelihoods(y_true, y_prob))))
