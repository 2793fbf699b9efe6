"""The learning-rate sweep of seed 002 神经网络调参 (第二步): fix the batch size at 32, start the learning rate at 1
and lower it ten times at a time until the loss stops oscillating; that rate is lr_base."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from .. import _backend as B
from ..data import DataLoader, Dataset, TensorDataset, check_finite
from ..tensor import Tensor

__all__ = ["lr_find", "LRFinderResult"]


@dataclass
class LRFinderResult:
    """Outcome of :func:`lr_find`.

    ``lrs`` the rates tried (largest first); ``curves[i]`` the batch losses at ``lrs[i]`` (cut
    short when it diverged); ``final_losses[i]`` the mean loss over the last quarter of the
    steps (inf when the run diverged); ``oscillation[i]`` the relative standard deviation of
    those last-quarter losses; ``suggestion`` the rate with the lowest final loss.

    >>> from shenjing import nn, optim
    >>> from shenjing.data import datasets
    >>> from shenjing.train import lr_find
    >>> (X, y), _ = datasets.xor()
    >>> model = nn.Linear(2, 2)
    >>> result = lr_find(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), (X, y), steps=8,
    ...     min_lr=0.01)
    >>> len(result.curves), len(result.final_losses), result.suggestion in result.lrs
    (3, 3, True)
    """

    lrs: list[float]
    curves: list[np.ndarray]
    final_losses: list[float]
    oscillation: list[float]
    suggestion: float
    steps: int = field(default=0)

    def plot(self, path=None):
        """Final loss against the learning rate (log axis) and the loss curves per rate; returns the
        Figure and writes a PNG to ``path`` when given. See :func:`shenjing.viz.plot_lr_find`."""
        from ..viz.training import plot_lr_find

        return plot_lr_find(self, path=path)


def _loader(train, batch_size: int, seed: int) -> DataLoader:
    if isinstance(train, DataLoader):
        return train
    if isinstance(train, (tuple, list)) and len(train) == 2:
        X, y = train
        check_finite(X, "train X")
        train = TensorDataset(X, y)
    if not isinstance(train, Dataset):
        raise TypeError(f"lr_find: train must be a Dataset, a DataLoader or an (X, y) tuple, "
                        f"got {type(train).__name__}")
    return DataLoader(train, batch_size=batch_size, shuffle=True, seed=seed)


def _batches(loader: DataLoader, steps: int):
    done = 0
    while done < steps:
        for batch in loader:
            yield batch
            done += 1
            if done == steps:
                return


def _as_model_input(t: Tensor, dtype, device) -> Tensor:
    data = t.data.astype(dtype) if t.data.dtype.kind == "f" and t.data.dtype != dtype else t.data
    return Tensor._wrap(B.to_device(data, device))


def _run(model, loss_fn, optimizer, loader, steps: int, device, diverge: float) -> np.ndarray:
    dtype = next(p.dtype for p in model.parameters())
    losses = []
    for batch in _batches(loader, steps):
        *inputs, target = (_as_model_input(t, dtype, device) for t in batch)
        optimizer.zero_grad()
        loss = loss_fn(model(*inputs), target)
        loss.backward()
        optimizer.step()
        value = float(loss.item())
        losses.append(value)
        if not math.isfinite(value) or value > diverge * losses[0]:
            break
    return np.asarray(losses)


def lr_find(model, loss, optimizer, train, start_lr: float = 1.0, min_lr: float = 1e-5, factor: float = 10.0,
            steps: int = 100, batch_size: int = 32, diverge: float = 4.0, seed: int = 0,
            device: str = "cpu") -> LRFinderResult:
    """Sweep the learning rate downwards by factors of ten (seed 002 神经网络调参, 第二步 1.).

    For lr = start_lr, start_lr/factor, ... down to ``min_lr``, the model starts from the same
    weights and optimiser state and takes ``steps`` updates on the same sequence of shuffled
    batches of ``batch_size`` (32, as the notes fix it). A run diverges when its loss becomes
    non-finite or exceeds ``diverge`` times its first value. The notes lower the rate until the
    loss stops oscillating and settles; the suggestion is the rate whose run ends lowest (mean
    loss over the last quarter of the steps), which is the largest rate that still converges
    smoothly within the budget. ``optimizer``'s param groups keep their ratios to the first
    group's rate. Model weights, optimiser state and shenjing's random state are restored
    afterwards. Returns an :class:`LRFinderResult` (``.suggestion``, ``.plot(path)``).

    >>> import shenjing as sj
    >>> from shenjing import nn, optim
    >>> from shenjing.data import datasets
    >>> from shenjing.train import lr_find
    >>> (X, y), _ = datasets.xor()
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    >>> result = lr_find(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), (X, y),
    ...     steps=20, min_lr=1e-3)
    >>> result.lrs, result.suggestion in result.lrs
    ([1.0, 0.1, 0.01, 0.001], True)
    """
    if not (start_lr > 0 and 0 < min_lr <= start_lr and factor > 1):
        raise ValueError(f"lr_find: need start_lr >= min_lr > 0 and factor > 1, got start_lr={start_lr}, "
                         f"min_lr={min_lr}, factor={factor}")
    if not isinstance(steps, int) or steps < 4:
        raise ValueError(f"lr_find: steps must be an integer >= 4, got {steps!r}")
    loader = _loader(train, batch_size, seed)
    weights = {k: v.data.copy() for k, v in model.state_dict().items()}
    opt_state = copy.deepcopy(optimizer.state_dict())
    ratios = [g["lr"] / optimizer.param_groups[0]["lr"] for g in optimizer.param_groups]
    rng_state, loader_state = B.get_rng_state(), loader.state_dict()
    was_training = model.training
    count = int(math.floor(math.log(start_lr / min_lr) / math.log(factor) + 1e-9)) + 1
    lrs = [start_lr / factor**k for k in range(count)]
    curves, finals, wiggle = [], [], []
    model.train()
    try:
        for lr in lrs:
            model.load_state_dict(weights)
            optimizer.load_state_dict(copy.deepcopy(opt_state))
            for group, ratio in zip(optimizer.param_groups, ratios):
                group["lr"] = lr * ratio
            B.set_rng_state(rng_state)
            loader.load_state_dict(loader_state)
            curve = _run(model, loss, optimizer, loader, steps, device, diverge)
            tail = curve[-max(steps // 4, 1):]
            ok = curve.size == steps and bool(np.all(np.isfinite(curve)))
            curves.append(curve)
            finals.append(float(tail.mean()) if ok else math.inf)
            wiggle.append(float(tail.std() / abs(tail.mean())) if ok else math.inf)
    finally:
        model.load_state_dict(weights)
        optimizer.load_state_dict(opt_state)
        B.set_rng_state(rng_state)
        loader.load_state_dict(loader_state)
        model.train(was_training)
    if not any(math.isfinite(f) for f in finals):
        raise FloatingPointError(f"lr_find: the loss diverged at every learning rate in {lrs}")
    best = int(np.argmin(finals))
    return LRFinderResult(lrs, curves, finals, wiggle, lrs[best], steps)
