"""Streaming accumulators: ``update`` once per batch, ``compute`` at the end of an epoch, ``reset`` to reuse.

Seed 004 §4.1: the evaluation function is computed over a whole set, while training sees it batch by
batch. Classification and perplexity keep only running counts (a C×C confusion matrix, a sum and a
count); ranking and detection keep each batch's scores once (they need the whole ranking). Results
equal the one-shot functions of :mod:`shenjing.metrics` on the concatenated batches.

>>> acc = ClassificationAccumulator(num_classes=3)
>>> acc.update([0, 1, 2], [[.8, .1, .1], [.2, .7, .1], [.5, .3, .2]])   # scores: argmax is the label
>>> acc.update([2], [2])                                                # or labels
>>> acc.compute()["accuracy"]
0.75
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._util import to_numpy, zero_division_value
from .classification import score_from_stats, stats_from_counts
from .detection import mean_average_precision
from .information import negative_log_likelihoods
from .ranking import average_precision, roc_auc_score

__all__ = ["Accumulator", "Mean", "ClassificationAccumulator", "RankingAccumulator", "DetectionAccumulator",
           "PerplexityAccumulator"]


class Accumulator:
    """Base class: ``update(...)`` per batch, ``compute()`` for the result so far, ``reset()`` to start over.

    >>> from shenjing.metrics import Mean
    >>> loss = Mean()
    >>> loss.update(2.0, weight=3)
    >>> loss.update(4.0, weight=1)
    >>> loss.compute()
    2.5
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def _check_not_empty(self, empty: bool) -> None:
        if empty:
            raise ValueError(f"{type(self).__name__}.compute() called before any update()")


class Mean(Accumulator):
    """Running weighted mean Σ w_i x_i / Σ w_i, e.g. of batch losses weighted by batch size.

    ``update(value, weight=1.0)``: value is a number, a 0-d Tensor or an array (each element counts
    with ``weight``). ``compute()`` returns a float.

    >>> m = Mean()
    >>> m.update(2.0, weight=3)
    >>> m.update([4.0])
    >>> m.compute()
    2.5
    """

    def reset(self) -> None:
        self.total = 0.0
        self.weight = 0.0

    def update(self, value, weight: float = 1.0) -> None:
        values = to_numpy(value, "value").astype(np.float64)
        self.total += float(weight) * float(values.sum())
        self.weight += float(weight) * values.size

    def compute(self) -> float:
        self._check_not_empty(self.weight == 0)
        return self.total / self.weight


class ClassificationAccumulator(Accumulator):
    """Accuracy, precision, recall and F1 from a running confusion matrix (seed 004 §1.3, §1.4).

    ``update(y_true, y_pred)``: y_true holds class indices in [0, num_classes), any shape; y_pred holds
    labels of the same shape or scores with one more, last, axis of size num_classes (the argmax is the
    label). ``compute()`` returns {'accuracy', 'precision', 'recall', 'f1'} with ``average`` and
    ``zero_division`` as :func:`~shenjing.metrics.precision` (classes never seen in either y_true or y_pred
    are left out, as scikit-learn does without ``labels``); ``average='binary'`` scores class
    ``pos_label``. ``confusion_matrix`` is the (C, C) count matrix (rows: true, columns: predicted).

    >>> from shenjing.metrics import ClassificationAccumulator
    >>> acc = ClassificationAccumulator(num_classes=3)
    >>> acc.update([0, 1, 2], [0, 2, 2])
    >>> acc.update([1, 1], [[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    >>> {k: round(v, 4) for k, v in acc.compute().items()}
    {'accuracy': 0.6, 'precision': 0.6667, 'recall': 0.7778, 'f1': 0.6111}
    """

    def __init__(self, num_classes: int, average="macro", zero_division=0.0, pos_label: int = 1) -> None:
        if int(num_classes) != num_classes or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        if average not in ("binary", "micro", "macro", "weighted", "macro_pr"):
            raise ValueError(f"average must be 'binary', 'micro', 'macro', 'weighted' or 'macro_pr', got {average!r}")
        if average == "binary" and (num_classes > 2 or pos_label not in range(num_classes)):
            raise ValueError("average='binary' needs num_classes <= 2 and pos_label in range(num_classes)")
        zero_division_value(zero_division)
        self.num_classes = int(num_classes)
        self.average, self.zero_division, self.pos_label = average, zero_division, pos_label
        super().__init__()

    def reset(self) -> None:
        self.confusion_matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, y_true, y_pred) -> None:
        t = to_numpy(y_true, "y_true")
        p = to_numpy(y_pred, "y_pred")
        if p.ndim == t.ndim + 1:
            if p.shape[-1] != self.num_classes:
                raise ValueError(f"y_pred scores must have {self.num_classes} columns, got shape {p.shape}")
            p = p.argmax(axis=-1)
        if p.shape != t.shape:
            raise ValueError(f"y_pred must have y_true's shape {t.shape} (labels) or {t.shape + (self.num_classes,)} "
                             f"(scores), got {p.shape}")
        for name, v in (("y_true", t), ("y_pred", p)):
            if v.dtype.kind not in "biuf" or np.any(v != np.round(v)) or np.any((v < 0) | (v >= self.num_classes)):
                raise ValueError(f"{name} must hold class indices in [0, {self.num_classes})")
        c = self.num_classes
        flat = t.ravel().astype(np.int64) * c + p.ravel().astype(np.int64)
        self.confusion_matrix += np.bincount(flat, minlength=c * c).reshape(c, c)

    def compute(self) -> dict:
        cm = self.confusion_matrix
        n = int(cm.sum())
        self._check_not_empty(n == 0)
        tp, pred, true = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
        seen = [self.pos_label] if self.average == "binary" else np.flatnonzero(pred + true)
        stats = stats_from_counts(tp[seen], pred[seen], true[seen], n, self.average)
        result = {"accuracy": float(tp.sum() / n)}
        for name, kind in (("precision", "precision"), ("recall", "recall"), ("f1", "fbeta")):
            result[name] = score_from_stats(kind, stats, self.average, self.zero_division)
        return result


