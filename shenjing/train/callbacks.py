"""Callbacks: hooks into ``Trainer.fit`` (early stopping, checkpoints, schedules, clipping, NaN guard, logs,
snapshots).

A callback overrides any of ``on_fit_begin(trainer)``, ``on_epoch_begin(trainer, epoch)``,
``on_batch_begin(trainer, batch)``, ``on_after_backward(trainer)`` (gradients are in ``.grad``,
the update has not happened; ``trainer.batch`` is the ``(x, y)`` pair, ``trainer.loss`` the
batch loss), ``on_batch_end(trainer, batch, logs)``, ``on_epoch_end(trainer, epoch, logs)``
and ``on_fit_end(trainer)``. Epochs are counted from 1. Setting ``trainer.stop_training``
ends ``fit`` after the current batch; ``trainer.skip_step`` skips the current update. A
callback with state implements ``state_dict()``/``load_state_dict()``; checkpoints keep it. A run
resumed from a checkpoint taken inside an epoch calls ``on_fit_begin`` and ``on_epoch_begin`` again,
then goes on with the batch after the last one done.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from .. import _backend as B

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LRSchedulerCallback", "GradientClipping", "NaNGuard",
           "CSVLogger", "SnapshotCollector", "step_scheduler"]

_MAX_HINTS = ("acc", "f1", "precision", "recall", "auc", "score")


class Callback:
    """Base class; every hook does nothing. Under a process group, callbacks with
    ``rank_zero_only = True`` (those that write files) run on rank 0 alone."""

    rank_zero_only = False

    def on_fit_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_begin(self, trainer, batch: int) -> None: ...

    def on_after_backward(self, trainer) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_fit_end(self, trainer) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if any(h in monitor for h in _MAX_HINTS) else "min"
    return mode


def _monitored(logs: dict, monitor: str, owner: str) -> float:
    if monitor not in logs:
        hint = "; pass val= to fit() or monitor a training quantity" if monitor.startswith("val_") else ""
        raise ValueError(f"{owner}: monitor '{monitor}' is not logged (logged: {sorted(logs)}){hint}")
    return float(logs[monitor])


class _Monitor:
    """Tracks the best value of a logged quantity."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        self.monitor = monitor
        self.mode = _mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


def _copy_state(model) -> dict:
    return {k: v.data.copy() for k, v in model.state_dict().items()}


class EarlyStopping(Callback, _Monitor):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    (seed 004 §2.4.4: stop when the validation result gets worse; seed 001 提前终止训练).

    ``mode`` 'min', 'max' or 'auto' (max for accuracy-like names); ``restore_best_weights``
    puts the best epoch's weights back when training stops.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = False):
        _Monitor.__init__(self, monitor, mode, min_delta)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative integer, got {patience!r}")
        self.patience = patience
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = 0
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(trainer.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.best_weights is not None:
                trainer.model.load_state_dict(self.best_weights)
            trainer.log(f"early stopping at epoch {epoch}: best {self.monitor} {self.best:.4f} at epoch "
                        f"{self.best_epoch}")

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.wait, self.best_epoch = float(state["best"]), int(state["wait"]), int(state["best_epoch"])
        self.best_weights = state["best_weights"]


class ModelCheckpoint(Callback):
    """Save the training state (``trainer.save_checkpoint``) or only the weights after epochs or steps.

    ``path`` may hold ``{epoch}``, ``{step}`` (the optimiser steps taken) and logged keys
    (``'ckpt-{epoch:03d}-{val_loss:.3f}.npz'``). With ``save_best_only`` a file is written only
    when ``monitor`` improves. Every file is written atomically (a temporary file renamed into
    place): a crash never leaves a half-written checkpoint. ``every`` saves every k-th epoch;
    ``every_n_train_steps`` (PyTorch Lightning's name) saves after every k-th optimiser step
    instead, in the middle of epochs: the file holds the loader's position, so a run resumed from
    it goes on with the next batch (``{epoch}`` is then the epoch under way, and the logged keys
    are the batch's, ``loss``).
    """

    rank_zero_only = True

    def __init__(self, path, monitor: str = "val_loss", mode: str = "auto", save_best_only: bool = False,
                 save_weights_only: bool = False, every: int = 1, every_n_train_steps: int | None = None):
        self.path = os.fspath(path)
        self.tracker = _Monitor(monitor, mode, 0.0) if save_best_only else None
        self.save_weights_only = bool(save_weights_only)
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"ModelCheckpoint: every must be a positive integer, got {every!r}")
        if every_n_train_steps is not None and (not isinstance(every_n_train_steps, int) or every_n_train_steps < 1):
            raise ValueError(f"ModelCheckpoint: every_n_train_steps must be a positive integer or None, "
                             f"got {every_n_train_steps!r}")
        self.every, self.every_n_train_steps = every, every_n_train_steps
        self.last_path = None
        self._saved_step = None

    def on_batch_end(self, trainer, batch, logs):
        step = trainer.global_step
        if self.every_n_train_steps is None or step % self.every_n_train_steps or step == self._saved_step:
            return
        self._saved_step = step
        self._save(trainer, logs, trainer.epoch + 1)

    def on_epoch_end(self, trainer, epoch, logs):
        if self.every_n_train_steps is None and epoch % self.every == 0:
            self._save(trainer, logs, epoch)

    def _save(self, trainer, logs: dict, epoch: int) -> None:
        if self.tracker is not None:
            value = _monitored(logs, self.tracker.monitor, "ModelCheckpoint")
            if not self.tracker.improved(value):
                return
            self.tracker.best = value
        path = self.path.format(epoch=epoch, step=trainer.global_step, **logs)
        if self.save_weights_only:
            from .checkpoint import _io

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _io().save(trainer.model, path)
        else:
            trainer.save_checkpoint(path)
        self.last_path = path

    def state_dict(self):
        return {} if self.tracker is None else {"best": self.tracker.best}

    def load_state_dict(self, state):
        if self.tracker is not None and "best" in state:
            self.tracker.best = float(state["best"])


