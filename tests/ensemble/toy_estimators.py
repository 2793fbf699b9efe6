"""Tiny NumPy estimators with known behaviour, for the ensemble tests."""

import numpy as np


class Centroid:
    """Nearest class mean; probabilities softmax(-squared distance)."""

    def fit(self, X, y, **kw):
        self.classes_ = np.unique(y)
        self.means_ = np.stack([X[y == c].mean(0) for c in self.classes_])
        self.fit_kw_ = kw
        return self

    def predict_proba(self, X):
        d = -((X[:, None, :] - self.means_[None]) ** 2).sum(-1)
        e = np.exp(d - d.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


class Memorizer:
    """One-hot of the label for rows it was trained on, uniform for rows it has never seen."""

    def fit(self, X, y, **kw):
        self.classes_ = np.unique(y)
        self.table_ = {row.tobytes(): np.searchsorted(self.classes_, label) for row, label in zip(X, y)}
        self.fitted_rows_ = X.copy()
        return self

    def predict_proba(self, X):
        out = np.full((len(X), len(self.classes_)), 1 / len(self.classes_))
        for i, row in enumerate(X):
            if row.tobytes() in self.table_:
                out[i] = np.eye(len(self.classes_))[self.table_[row.tobytes()]]
        return out

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


class LeastSquares:
    """Linear regression with an intercept by least squares."""

    def fit(self, X, y, **kw):
        A = np.c_[X, np.ones(len(X))]
        self.coef_ = np.linalg.lstsq(A, y, rcond=None)[0]
        self.fitted_rows_ = X.copy()
        return self

    def predict(self, X):
        return np.c_[X, np.ones(len(X))] @ self.coef_


def blobs(n=300, seed=0, n_classes=3, spread=0.6):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])[:n_classes]
    y = rng.integers(0, n_classes, n)
    return centres[y] + spread * rng.normal(size=(n, 2)), y
