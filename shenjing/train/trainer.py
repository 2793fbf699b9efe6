"""Trainer: the training loop of the notes (seed 001 梯度下降, mini-batch SGD; seed 000 §2.6-2.7, standard and
accumulated BP), with metrics, callbacks, a progress bar, History and resumable checkpoints."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from .. import _backend as B
from .. import distributed as dist
from ..data import DataLoader, DistributedSampler, TensorDataset, check_finite
from ..nn.parallel import DistributedDataParallel
from ..tensor import Tensor, no_grad
from .callbacks import Callback, step_scheduler
from .checkpoint import load_state, save_state
from .history import History

__all__ = ["Trainer", "to_labels"]

CHECKPOINT_FORMAT = "shenjing-checkpoint-1"


def to_labels(outputs: np.ndarray) -> np.ndarray:
    """Predicted class labels from model outputs: argmax over the last axis when it holds several
    classes (logits or probabilities), else ``output > 0`` (a single logit, as with
    ``binary_cross_entropy_with_logits``)."""
    if outputs.ndim >= 2 and outputs.shape[-1] > 1:
        return outputs.argmax(axis=-1)
    return (outputs.reshape(outputs.shape[:1] + (-1,))[:, 0] > 0).astype(np.int64)


def _in_group() -> bool:
    return dist.is_initialized() and dist.get_world_size() > 1


def _gather_over_ranks(array: np.ndarray) -> np.ndarray:
    """Every rank's 1-d ``array`` (lengths may differ), concatenated in rank order, on every rank."""
    size = dist.get_world_size()
    lengths = [Tensor(np.zeros(1, np.int64)) for _ in range(size)]
    dist.all_gather(lengths, Tensor(np.array([array.size])))
    lengths = [int(t.item()) for t in lengths]
    parts = [Tensor(np.empty(max(lengths), array.dtype)) for _ in range(size)]
    dist.all_gather(parts, Tensor(np.resize(array, max(lengths))))
    return np.concatenate([t.numpy()[:n] for t, n in zip(parts, lengths)])


class _UpdateGuard:
    """Ctrl-C (SIGINT) during ``fit``: one that arrives while an update is being applied is held until the
    update is complete, so it is applied whole or not at all; at any other time it goes to the handler
    that was in place (``KeyboardInterrupt`` by default). Installed in the main thread only."""

    def __init__(self):
        self.updating = self.held = self.installed = False
        self.previous = None

    def __enter__(self):
        self.installed = threading.current_thread() is threading.main_thread()
        if self.installed:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, signal.default_int_handler if self.previous is None else self.previous)
            self.installed = False

    def _handle(self, signum, frame) -> None:
        if self.updating:
            self.held = True
        elif callable(self.previous):
            self.previous(signum, frame)
        elif self.previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def update(self):
        """The block is an update: a Ctrl-C that arrives in it is delivered at its end."""
        self.updating = True
        try:
            yield
        finally:
            self.updating = False
            if self.held:
                self.held = False
                self._handle(signal.SIGINT, None)


def _epoch_over_ranks(tally) -> tuple:
    """An epoch's loss sum, sample count, labels and predictions over every rank (on every rank)."""
    sums = Tensor(np.array([tally.total, tally.count], dtype=np.float64))
    dist.all_reduce(sums)
    labels, preds = tally.labels, tally.preds
    if labels:
        labels, preds = ([_gather_over_ranks(np.concatenate(a))] for a in (labels, preds))
    total, count = sums.tolist()
    return total, count, labels, preds


def _metric_functions(names) -> dict:
    from .. import metrics as M

    table = {
        "accuracy": M.accuracy,
        "precision": lambda t, p: M.precision(t, p, average="macro", zero_division=0),
        "recall": lambda t, p: M.recall(t, p, average="macro", zero_division=0),
        "f1": lambda t, p: M.f1_score(t, p, average="macro", zero_division=0),
    }
    out = {}
    for m in names:
        if callable(m):
            out[getattr(m, "__name__", type(m).__name__)] = m
        elif m in table:
            out[m] = table[m]
        else:
            raise ValueError(f"Trainer: unknown metric {m!r}; use one of {sorted(table)} or a callable "
                             "fn(y_true, y_pred) on class labels")
    return out