def _is_plateau(scheduler) -> bool:
    from ..optim import lr_scheduler

    return isinstance(scheduler, lr_scheduler.ReduceLROnPlateau)


def step_scheduler(scheduler, logs: dict, monitor: str = "val_loss") -> None:
    """``scheduler.step()``, or ``step(logs[monitor])`` for ``ReduceLROnPlateau`` (falling back to
    the training loss when there is no validation data)."""
    if _is_plateau(scheduler):
        key = monitor if monitor in logs else monitor.removeprefix("val_")
        scheduler.step(_monitored(logs, key, "ReduceLROnPlateau"))
    else:
        scheduler.step()


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch (``interval='epoch'``) or every batch
    (``'batch'``, e.g. ``OneCycleLR``/``CyclicLR``). ``ReduceLROnPlateau`` gets ``monitor``."""

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss"):
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LRSchedulerCallback: interval must be 'epoch' or 'batch', got {interval!r}")
        if not hasattr(scheduler, "step"):
            raise TypeError(f"LRSchedulerCallback: scheduler must have a step() method, got {type(scheduler).__name__}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor

    def on_batch_end(self, trainer, batch, logs):
        if self.interval == "batch":
            step_scheduler(self.scheduler, logs, "loss")

    def on_epoch_end(self, trainer, epoch, logs):
        if self.interval == "epoch":
            step_scheduler(self.scheduler, logs, self.monitor)

    def state_dict(self):
        return self.scheduler.state_dict()

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state)


class GradientClipping(Callback):
    """Clip gradients before each update: the global L2 norm to ``max_norm``
    (``nn.utils.clip_grad_norm_``) and/or each entry to [-max_value, max_value]
    (``clip_grad_value_``). The last total norm is kept in ``self.last_norm``."""

    def __init__(self, max_norm: float | None = None, max_value: float | None = None, norm_type: float = 2.0):
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping: give max_norm, max_value or both")
        for name, v in (("max_norm", max_norm), ("max_value", max_value)):
            if v is not None and not (np.isfinite(v) and v > 0):
                raise ValueError(f"GradientClipping: {name} must be a positive number, got {v!r}")
        self.max_norm, self.max_value, self.norm_type = max_norm, max_value, norm_type
        self.last_norm = None

    def on_after_backward(self, trainer):
        from ..nn import utils

        params = [p for p in trainer.model.parameters() if p.grad is not None]
        if self.max_value is not None:
            utils.clip_grad_value_(params, self.max_value)
        if self.max_norm is not None:
            self.last_norm = float(utils.clip_grad_norm_(params, self.max_norm, norm_type=self.norm_type))


class NaNGuard(Callback):
    """Watch the batch loss and the gradients for NaN/Inf (seed 002: a NaN poisons every output).

    ``action='stop'`` skips the bad update and ends training (weights stay finite);
    ``'skip'`` skips only that update and goes on; ``'raise'`` raises ``FloatingPointError``
    naming the epoch and batch. ``self.events`` lists (epoch, batch, what) of every hit.
    """

    def __init__(self, action: str = "stop"):
        if action not in ("stop", "skip", "raise"):
            raise ValueError(f"NaNGuard: action must be 'stop', 'skip' or 'raise', got {action!r}")
        self.action = action
        self.events: list[tuple[int, int, str]] = []

    def on_after_backward(self, trainer):
        what = None
        if not math.isfinite(float(trainer.loss.item())):
            what = "loss"
        else:
            for name, p in trainer.model.named_parameters():
                if p.grad is not None and not bool(B.xp_of(p.grad.data).isfinite(p.grad.data).all()):
                    what = f"gradient of {name}"
                    break
        if what is None:
            return
        where = f"epoch {trainer.epoch + 1}, batch {trainer.batch_index}"
        self.events.append((trainer.epoch + 1, trainer.batch_index, what))
        if self.action == "raise":
            raise FloatingPointError(f"NaNGuard: non-finite {what} at {where}")
        trainer.skip_step = True
        if self.action == "stop":
            trainer.stop_training = True
            trainer.log(f"NaNGuard: non-finite {what} at {where}; update skipped, training stopped")


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` then the logged keys) to a CSV file, flushed at once.

    The file is started afresh unless ``append=True`` or the trainer resumes from a checkpoint;
    resuming drops the rows of epochs after the checkpoint's (they are trained again).
    """

    rank_zero_only = True

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path, self.separator, self.append = Path(path), separator, bool(append)
        self.keys = None

    def on_fit_begin(self, trainer):
        self.keys = None
        if not (self.append or trainer.epoch > 0) or not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")
            return
        with self.path.open(newline="") as f:
            rows = list(csv.reader(f, delimiter=self.separator))
        self.keys = rows[0][1:] if rows else None
        kept = rows[:1] + [row for row in rows[1:] if int(row[0]) <= trainer.epoch]
        if trainer.epoch > 0 and len(kept) < len(rows):
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            with tmp.open("w", newline="") as f:
                csv.writer(f, delimiter=self.separator).writerows(kept)
            os.replace(tmp, self.path)

    def on_epoch_end(self, trainer, epoch, logs):
        new = self.keys is None
        if new:
            self.keys = list(logs)
        with self.path.open("a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if new:
                writer.writerow(["epoch", *self.keys])
            writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])


