"""Classification metrics on predicted labels, with scikit-learn's names, arguments and semantics.

Seed 004 §1.2 (TP/FP/TN/FN), §1.3 (precision, recall, FPR, accuracy, top-k accuracy), §1.4 (F1, its
derivation from the Dice coefficient, F-beta, micro- and macro-F1), §4.1 (evaluation functions) and
§4.2.1 (the 0-1 loss, whose mean is ``1 - accuracy``).

Every function takes NumPy arrays, lists or shenjing Tensors and returns Python floats or NumPy arrays.
``average`` works as in scikit-learn: ``'binary'`` scores the class ``pos_label`` only; ``'micro'`` pools
the counts of all classes; ``'macro'`` is the unweighted mean of the per-class scores; ``'weighted'``
weights them by support (the number of true samples of each class); ``None`` returns the per-class
scores in the order of ``labels`` (sorted classes by default). ``'macro_pr'`` is the notes' second
macro-F1: the F-score of the macro precision and the macro recall. ``zero_division`` is the value of a
0/0 ratio: ``"warn"`` (0 with an :class:`UndefinedMetricWarning`), 0, 1 or ``np.nan`` (NaN scores are
left out of the average).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._util import (
    UndefinedMetricWarning, as_labels, as_scores, check_length, check_same_kind, safe_divide, score_classes, to_numpy,
    zero_division_value,
)

__all__ = [
    "UndefinedMetricWarning", "accuracy", "zero_one_loss", "top_k_accuracy", "confusion_matrix", "precision",
    "recall", "fpr", "f1_score", "fbeta_score", "dice_coefficient",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", "macro_pr", None)


def _targets(y_true, y_pred):
    """Validated label vectors and the sorted labels present in either."""
    y_true = as_labels(y_true, "y_true")
    y_pred = as_labels(y_pred, "y_pred")
    check_length(y_true, y_pred, "y_true and y_pred")
    check_same_kind(y_true, y_pred, "y_true and y_pred")
    return y_true, y_pred, np.union1d(y_true, y_pred)


def _class_stats(y_true, y_pred, average, labels, pos_label) -> np.ndarray:
    """Counts (tp, fp, fn, tn) per selected label, shape (4, L); pooled to (4, 1) for ``average='micro'``.

    Labels are those of ``labels`` (default: sorted labels present in y_true or y_pred); for
    ``average='binary'`` the single label ``pos_label``.
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    y_true, y_pred, present = _targets(y_true, y_pred)
    if average == "binary":
        if present.size > 2:
            raise ValueError("Target is multiclass but average='binary'. Please choose another average setting, "
                             "one of [None, 'micro', 'macro', 'weighted', 'macro_pr'].")
        if present.size == 2 and not np.any(present == pos_label):
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {present}")
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(f"pos_label={pos_label!r} is ignored when average != 'binary' (got {average!r}); "
                      "use labels=[pos_label] to score a single class.", UserWarning, stacklevel=3)
    labels = present if labels is None else as_labels(labels, "labels")
    classes = np.union1d(labels, present)
    t = np.searchsorted(classes, y_true)
    p = np.searchsorted(classes, y_pred)
    k = classes.size
    index = np.searchsorted(classes, labels)
    tp = np.bincount(t[t == p], minlength=k)[index]
    pred = np.bincount(p, minlength=k)[index]
    true = np.bincount(t, minlength=k)[index]
    return stats_from_counts(tp, pred, true, y_true.size, average)


def stats_from_counts(tp, pred, true, n: int, average) -> np.ndarray:
    """(tp, fp, fn, tn) per label, shape (4, L), from true positives, predicted and true counts per label."""
    stats = np.stack([tp, pred - tp, true - tp, n - pred - true + tp])
    return stats.sum(axis=1, keepdims=True) if average == "micro" else stats


