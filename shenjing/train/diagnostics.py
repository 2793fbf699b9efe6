"""The Diagnostics callback: a :class:`~shenjing.diagnostics.Monitor` over ``Trainer.fit``, averaged per
epoch, with warnings in the notes' terms (seed 003 梯度消失/梯度爆炸, seed 002 神经元饱和, seed 004 §3)."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from .callbacks import Callback

__all__ = ["Diagnostics"]

STATS = ("act_mean", "act_std", "dead_fraction", "saturated_fraction", "weight_norm", "grad_norm", "update_ratio")


def _epoch_means(passes: list, names: list) -> dict:
    """Mean of every stat over the training passes of one epoch: {module: {stat: mean}}."""
    record = {}
    for name in names:
        stats = {s: [p[name][s] for p in passes if s in p.get(name, {})] for s in STATS}
        stats = {s: float(np.mean(v)) for s, v in stats.items() if v}
        if stats:
            record[name] = stats
    return record


def _since(values: list, threshold: float) -> int | None:
    """First epoch (1-based) of the final run of values ≥ threshold, None if the last is below."""
    if not values or not values[-1] >= threshold:
        return None
    start = len(values)
    while start > 1 and values[start - 2] >= threshold:
        start -= 1
    return start


class Diagnostics(Callback):
    """Watch a training run: per-layer activation, dead/saturated fractions, weight and gradient
    norms and update ratios (a :class:`~shenjing.diagnostics.Monitor` on the training passes,
    averaged per epoch into ``epochs``), and plain-language ``warnings()``.

    ``Diagnostics(out=None, every=10, dead=0.5, saturated=0.5)`` records one training pass in
    ``every`` (cheap enough to leave on: benchmarks/README.md). A warning when at least ``dead`` of
    a ReLU layer's units are dead, or ``saturated`` of a sigmoid/tanh layer's activations saturated,
    at the last epoch (saying since which epoch); when the first layer's gradient norm is below
    1e-3 (vanishing) or above 1e3 (exploding) times the last layer's; when updates move the
    weights by more than 10% per step (‖Δw‖/‖w‖). With ``out`` (a folder), ``diagnostics.csv``
    (one row per epoch and module) and ``diagnostics.png`` are written at the end of ``fit``.
    """

    def __init__(self, out=None, every: int = 10, dead: float = 0.5, saturated: float = 0.5):
        self.out = None if out is None else Path(out)
        self.every, self.dead, self.saturated = every, dead, saturated
        self.epochs: list[dict] = []
        self.monitor = None

    def on_fit_begin(self, trainer) -> None:
        from ..diagnostics import Monitor

        self.monitor = Monitor(trainer.model, trainer.optimizer, every=self.every, training_only=True).attach()
        self.names = [name for name, _ in self.monitor.modules]

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.epochs.append(_epoch_means(self.monitor.history, self.names))
        self.monitor.clear()

    def on_fit_end(self, trainer) -> None:
        self.monitor.detach()
        if self.out is not None and self.epochs:
            self.write(self.out)

    # ----- results ---------------------------------------------------------------------------------
    def _values(self, name: str, stat: str) -> list:
        return [e.get(name, {}).get(stat, math.nan) for e in self.epochs]

    def warnings(self) -> list[str]:
        """Plain-language warnings about the last epoch, each with what to try."""
        if not self.epochs:
            return []
        found = []
        for name in self.names:
            since = _since(self._values(name, "dead_fraction"), self.dead)
            if since is not None:
                share = self.epochs[-1][name]["dead_fraction"]
                found.append(f"layer {name}: {share:.0%} of ReLU units dead since epoch {since} — lower the "
                             "learning rate or use LeakyReLU")
            since = _since(self._values(name, "saturated_fraction"), self.saturated)
            if since is not None:
                share = self.epochs[-1][name]["saturated_fraction"]
                found.append(f"layer {name}: {share:.0%} of sigmoid/tanh activations saturated since epoch {since} "
                             "— use cross-entropy on sigmoid outputs, ReLU hidden units or normalised inputs")
        return found + self._gradient_warnings()

    def _gradient_warnings(self) -> list[str]:
        last = self.epochs[-1]
        norms = [(n, last[n]["grad_norm"]) for n in self.names if "grad_norm" in last.get(n, {})]
        found = []
        if len(norms) >= 2:
            (first, g_first), (final, g_last) = norms[0], norms[-1]
            ratio = g_first / g_last if g_last > 0 else math.inf
            if not math.isfinite(g_first) or ratio > 1e3:
                found.append(f"gradients explode towards the input: ‖∇w‖ of layer {first} is {ratio:.3g}× that of "
                             f"layer {final} — clip the gradient norm or lower the learning rate")
            elif ratio < 1e-3:
                found.append(f"gradients vanish towards the input: ‖∇w‖ of layer {first} is {ratio:.2g}× that of "
                             f"layer {final} — use ReLU, BatchNorm or residual connections")
        for name in self.names:
            ratio = last.get(name, {}).get("update_ratio", 0.0)
            if ratio > 0.1:
                found.append(f"layer {name}: each update moves the weights by {ratio:.0%} — lower the learning rate")
        return found

    def write(self, folder) -> tuple[Path, Path]:
        """Write ``diagnostics.csv`` and ``diagnostics.png`` into ``folder``; returns their paths."""
        from ..viz.diagnostics import plot_monitor

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "diagnostics.csv"
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(("epoch", "module") + STATS)
            for epoch, record in enumerate(self.epochs, 1):
                for name, stats in record.items():
                    writer.writerow([epoch, name] + [stats.get(s, "") for s in STATS])
        os.replace(tmp, path)
        picture = plot_monitor(self.epochs, self.names, folder / "diagnostics.png", x_label="epoch")
        return path, picture
