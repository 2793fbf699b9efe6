"""Trainer: the training loop of the notes (seed 001 梯度下降, mini-batch SGD; seed 000 §2.6-2.7, standard and
accumulated BP), with metrics, callbacks, a progress bar, History and resumable checkpoints."""

from __future__ import annotations

import math
import sys
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

    def start(self, epoch: int, epochs: int, total: int) -> None:
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
        if shard and _in_group():
            sampler = DistributedSampler(data, shuffle=shuffle, seed=self.seed)
            return DataLoader(data, batch_size=batch_size, sampler=sampler)
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, seed=self.seed if shuffle else None)

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
        set; resuming from that file repeats the interrupted epoch from the weights reached.
        Returns the :class:`History`.
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
        start_rng, start_loader = B.get_rng_state(), loader.state_dict()
        try:
            for epoch in range(self.epoch + 1, epochs + 1):
                start_rng, start_loader = B.get_rng_state(), loader.state_dict()
                self._run_epoch(loader, val_loader, epoch, epochs)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.progress.close()
            self.interrupted = True
            if interrupt_checkpoint is not None and dist.is_main_process():
                self.save_checkpoint(interrupt_checkpoint, rng_state=start_rng, loader_state=start_loader)
                self.log(f"interrupted in epoch {self.epoch + 1}; checkpoint saved to {interrupt_checkpoint}")
            else:
                self.log(f"interrupted in epoch {self.epoch + 1}")
        finally:
            self.progress.close()
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
        self.epoch = epoch
        if self.scheduler is not None:
            step_scheduler(self.scheduler, logs)
        self.history.append(epoch, logs)
        self._call("on_epoch_end", epoch, logs)
        self.progress.finish(epoch, epochs, logs, time.perf_counter() - t0)

    def _train_epoch(self, loader, epoch: int, epochs: int) -> dict:
        self.model.train()
        self._batch_dtype = self.dtype
        self.progress.start(epoch, epochs, len(loader))
        total, count, correct = 0.0, 0, 0
        labels, preds = [], []
        for i, batch in enumerate(loader):
            inputs, target = self._split(batch)
            metrics = self._tracked(target)
            self.batch, self.batch_index, self.skip_step = (inputs[0] if len(inputs) == 1 else inputs, target), i, False
            self._call("on_batch_begin", i)
            self.optimizer.zero_grad()
            out = self.replica(*inputs)
            self.loss = self._loss(out, target)
            self.loss.backward()
            self._call("on_after_backward")
            if not self.skip_step:
                self.optimizer.step()
                self.global_step += 1
            n = int(inputs[0].shape[0])
            value = float(self.loss.item())
            total, count = total + value * n, count + n
            live = {"loss": total / count}
            if metrics:
                y_pred, y_true = to_labels(B.to_numpy(out.data)), B.to_numpy(target.data).reshape(-1)
                y_pred = y_pred.reshape(-1)
                labels.append(y_true)
                preds.append(y_pred)
                correct += int((y_pred == y_true).sum())
                live["accuracy"] = correct / sum(len(lbl) for lbl in labels)
            self.progress.update(live)
            self._call("on_batch_end", i, {"loss": value})
            if self.stop_training:
                break
        self.batch = self.loss = None
        if _in_group():
            sums = Tensor(np.array([total, count], dtype=np.float64))
            dist.all_reduce(sums)
            total, count = sums.tolist()
            if labels:
                labels, preds = ([_gather_over_ranks(np.concatenate(a))] for a in (labels, preds))
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
    def state_dict(self, rng_state=None, loader_state=None) -> dict:
        """Everything a resumed run needs: weights, optimiser, scheduler, callbacks, RNG states,
        epoch, step and history."""
        if loader_state is None:
            loader_state = self.train_loader.state_dict() if self.train_loader is not None \
                else self._pending_loader_state
        return {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": dict(self.model.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks],
            "rng": B.get_rng_state() if rng_state is None else rng_state,
            "loader": loader_state,
            "history": self.history.state_dict(),
        }

    def save_checkpoint(self, path, rng_state=None, loader_state=None) -> Path:
        """Write :meth:`state_dict` to ``path`` (``.npz`` or ``.safetensors``) atomically, without
        pickle; returns the path."""
        return save_state(self.state_dict(rng_state, loader_state), path)

    def load_checkpoint(self, path) -> None:
        """Restore a :meth:`save_checkpoint` file into this trainer; ``fit(epochs=E)`` then continues to E.

        The Trainer must be built like the one that saved it (same model, optimiser, scheduler
        and callbacks). The data loader's random state is applied to the next ``fit``'s loader.
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
        if state["loader"] is not None:
            if self.train_loader is not None:
                self.train_loader.load_state_dict(state["loader"])
            else:
                self._pending_loader_state = state["loader"]
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.history.load_state_dict(state["history"])
