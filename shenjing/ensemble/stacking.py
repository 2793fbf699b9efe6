"""Stacking (seed 004 §7): out-of-fold predictions of base models become the features of a meta-learner."""

from __future__ import annotations

import numpy as np

from ._util import aligned_proba, as_array, check_estimator, check_fitted, check_int, check_n_jobs, clone, fit_all

__all__ = ["StackingClassifier", "stratified_folds"]


def stratified_folds(y, n_folds: int, seed: int | None = None) -> np.ndarray:
    """A fold number in [0, n_folds) per sample; every class is dealt evenly over the folds.

    Samples are shuffled, grouped by class (stable sort) and numbered round-robin, so each
    fold holds ⌊n_c/K⌋ or ⌈n_c/K⌉ samples of class c.
    """
    y = np.asarray(y)
    n_folds = check_int("stratified_folds", "n_folds", n_folds, minimum=2)
    if n_folds > len(y):
        raise ValueError(f"stratified_folds: n_folds={n_folds} exceeds the {len(y)} samples")
    order = np.random.default_rng(seed).permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]
    folds = np.empty(len(y), dtype=np.int64)
    folds[order] = np.arange(len(y)) % n_folds
    return folds


class StackingClassifier:
    """Stacked generalisation with cross-validation (seed 004 §7, stacking: 训练预测用交叉验证).

    Training: the data are split into ``cv`` stratified folds; for each fold a clone of every base
    estimator is fitted on the other folds and predicts probabilities for this fold. These
    out-of-fold predictions, (N, T·C) for T base models and C classes, are the meta-features on
    which ``final_estimator`` is fitted (with X appended when ``passthrough``). The base estimators
    are then refitted on all the data (``estimators_``) to make the meta-features of new samples.

    ``estimators``: estimators with ``fit``/``predict_proba`` (shenjing.sklearn, scikit-learn or
    any object with that API), or ``(name, estimator)`` pairs. ``final_estimator`` defaults to
    multinomial logistic regression, ``shenjing.sklearn.NeuralNetClassifier(nn.Linear, ...)``
    (needs scikit-learn). Attributes after ``fit``: ``classes_``, ``estimators_``,
    ``final_estimator_``, ``folds_`` (fold of each sample), ``oof_features_``. ``n_jobs`` base
    fits run at a time in joblib processes, each with shenjing's generator seeded from ``seed``
    and its index, so results do not depend on ``n_jobs``.
    """

    def __init__(self, estimators, final_estimator=None, cv: int = 5, passthrough: bool = False,
                 seed: int | None = None, n_jobs: int = 1):
        pairs = [e if isinstance(e, tuple) else (type(e).__name__, e) for e in estimators]
        if not pairs:
            raise ValueError("StackingClassifier: estimators must hold at least one estimator")
        for name, est in pairs:
            check_estimator(est, f"StackingClassifier estimator {name!r}", "predict_proba")
        self.estimators = pairs
        self.final_estimator = final_estimator
        self.cv, self.passthrough, self.seed = cv, passthrough, seed
        self.n_jobs = check_n_jobs("StackingClassifier", n_jobs)

    def _final(self):
        if self.final_estimator is not None:
            return clone(check_estimator(self.final_estimator, "StackingClassifier final_estimator"))
        from ..nn.linear import Linear
        from ..sklearn import NeuralNetClassifier

        return NeuralNetClassifier(Linear, epochs=200, lr=0.05, batch_size=None, seed=0)

    def _features(self, probas: list[np.ndarray], X: np.ndarray) -> np.ndarray:
        parts = probas + ([X.reshape(len(X), -1)] if self.passthrough else [])
        return np.concatenate([p.astype(np.float32, copy=False) for p in parts], axis=1)

    def fit(self, X, y, **fit_kw) -> StackingClassifier:
        """Out-of-fold meta-features, then the meta-learner on them, then the base models on all data."""
        X, y = as_array(X, "StackingClassifier.fit"), np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"StackingClassifier.fit: X has {len(X)} samples but y has {len(y)}")
        self.classes_ = np.unique(y)
        self.folds_ = stratified_folds(y, self.cv, self.seed)
        held = [self.folds_ == k for k in range(self.cv)]
        jobs = [(clone(est), X[~h], y[~h], fit_kw) for h in held for _, est in self.estimators]
        jobs += [(clone(est), X, y, fit_kw) for _, est in self.estimators]
        fitted = fit_all(jobs, self.seed, self.n_jobs)
        oof = [np.zeros((len(X), len(self.classes_))) for _ in self.estimators]
        for k, h in enumerate(held):
            for t in range(len(self.estimators)):
                oof[t][h] = aligned_proba(fitted[k * len(self.estimators) + t], X[h], self.classes_)
        self.oof_features_ = self._features(oof, X)
        self.final_estimator_ = self._final().fit(self.oof_features_, y)
        self.estimators_ = fitted[-len(self.estimators):]
        return self

    def transform(self, X) -> np.ndarray:
        """Meta-features of new samples: the refitted base models' probabilities, (N, T·C) (+ X)."""
        check_fitted(self, "estimators_")
        X = as_array(X, "StackingClassifier.transform")
        return self._features([aligned_proba(est, X, self.classes_) for est in self.estimators_], X)

    def predict_proba(self, X) -> np.ndarray:
        features = self.transform(X)
        return np.asarray(self.final_estimator_.predict_proba(features))

    def predict(self, X) -> np.ndarray:
        features = self.transform(X)
        return np.asarray(self.final_estimator_.predict(features))

    def score(self, X, y) -> float:
        """Accuracy of ``predict``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
