"""The notes' three-layer BP network, trained with its hand-derived update rules (seed 000 §2).

No autograd: the forward pass, the gradients of w, θ, v, γ and both training
schemes (standard BP, one update per sample; accumulated BP, one update per pass
over the training set) are written out exactly as seed 000 §2.3-§2.7 derive them.
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..functional.elementwise import stable_sigmoid

__all__ = ["BPNetwork"]

_MODES = ("standard", "accumulated")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"BPNetwork: {name} must be a positive int, got {value!r}")
    return int(value)


class BPNetwork:
    """d inputs -> q sigmoid hidden units (thresholds γ) -> l sigmoid outputs (thresholds θ), seed 000 §2.

    Forward (§2.3), for one sample x ∈ R^d::

        α_h = Σ_i v_ih x_i,   b_h = f(α_h - γ_h),
        β_j = Σ_h w_hj b_h,   ŷ_j = f(β_j - θ_j),      f = sigmoid

    Loss (§2.4): L_k = ½ Σ_j (ŷ_j - y_j)², i.e. ``0.5 * F.mse_loss(ŷ, y, reduction='sum')``.
    Parameters: v (d, q), γ (q,), w (q, l), θ (l,): ``n_parameters == (d + l + 1)·q + l``.
    All weights and thresholds start uniform in (0, 1) (§2.6 step 1), in float64.

    ``mode='standard'`` (§2.6): one gradient step per sample, in the order given.
    ``mode='accumulated'`` (§2.7): one step per pass, on the gradient of the
    accumulated loss L = (1/m) Σ_k L_k.

    ``seed`` seeds the initialisation; ``None`` draws from shenjing's global generator
    (``shenjing.manual_seed``).

    >>> import numpy as np
    >>> from shenjing.classic import BPNetwork
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> Y = np.array([[0], [1], [1], [0]], dtype=float)
    >>> net = BPNetwork(d=2, q=4, l=1, lr=0.5, seed=0)
    >>> net.n_parameters, sorted(net.gradients(X[1], Y[1]))
    (17, ['gamma', 'theta', 'v', 'w'])
    >>> _ = net.fit(X, Y, epochs=5000)
    >>> net.predict(X).ravel().tolist()
    [0, 1, 1, 0]
    """

    def __init__(self, d: int, q: int, l: int, lr: float = 0.1, mode: str = "standard", seed: int | None = None):  # noqa: E741
        self.d, self.q, self.l = _positive_int("d", d), _positive_int("q", q), _positive_int("l", l)
        if not isinstance(lr, (int, float, np.floating)) or isinstance(lr, bool) or not lr > 0:
            raise ValueError(f"BPNetwork: lr must be a positive number, got {lr!r}")
        if mode not in _MODES:
            raise ValueError(f"BPNetwork: mode must be one of {_MODES}, got {mode!r}")
        self.lr, self.mode = float(lr), mode
        rng = B.rng() if seed is None else np.random.default_rng(seed)
        self.v = rng.uniform(0.0, 1.0, (self.d, self.q))
        self.gamma = rng.uniform(0.0, 1.0, self.q)
        self.w = rng.uniform(0.0, 1.0, (self.q, self.l))
        self.theta = rng.uniform(0.0, 1.0, self.l)
        self.loss_history_: list[float] = []
        self.n_updates_ = 0

    @property
    def n_parameters(self) -> int:
        """d·q + q + q·l + l = (d + l + 1)·q + l (seed 000 §2.4)."""
        return self.v.size + self.gamma.size + self.w.size + self.theta.size

    # ----- input checks --------------------------------------------------------
    def _inputs(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim not in (1, 2) or X.shape[-1] != self.d:
            raise ValueError(f"BPNetwork: X must have shape (m, {self.d}) or ({self.d},), got {X.shape}")
        return X

    def _targets(self, Y, X: np.ndarray) -> np.ndarray:
        """Targets as (…, l) floats; integer class labels (m,) are one-hot encoded when l > 1."""
        Y = np.asarray(Y)
        if Y.ndim == X.ndim - 1 and self.l > 1 and Y.dtype.kind in "iu":
            if Y.size and (Y.min() < 0 or Y.max() >= self.l):
                raise ValueError(f"BPNetwork: class labels must lie in [0, {self.l}), got range [{Y.min()}, {Y.max()}]")
            Y = np.eye(self.l)[Y]
        elif Y.ndim == X.ndim - 1 and self.l == 1:
            Y = Y[..., None]
        Y = Y.astype(np.float64, copy=False)
        if Y.shape != X.shape[:-1] + (self.l,):
            raise ValueError(f"BPNetwork: Y must have shape {X.shape[:-1] + (self.l,)}, got {Y.shape}")
        return Y

    # ----- forward and gradients -----------------------------------------------
    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = stable_sigmoid(X @ self.v - self.gamma)
        return b, stable_sigmoid(b @ self.w - self.theta)

    def forward(self, X) -> np.ndarray:
        """Ŷ = f(f(X v - γ) w - θ): (m, d) -> (m, l), or (d,) -> (l,) (seed 000 §2.3)."""
        return self._forward(self._inputs(X))[1]

    predict_proba = forward

    def predict(self, X) -> np.ndarray:
        """Class labels: ŷ > ½ for one output (0/1), argmax_j ŷ_j for several."""
        out = self.forward(X)
        return (out[..., 0] > 0.5).astype(np.int64) if self.l == 1 else out.argmax(-1)

    def loss(self, X, Y) -> float:
        """Accumulated loss L = (1/m) Σ_k ½ Σ_j (ŷ_kj - y_kj)² (seed 000 §2.4, §2.7)."""
        X = self._inputs(X)
        return self._loss(np.atleast_2d(X), np.atleast_2d(self._targets(Y, X)))

    def _loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        return float(0.5 * np.square(self._forward(X)[1] - Y).sum() / X.shape[0])

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """∂L/∂v, ∂L/∂γ, ∂L/∂w, ∂L/∂θ by the notes' chain rule (seed 000 §2.5).

        With δ_j = (ŷ_j - y_j) ŷ_j (1 - ŷ_j) and ε_h = b_h (1 - b_h) Σ_j w_hj δ_j::

            ∂L_k/∂w_hj = δ_j b_h          ∂L_k/∂θ_j = (ŷ_j - y_j) ŷ_j (ŷ_j - 1) = -δ_j
            ∂L_k/∂v_ih = x_i ε_h          ∂L_k/∂γ_h = b_h (b_h - 1) Σ_j w_hj δ_j = -ε_h

        One sample x (d,), y (l,) gives ∂L_k; a batch X (m, d), Y (m, l) gives the gradient
        of the accumulated loss L = (1/m) Σ_k L_k (§2.7), the mean of the per-sample ones.
        """
        x = self._inputs(x)
        X, Y = np.atleast_2d(x), np.atleast_2d(self._targets(y, x))
        b, out = self._forward(X)
        m = X.shape[0]
        delta = (out - Y) * out * (1 - out)
        eps = b * (1 - b) * (delta @ self.w.T)
        return {
            "v": X.T @ eps / m,
            "gamma": -eps.sum(0) / m,
            "w": b.T @ delta / m,
            "theta": -delta.sum(0) / m,
        }

    def _step(self, grads: dict[str, np.ndarray]) -> None:
        """Gradient descent, e.g. w_hj ← w_hj - η ∂L/∂w_hj (seed 000 §2.4)."""
        for name, g in grads.items():
            getattr(self, name).__isub__(self.lr * g)
        self.n_updates_ += 1

    # ----- training -------------------------------------------------------------
    def fit(self, X, Y, epochs: int = 1) -> BPNetwork:
        """Train for ``epochs`` passes over (X, Y), continuing from the current weights (seed 000 §2.6-§2.7).

        X (m, d); Y (m, l) targets in [0, 1] (or (m,) class labels, one-hot encoded when l > 1).
        ``standard``: for each sample in order, compute ∂L_k and update (m steps per pass);
        ``accumulated``: one update per pass with the gradient of (1/m) Σ_k L_k.
        ``loss_history_`` gets the accumulated loss after every pass.
        """
        epochs = _positive_int("epochs", epochs)
        X = self._inputs(X)
        if X.ndim != 2:
            raise ValueError(f"BPNetwork.fit: X must have shape (m, {self.d}), got {X.shape}")
        Y = self._targets(Y, X)
        for _ in range(epochs):
            if self.mode == "standard":
                for xk, yk in zip(X, Y):
                    self._step(self.gradients(xk, yk))
            else:
                self._step(self.gradients(X, Y))
            self.loss_history_.append(self._loss(X, Y))
        return self

    def __repr__(self) -> str:
        return f"BPNetwork(d={self.d}, q={self.q}, l={self.l}, lr={self.lr}, mode={self.mode!r})"
