"""Ranking metrics on scores: ROC curve and AUC, precision-recall curve and Average Precision.

Seed 004 §1.5 (Average Precision: the area under the precision-recall curve, 11-point interpolation
p_interp(r) = max_{r' >= r} p(r')) and §1.6 (ROC: TPR against FPR as the threshold sweeps the scores;
AUC its area). Names, arguments and results follow scikit-learn (``roc_curve``, ``roc_auc_score``,
``precision_recall_curve``, ``average_precision_score``); scores are ranked in float64.
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from ._util import UndefinedMetricWarning, as_labels, as_scores, check_length, score_classes

__all__ = ["auc", "roc_curve", "roc_auc_score", "precision_recall_curve", "average_precision"]

_INTERPOLATIONS = ("step", "11point", "101point", "all")


def _pos_label(pos_label, y_true: np.ndarray):
    """scikit-learn's rule: without pos_label, y_true must take values in {0, 1} or {-1, 1}; positive is 1."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y_true)
    if classes.dtype.kind in "USO" or not (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}):
        raise ValueError(f"y_true takes values in {classes.tolist()} and pos_label is not specified: "
                         "make y_true take values in {0, 1} or {-1, 1} or pass pos_label")
    return 1


def _binary_curve(y_true, y_score, pos_label=None):
    """False and true positive counts at each distinct score, scores descending: (fps, tps, thresholds)."""
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", (1,))
    check_length(y_true, y_score, "y_true and y_score")
    positive = y_true == _pos_label(pos_label, y_true)
    order = np.argsort(y_score, kind="stable")[::-1]
    score = y_score[order]
    ends = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tps = np.cumsum(positive[order], dtype=np.float64)[ends]
    return 1.0 + ends - tps, tps, score[ends]


def roc_curve(y_true, y_score, *, pos_label=None, drop_intermediate: bool = True):
    """Receiver operating characteristic: (fpr, tpr, thresholds) (seed 004 §1.6).

    A sample is predicted positive when its score >= threshold; thresholds are the distinct scores in
    decreasing order, preceded by +inf (the point (0, 0)). TPR = TP / P, FPR = FP / N.
    ``drop_intermediate`` removes the collinear points that do not change the curve's shape
    (scikit-learn's default). Shapes: y_true, y_score (N,) -> three (T,) arrays.

    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr, tpr
    (array([0. , 0. , 0.5, 0.5, 1. ]), array([0. , 0.5, 0.5, 1. , 1. ]))
    """
    fps, tps, thresholds = _binary_curve(y_true, y_score, pos_label)
    if drop_intermediate and fps.size > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps, thresholds = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]
    return _rate(fps, "negative", "false"), _rate(tps, "positive", "true"), thresholds


def _rate(counts: np.ndarray, kind: str, name: str) -> np.ndarray:
    if counts[-1] <= 0:
        warnings.warn(f"No {kind} samples in y_true, the {name} positive rate is undefined (NaN)",
                      UndefinedMetricWarning, stacklevel=3)
        return np.full(counts.shape, np.nan)
    return counts / counts[-1]


def auc(x, y) -> float:
    """Area under a curve by the trapezoid rule, Σ_i (x_{i+1} − x_i)(y_{i+1} + y_i) / 2 (seed 004 §1.6).

    scikit-learn's ``auc``: x must be monotonic (increasing, or decreasing, which flips the sign back).
    Shapes: x, y (n,) with n >= 2 -> float.

    >>> auc([0, 0.5, 1], [0, 1, 1])
    0.75
    """
    x, y = as_scores(x, "x"), as_scores(y, "y")
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must have the same shape with at least 2 points, got {x.shape} and {y.shape}")
    dx = np.diff(x)
    if np.any(dx < 0) and not np.all(dx <= 0):
        raise ValueError("x is neither increasing nor decreasing")
    area = float(np.sum(dx * (y[1:] + y[:-1]) / 2.0))
    return -area if np.any(dx < 0) else area


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of one binary problem; NaN (with a warning) when y_true has a single class."""
    if np.unique(positive).size != 2:
        warnings.warn("Only one class is present in y_true; ROC AUC is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    fpr, tpr, _ = roc_curve(positive, score)
    return auc(fpr, tpr)


def _average_columns(metric, positive: np.ndarray, score: np.ndarray, average):
    """scikit-learn's averaging of a binary ranking metric over the columns of (N, C) indicator/score arrays."""
    if average == "micro":
        return metric(positive.ravel(), score.ravel())
    scores = np.array([metric(positive[:, c], score[:, c]) for c in range(score.shape[1])])
    if average is None:
        return scores
    weights = positive.sum(axis=0) if average == "weighted" else None
    if weights is not None:
        if weights.sum() == 0:
            return 0.0
        scores[weights == 0] = 0.0
    return float(np.average(scores, weights=weights))