class SnapshotCollector(Callback):
    """Keep copies of the weights at chosen epochs, for snapshot ensembles (seed 004 §7: one run,
    several checkpoints; with cyclic or warm-restart schedules, the ends of the cycles).

    ``epochs`` lists the epochs to keep (1-based) and/or ``every`` keeps every k-th one.
    ``snapshots`` is a list of ``(epoch, state_dict)`` with NumPy copies; with ``directory``
    each one is also written as ``snapshot-epoch{NNN}.npz`` there (atomically).
    """

    def __init__(self, epochs=None, every: int | None = None, directory=None):
        if epochs is None and every is None:
            raise ValueError("SnapshotCollector: give epochs, every or both")
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ValueError(f"SnapshotCollector: every must be a positive integer, got {every!r}")
        self.epochs = set() if epochs is None else {int(e) for e in epochs}
        self.every = every
        self.directory = None if directory is None else Path(directory)
        self.rank_zero_only = self.directory is not None   # it writes files
        self.snapshots: list[tuple[int, dict]] = []
        self.paths: list[Path] = []

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch not in self.epochs and not (self.every and epoch % self.every == 0):
            return
        state = {k: B.to_numpy(v) for k, v in _copy_state(trainer.model).items()}
        self.snapshots.append((epoch, state))
        if self.directory is not None:
            from .checkpoint import _io

            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"snapshot-epoch{epoch:03d}.npz"
            _io().save(state, os.fspath(path))
            self.paths.append(path)
