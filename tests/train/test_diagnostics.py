"""The Diagnostics callback: per-epoch statistics, files and warnings on a real training run."""

import csv

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import datasets
from shenjing.train import Diagnostics, Trainer


def fit(lr, epochs=3, seed=0, out=None):
    sj.manual_seed(seed)
    (X, y), _ = datasets.digits()
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    diagnostics = Diagnostics(out)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), callbacks=[diagnostics],
                      progress=False, seed=seed)
    trainer.fit((X, y), val=(X[:100], y[:100]), epochs=epochs, batch_size=32)
    return diagnostics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_too_large_learning_rate_kills_relus_and_is_reported(seed):
    calm, wild = fit(0.01, seed=seed), fit(1.0, seed=seed)
    dead_calm, dead_wild = (d.epochs[-1]["1"]["dead_fraction"] for d in (calm, wild))
    assert dead_calm < 0.1 and dead_wild > 0.5
    assert calm.warnings() == []
    warning = next(w for w in wild.warnings() if "dead" in w)
    assert warning.startswith("layer 1: ") and "of ReLU units dead since epoch" in warning
    assert "lower the learning rate or use LeakyReLU" in warning


def test_statistics_are_epoch_means_of_training_passes_only():
    diagnostics = fit(0.05, epochs=2)
    assert len(diagnostics.epochs) == 2
    first = diagnostics.epochs[0]
    assert set(first) == {"0", "1", "2"}
    assert set(first["0"]) == {"act_mean", "act_std", "weight_norm", "grad_norm", "update_ratio"}
    assert 0 < first["0"]["update_ratio"] < 0.1
    assert diagnostics.monitor.history == []  # detached and emptied after fit


def test_files_are_written_at_the_end_of_fit(tmp_path):
    pytest.importorskip("matplotlib")
    diagnostics = fit(0.05, epochs=2, out=tmp_path)
    with open(tmp_path / "diagnostics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3 and rows[0]["epoch"] == "1" and rows[0]["module"] == "0"
    assert float(rows[-1]["grad_norm"]) == pytest.approx(diagnostics.epochs[-1]["2"]["grad_norm"])
    assert np.isfinite(float(rows[1]["dead_fraction"]))
    assert (tmp_path / "diagnostics.png").read_bytes()[:4] == b"\x89PNG"
