"""Input handling shared by the metrics: arrays, lists, shenjing Tensors and CuPy arrays become NumPy arrays."""

from __future__ import annotations

import warnings

import numpy as np

from .. import _backend
from ..tensor import Tensor


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the data (e.g. a 0/0 division) and was set to ``zero_division``."""


def to_numpy(x, name: str) -> np.ndarray:
    """``x`` (array, list, Tensor or CuPy array) as a NumPy array; TypeError naming ``name`` otherwise."""
    if isinstance(x, Tensor):
        return x.numpy()
    if hasattr(x, "__cuda_array_interface__"):
        _backend.cupy()  # to_numpy only recognises GPU arrays once CuPy has been looked up
        return _backend.to_numpy(x)
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}: {err}") from None


def as_labels(x, name: str) -> np.ndarray:
    """A non-empty 1-D label vector (a column vector is flattened); rejects continuous or multi-output targets."""
    arr = to_numpy(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector of labels, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one sample is required")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise ValueError(f"{name} holds continuous values; expected class labels")
    if arr.dtype.kind not in "biufUSO":
        raise TypeError(f"{name} must hold numbers or strings, got dtype {arr.dtype}")
    return arr


def as_scores(x, name: str, ndim: tuple[int, ...] = (1,)) -> np.ndarray:
    """Finite float64 scores with one of the allowed numbers of dimensions."""
    arr = to_numpy(x, name)
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def check_length(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{names} have inconsistent numbers of samples: {a.shape[0]} and {b.shape[0]}")


def check_same_kind(a: np.ndarray, b: np.ndarray, names: str) -> None:
    """Reject a mix of string and numeric labels."""
    if (a.dtype.kind in "USO") != (b.dtype.kind in "USO"):
        raise TypeError(f"{names} mix string and numeric labels ({a.dtype} and {b.dtype})")


def zero_division_value(zero_division) -> float:
    """The value a 0/0 ratio takes: 0 for ``"warn"`` (with a warning), else 0, 1 or NaN."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif zero_division in (0, 1) or (isinstance(zero_division, float) and np.isnan(zero_division)):
        return float(zero_division)
    raise ValueError(f"zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def safe_divide(num, den, zero_division, message: str) -> np.ndarray:
    """``num / den`` in float64 with ``zero_division`` where ``den == 0`` (and a warning when it is ``"warn"``)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    mask = den == 0
    result = num / np.where(mask, 1.0, den)
    if np.any(mask):
        result = np.where(mask, zero_division_value(zero_division), result)
        if isinstance(zero_division, str):
            warnings.warn(f"{message}; it is set to 0.0. Use `zero_division` to control this.",
                          UndefinedMetricWarning, stacklevel=3)
    return result


def score_classes(y_true: np.ndarray, labels, n_columns: int) -> np.ndarray:
    """The ordered classes that label the columns of a multiclass y_score."""
    if labels is None:
        classes = np.unique(y_true)
        if classes.size != n_columns:
            raise ValueError(f"number of classes in y_true ({classes.size}) does not equal the number of columns "
                             f"of y_score ({n_columns})")
        return classes
    labels = as_labels(labels, "labels")
    classes = np.unique(labels)
    if classes.size != labels.size or not np.array_equal(classes, labels):
        raise ValueError("labels must be unique and ordered")
    if classes.size != n_columns:
        raise ValueError(f"number of labels ({classes.size}) does not equal the number of columns of y_score "
                         f"({n_columns})")
    if np.setdiff1d(y_true, classes).size:
        raise ValueError("y_true contains labels not in labels")
    return classes
