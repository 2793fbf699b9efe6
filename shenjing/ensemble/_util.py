"""Helpers shared by the ensembles: estimator cloning and probability alignment, argument checks."""

from __future__ import annotations

import copy

import numpy as np


def clone(estimator):
    """A fresh, unfitted copy: rebuilt from ``get_params(deep=False)`` when it has them, else a deep copy."""
    if hasattr(estimator, "get_params"):
        params = {k: copy.deepcopy(v) for k, v in estimator.get_params(deep=False).items()}
        return type(estimator)(**params)
    return copy.deepcopy(estimator)


def check_estimator(estimator, name: str, method: str = "fit"):
    if not callable(getattr(estimator, method, None)):
        raise TypeError(f"{name}: expected an estimator with a {method}() method, got {type(estimator).__name__}")
    return estimator


def aligned_proba(estimator, X, classes: np.ndarray) -> np.ndarray:
    """``estimator.predict_proba(X)`` with one column per entry of ``classes`` (zeros for classes it never saw).

    An estimator fitted on a subset (a fold, a bootstrap sample) may lack some classes;
    its ``classes_`` says which columns it has. Without ``classes_`` the columns must match.
    """
    proba = np.asarray(estimator.predict_proba(X))
    own = getattr(estimator, "classes_", None)
    if own is None:
        if proba.shape[1] != len(classes):
            raise ValueError(f"predict_proba gave {proba.shape[1]} columns for {len(classes)} classes and the "
                             f"estimator has no classes_ to align them")
        return proba
    out = np.zeros((len(proba), len(classes)), dtype=proba.dtype)
    out[:, np.searchsorted(classes, own)] = proba
    return out


def as_array(X, name: str) -> np.ndarray:
    """Index-able data: arrays stay as they are, Tensors and lists become NumPy arrays."""
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"{name}: expected samples along the first axis, got a scalar")
    return X


def check_fitted(ensemble, attribute: str) -> None:
    if not hasattr(ensemble, attribute):
        raise RuntimeError(f"{type(ensemble).__name__} is not fitted yet; call fit() first")


def check_int(owner: str, name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, or a ValueError naming ``owner``'s argument when it is not an int ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _fit_seeded(estimator, X, y, seed: int, fit_kw: dict):
    """``estimator.fit(X, y)`` with shenjing's global generator seeded by ``seed`` (and restored after),
    so a member's randomness depends on its own seed only, not on which process fits it when."""
    from .. import _backend as B

    saved = B.get_rng_state()
    B.manual_seed(seed)
    try:
        estimator.fit(X, y, **fit_kw)
        return estimator
    finally:
        B.set_rng_state(saved)


def fit_all(jobs: list, seed: int | None, n_jobs: int) -> list:
    """Fit each ``(estimator, X, y, fit_kw)`` of ``jobs``; returns the fitted estimators in order.

    Job i runs under its own seed from ``SeedSequence(seed).spawn``, so the result is the same
    for every ``n_jobs`` (1: in this process; more: joblib's loky processes, one BLAS thread each).
    """
    from ..tune import parallel_map

    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(jobs))]
    return parallel_map(_fit_seeded, [(est, X, y, s, kw) for (est, X, y, kw), s in zip(jobs, seeds)], n_jobs)


def check_n_jobs(owner: str, n_jobs) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"{owner}: n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    return int(n_jobs)
