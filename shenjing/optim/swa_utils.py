"""Stochastic Weight Averaging (Izmailov et al. 2018; seed 004 §7) — ``torch.optim.swa_utils``.

SWA averages the weights visited by SGD late in training (with a constant or cyclical lr,
``SWALR``) into one model, which tends to sit in a flatter, better-generalising region; since
the averaged weights were never used to compute batch statistics, ``update_bn`` recomputes
BatchNorm's running statistics with one pass over the training data.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import numpy as np

from .. import _backend as B
from ..nn.module import Module
from ..tensor import Tensor, no_grad
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import Optimizer

__all__ = [
    "AveragedModel", "SWALR", "update_bn", "get_swa_avg_fn", "get_ema_avg_fn", "get_swa_multi_avg_fn",
    "get_ema_multi_avg_fn",
]


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay!r}")


def get_swa_avg_fn() -> Callable:
    """``avg_fn`` of the running mean: a ← a + (x - a) / (n + 1) after n models averaged.

    >>> from shenjing.optim.swa_utils import get_swa_avg_fn
    >>> avg = get_swa_avg_fn()
    >>> avg(1.0, 4.0, 1)
    2.5
    """

    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """``avg_fn`` of an exponential moving average of the weights: a ← decay·a + (1 - decay)·x.

    >>> from shenjing.optim.swa_utils import get_ema_avg_fn
    >>> get_ema_avg_fn(0.9)(1.0, 2.0, 5)
    1.1
    """
    _check_decay(decay)

    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current

    return ema_update


def _in_place(update: Callable) -> Callable:
    """Turn an ``avg_fn`` into a ``multi_avg_fn`` that writes into the averaged Tensors."""

    def multi_update(averaged: list, current: list, num_averaged) -> None:
        for a, c in zip(averaged, current):
            a.data[...] = update(a.data, c.data, num_averaged)

    return multi_update


def get_swa_multi_avg_fn() -> Callable:
    """``multi_avg_fn`` of the running mean, updating lists of Tensors in place.

    >>> import shenjing as sj
    >>> from shenjing.optim.swa_utils import get_swa_multi_avg_fn
    >>> averaged, current = [sj.tensor([1.0])], [sj.tensor([4.0])]
    >>> get_swa_multi_avg_fn()(averaged, current, 1)
    >>> averaged
    [tensor([2.5])]
    """
    return _in_place(get_swa_avg_fn())


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """``multi_avg_fn`` of the exponential moving average, updating lists of Tensors in place.

    >>> import shenjing as sj
    >>> from shenjing.optim.swa_utils import get_ema_multi_avg_fn
    >>> averaged, current = [sj.tensor([1.0])], [sj.tensor([2.0])]
    >>> get_ema_multi_avg_fn(0.9)(averaged, current, 5)
    >>> averaged
    [tensor([1.1])]
    """
    return _in_place(get_ema_avg_fn(decay))


class AveragedModel(Module):
    r"""A copy of ``model`` whose parameters are the average of the models it is fed.

    After ``update_parameters(model)`` has been called with weights w_1 … w_n::

        w_SWA = (1/n) Σ_i w_i,   updated as  w_SWA ← w_SWA + (w_n - w_SWA) / n

    ``avg_fn(averaged, current, n)`` (Tensor-wise, returns the new value) or
    ``multi_avg_fn(averaged_list, current_list, n)`` (in place) replace the running mean, e.g.
    ``get_ema_multi_avg_fn(0.999)`` for an EMA of the weights. With ``use_buffers=True`` the
    buffers are averaged too; otherwise they are copied from the latest model. ``n_averaged``
    counts the models seen; ``forward`` runs the averaged copy.

    >>> import shenjing as sj
    >>> from shenjing.optim.swa_utils import AveragedModel
    >>> model = sj.nn.Linear(1, 1, bias=False)
    >>> swa = AveragedModel(model)
    >>> for value in (1.0, 2.0, 6.0):
    ...     _ = sj.nn.init.constant_(model.weight, value)
    ...     swa.update_parameters(model)
    ...
    >>> swa.module.weight.detach()
    tensor([[3.]])
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        self.register_buffer("n_averaged", Tensor(np.zeros((), dtype=np.int64)))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model: Module) -> list:
        tensors = list(model.parameters())
        return tensors + list(model.buffers()) if self.use_buffers else tensors

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average."""
        mine = self._averaged_tensors(self.module)
        theirs = [Tensor._wrap(B.to_device(t.data, a.device)) for a, t in zip(mine, self._averaged_tensors(model))]
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, t in zip(mine, theirs):
                    a.data[...] = t.data
            elif self.avg_fn is not None:
                for a, t in zip(mine, theirs):
                    new = self.avg_fn(Tensor._wrap(a.data), t, n)
                    a.data[...] = new.data if isinstance(new, Tensor) else new
            else:
                (self.multi_avg_fn or get_swa_multi_avg_fn())(mine, theirs, n)
            if not self.use_buffers:
                for a, t in zip(self.module.buffers(), model.buffers()):
                    a.data[...] = B.to_device(t.data, a.device)
        self.n_averaged.data += 1


def _is_batchnorm(module: Module) -> bool:
    return any("BatchNorm" in cls.__name__ for cls in type(module).__mro__) and hasattr(
        module, "reset_running_stats")


def update_bn(loader: Iterable, model: Module, device=None) -> None:
    r"""Recompute the running statistics of every BatchNorm layer of ``model`` over ``loader``.

    The statistics are reset and, with ``momentum=None`` (the cumulative average of the batch
    statistics, the notes' E[μ_B] and m/(m-1)·E[σ²_B]), re-estimated by one forward pass over
    the data in training mode; each layer's momentum and the model's mode are then restored.
    A batch that is a list or tuple contributes its first element (the inputs).

    >>> import shenjing as sj
    >>> from shenjing.optim.swa_utils import update_bn
    >>> model = sj.nn.Sequential(sj.nn.Linear(2, 2), sj.nn.BatchNorm1d(2))
    >>> update_bn([sj.randn(8, 2) for _ in range(4)], model)
    >>> model[1].num_batches_tracked
    tensor(4, dtype=int64)
    """
    momenta = {m: m.momentum for m in model.modules() if _is_batchnorm(m)}
    if not momenta:
        return
    for module in momenta:
        module.reset_running_stats()
        module.momentum = None
    was_training = model.training
    model.train()
    with no_grad():
        for batch in loader:
            inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
            inputs = inputs if isinstance(inputs, Tensor) else Tensor(inputs)
            model(inputs if device is None else inputs.to(device))
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneal each group's lr to a constant ``swa_lr`` over ``anneal_epochs`` steps, then hold it.

    With α(s) = (1 - cos πs)/2 ('cos') or s ('linear') and s = min(1, t / anneal_epochs)::

        η_t = α(s) · swa_lr + (1 - α(s)) · η_start

    where η_start, the lr when the schedule began, is recovered from the current lr at each
    step (PyTorch's formulation, so SWALR can take over from another schedule).

    >>> import shenjing as sj
    >>> from shenjing.optim.swa_utils import SWALR
    >>> opt = sj.optim.SGD([sj.zeros(1, requires_grad=True)], lr=0.1)
    >>> schedule = SWALR(opt, swa_lr=0.02, anneal_epochs=3, anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); schedule.step(); lrs.append(round(opt.param_groups[0]["lr"], 4))
    ...
    >>> lrs
    [0.0733, 0.0467, 0.02, 0.02]
    """

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1):
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be an int >= 0, got {anneal_epochs!r}")
        for group, lr in zip(optimizer.param_groups, _per_group("swa_lr", optimizer, swa_lr)):
            group["swa_lr"] = lr
        self.anneal_epochs, self.anneal_strategy = anneal_epochs, anneal_strategy
        super().__init__(optimizer, last_epoch)

    def _alpha(self, step: int) -> float:
        s = max(0.0, min(1.0, step / max(1, self.anneal_epochs)))
        return (1 - math.cos(math.pi * s)) / 2 if self.anneal_strategy == "cos" else s

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha, alpha = self._alpha(step - 1), self._alpha(step)
        lrs = []
        for group in self.optimizer.param_groups:
            swa_lr = group["swa_lr"]
            start = swa_lr if prev_alpha == 1 else (group["lr"] - prev_alpha * swa_lr) / (1 - prev_alpha)
            lrs.append(swa_lr * alpha + start * (1 - alpha))
        return lrs