def roc_auc_score(y_true, y_score, *, average="macro", multi_class: str = "raise", labels=None) -> float:
    """Area under the ROC curve (seed 004 §1.6), by the trapezoid rule over :func:`roc_curve`.

    Binary: y_score (N,) is the score of the greater label. Multiclass (y_score (N, C), rows summing to 1,
    one column per class of ``labels``, default the sorted classes of y_true), as scikit-learn:
    ``multi_class='ovr'`` averages the one-vs-rest AUCs (``average`` 'macro', 'weighted' by prevalence,
    'micro' on the flattened indicators, or None for per-class values); ``'ovo'`` is Hand & Till's mean
    over class pairs (a, b) of (AUC(a|b) + AUC(b|a)) / 2 (``average`` 'macro' or 'weighted' by pair
    prevalence).

    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", (1, 2))
    check_length(y_true, y_score, "y_true and y_score")
    classes = np.unique(y_true)
    if classes.size <= 2 and not (y_score.ndim == 2 and y_score.shape[1] > 2):
        if y_score.ndim != 1:
            raise ValueError(f"y_true is binary, so y_score must be (n_samples,), got shape {y_score.shape}")
        return _binary_auc(y_true == classes[-1], y_score)
    return _multiclass_auc(y_true, y_score, average, multi_class, labels)


def _multiclass_auc(y_true, y_score, average, multi_class, labels):
    if y_score.ndim != 2:
        raise ValueError(f"y_score must be (n_samples, n_classes) for multiclass y_true, got shape {y_score.shape}")
    if multi_class not in ("ovr", "ovo"):
        raise ValueError(f"multi_class must be 'ovr' or 'ovo' for multiclass y_true, got {multi_class!r}")
    if not np.allclose(1, y_score.sum(axis=1)):
        raise ValueError("y_score rows must be probabilities summing to 1 for multiclass ROC AUC")
    allowed = ("micro", "macro", "weighted", None) if multi_class == "ovr" else ("macro", "weighted")
    if average not in allowed:
        raise ValueError(f"average must be one of {allowed} for multi_class={multi_class!r}, got {average!r}")
    classes = score_classes(y_true, labels, y_score.shape[1])
    encoded = np.searchsorted(classes, y_true)
    if multi_class == "ovr":
        return _average_columns(_binary_auc, encoded[:, None] == np.arange(classes.size), y_score, average)
    pairs, prevalence = [], []
    for a, b in combinations(np.unique(encoded), 2):
        mask = (encoded == a) | (encoded == b)
        pairs.append((_binary_auc(encoded[mask] == a, y_score[mask, a]) +
                      _binary_auc(encoded[mask] == b, y_score[mask, b])) / 2)
        prevalence.append(np.mean(mask))
    return float(np.average(pairs, weights=prevalence if average == "weighted" else None))


def precision_recall_curve(y_true, y_score, *, pos_label=None, drop_intermediate: bool = False):
    """Precision and recall at every distinct threshold: (precision, recall, thresholds) (seed 004 §1.3, §1.5).

    scikit-learn's order: thresholds increasing; precision and recall have one more entry, the final
    point (recall 0, precision 1). Precision with no predicted positive is 0; without positives recall is
    1 (with a warning). ``drop_intermediate`` drops thresholds that do not change the true positives.
    Shapes: y_true, y_score (N,) -> (T + 1,), (T + 1,), (T,).

    >>> p, r, t = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p, r
    (array([0.5       , 0.66666667, 0.5       , 1.        , 1.        ]), array([1. , 1. , 0.5, 0.5, 0. ]))
    """
    fps, tps, thresholds = _binary_curve(y_true, y_score, pos_label)
    if drop_intermediate and fps.size > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    precision, recall = _pr_points(fps, tps)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _pr_points(fps: np.ndarray, tps: np.ndarray):
    """Precision and recall from cumulative counts (scores descending)."""
    predicted = tps + fps
    precision = np.where(predicted != 0, tps / np.where(predicted != 0, predicted, 1), 0.0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.",
                      UserWarning, stacklevel=3)
        return precision, np.ones_like(tps)
    return precision, tps / tps[-1]


def check_interpolation(interpolation: str) -> None:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")


def interpolated_ap(precision: np.ndarray, recall: np.ndarray, interpolation: str) -> float:
    """Area under a precision-recall curve given point by point in decreasing score order (recall non-decreasing).

    - 'step': Σ_k (r_k − r_{k−1})·p_k with r_0 = 0 (no interpolation; scikit-learn's AP).
    - '11point' (VOC2007) and '101point' (COCO): (1/n) Σ_{r ∈ {0, 1/(n−1), ..., 1}} p_interp(r) with
      p_interp(r) = max_{r' >= r} p(r') and 0 where no point reaches r (seed 004 §1.5). The grid is
      ``np.linspace(0, 1, n)``, the same floats as the VOC devkit's and pycocotools' grids.
    - 'all' (VOC2010): the exact area under the envelope p_interp over recall [0, 1].
    """
    check_interpolation(interpolation)
    if interpolation == "step":
        return float(max(0.0, np.sum(np.diff(recall, prepend=0.0) * precision)))
    if interpolation == "all":
        recall, precision = np.r_[0.0, recall, 1.0], np.r_[0.0, precision, 0.0]
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if interpolation == "all":
        steps = np.flatnonzero(recall[1:] != recall[:-1])
        return float(np.sum((recall[steps + 1] - recall[steps]) * envelope[steps + 1]))
    grid = np.linspace(0.0, 1.0, 11 if interpolation == "11point" else 101)
    first = np.searchsorted(recall, grid, side="left")
    reached = first < recall.size
    return float(np.sum(envelope[first[reached]]) / grid.size)


def _binary_ap(positive, score, pos_label, interpolation):
    fps, tps, _ = _binary_curve(positive, score, pos_label)
    precision, recall = _pr_points(fps, tps)
    return interpolated_ap(precision, recall, interpolation)


def average_precision(y_true, y_score, *, average="macro", pos_label=1, interpolation: str = "step") -> float:
    """Average Precision: the area under the precision-recall curve (seed 004 §1.5).

    ``interpolation='step'`` (default) is scikit-learn's ``average_precision_score``:
    AP = Σ_n (R_n − R_{n−1}) P_n over the thresholds. ``'11point'`` is VOC2007's
    AP = (1/11) Σ_{r ∈ {0, 0.1, ..., 1}} p_interp(r), p_interp(r) = max_{r' >= r} p(r');
    ``'all'`` is VOC2010's exact area under p_interp; ``'101point'`` is COCO's 101-point form.
    Binary: y_score (N,) scores the class ``pos_label``. Multiclass: y_score (N, C) with one column per
    sorted class of y_true, one-vs-rest APs averaged by ``average`` ('macro', 'weighted' by support,
    'micro' on the flattened indicators, None for per-class values).

    >>> average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8333333333333333
    """
    y_true = as_labels(y_true, "y_true")
    y_score = as_scores(y_score, "y_score", (1, 2))
    check_length(y_true, y_score, "y_true and y_score")
    check_interpolation(interpolation)
    classes = np.unique(y_true)
    if average not in ("micro", "macro", "weighted", None):
        raise ValueError(f"average must be 'micro', 'macro', 'weighted' or None, got {average!r}")
    if classes.size <= 2:
        if classes.size == 2 and not np.any(classes == pos_label):
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {classes}")
        if y_score.ndim != 1:
            raise ValueError(f"y_true is binary, so y_score must be (n_samples,), got shape {y_score.shape}")
        return _binary_ap(y_true, y_score, pos_label, interpolation)
    if pos_label != 1:
        raise ValueError("pos_label is fixed to 1 for multiclass y_true")
    if y_score.shape != (y_true.size, classes.size):
        raise ValueError(f"y_score must be (n_samples, n_classes) = {(y_true.size, classes.size)} for multiclass "
                         f"y_true, got shape {y_score.shape}")
    positive = y_true[:, None] == classes
    return _average_columns(lambda t, s: _binary_ap(t, s, True, interpolation), positive, y_score, average)
