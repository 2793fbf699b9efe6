"""scikit-learn estimators around a shenjing Module: ``NeuralNetClassifier``, ``NeuralNetRegressor``.

They follow scikit-learn's estimator API (``fit/predict/score``, ``get_params/set_params``,
``classes_``, ``n_features_in_``), so they work inside ``Pipeline``, ``cross_val_score``,
``GridSearchCV`` and scikit-learn's own ensembles. Needs scikit-learn (the ``data`` extra).

The network comes from a factory: ``module(n_features, n_outputs, **module_kwargs)`` (or, for a
factory that takes no positional arguments, ``module(**module_kwargs)``) must return a Module
mapping (N, n_features) float32 inputs to (N, n_outputs) outputs (logits, one per class, for the
classifier). ``nn.Linear`` itself is such a factory (logistic / linear regression). Searching a
factory's own arguments goes through ``module_kwargs``, e.g.
``GridSearchCV(est, {'lr': [1e-3, 1e-2], 'module_kwargs': [{'hidden': 16}, {'hidden': 64}]})``.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from . import _backend as B
from . import optim
from .functional import cross_entropy, mse_loss, softmax
from .nn.module import Module
from .tensor import Tensor, no_grad
from .train import Trainer

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6

    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "adamw": "AdamW", "rmsprop": "RMSprop"}


@contextlib.contextmanager
def _seeded(seed):
    """Run with shenjing's global generator seeded by ``seed``, restoring its previous state afterwards."""
    if seed is None:
        yield
        return
    state = B.get_rng_state()
    B.manual_seed(seed)
    try:
        yield
    finally:
        B.set_rng_state(state)


def _takes_shape(factory) -> bool:
    """Whether ``factory`` wants ``(n_features, n_outputs)``; a zero-argument factory
    (``lambda: nn.Sequential(...)``) is called with no positional arguments."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in positional and p.default is inspect.Parameter.empty]
    return len(required) >= 2 or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)


class _NeuralNet(BaseEstimator):
    """Shared fitting: mini-batch training of ``module(n_features, n_outputs, **module_kwargs)``.

    ``epochs`` passes of ``shenjing.train.Trainer`` over the shuffled data in batches of ``batch_size``
    (``None``: full batch), minimising ``_loss`` with ``optimizer`` ('adam', 'adamw', 'sgd', 'rmsprop',
    or an optimizer class called as ``optimizer(params, lr=lr)``). ``seed`` makes initialisation and shuffling
    reproducible without disturbing shenjing's global random stream.
    """

    def __init__(self, module, epochs: int = 10, lr: float = 1e-3, batch_size: int | None = 32,
                 optimizer="adam", seed: int | None = None, module_kwargs: dict | None = None):
        self.module = module
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.seed = seed
        self.module_kwargs = module_kwargs

    def _check_params(self) -> None:
        name = type(self).__name__
        if not callable(self.module):
            raise TypeError(f"{name}: module must be a callable returning a Module, got {type(self.module).__name__}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1:
            raise ValueError(f"{name}: epochs must be a positive int, got {self.epochs!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float, np.floating)) or not self.lr > 0:
            raise ValueError(f"{name}: lr must be a positive number, got {self.lr!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or self.batch_size < 1):
            raise ValueError(f"{name}: batch_size must be a positive int or None, got {self.batch_size!r}")
        if isinstance(self.optimizer, str) and self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"{name}: optimizer must be one of {sorted(_OPTIMIZERS)} or a class, "
                             f"got {self.optimizer!r}")

    def _make_optimizer(self, params):
        cls = getattr(optim, _OPTIMIZERS[self.optimizer]) if isinstance(self.optimizer, str) else self.optimizer
        return cls(params, lr=self.lr)

    def _build(self, n_features: int, n_outputs: int) -> Module:
        kwargs = self.module_kwargs or {}
        shape_args = (n_features, n_outputs) if _takes_shape(self.module) else ()
        module = self.module(*shape_args, **kwargs)
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: module(...) must return a Module, got {type(module).__name__}")
        return module

    def _train(self, X: np.ndarray, target: np.ndarray, n_outputs: int):
        """Build the module and train it for ``epochs`` passes with ``shenjing.train.Trainer``."""
        self._check_params()
        with _seeded(self.seed):
            self.module_ = self._build(X.shape[1], n_outputs)
            trainer = Trainer(self.module_, self._loss, self._make_optimizer(self.module_.parameters()), metrics=[],
                              progress=False)
            self.loss_curve_ = trainer.fit((X, target), epochs=int(self.epochs), batch_size=self.batch_size)["loss"]
        self.module_.eval()
        return self

    def _outputs(self, X) -> np.ndarray:
        """The module's raw outputs (N, n_outputs) on X, in eval mode and without a graph."""
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        with no_grad():
            return self.module_(Tensor(X)).numpy()


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A classifier trained with cross-entropy on the logits of ``module(n_features, n_classes, **module_kwargs)``.

    p(y = c | x) = softmax(f(x))_c. ``classes_`` holds the sorted labels; ``predict`` returns
    ``classes_[argmax_c p]``; ``score`` is accuracy. ``loss_curve_``: mean training loss per epoch.

    >>> from shenjing import nn
    >>> from shenjing.data import datasets
    >>> from shenjing.sklearn import NeuralNetClassifier
    >>> (X, y), (X_test, y_test) = datasets.moons(n_samples=300)
    >>> clf = NeuralNetClassifier(lambda: nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)),
    ...     epochs=20, lr=0.01, seed=0)
    >>> clf.fit(X, y).score(X_test, y_test) > 0.8, clf.predict_proba(X_test[:1]).shape
    (True, (1, 2))
    """

    def fit(self, X, y) -> NeuralNetClassifier:
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        return self._train(X, index.astype(np.int64), len(self.classes_))

    @staticmethod
    def _loss(output: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(output, target)

    def predict_proba(self, X) -> np.ndarray:
        """softmax(f(X)): (N, n_classes), columns in the order of ``classes_``."""
        with no_grad():
            return softmax(Tensor(self._outputs(X)), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        index = self._outputs(X).argmax(1)
        return self.classes_[index]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A regressor trained with the mean squared error of ``module(n_features, n_targets, **module_kwargs)``.

    y may be (N,) or (N, n_targets); ``predict`` returns the same layout, in float64 as scikit-learn's
    metrics expect (the network itself computes in float32). ``score`` is R².

    >>> import numpy as np
    >>> from shenjing import nn
    >>> from shenjing.sklearn import NeuralNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (200, 1)).astype(np.float32)
    >>> y = 3 * X[:, 0] + 1
    >>> reg = NeuralNetRegressor(lambda: nn.Linear(1, 1), epochs=50, lr=0.05, seed=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"multioutput": True}

    def fit(self, X, y) -> NeuralNetRegressor:
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True, multi_output=True)
        y = y.astype(np.float32, copy=False)
        self._single_output = y.ndim == 1
        target = y.reshape(len(y), -1)
        return self._train(X, target, target.shape[1])

    @staticmethod
    def _loss(output: Tensor, target: Tensor) -> Tensor:
        return mse_loss(output, target)

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X).astype(np.float64)
        return out[:, 0] if self._single_output else out
