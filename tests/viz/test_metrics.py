"""ROC, PR and confusion-matrix plots are written as PNG files (and returned as figures)."""

import numpy as np
import pytest

from shenjing import metrics as M

pytest.importorskip("matplotlib")
from shenjing import viz  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _scores(seed=0, n=200):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, rng.normal(size=n) + 1.2 * y


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG_SIGNATURE


def test_plots_write_png_files(tmp_path):
    y, s = _scores()
    roc = viz.plot_roc_curve(y, s, out=tmp_path / "roc.png")
    pr = viz.plot_pr_curve(y, s, out=str(tmp_path / "sub" / "pr.png"))
    labels = ["cat", "dog", "pig", "cow", "hen"]
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 5, 300))
    cm = viz.plot_confusion_matrix(M.confusion_matrix(y_true, y_pred), labels, out=tmp_path / "cm.png")
    for path in (roc, pr, cm):
        assert _is_png(path)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".png"]


def test_plots_return_figures_with_the_metric_in_the_legend():
    y, s = _scores(2)
    fig = viz.plot_roc_curve(y, s)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"AUC = {M.roc_auc_score(y, s):.3f}" in texts[0]
    fig = viz.plot_pr_curve(y, s)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"AP = {M.average_precision(y, s):.3f}" in texts[0]
    fig = viz.plot_confusion_matrix([[3, 1], [0, 4]], normalize=True)
    cells = sorted(t.get_text() for t in fig.axes[0].texts)
    assert cells == ["0.00", "0.25", "0.75", "1.00"]


def test_confusion_matrix_plot_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        viz.plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="labels"):
        viz.plot_confusion_matrix(np.ones((2, 2)), labels=["a"])