class _Collector(Accumulator):
    """Keeps each batch once, as NumPy arrays; ``compute`` merges them into one array per field."""

    fields: tuple = ()

    def reset(self) -> None:
        self.batches = {name: [] for name in self.fields}

    def _add(self, **arrays) -> None:
        for name, value in arrays.items():
            self.batches[name].append(value)

    def _merged(self, name: str) -> np.ndarray:
        parts = self.batches[name]
        self._check_not_empty(not parts)
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        return parts[0]


class RankingAccumulator(_Collector):
    """ROC AUC and Average Precision over all batches (seed 004 §1.5, §1.6).

    ``update(y_true, y_score)``: y_true (B,) labels; y_score (B,) scores of the positive class or
    (B, C) class probabilities. ``compute()`` returns {'roc_auc', 'average_precision'} as
    :func:`~shenjing.metrics.roc_auc_score` (one-vs-rest for (N, C) scores) and
    :func:`~shenjing.metrics.average_precision` (``interpolation``) with ``average``.

    >>> from shenjing.metrics import RankingAccumulator
    >>> acc = RankingAccumulator()
    >>> acc.update([0, 1], [0.2, 0.7])
    >>> acc.update([1, 0], [0.4, 0.5])
    >>> acc.compute()
    {'roc_auc': 0.75, 'average_precision': 0.8333333333333333}
    """

    fields = ("y_true", "y_score")

    def __init__(self, average="macro", interpolation: str = "step") -> None:
        self.average, self.interpolation = average, interpolation
        super().__init__()

    def update(self, y_true, y_score) -> None:
        self._add(y_true=to_numpy(y_true, "y_true").reshape(-1), y_score=np.array(to_numpy(y_score, "y_score")))

    def compute(self) -> dict:
        y_true, y_score = self._merged("y_true"), self._merged("y_score")
        return {"roc_auc": roc_auc_score(y_true, y_score, average=self.average, multi_class="ovr"),
                "average_precision": average_precision(y_true, y_score, average=self.average,
                                                       interpolation=self.interpolation)}


class DetectionAccumulator(Accumulator):
    """COCO-style mAP over all batches: ``update(preds, gts)`` with lists per image as in
    :func:`~shenjing.metrics.mean_average_precision`, ``compute()`` returns its dict (keyword arguments
    given here are passed on).

    >>> from shenjing.metrics import DetectionAccumulator
    >>> acc = DetectionAccumulator()
    >>> acc.update([{"boxes": [[0, 0, 10, 10]], "scores": [0.9], "labels": [0]}], [{"boxes": [[0, 0, 10, 10]],
    ...     "labels": [0]}])
    >>> round(acc.compute()["map"], 3)
    1.0
    """

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        super().__init__()

    def reset(self) -> None:
        self.preds, self.gts = [], []

    def update(self, preds, gts) -> None:
        self.preds.extend(_host_dicts(preds, "preds"))
        self.gts.extend(_host_dicts(gts, "gts"))

    def compute(self) -> dict:
        self._check_not_empty(not self.gts)
        return mean_average_precision(self.preds, self.gts, **self.kwargs)


def _host_dicts(items, name: str) -> list:
    """Per-image dicts with their arrays copied to NumPy (so no Tensor or GPU memory is held)."""
    if not all(isinstance(item, Mapping) for item in items):
        raise ValueError(f"{name} must be a list of dicts, one per image")
    return [{k: to_numpy(v, f"{name}[{i}][{k!r}]") for k, v in item.items()} for i, item in enumerate(items)]


class PerplexityAccumulator(Mean):
    """Perplexity exp(mean NLL of the true classes) over all tokens of all batches (seed 004 §1.7).

    ``update(y_true, y_prob)`` with y_prob (B, C) and y_true (B,), or (B, L, C) and (B, L), as
    :func:`~shenjing.metrics.perplexity`.

    >>> from shenjing.metrics import PerplexityAccumulator
    >>> acc = PerplexityAccumulator()
    >>> acc.update([0, 1], [[0.5, 0.5], [0.5, 0.5]])
    >>> acc.update([2], [[0.25, 0.25, 0.5]])
    >>> round(acc.compute(), 4)
    2.0
    """

    def update(self, y_true, y_prob) -> None:
        super().update(negative_log_likelihoods(y_true, y_prob))

    def compute(self) -> float:
        return float(np.exp(super().compute()))
