"""Ensembles from one training run (seed 004 §7, Snapshot): snapshot ensembles and fast geometric ensembling.

Both train one model with a cyclic learning rate, keep a copy of the weights at the end of every
cycle (where the learning rate is smallest and the model sits near a local optimum), and predict
with the mean of the snapshots' outputs. ``averaged_model`` instead averages the snapshots'
weights (as SWA does) and recomputes the BatchNorm statistics for the averaged weights.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..functional.activation import softmax
from ..optim import lr_scheduler, swa_utils
from ..tensor import Tensor, no_grad
from ..train import Callback, LRSchedulerCallback, SnapshotCollector, Trainer
from ._util import as_array, check_fitted, check_int
from .averaging import average

__all__ = ["SnapshotEnsemble", "FastGeometricEnsemble"]


class _LRRecorder(Callback):
    """Records the learning rate each batch is trained with."""

    def __init__(self, history: list):
        self.history = history

    def on_batch_begin(self, trainer, batch):
        self.history.append(trainer.optimizer.param_groups[0]["lr"])


class _CyclicEnsemble:
    """Shared machinery: train with a per-batch schedule, collect snapshots, combine them."""

    def __init__(self, model, loss, optimizer, batch_size: int):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.batch_size = check_int(type(self).__name__, "batch_size", batch_size)

    @property
    def device(self) -> str:
        """The device of the model's parameters (where training and prediction run)."""
        return next((p.device for p in self.model.parameters()), "cpu")

    def _batches(self, X: np.ndarray) -> list[Tensor]:
        return [Tensor(X[i:i + self.batch_size], device=self.device) for i in range(0, len(X), self.batch_size)]

    def _start(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Check the training data and reset ``lr_history_``."""
        self.lr_history_: list[float] = []
        X, y = as_array(X, f"{type(self).__name__}.fit"), as_array(y, f"{type(self).__name__}.fit")
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"{type(self).__name__}.fit: X and y must hold the same, non-zero number of samples, "
                             f"got {len(X)} and {len(y)}")
        return X, y

    def _steps_per_epoch(self, X: np.ndarray) -> int:
        return math.ceil(len(X) / self.batch_size)

    def _train(self, X, y, epochs: int, callbacks: list) -> None:
        """``epochs`` epochs of mini-batch training; ``lr_history_`` gets each batch's learning rate."""
        callbacks = [*callbacks, _LRRecorder(self.lr_history_)]
        trainer = Trainer(self.model, self.loss, self.optimizer, metrics=[], callbacks=callbacks, device=self.device,
                          progress=False)
        trainer.fit((X, y), epochs=epochs, batch_size=self.batch_size)

    def _collect(self, X, y, scheduler, cycle_epochs: int, cycles: int) -> None:
        """Train ``cycles`` cycles of ``cycle_epochs`` epochs stepping ``scheduler`` per batch, one snapshot each."""
        collector = SnapshotCollector(every=cycle_epochs)
        self._train(X, y, cycles * cycle_epochs, [LRSchedulerCallback(scheduler, interval="batch"), collector])
        self.snapshots_ = [state for _, state in collector.snapshots]

    def _with_snapshot(self, state: dict, X: np.ndarray) -> np.ndarray:
        self.model.load_state_dict(state)
        self.model.eval()
        with no_grad():
            return np.concatenate([self.model(xb).numpy() for xb in self._batches(X)])

    def snapshot_outputs(self, X) -> np.ndarray:
        """Raw outputs of every snapshot, (T, N, ...); the model is left with its final weights."""
        check_fitted(self, "snapshots_")
        X = as_array(X, f"{type(self).__name__}.snapshot_outputs")
        final = {k: v.data.copy() for k, v in self.model.state_dict().items()}
        training = self.model.training
        try:
            return np.stack([self._with_snapshot(state, X) for state in self.snapshots_])
        finally:
            self.model.load_state_dict(final)
            self.model.train(training)

    def snapshot_proba(self, X) -> np.ndarray:
        """softmax of every snapshot's logits, (T, N, C)."""
        with no_grad():
            return softmax(Tensor(self.snapshot_outputs(X)), dim=-1).numpy()

    def _last(self, per_snapshot: np.ndarray, last: int | None) -> np.ndarray:
        if last is None:
            return average(per_snapshot)
        return average(per_snapshot[-check_int(type(self).__name__, "last", last):])

    def predict_proba(self, X, last: int | None = None) -> np.ndarray:
        """Mean class probabilities of the last ``last`` snapshots (default all): (1/T) Σ_t softmax(f_t(x))."""
        return self._last(self.snapshot_proba(X), last)

    def predict(self, X, last: int | None = None) -> np.ndarray:
        """Mean raw output of the last ``last`` snapshots (regression, or averaged logits)."""
        return self._last(self.snapshot_outputs(X), last)

    def averaged_model(self, X):
        """A copy of the model with the snapshots' mean weights, BatchNorm statistics recomputed on X.

        w̄ = (1/T) Σ_t w_t for every parameter; running means/variances are then re-estimated by
        ``optim.swa_utils.update_bn`` over X in batches, since averaged weights change them.
        """
        check_fitted(self, "snapshots_")
        X = as_array(X, f"{type(self).__name__}.averaged_model")
        model = copy.deepcopy(self.model)
        names = {name for name, _ in model.named_parameters()}
        mean = {k: np.mean([s[k] for s in self.snapshots_], axis=0, dtype=v.dtype) if k in names else v.data
                for k, v in model.state_dict().items()}
        model.load_state_dict(mean)
        swa_utils.update_bn(self._batches(X), model)
        return model.eval()


class SnapshotEnsemble(_CyclicEnsemble):
    """Snapshot ensemble (seed 004 §7; Huang et al. 2017): cosine annealing with warm restarts, a snapshot per cycle.

    ``fit(X, y)`` trains ``model`` for ``cycles × epochs_per_cycle`` epochs with ``optimizer``; within a
    cycle of T = ``epochs_per_cycle`` epochs the learning rate follows, batch by batch,
    η_t = η_min + ½(η_0 - η_min)(1 + cos(π t_cur / T)) (``CosineAnnealingWarmRestarts``), restarting at
    η_0 (the optimizer's lr) after each cycle. The weights at every cycle's end (lr ≈ η_min) are
    ``snapshots_``; predictions average the snapshots' probabilities.

    >>> import shenjing as sj
    >>> from shenjing import nn, optim
    >>> from shenjing.data import datasets
    >>> from shenjing.ensemble import SnapshotEnsemble
    >>> (X, y), (X_test, y_test) = datasets.xor()
    >>> sj.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    >>> ensemble = SnapshotEnsemble(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
    ...     cycles=3, epochs_per_cycle=2).fit(X, y)
    >>> len(ensemble.snapshots_), ensemble.predict_proba(X_test).shape
    (3, (50, 2))
    """

    def __init__(self, model, loss, optimizer, cycles: int = 5, epochs_per_cycle: int = 10, eta_min: float = 0.0,
                 batch_size: int = 32):
        super().__init__(model, loss, optimizer, batch_size)
        self.cycles = check_int("SnapshotEnsemble", "cycles", cycles)
        self.epochs_per_cycle = check_int("SnapshotEnsemble", "epochs_per_cycle", epochs_per_cycle)
        self.eta_min = eta_min

    def fit(self, X, y) -> SnapshotEnsemble:
        X, y = self._start(X, y)
        steps = self.epochs_per_cycle * self._steps_per_epoch(X)
        scheduler = lr_scheduler.CosineAnnealingWarmRestarts(self.optimizer, T_0=steps, eta_min=self.eta_min)
        self._collect(X, y, scheduler, self.epochs_per_cycle, self.cycles)
        return self


class FastGeometricEnsemble(_CyclicEnsemble):
    """Fast geometric ensembling (seed 004 §7, FGE; Garipov et al. 2018): short cycles of a cyclic lr at the end.

    ``fit(X, y)`` first trains ``pretrain_epochs`` epochs with the optimizer's own lr, then runs
    ``cycles`` cycles of ``cycle_epochs`` epochs (the notes: 2-4) in which the lr goes linearly,
    batch by batch, from ``lr_min`` up to ``lr_max`` and back down (triangular ``CyclicLR``); a
    snapshot is taken at the end of every cycle, where the lr is ``lr_min``. The snapshots lie along
    a low-loss path between optima; ``predict_proba`` averages their predictions and
    ``averaged_model`` their weights (with BatchNorm statistics recomputed).

    >>> import shenjing as sj
    >>> from shenjing import nn, optim
    >>> from shenjing.data import datasets
    >>> from shenjing.ensemble import FastGeometricEnsemble
    >>> (X, y), (X_test, y_test) = datasets.xor()
    >>> sj.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    >>> fge = FastGeometricEnsemble(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05),
    ...     cycles=3, cycle_epochs=2).fit(X, y)
    >>> len(fge.snapshots_), fge.predict(X_test).shape
    (3, (50, 2))
    """

    def __init__(self, model, loss, optimizer, cycles: int = 4, cycle_epochs: int = 2, lr_max: float = 0.05,
                 lr_min: float = 5e-4, pretrain_epochs: int = 0, batch_size: int = 32):
        super().__init__(model, loss, optimizer, batch_size)
        self.cycles = check_int("FastGeometricEnsemble", "cycles", cycles)
        self.cycle_epochs = check_int("FastGeometricEnsemble", "cycle_epochs", cycle_epochs)
        if not 0 < lr_min < lr_max:
            raise ValueError(f"FastGeometricEnsemble: need 0 < lr_min < lr_max, got lr_min={lr_min}, lr_max={lr_max}")
        self.pretrain_epochs = check_int("FastGeometricEnsemble", "pretrain_epochs", pretrain_epochs, minimum=0)
        self.lr_max, self.lr_min = lr_max, lr_min

    def fit(self, X, y) -> FastGeometricEnsemble:
        X, y = self._start(X, y)
        if self.pretrain_epochs:
            self._train(X, y, self.pretrain_epochs, [])
        steps = self.cycle_epochs * self._steps_per_epoch(X)
        up = steps // 2
        scheduler = lr_scheduler.CyclicLR(self.optimizer, base_lr=self.lr_min, max_lr=self.lr_max,
                                          step_size_up=max(up, 1), step_size_down=max(steps - up, 1),
                                          cycle_momentum=False)
        self._collect(X, y, scheduler, self.cycle_epochs, self.cycles)
        return self