class _Progress:
    """A tqdm bar per epoch on a terminal, one summary line per epoch otherwise, or nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.tty = enabled and sys.stderr.isatty()

    def start(self, epoch: int, epochs: int, total: int | None) -> None:
        if not self.tty:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.tty = False
            return
        self.bar = tqdm(total=total, desc=f"epoch {epoch}/{epochs}", leave=True, dynamic_ncols=True,
                        unit="batch", file=sys.stderr)

    def update(self, logs: dict) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
            self.bar.update(1)

    def finish(self, epoch: int, epochs: int, logs: dict, seconds: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
            self.bar.close()
            self.bar = None
        elif self.enabled:
            body = "  ".join(f"{k} {v:.4g}" for k, v in logs.items())
            print(f"epoch {epoch}/{epochs}  {body}  ({seconds:.2g}s)", flush=True)

    def log(self, message: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _replica(model):
    """What the training steps call: ``model`` itself, or its data-parallel replica under a group of several ranks."""
    if not _in_group() or isinstance(model, DistributedDataParallel):
        return model
    return DistributedDataParallel(model)


class _EpochTally:
    """The running loss and labels of one training epoch, and the batches done; restorable mid-epoch."""

    _COUNTS = ("batches", "total", "count", "correct")

    def __init__(self, mark: dict | None = None):
        """A new tally, or one going on from a :meth:`mark`."""
        self.batches, self.total, self.count, self.correct = 0, 0.0, 0, 0
        self.labels, self.preds = [], []
        if mark is not None:
            self.batches, self.total, self.count, self.correct = (mark[k] for k in self._COUNTS)
            chunks, source = mark["chunks"], mark["tally"]
            self.labels, self.preds = source.labels[:chunks], source.preds[:chunks]

    def add(self, loss: float, n: int, y_true=None, y_pred=None) -> dict:
        """Count one batch (mean loss ``loss`` over ``n`` samples); returns the live logs."""
        self.batches += 1
        self.total, self.count = self.total + loss * n, self.count + n
        live = {"loss": self.total / self.count}
        if y_true is not None:
            self.labels.append(y_true)
            self.preds.append(y_pred)
            self.correct += int((y_pred == y_true).sum())
            live["accuracy"] = self.correct / sum(len(lbl) for lbl in self.labels)
        return live

    def mark(self) -> dict:
        """The tally as it stands (cheap: the label chunks are referenced, not copied)."""
        return {k: getattr(self, k) for k in self._COUNTS} | {"chunks": len(self.labels), "tally": self}

    @classmethod
    def to_state(cls, mark: dict) -> dict:
        """A :meth:`mark` as checkpoint state (numbers and arrays)."""
        tally, chunks = mark["tally"], mark["chunks"]
        labels, preds = (np.concatenate(tally.labels[:chunks]), np.concatenate(tally.preds[:chunks])) if chunks \
            else (None, None)
        return {k: mark[k] for k in cls._COUNTS} | {"labels": labels, "preds": preds}

    @classmethod
    def from_state(cls, state: dict) -> dict:
        """The :meth:`mark` a :meth:`to_state` came from."""
        tally = cls()
        tally.batches, tally.total, tally.count, tally.correct = (int(state["batches"]), float(state["total"]),
                                                                  int(state["count"]), int(state["correct"]))
        if state["labels"] is not None:
            tally.labels, tally.preds = [np.asarray(state["labels"])], [np.asarray(state["preds"])]
        return tally.mark()


class Trainer:
    """Fit a model: forward, loss, backward, update, batch after batch (seed 001 小批量 SGD steps 1-5).

    ``Trainer(model, loss, optimizer, scheduler=None, metrics=None, callbacks=(), device='cpu',
    progress=True, seed=None)``. ``loss`` is a Module or callable ``(output, target) -> scalar``.
    ``scheduler`` is stepped once per epoch (``ReduceLROnPlateau`` with the validation loss, or
    the training loss without validation data); per-batch schedules go through
    ``LRSchedulerCallback(s, interval='batch')``. ``metrics`` are names ('accuracy',
    'precision', 'recall', 'f1'; the last three macro-averaged) or callables
    ``fn(y_true, y_pred)`` on class labels; the default, None, tracks accuracy when the targets
    are integer labels. Predicted labels come from :func:`to_labels`. ``progress`` shows a tqdm
    bar with the live loss and metrics on a terminal, one line per epoch elsewhere, nothing when
    False. ``seed`` seeds the shuffling of data given as arrays or a Dataset (default: drawn from
    shenjing's global generator when the Trainer is made).

    The model is moved to ``device``; float batches are cast to the model's dtype and moved
    there too.

    Built under an initialised process group of several ranks (DESIGN.md §10.2; initialise it
    first), every rank trains a :class:`~shenjing.nn.parallel.DistributedDataParallel` replica of
    the model on its :class:`~shenjing.data.DistributedSampler` share of data given as arrays or
    a Dataset (``batch_size`` is per rank); the epoch's loss and metrics cover every rank's
    samples; rank 0 alone shows progress and runs the callbacks that write files. Validation runs
    whole on every rank.
    """

    def __init__(self, model, loss, optimizer, scheduler=None, metrics=None, callbacks=(), device="cpu",
                 progress: bool = True, seed: int | None = None):
        if not callable(loss):
            raise TypeError(f"Trainer: loss must be a Module or a callable (output, target) -> Tensor, "
                            f"got {type(loss).__name__}")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise TypeError(f"Trainer: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got {type(cb).__name__}")
        if metrics is not None and (isinstance(metrics, str) or callable(metrics)):
            metrics = [metrics]
        self.device = B.parse_device(device)
        self.model = model.to(self.device)
        self.loss_fn, self.optimizer, self.scheduler = loss, optimizer, scheduler
        self.metric_names = None if metrics is None else list(metrics)
        self.metrics = {} if metrics is None else _metric_functions(metrics)
        self.callbacks = callbacks
        self.replica = _replica(self.model)
        self.progress = _Progress(bool(progress) and dist.is_main_process())
        self.seed = int(B.rng().integers(2**63)) if seed is None else seed
        self.history = History()
        self.epoch = 0
        self.global_step = 0
        self.stop_training = False
        self.skip_step = False
        self.interrupted = False
        self.train_loader = None
        self._pending_loader_state = None
        self._tally = None  # the epoch under way
        self._update_guard = _UpdateGuard()
        # mid-epoch: the RNG, loader and tally after the last batch done, where a checkpoint or the next fit
        # (after Ctrl-C or load_checkpoint) goes on from
        self._boundary = None
        self.batch = self.loss = None
        self.batch_index = 0
        self._batch_dtype = B.get_default_dtype()

    # ----- data ---------------------------------------------------------------------------
    @property
    def dtype(self):
        for p in self.model.parameters():
            if p.dtype.kind == "f":
                return p.dtype
        return B.get_default_dtype()

    def _loader(self, data, batch_size, shuffle: bool, what: str, shard: bool = False) -> DataLoader:
        if isinstance(data, DataLoader):
            return data
        if isinstance(data, (tuple, list)):
            if len(data) != 2 or not all(hasattr(a, "shape") for a in data):
                raise TypeError(f"Trainer: {what} data given as a tuple must be (X, y), two arrays of one row per "
                                f"sample; got {len(data)} items of types {[type(a).__name__ for a in data]}")
            X, y = data
            check_finite(X, f"{what} X")
            check_finite(y, f"{what} y")
            data = TensorDataset(X, y)
        elif isinstance(data, TensorDataset):
            for i, a in enumerate(data.arrays):
                check_finite(a, f"{what} array {i}")
        if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
            raise TypeError(f"Trainer: {what} data must be a Dataset, a DataLoader or an (X, y) tuple of arrays, "
                            f"got {type(data).__name__}")
        sampler = DistributedSampler(data, shuffle=shuffle, seed=self.seed) if shard and _in_group() else None
        size = len(data if sampler is None else sampler) if batch_size is None else batch_size
        if sampler is not None:
            return DataLoader(data, batch_size=size, sampler=sampler)
        return DataLoader(data, batch_size=size, shuffle=shuffle, seed=self.seed if shuffle else None)

    def _adopt(self, loader: DataLoader) -> DataLoader:
        """Make ``loader`` the training loader, continuing the random stream of the previous one
        (or the one restored from a checkpoint), so that successive ``fit`` calls shuffle as one run."""
        previous = self.train_loader
        if self._pending_loader_state is not None:
            loader.load_state_dict(self._pending_loader_state)
            self._pending_loader_state = None
        elif previous is not None and loader is not previous and None not in (previous.generator, loader.generator):
            loader.generator.bit_generator.state = previous.generator.bit_generator.state
        self.train_loader = loader
        return loader

    def _prepare(self, t):
        t = t if isinstance(t, Tensor) else Tensor(t)
        data = t.data
        if data.dtype.kind == "f" and data.dtype != self._batch_dtype:
            data = data.astype(self._batch_dtype)
        return Tensor._wrap(B.to_device(data, self.device))

    def _split(self, batch) -> tuple[tuple, Tensor | None]:
        """(inputs, target): the last field of a batch is the target."""
        if not isinstance(batch, (tuple, list)):
            return (self._prepare(batch),), None
        fields = tuple(self._prepare(b) for b in batch)
        if len(fields) == 1:
            return fields, None
        return fields[:-1], fields[-1]

    def _loss(self, out, target) -> Tensor:
        loss = self.loss_fn(out, target)
        if not isinstance(loss, Tensor) or loss.data.size != 1:
            raise ValueError(f"Trainer: the loss must return a one-element Tensor, got "
                             f"{getattr(loss, 'shape', type(loss).__name__)}")
        return loss

    # ----- metrics ------------------------------------------------------------------------
    def _tracked(self, target) -> dict:
        if self.metric_names is None:
            if target is not None and target.dtype.kind in "iu" and not self.metrics:
                self.metrics = _metric_functions(["accuracy"])
        return self.metrics

    def _epoch_metrics(self, labels: list, preds: list) -> dict:
        if not self.metrics or not labels:
            return {}
        y_true, y_pred = np.concatenate(labels), np.concatenate(preds)
        return {name: float(fn(y_true, y_pred)) for name, fn in self.metrics.items()}

    # ----- training -----------------------------------------------------------------------
    def fit(self, train, val=None, epochs: int = 1, batch_size: int | None = 32, shuffle: bool = True,
            interrupt_checkpoint="interrupted.npz") -> History:
        """Train until epoch ``epochs`` (counting epochs already done, e.g. after ``load_checkpoint``).

        ``train``/``val``: a Dataset, a DataLoader or an ``(X, y)`` tuple of arrays (checked for
        NaN/Inf). ``batch_size=1`` is the notes' standard BP (one update per sample),
        ``batch_size=None`` the accumulated BP (one update per pass over the whole set, the
        gradient of L = (1/m) Σ_k L_k; seed 000 §2.7), anything else mini-batch SGD (seed 001).
        ``shuffle`` reshuffles every epoch (seed 002). On Ctrl-C the current state is written
        to ``interrupt_checkpoint`` (unless None) and ``fit`` returns with ``self.interrupted``
        set. The file holds the state after the last batch done (the loader's position in the
        epoch, the random states, the epoch's running loss), so a run resumed from it goes on
        with the next batch and ends as the uninterrupted run would have; a Ctrl-C during an
        update takes effect once the update is complete. Returns the :class:`History`.
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be a non-negative integer, got {epochs!r}")
        loader = self._adopt(self._loader(train, batch_size, shuffle, "train", shard=True))
        val_loader = None if val is None else self._loader(val, 1024 if batch_size is None else max(batch_size, 256),
                                                           False, "validation")
        self.stop_training = self.interrupted = False
        if self.epoch >= epochs:
            self.log(f"already trained for {self.epoch} epochs (asked for {epochs}); nothing to do")
            return self.history
        self._call("on_fit_begin")
        try:
            with self._update_guard:
                for epoch in range(self.epoch + 1, epochs + 1):
                    self._run_epoch(loader, val_loader, epoch, epochs)
                    if self.stop_training:
                        break
        except KeyboardInterrupt:
            self.progress.close()
            self.interrupted = True
            if self._boundary is not None:
                self._pending_loader_state = self._boundary["loader"]
            if interrupt_checkpoint is not None and dist.is_main_process():
                self.save_checkpoint(interrupt_checkpoint)
                self.log(f"interrupted in epoch {self.epoch + 1}; checkpoint saved to {interrupt_checkpoint}")
            else:
                self.log(f"interrupted in epoch {self.epoch + 1}")
        finally:
            self.progress.close()
            self._tally = None
            if not self.interrupted:
                self._boundary = None
        self._call("on_fit_end")
        return self.history

    def _run_epoch(self, loader, val_loader, epoch: int, epochs: int) -> None:
        t0 = time.perf_counter()
        if hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch - 1)  # 0-based, as in a PyTorch loop: the same orders
        self._call("on_epoch_begin", epoch)
        logs = self._train_epoch(loader, epoch, epochs)
        if val_loader is not None:
            logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
        groups = getattr(self.optimizer, "param_groups", None)
        logs["lr"] = float(groups[0]["lr"]) if groups else math.nan
        with self._update_guard.update():  # the epoch is counted whole: epoch, schedule and history together
            self.epoch = epoch
            self._tally = self._boundary = None
            if self.scheduler is not None:
                step_scheduler(self.scheduler, logs)
            self.history.append(epoch, logs)
        self._call("on_epoch_end", epoch, logs)
        self.progress.finish(epoch, epochs, logs, time.perf_counter() - t0)

    def _train_epoch(self, loader, epoch: int, epochs: int) -> dict:
        self.model.train()
        self._batch_dtype = self.dtype
        self.progress.start(epoch, epochs, len(loader) if hasattr(loader.dataset, "__len__") else None)
        resumed = self._boundary
        tally = self._tally = _EpochTally(None if resumed is None else resumed["in_epoch"])
        if resumed is not None:
            B.set_rng_state(resumed["rng"])
        if tally.labels:  # resumed after the batches that told which metrics to track
            self._tracked(tally.labels[0])
        self._boundary = self._position()
        for i, batch in enumerate(loader, start=tally.batches):
            inputs, target = self._split(batch)
            metrics = self._tracked(target)
            self.batch, self.batch_index, self.skip_step = (inputs[0] if len(inputs) == 1 else inputs, target), i, False
            self._call("on_batch_begin", i)
            self.optimizer.zero_grad()
            out = self.replica(*inputs)
            self.loss = self._loss(out, target)
            self.loss.backward()
            self._call("on_after_backward")
            value = float(self.loss.item())
            labelled = (B.to_numpy(target.data).reshape(-1), to_labels(B.to_numpy(out.data)).reshape(-1)) \
                if metrics else ()
            with self._update_guard.update():
                if not self.skip_step:
                    self.optimizer.step()
                    self.global_step += 1
                live = tally.add(value, int(inputs[0].shape[0]), *labelled)
                self._boundary = self._position()
            self.progress.update(live)
            self._call("on_batch_end", i, {"loss": value})
            if self.stop_training:
                break
        self.batch = self.loss = None
        if _in_group():
            total, count, labels, preds = _epoch_over_ranks(tally)
        else:
            total, count, labels, preds = tally.total, tally.count, tally.labels, tally.preds
        logs = {"loss": total / max(count, 1)}
        logs.update(self._epoch_metrics(labels, preds))
        return logs

    def _call(self, hook: str, *args) -> None:
        main = dist.is_main_process()
        for cb in self.callbacks:
            if main or not cb.rank_zero_only:
                getattr(cb, hook)(self, *args)

    def log(self, message: str) -> None:
        """Print a message without breaking the progress bar (silent when ``progress=False``)."""
        self.progress.log(message)

    # ----- inference ----------------------------------------------------------------------
    def _outputs(self, data, batch_size: int):
        """Yield (outputs, target) per batch in eval mode without a graph."""
        loader = data if isinstance(data, DataLoader) else None
        if loader is None:
            if hasattr(data, "shape"):
                data = (data,)
            if isinstance(data, (tuple, list)) and all(hasattr(a, "shape") for a in data):
                for i, a in enumerate(data):
                    check_finite(a, f"input array {i}")
                data = TensorDataset(*data)
            loader = DataLoader(data, batch_size=batch_size)
        was_training = self.model.training
        self.model.eval()
        self._batch_dtype = self.dtype
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = self._split(batch)
                    yield self.model(*inputs), target
        finally:
            self.model.train(was_training)

    def evaluate(self, data, batch_size: int = 256) -> dict:
        """Mean loss and metrics over ``data`` (Dataset, DataLoader or (X, y)), in eval mode."""
        total, count, labels, preds = 0.0, 0, [], []
        for out, target in self._outputs(data, batch_size):
            if target is None:
                raise ValueError("Trainer.evaluate: the data has no targets; pass (X, y)")
            n = int(out.shape[0])
            total += float(self._loss(out, target).item()) * n
            count += n
            if self._tracked(target):
                labels.append(B.to_numpy(target.data).reshape(-1))
                preds.append(to_labels(B.to_numpy(out.data)).reshape(-1))
        return {"loss": total / max(count, 1), **self._epoch_metrics(labels, preds)}

    def predict(self, data, batch_size: int = 256) -> np.ndarray:
        """Model outputs for ``data`` (an array X, a Dataset or a DataLoader; a last field with
        targets is ignored) as one NumPy array, in eval mode."""
        outs = [B.to_numpy(out.data) for out, _ in self._outputs(data, batch_size)]
        return np.concatenate(outs)

    def lr_find(self, train, **kwargs):
        """The notes' learning-rate sweep on this trainer's model and optimiser (see
        :func:`shenjing.train.lr_find`); the model and optimiser are left as they were."""
        from .lr_finder import lr_find

        return lr_find(self.model, self.loss_fn, self.optimizer, train, device=self.device, **kwargs)

    # ----- checkpoints --------------------------------------------------------------------
    def _position(self) -> dict:
        """Where training stands now: the RNG, the loader and, inside an epoch, that epoch's tally."""
        loader = self._pending_loader_state if self._pending_loader_state is not None \
            else self.train_loader.state_dict() if self.train_loader is not None else None
        return {"rng": B.get_rng_state(), "loader": loader,
                "in_epoch": None if self._tally is None else self._tally.mark()}

    def state_dict(self) -> dict:
        """Everything a resumed run needs: weights, optimiser, scheduler, callbacks, RNG states,
        epoch, step and history; inside an epoch also the loader's position and the epoch's
        running loss and labels, as they were after the last batch done."""
        position = self._boundary or self._position()
        in_epoch = position["in_epoch"]
        return {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": dict(self.model.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks],
            "rng": position["rng"],
            "loader": position["loader"],
            "in_epoch": None if in_epoch is None else _EpochTally.to_state(in_epoch),
            "history": self.history.state_dict(),
        }

    def save_checkpoint(self, path) -> Path:
        """Write :meth:`state_dict` to ``path`` (``.npz`` or ``.safetensors``) atomically, without
        pickle; returns the path. Called inside an epoch (by a callback, or on Ctrl-C) it records
        the state after the last batch done, and a resumed run goes on with the next batch."""
        return save_state(self.state_dict(), path)

    def load_checkpoint(self, path) -> None:
        """Restore a :meth:`save_checkpoint` file into this trainer; ``fit(epochs=E)`` then continues to E.

        The Trainer must be built like the one that saved it (same model, optimiser, scheduler
        and callbacks). The data loader's random state and position are applied to the next
        ``fit``'s loader, which must batch the data as the saved run did.
        """
        state = load_state(path)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{str(path)!r} is not a Trainer checkpoint (format {CHECKPOINT_FORMAT})")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if (self.scheduler is None) != (state["scheduler"] is None):
            raise ValueError("Trainer.load_checkpoint: the checkpoint and this trainer disagree on having a scheduler")
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        names = [type(cb).__name__ for cb in self.callbacks]
        saved = [name for name, _ in state["callbacks"]]
        if names != saved:
            raise ValueError(f"Trainer.load_checkpoint: the checkpoint has callbacks {saved}, this trainer {names}")
        for cb, (_, cb_state) in zip(self.callbacks, state["callbacks"]):
            cb.load_state_dict(cb_state)
        B.set_rng_state(state["rng"])
        self._pending_loader_state = state["loader"]  # for the loader of the next fit, whichever it is
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        in_epoch = state.get("in_epoch")
        self._boundary = None if in_epoch is None else {"rng": state["rng"], "loader": state["loader"],
                                                        "in_epoch": _EpochTally.from_state(in_epoch)}
        self.history.load_state_dict(state["history"])
