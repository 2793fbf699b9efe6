"""Diagnostics plots: gradient norm over depth (seed 003 梯度消失问题) and the share of dead ReLUs and
saturated sigmoid/tanh units over training (seed 002 神经元饱和), from a :class:`~shenjing.diagnostics.Monitor`
or any list of per-pass ``{module: {stat: value}}`` records."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .training import _figure, save_figure

__all__ = ["plot_monitor", "plot_sweep"]


def _series(history: list, names: list, stat: str) -> dict:
    found = [n for n in names if any(stat in rec.get(n, {}) for rec in history)]
    return {n: np.array([rec.get(n, {}).get(stat, np.nan) for rec in history]) for n in found}


def plot_monitor(history: list, names: list, path, title: str | None = None, x_label: str = "pass") -> Path:
    """From per-pass records ``{module: {stat: value}}`` of the modules ``names`` (input side first).
    Left: ‖∂L/∂w‖ of each parameterised layer for the latest record (log scale). Right:
    dead_fraction and saturated_fraction of each activation layer over the records."""
    fig, (left, right) = _figure(11, 4, 2)
    latest = history[-1] if history else {}
    depth = [(n, latest[n]["grad_norm"]) for n in names if "grad_norm" in latest.get(n, {})]
    if depth:
        left.semilogy(range(len(depth)), [max(v, 1e-300) for _, v in depth], "o-")
        left.set_xticks(range(len(depth)), [n for n, _ in depth], rotation=45, ha="right", fontsize=8)
    left.set(xlabel="layer (input side first)", ylabel="gradient norm ‖∂L/∂w‖", title="gradient norm over depth")
    drawn = 0
    for stat, style in (("dead_fraction", "-"), ("saturated_fraction", "--")):
        for name, values in _series(history, names, stat).items():
            right.plot(np.arange(1, len(values) + 1), values, style, label=f"{name} {stat.split('_')[0]}")
            drawn += 1
    right.xaxis.get_major_locator().set_params(integer=True)
    right.set(xlabel=x_label, ylabel="fraction of units", ylim=(-0.02, 1.02),
              title="dead ReLUs (solid) and saturated units (dashed)")
    if drawn:
        right.legend(fontsize=7, ncol=2)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def plot_sweep(rows: list, params: list, metric: str, path, title: str | None = None) -> Path:
    """``metric`` of every sweep point (one dict per point) as a bar, labelled with the ``params``
    that vary across the points."""
    fig, (ax,) = _figure(max(6, 0.5 * len(rows) + 2), 4, 1)
    swept = [k for k in params if len({str(r.get(k)) for r in rows}) > 1]
    labels = [", ".join(f"{k}={r[k]}" for k in swept) or str(i) for i, r in enumerate(rows)]
    values = [r.get(metric, np.nan) for r in rows]
    best = int(np.nanargmax(values)) if rows else -1
    bars = ax.bar(range(len(rows)), values, color=["tab:orange" if i == best else "tab:blue" for i in range(len(rows))])
    ax.bar_label(bars, fmt="%.4g", fontsize=8)
    ax.set_xticks(range(len(rows)), labels, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel=metric, title=title or f"sweep: {metric} per point (best in orange)")
    return save_figure(fig, path)