def _nanaverage(scores: np.ndarray, weights) -> float:
    """Mean of the non-NaN scores (weighted when the weights do not all vanish); NaN when none is left."""
    keep = ~np.isnan(scores)
    if not np.any(keep):
        return float("nan")
    if weights is None or not np.any(weights[keep]):
        return float(np.mean(scores[keep]))
    return float(np.average(scores[keep], weights=weights[keep]))


def _average(scores: np.ndarray, average, support: np.ndarray):
    if average is None:
        return scores
    return _nanaverage(scores, support if average == "weighted" else None)


def _precision(stats, zero_division):
    tp, fp = stats[0], stats[1]
    return safe_divide(tp, tp + fp, zero_division, "Precision is ill-defined (no predicted samples)")


def _recall(stats, zero_division):
    tp, fn = stats[0], stats[2]
    return safe_divide(tp, tp + fn, zero_division, "Recall is ill-defined (no true samples)")


def _fpr(stats, zero_division):
    fp, tn = stats[1], stats[3]
    return safe_divide(fp, fp + tn, zero_division, "FPR is ill-defined (no negative samples)")


def _fbeta(stats, beta: float, average, zero_division):
    """F-beta per label (sklearn's form (1+β²)tp / ((1+β²)tp + β²fn + fp)) or, for 'macro_pr', of macro P and R."""
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    quiet = zero_division if not isinstance(zero_division, str) else 0.0
    if average == "macro_pr":
        p = _nanaverage(_precision(stats, quiet), None)
        r = _nanaverage(_recall(stats, quiet), None)
        num, den = np.array([(1 + beta**2) * p * r]), np.array([beta**2 * p + r])
    elif np.isposinf(beta):
        return _recall(stats, quiet)
    elif beta == 0:
        return _precision(stats, quiet)
    else:
        tp, fp, fn = stats[0], stats[1], stats[2]
        num, den = (1 + beta**2) * tp, beta**2 * (tp + fn) + (tp + fp)
    return safe_divide(num, den, zero_division, "F-score is ill-defined (no true nor predicted samples)")


def _score(kind, y_true, y_pred, labels, pos_label, average, zero_division, beta=1.0):
    zero_division_value(zero_division)
    return score_from_stats(kind, _class_stats(y_true, y_pred, average, labels, pos_label), average,
                            zero_division, beta)


def score_from_stats(kind: str, stats: np.ndarray, average, zero_division, beta: float = 1.0):
    """'precision', 'recall', 'fpr' or 'fbeta' from (4, L) counts, averaged by ``average``."""
    if kind == "fbeta":
        scores = _fbeta(stats, beta, average, zero_division)
        if average == "macro_pr":
            return float(scores[0])
    else:
        scores = {"precision": _precision, "recall": _recall, "fpr": _fpr}[kind](stats, zero_division)
    return _average(scores, "macro" if average == "macro_pr" else average, stats[0] + stats[2])


def accuracy(y_true, y_pred, *, normalize: bool = True) -> float:
    """Fraction (or number, with ``normalize=False``) of samples whose predicted label equals the true one.

    accuracy = (TP + TN) / (TP + FP + TN + FN) = 1 - mean 0-1 loss (seed 004 §1.3, §4.2.1);
    scikit-learn's ``accuracy_score``. Shapes: y_true, y_pred (N,).

    >>> accuracy([0, 1, 2, 3], [0, 2, 1, 3])
    0.5
    """
    y_true, y_pred, _ = _targets(y_true, y_pred)
    hits = y_true == y_pred
    return float(np.mean(hits)) if normalize else float(np.count_nonzero(hits))


def zero_one_loss(y_true, y_pred, *, normalize: bool = True) -> float:
    """Fraction (or number, with ``normalize=False``) of misclassified samples (seed 004 §4.2.1).

    L_{0-1} = (1/N) Σ_i 1[ŷ_i ≠ y_i] = 1 - accuracy, in float64 whatever the input dtype; scikit-learn's
    ``zero_one_loss``. Shapes: y_true, y_pred (N,). (``F.zero_one_loss`` is the same count on scores.)

    >>> zero_one_loss([0, 1, 2, 3], [0, 2, 1, 3])
    0.5
    """
    y_true, y_pred, _ = _targets(y_true, y_pred)
    misses = y_true != y_pred
    return float(np.mean(misses)) if normalize else float(np.count_nonzero(misses))


