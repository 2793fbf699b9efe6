"""Bagging (seed 001, Dropout 与 Bagging): k bootstrap data sets, one model each, predictions averaged."""

from __future__ import annotations

import numpy as np

from ._util import aligned_proba, as_array, check_estimator, check_fitted, check_int, check_n_jobs, fit_all
from .averaging import average

__all__ = ["Bagging"]


class Bagging:
    """Bootstrap aggregating: member i is ``factory()`` fitted on a bootstrap sample D_i of the data.

    Each D_i draws ``round(max_samples·N)`` indices uniformly *with replacement* (seed 001): with
    ``max_samples=1`` it holds about 1 - (1 - 1/N)^N ≈ 1 - 1/e ≈ 63.2% of the distinct samples
    (the notes' "about 2/3"), the rest are out of bag. ``bootstrap_indices_`` keeps every D_i.

    Members with ``predict_proba`` make a classifier: ``predict_proba`` averages their probabilities
    (``ensemble.average``) and ``predict`` takes ``classes_[argmax]``. Otherwise ``predict`` averages
    the members' predictions (regression). With ``oob_score=True``, ``oob_score_`` is the accuracy
    (classification) or R² (regression) of each sample's prediction by the members that did not
    see it, over the samples that were out of bag at least once.

    ``n_jobs`` members are fitted at a time in joblib processes; each member's fit runs with
    shenjing's generator seeded from ``seed`` and its index, so results do not depend on ``n_jobs``.
    """

    def __init__(self, factory, n_estimators: int = 10, max_samples: float = 1.0, oob_score: bool = False,
                 seed: int | None = None, n_jobs: int = 1):
        if not callable(factory):
            raise TypeError(f"Bagging: factory must be a callable returning an estimator, got {type(factory).__name__}")
        if not isinstance(max_samples, (int, float, np.floating)) or not 0 < max_samples <= 1:
            raise ValueError(f"Bagging: max_samples must be a fraction in (0, 1], got {max_samples!r}")
        self.factory, self.max_samples = factory, float(max_samples)
        self.n_estimators = check_int("Bagging", "n_estimators", n_estimators)
        self.oob_score, self.seed = oob_score, seed
        self.n_jobs = check_n_jobs("Bagging", n_jobs)

    def fit(self, X, y, **fit_kw) -> Bagging:
        """Fit ``n_estimators`` members, each on its own bootstrap sample; ``fit_kw`` go to every member's fit."""
        X, y = as_array(X, "Bagging.fit"), as_array(y, "Bagging.fit")
        n = len(X)
        if n != len(y) or n == 0:
            raise ValueError(f"Bagging.fit: X and y must hold the same, non-zero number of samples, got {n} "
                             f"and {len(y)}")
        rng = np.random.default_rng(self.seed)
        size = max(1, round(self.max_samples * n))
        self.bootstrap_indices_ = [rng.integers(0, n, size) for _ in range(self.n_estimators)]
        members = [check_estimator(self.factory(), "Bagging factory()") for _ in self.bootstrap_indices_]
        jobs = [(m, X[idx], y[idx], fit_kw) for m, idx in zip(members, self.bootstrap_indices_)]
        self.estimators_ = fit_all(jobs, self.seed, self.n_jobs)
        self.is_classifier_ = all(hasattr(m, "predict_proba") for m in self.estimators_)
        if self.is_classifier_:
            self.classes_ = np.unique(y)
        if self.oob_score:
            self.oob_score_ = self._oob_score(X, y)
        return self

    def _member_outputs(self, member, X) -> np.ndarray:
        if self.is_classifier_:
            return aligned_proba(member, X, self.classes_)
        return np.asarray(member.predict(X), dtype=np.float64)

    def _oob_score(self, X: np.ndarray, y: np.ndarray) -> float:
        total, count = None, np.zeros(len(X))
        for member, idx in zip(self.estimators_, self.bootstrap_indices_):
            out = np.ones(len(X), dtype=bool)
            out[idx] = False
            pred = self._member_outputs(member, X[out])
            total = np.zeros((len(X),) + pred.shape[1:]) if total is None else total
            total[out] += pred
            count[out] += 1
        seen = count > 0
        if not seen.any():
            raise ValueError("Bagging: no sample was out of bag; oob_score needs more samples or fewer members")
        mean = total[seen] / count[seen].reshape((-1,) + (1,) * (total.ndim - 1))
        truth = y[seen]
        if self.is_classifier_:
            return float(np.mean(self.classes_[mean.argmax(1)] == truth))
        return float(1 - np.square(truth - mean).sum() / np.square(truth - truth.mean(0)).sum())

    def predict_proba(self, X) -> np.ndarray:
        """Mean of the members' class probabilities, (N, C) in the order of ``classes_``."""
        check_fitted(self, "estimators_")
        if not self.is_classifier_:
            raise AttributeError("Bagging.predict_proba: the members have no predict_proba (a regression ensemble)")
        return average([self._member_outputs(m, X) for m in self.estimators_])

    def predict(self, X) -> np.ndarray:
        """``classes_[argmax predict_proba]`` for classifiers, the mean of the members' predictions otherwise."""
        check_fitted(self, "estimators_")
        if self.is_classifier_:
            return self.classes_[self.predict_proba(X).argmax(1)]
        return average([self._member_outputs(m, X) for m in self.estimators_])
