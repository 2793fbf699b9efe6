"""Monitor: per-layer statistics of activations, gradients and updates while a model trains.

The notes' failure modes as numbers: vanishing and exploding gradients (seed 003 梯度消失问题 /
梯度爆炸问题: ∂L/∂b₁ ≤ (1/4)ⁿ w₂⋯wₙ ∂L/∂bₙ for sigmoid nets), saturated sigmoid/tanh units whose
σ'(z) is near zero (seed 002 神经元饱和, seed 000 §4.4) and ReLUs that never fire (seed 004 §3).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..nn import activation as act
from ..tensor import Tensor

__all__ = ["Monitor", "RELU_FAMILY", "SATURATING"]

RELU_FAMILY = (act.ReLU, act.ReLU6, act.LeakyReLU, act.PReLU, act.RReLU, act.ELU)
# local derivative of each saturating activation written in its output y, and that derivative's maximum
SATURATING = {act.Sigmoid: (lambda y: y * (1 - y), 0.25), act.Tanh: (lambda y: 1 - y * y, 1.0)}
SATURATION_LEVEL = 0.01  # a unit is saturated where its local derivative is below 1% of its maximum


def activation_stats(module, out) -> dict:
    """act_mean and act_std (unbiased, as ``Tensor.std()`` and ``torch.std``) of ``out``; for ReLU-family
    outputs dead_fraction (share of units — positions after the batch axis — ≤ 0 for every sample), for
    sigmoid/tanh outputs saturated_fraction (share of all activations whose local derivative
    σ'(z) = y(1-y), tanh'(z) = 1-y² is below 1% of its maximum)."""
    y = out.data
    flat = y.reshape(-1)
    n = flat.size
    mean = float(flat.sum()) / n
    # one pass for both moments; the cancellation in Σy² - n·mean² costs ~eps·mean²/var, far below what matters
    variance = max(float(flat @ flat) - n * mean * mean, 0.0) / max(n - 1, 1)
    stats = {"act_mean": mean, "act_std": math.sqrt(variance)}
    if isinstance(module, RELU_FAMILY) and y.ndim >= 2:
        stats["dead_fraction"] = float((y.max(axis=0) <= 0).mean())
    for kind, (derivative, peak) in SATURATING.items():
        if isinstance(module, kind):
            stats["saturated_fraction"] = float((derivative(y) < SATURATION_LEVEL * peak).mean())
    return stats


def _norm(array) -> float:
    flat = array.reshape(-1)
    return float(math.sqrt(float(flat @ flat)))


def watched_tensor(module):
    """The parameter whose norms a module reports: its ``weight`` when it has one, else all of its
    own parameters (e.g. a GRU's weight_ih/weight_hh/biases) as one vector; None without any."""
    own = dict(module.named_parameters(recurse=False))
    if "weight" in own:
        return [own["weight"]]
    return list(own.values()) or None


def _copy_into(buffer, array):
    """``array`` copied into ``buffer`` when it fits (no fresh allocation per step), else a new copy."""
    if buffer is None or buffer.shape != array.shape or buffer.dtype != array.dtype or type(buffer) is not type(array):
        return array.copy()
    buffer[...] = array
    return buffer


def _joint_norm(arrays) -> float:
    return math.sqrt(sum(_norm(a) ** 2 for a in arrays))


class Monitor:
    """Record per-layer statistics of ``model`` over the forward/backward passes it sees.

    ``Monitor(model, optimizer=None, every=1, training_only=False)``; use as a context manager
    or ``attach()``/``detach()``. For each named submodule (names from ``named_modules()``):
    ``act_mean``, ``act_std`` of its output; ``dead_fraction`` for ReLU-family outputs (units ≤ 0
    for every sample of the batch); ``saturated_fraction`` for sigmoid/tanh outputs (activations
    with σ'(z) or tanh'(z) below 1% of its maximum; seed 002 神经元饱和); for modules with
    parameters ``weight_norm`` ‖w‖₂ and ``grad_norm`` ‖∂L/∂w‖₂ (w = the module's ``weight``, or
    all its own parameters when it has no ``weight``); with an ``optimizer``, ``update_ratio``
    ‖Δw‖/‖w‖ of each step (about 1e-3 is the usual healthy value).

    A pass starts when ``model`` is called. Gradients are read at the optimiser's step, or
    without an optimiser when the pass is closed (the next call of ``model``, ``summary()``,
    ``history`` or ``detach()``), so a loop that zeroes gradients before its next forward should
    pass its optimiser or read ``summary()`` after ``backward``. ``every=k`` records one pass in
    k: recording every pass costs 2-28% of a training step on the benchmark models, one in ten
    under 10% (benchmarks/README.md). ``training_only`` skips passes made in eval mode.

    >>> import shenjing as sj
    >>> net = sj.nn.Sequential(sj.nn.Linear(4, 8), sj.nn.ReLU(), sj.nn.Linear(8, 2))
    >>> with Monitor(net) as mon:
    ...     net(sj.randn(16, 4)).sum().backward()
    >>> sorted(mon.summary()["1"])
    ['act_mean', 'act_std', 'dead_fraction']
    """

    def __init__(self, model, optimizer=None, every: int = 1, training_only: bool = False):
        if not hasattr(model, "named_modules"):
            raise TypeError(f"Monitor: model must be a Module, got {type(model).__name__}")
        if optimizer is not None and not hasattr(optimizer, "step"):
            raise TypeError(f"Monitor: optimizer must have a step() method, got {type(optimizer).__name__}")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"Monitor: every must be a positive integer, got {every!r}")
        self.model, self.optimizer, self.every, self.training_only = model, optimizer, every, training_only
        self.modules = [(name, m) for name, m in model.named_modules() if name or not list(m.children())]
        self._history: list[dict] = []
        self._open: dict | None = None
        self._handles: list = []
        self._calls = 0
        self._stepped = False  # the open pass's parameters were read at the optimiser's step
        self._params: dict = {}  # module name -> the tensors whose norms it reports
        self._before: dict = {}  # module name -> buffers for the weights before a step, reused

    # ----- attaching ---------------------------------------------------------------------------------
    def attach(self) -> Monitor:
        """Install the hooks (and wrap ``optimizer.step``); returns self."""
        if self._handles:
            return self
        self._params = {name: t for name, m in self.modules if (t := watched_tensor(m)) is not None}
        self._handles.append(self.model.register_forward_pre_hook(self._start_pass))
        for name, module in self.modules:
            self._handles.append(module.register_forward_hook(self._recorder(name)))
        if self.optimizer is not None:
            self.optimizer.step = self._wrapped_step(type(self.optimizer).step.__get__(self.optimizer))
        return self

    def detach(self) -> Monitor:
        """Remove every hook; the recorded history stays."""
        self._close()
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self.optimizer is not None and "step" in vars(self.optimizer):
            del self.optimizer.step
        return self

    def __enter__(self) -> Monitor:
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    # ----- recording ---------------------------------------------------------------------------------
    def _start_pass(self, model, inputs):
        self._close()
        self._calls += 1
        skip = (self._calls - 1) % self.every or (self.training_only and not model.training)
        self._open = None if skip else {}
        self._stepped = False

    def _recorder(self, name: str):
        def hook(module, inputs, out):
            if self._open is not None and isinstance(out, Tensor):
                self._open.setdefault(name, {}).update(activation_stats(module, out))

        return hook

    def _read_parameters(self, record: dict) -> None:
        for name, tensors in self._params.items():
            stats = record.setdefault(name, {})
            stats["weight_norm"] = _joint_norm([t.data for t in tensors])
            if all(t.grad is not None for t in tensors):
                stats["grad_norm"] = _joint_norm([t.grad.data for t in tensors])

    def _close(self) -> None:
        if self._open is not None:
            if not self._stepped:
                self._read_parameters(self._open)
            self._history.append({name: self._open[name] for name, _ in self.modules if name in self._open})
            self._open = None

    def _wrapped_step(self, step):
        def monitored_step(*args, **kwargs):
            record = self._open
            if record is None:
                return step(*args, **kwargs)
            self._read_parameters(record)
            for name, tensors in self._params.items():
                kept = self._before.get(name, [None] * len(tensors))
                self._before[name] = [_copy_into(old, t.data) for old, t in zip(kept, tensors)]
            result = step(*args, **kwargs)
            for name, tensors in self._params.items():
                deltas = [np.subtract(t.data, old, out=old) for t, old in zip(tensors, self._before[name])]
                record[name]["update_ratio"] = _joint_norm(deltas) / max(record[name]["weight_norm"], 1e-300)
            self._stepped = True
            return result

        return monitored_step

    # ----- results -----------------------------------------------------------------------------------
    @property
    def history(self) -> list[dict]:
        """One ``{module_name: {stat: float}}`` per recorded pass, oldest first."""
        self._close()
        return self._history

    def clear(self) -> None:
        """Forget the recorded passes (the hooks stay)."""
        self._close()
        self._history = []

    def summary(self) -> dict:
        """``{module_name: {stat: float}}`` of the latest recorded pass ({} before any)."""
        history = self.history
        return history[-1] if history else {}

    def plot(self, path, title: str | None = None) -> Path:
        """Gradient norm over depth (latest pass, log scale) and dead/saturated fractions over the passes."""
        from ..viz.diagnostics import plot_monitor

        return plot_monitor(self.history, [name for name, _ in self.modules], path, title=title)