def top_k_accuracy(y_true, y_score, *, k: int = 2, normalize: bool = True, labels=None) -> float:
    """Fraction of samples whose true label is among the ``k`` highest scores (seed 004 §1.3, Top-k Accuracy).

    scikit-learn's ``top_k_accuracy_score``: y_score (N, C) holds one column per class of ``labels``
    (default: the sorted labels of y_true); ties rank the later column first (a stable ascending sort,
    reversed). For binary y_true, y_score (N,) is the score of the greater label: with k=1 the
    prediction is ``y_score > 0.5`` for probabilities (else ``> 0``); with k >= 2 every sample is a hit.

    >>> top_k_accuracy([0, 1, 2, 2], [[.5, .2, .2], [.3, .4, .2], [.2, .4, .3], [.7, .2, .1]], k=2)
    0.75
    """
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", (1, 2))
    check_length(y_true, y_score, "y_true and y_score")
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    n_columns = y_score.shape[1] if y_score.ndim == 2 else 2
    classes = score_classes(y_true, labels, n_columns)
    if k >= classes.size:
        warnings.warn(f"k ({k}) >= n_classes ({classes.size}) gives a perfect score and is meaningless",
                      UndefinedMetricWarning, stacklevel=2)
    encoded = np.searchsorted(classes, y_true)
    if y_score.ndim == 1:
        threshold = 0.5 if y_score.min() >= 0 and y_score.max() <= 1 else 0.0
        hits = (y_score > threshold) == encoded if k == 1 else np.ones(y_true.size, dtype=bool)
    else:
        top = np.argsort(y_score, axis=1, kind="stable")[:, ::-1][:, :k]
        hits = np.any(top == encoded[:, None], axis=1)
    return float(np.mean(hits)) if normalize else float(np.count_nonzero(hits))


