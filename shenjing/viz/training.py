"""Training plots: loss/accuracy curves (seed 004 §2.4.1.3) and the learning-rate sweep (seed 002 神经网络调参).

matplotlib is imported lazily, inside each function; figures are built with
``matplotlib.figure.Figure`` (no pyplot, no global state, any backend) and written
atomically as PNG when a path is given.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = ["plot_history", "plot_lr_find", "save_figure"]


def _figure(width: float, height: float, ncols: int):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'shenjing[plot]'") from None
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def save_figure(fig, path, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, PNG by default) via a temporary file renamed
    into place, so a reader never sees half a file.

    >>> import os, tempfile
    >>> from matplotlib.figure import Figure
    >>> from shenjing.viz import save_figure
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.png")
    >>> save_figure(Figure(), path).name
    'empty.png'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix or ".png"
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{suffix}")
    try:
        fig.savefig(tmp, dpi=dpi, format=suffix.lstrip("."))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _curve(ax, epochs, values, label: str, **kw) -> None:
    values = np.asarray(values, dtype=float)
    if np.isfinite(values).any():
        ax.plot(epochs, values, label=label, **kw)


def plot_history(history, path=None, title: str | None = None):
    """Train vs validation loss, and accuracy when recorded, per epoch.

    The overfitting picture of seed 004 §2.4.1.3: the training loss keeps falling while the
    validation loss turns upward (its minimum is marked); the validation accuracy may still
    rise meanwhile. ``history`` is a :class:`shenjing.train.History`. Returns the Figure;
    writes a PNG to ``path`` when given.

    >>> from shenjing.train import History
    >>> from shenjing.viz import plot_history
    >>> history = History()
    >>> for epoch, (loss, val) in enumerate([(0.9, 1.0), (0.5, 0.7), (0.3, 0.8)], start=1):
    ...     history.append(epoch, {"loss": loss, "val_loss": val})
    ...
    >>> fig = plot_history(history)
    >>> fig.axes[0].get_xlabel()
    'epoch'
    """
    if len(history) == 0:
        raise ValueError("plot_history: the history is empty; train for at least one epoch")
    panels = [("loss", "loss")] + [(k, k.replace("_", " ")) for k in ("accuracy",) if k in history]
    fig, axes = _figure(5.2 * len(panels), 3.8, len(panels))
    from matplotlib.ticker import MaxNLocator

    epochs = history.epoch
    for ax, (key, label) in zip(axes, panels):
        _curve(ax, epochs, history[key], f"train {label}", color="tab:blue", marker="o", markersize=3)
        val_key = f"val_{key}"
        if val_key in history:
            values = history[val_key]
            _curve(ax, epochs, values, f"validation {label}", color="tab:orange", marker="o", markersize=3)
            if key == "loss" and any(math.isfinite(v) for v in values):
                best_epoch, best = history.best(val_key, "min")
                ax.axvline(best_epoch, color="gray", linestyle=":", linewidth=1)
                right_half = best_epoch > (epochs[0] + epochs[-1]) / 2
                ax.annotate(f"min val loss\nepoch {best_epoch}", (best_epoch, best), textcoords="offset points",
                            xytext=(-6 if right_half else 6, 12), ha="right" if right_half else "left", fontsize=8,
                            color="gray")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_lr_find(result, path=None):
    """The learning-rate sweep: final loss per learning rate (log axis, the suggestion marked) and
    the loss curve of each rate. ``result`` is a :class:`shenjing.train.LRFinderResult`.

    >>> from shenjing import nn, optim
    >>> from shenjing.data import datasets
    >>> from shenjing.train import lr_find
    >>> from shenjing.viz import plot_lr_find
    >>> (X, y), _ = datasets.xor()
    >>> model = nn.Linear(2, 2)
    >>> result = lr_find(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), (X, y), steps=8,
    ...     min_lr=0.01)
    >>> fig = plot_lr_find(result)
    >>> len(fig.axes) >= 1
    True
    """
    fig, (left, right) = _figure(10.5, 3.8, 2)
    lrs = np.asarray(result.lrs)
    finals = np.asarray(result.final_losses, dtype=float)
    ok = np.isfinite(finals)
    left.plot(lrs[ok], finals[ok], marker="o", color="tab:blue")
    if (~ok).any():
        top = finals[ok].max() if ok.any() else 1.0
        left.scatter(lrs[~ok], np.full((~ok).sum(), top), marker="x", color="tab:red", label="diverged", zorder=3)
    left.axvline(result.suggestion, color="tab:green", linestyle="--", label=f"suggested lr = {result.suggestion:g}")
    left.set_xscale("log")
    left.set_xlabel("learning rate")
    left.set_ylabel(f"mean loss over the last {max(result.steps // 4, 1)} steps")
    left.legend()
    left.grid(alpha=0.3, which="both")
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, (lr, curve) in enumerate(zip(lrs, result.curves)):
        right.plot(np.arange(1, len(curve) + 1), curve, color=cmap(i / max(len(lrs) - 1, 1)), label=f"lr {lr:g}")
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_ylabel("batch loss")
    right.legend(fontsize=7, ncol=2)
    right.grid(alpha=0.3)
    fig.suptitle("learning-rate sweep (lr lowered by factors of ten)")
    if path is not None:
        save_figure(fig, path)
    return fig
