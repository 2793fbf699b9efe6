"""Seeded end-to-end checks on digits: ensembles of networks beat their members (seed 004 §7)."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.data import datasets
from shenjing.ensemble import SnapshotEnsemble, average
from shenjing.nn import functional as F

pytestmark = pytest.mark.slow


def mlp(n_features, n_outputs, hidden=32):
    return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs))


def log_loss(proba, y):
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, None))))


def test_average_of_five_seeded_mlps_beats_the_mean_member_accuracy():
    pytest.importorskip("sklearn")
    from shenjing.sklearn import NeuralNetClassifier

    (X, y), (Xt, yt) = datasets.digits()
    probs = [NeuralNetClassifier(mlp, epochs=10, lr=3e-3, seed=s).fit(X, y).predict_proba(Xt) for s in range(5)]
    member_acc = [np.mean(p.argmax(1) == yt) for p in probs]
    ensemble_acc = np.mean(average(probs).argmax(1) == yt)
    assert ensemble_acc > np.mean(member_acc)
    assert min(member_acc) > 0.9


def test_snapshot_ensemble_beats_its_last_snapshot_on_log_loss():
    (X, y), (Xt, yt) = datasets.digits()
    sj.manual_seed(0)
    model = mlp(64, 10, hidden=64)
    opt = sj.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    ens = SnapshotEnsemble(model, F.cross_entropy, opt, cycles=5, epochs_per_cycle=4, batch_size=64).fit(X, y)
    per_snapshot = ens.snapshot_proba(Xt)
    assert log_loss(ens.predict_proba(Xt), yt) < log_loss(per_snapshot[-1], yt)
    assert np.mean(ens.predict_proba(Xt).argmax(1) == yt) > 0.95
