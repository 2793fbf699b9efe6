"""Metric plots: ROC curve, precision-recall curve and confusion matrix (seed 004 §1.2, §1.5, §1.6).

matplotlib is imported lazily, inside each function, and drawn with the Agg canvas (no display, no
change to pyplot's global state). Each function returns the matplotlib Figure, or, when ``out`` is a
path, writes a PNG there (atomically: a temporary file renamed into place) and returns the path.
"""

from __future__ import annotations

import os
import secrets

import numpy as np

from ..metrics import auc, average_precision, precision_recall_curve, roc_curve
from ..metrics._util import to_numpy

__all__ = ["plot_roc_curve", "plot_pr_curve", "plot_confusion_matrix"]


def _figure(size=(5.0, 4.5)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _finish(fig, out):
    """Return the figure, or save it as PNG at ``out`` (atomically) and return the path."""
    if out is None:
        return fig
    out = os.fspath(out)
    directory = os.path.dirname(os.path.abspath(out))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(out)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as handle:
            fig.savefig(handle, format="png", bbox_inches="tight")
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out


def plot_roc_curve(y_true, y_score, *, pos_label=None, out=None, title: str = "ROC curve"):
    """Plot TPR against FPR (:func:`~shenjing.metrics.roc_curve`) with the AUC in the legend and the chance line.

    y_true, y_score (N,) as for ``roc_curve``. Returns the Figure, or the path when ``out`` is given.

    >>> import os, tempfile
    >>> from shenjing.viz import plot_roc_curve
    >>> path = os.path.join(tempfile.mkdtemp(), "roc.png")
    >>> fig = plot_roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], out=path)
    >>> os.path.exists(path)
    True
    """
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label)
    fig, ax = _figure()
    ax.plot(fpr, tpr, lw=2, label=f"ROC (AUC = {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="False positive rate (FPR)",
           ylabel="True positive rate (TPR, recall)", title=title)
    ax.set_aspect("equal")
    ax.legend(loc="lower right")
    return _finish(fig, out)


def plot_pr_curve(y_true, y_score, *, pos_label=1, out=None, title: str = "Precision-recall curve"):
    """Plot precision against recall (:func:`~shenjing.metrics.precision_recall_curve`) as a step curve,
    with its envelope p_interp(r) = max_{r' >= r} p(r') dashed and AP in the legend (seed 004 §1.5).

    Returns the Figure, or the path when ``out`` is given.

    >>> from shenjing.viz import plot_pr_curve
    >>> fig = plot_pr_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fig.axes[0].get_xlabel()
    'Recall'
    """
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label)
    ap = average_precision(y_true, y_score, pos_label=pos_label)
    envelope = np.maximum.accumulate(precision)
    fig, ax = _figure()
    ax.step(recall, precision, where="post", lw=2, label=f"PR (AP = {ap:.3f})")
    ax.step(recall, envelope, where="post", ls="--", lw=1, label="interpolated p_interp")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.05), xlabel="Recall", ylabel="Precision", title=title)
    ax.legend(loc="lower left")
    return _finish(fig, out)


def plot_confusion_matrix(cm, labels=None, *, out=None, normalize: bool = False, title: str = "Confusion matrix",
                          cmap: str = "Blues"):
    """Draw a confusion matrix (rows: true class, columns: predicted) with the value in each cell.

    cm: (C, C) counts, e.g. from :func:`~shenjing.metrics.confusion_matrix`; ``labels`` names the C
    classes (default 0..C-1); ``normalize=True`` shows each row divided by its sum. Returns the Figure,
    or the path when ``out`` is given.

    >>> from shenjing.metrics import confusion_matrix
    >>> from shenjing.viz import plot_confusion_matrix
    >>> fig = plot_confusion_matrix(confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]), labels=["a", "b", "c"])
    >>> len(fig.axes) >= 1
    True
    """
    cm = to_numpy(cm, "cm")
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {cm.shape}")
    labels = list(range(cm.shape[0])) if labels is None else list(labels)
    if len(labels) != cm.shape[0]:
        raise ValueError(f"labels must name the {cm.shape[0]} classes, got {len(labels)}")
    values = cm.astype(np.float64)
    if normalize:
        rows = values.sum(axis=1, keepdims=True)
        values = np.where(rows > 0, values / np.where(rows > 0, rows, 1), 0.0)
    size = 1.0 + 0.6 * cm.shape[0]
    fig, ax = _figure((max(4.5, size + 1.5), max(4.0, size)))
    image = ax.imshow(values, cmap=cmap, interpolation="nearest")
    fig.colorbar(image, ax=ax)
    ticks = np.arange(cm.shape[0])
    ax.set(xticks=ticks, yticks=ticks, xticklabels=labels, yticklabels=labels, xlabel="Predicted label",
           ylabel="True label", title=title)
    middle = (values.max() + values.min()) / 2
    text = "{:.2f}" if normalize or cm.dtype.kind == "f" else "{:.0f}"
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, text.format(v), ha="center", va="center", color="white" if v > middle else "black")
    return _finish(fig, out)