def confusion_matrix(y_true, y_pred, *, labels=None, normalize: str | None = None) -> np.ndarray:
    """C[i, j] = number of samples of true class ``labels[i]`` predicted as ``labels[j]`` (seed 004 §1.2).

    scikit-learn's ``confusion_matrix``: ``labels`` (default: sorted labels present) selects and orders the
    classes, samples with a label outside it are dropped. ``normalize`` = 'true' (rows sum to 1), 'pred'
    (columns) or 'all'; empty rows/columns give 0. Shapes: y_true, y_pred (N,) -> (L, L), int64 counts or
    float64 when normalised.

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    y_true, y_pred, present = _targets(y_true, y_pred)
    if labels is None:
        labels = present
    else:
        labels = as_labels(labels, "labels")
        if not np.isin(y_true, labels).any():
            raise ValueError("At least one label specified must be in y_true")
    n = labels.size
    order = np.argsort(labels, kind="stable")
    ranked = labels[order]
    t = np.minimum(np.searchsorted(ranked, y_true), n - 1)
    p = np.minimum(np.searchsorted(ranked, y_pred), n - 1)
    keep = (ranked[t] == y_true) & (ranked[p] == y_pred)
    cm = np.bincount(order[t[keep]] * n + order[p[keep]], minlength=n * n).reshape(n, n).astype(np.int64)
    if cm.shape == (1, 1):
        warnings.warn("A single label was found in y_true and y_pred; pass all known labels in `labels` "
                      "for a confusion matrix of the right shape.", UserWarning, stacklevel=2)
    if normalize is None:
        return cm
    axis = {"true": 1, "pred": 0, "all": None}[normalize]
    total = cm.sum(axis=axis, keepdims=axis is not None)
    return np.where(total == 0, 0.0, cm / np.where(total == 0, 1, total))


def precision(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """Precision = TP / (TP + FP): the fraction of predicted positives that are right (seed 004 §1.3).

    scikit-learn's ``precision_score`` (``average`` and ``zero_division`` as in the module doc; micro
    pools TP and FP over classes, seed 004 §1.4). Shapes: y_true, y_pred (N,) -> float, or (L,) with
    ``average=None``.

    >>> precision([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    """
    return _score("precision", y_true, y_pred, labels, pos_label, average, zero_division)


def recall(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """Recall (TPR) = TP / (TP + FN): the fraction of true positives found (seed 004 §1.3).

    scikit-learn's ``recall_score``. Shapes: y_true, y_pred (N,) -> float, or (L,) with ``average=None``.

    >>> recall([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _score("recall", y_true, y_pred, labels, pos_label, average, zero_division)


def fpr(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """False positive rate FPR = FP / (FP + TN): the fraction of negatives predicted positive (seed 004 §1.3).

    Averaged like :func:`precision` (one-vs-rest per class; micro pools FP and TN; weighted by the support
    of each class). Shapes: y_true, y_pred (N,) -> float, or (L,) with ``average=None``.

    >>> fpr([0, 0, 0, 1], [1, 0, 0, 1])
    0.3333333333333333
    """
    return _score("fpr", y_true, y_pred, labels, pos_label, average, zero_division)


def fbeta_score(y_true, y_pred, *, beta: float, labels=None, pos_label=1, average="binary",
                zero_division="warn"):
    """F_β = (1 + β²)·P·R / (β²·P + R) = (1 + β²)TP / ((1 + β²)TP + β²FN + FP) (seed 004 §1.4).

    scikit-learn's ``fbeta_score``: β > 1 weighs recall more. ``average='macro'`` is the mean of the
    per-class F_β (the notes' first macro-F1); ``'macro_pr'`` is F_β of the macro precision and macro
    recall (the notes' second); ``'micro'`` is F_β of the pooled counts. Shapes: (N,) -> float or (L,).

    >>> fbeta_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], beta=0.5, average='macro')
    0.2380952380952381
    """
    return _score("fbeta", y_true, y_pred, labels, pos_label, average, zero_division, beta)


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", zero_division="warn"):
    """F1 = 2·P·R / (P + R), the harmonic mean of precision and recall (seed 004 §1.4).

    On binary labels F1 equals the Dice coefficient 2|A∩B| / (|A| + |B|) of the predicted and true
    positive sets (the notes' derivation; see :func:`dice_coefficient`). ``average`` as in
    :func:`fbeta_score`. Shapes: (N,) -> float or (L,).

    >>> f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average='macro')
    0.26666666666666666
    """
    return _score("fbeta", y_true, y_pred, labels, pos_label, average, zero_division)


def _mask(x, name: str) -> np.ndarray:
    arr = to_numpy(x, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric or boolean mask, got dtype {arr.dtype}")
    return arr != 0


def dice_coefficient(y_true, y_pred, *, zero_division="warn") -> float:
    """Dice (Sørensen) coefficient DSC = 2|A∩B| / (|A| + |B|) of two binary masks (seed 004 §1.4, 注2).

    A and B are the non-zero elements of y_pred and y_true (any equal shapes, e.g. (H, W) or (N, H, W));
    DSC = 2TP / ((TP + FP) + (TP + FN)) = F1. Two empty masks give ``zero_division``.

    >>> dice_coefficient([[1, 1], [0, 0]], [[1, 0], [1, 0]])
    0.5
    """
    zero_division_value(zero_division)
    a, b = _mask(y_true, "y_true"), _mask(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {a.shape} and {b.shape}")
    both = np.count_nonzero(a & b)
    den = np.count_nonzero(a) + np.count_nonzero(b)
    return float(safe_divide(2 * both, den, zero_division, "Dice is ill-defined (both masks are empty)"))
