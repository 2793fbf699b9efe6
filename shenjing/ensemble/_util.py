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
