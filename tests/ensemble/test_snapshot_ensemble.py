"""Snapshot ensembles and fast geometric ensembling (seed 004 §7): schedules, snapshots, averaging."""

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.ensemble import FastGeometricEnsemble, SnapshotEnsemble
from shenjing.nn import functional as F


def toy(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = (np.eye(3)[y] @ rng.normal(size=(3, 4)) * 2 + rng.normal(size=(n, 4))).astype(np.float32)
    return X, y


def mlp(batchnorm=False):
    sj.manual_seed(0)
    middle = [nn.BatchNorm1d(8)] if batchnorm else []
    return nn.Sequential(nn.Linear(4, 8), *middle, nn.ReLU(), nn.Linear(8, 3))


def snapshot_ensemble(cycles=3, epochs_per_cycle=2, lr=0.1, eta_min=0.001, model=None):
    model = model or mlp()
    opt = sj.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return SnapshotEnsemble(model, F.cross_entropy, opt, cycles=cycles, epochs_per_cycle=epochs_per_cycle,
                            eta_min=eta_min, batch_size=16)


def test_snapshot_lr_follows_cosine_warm_restarts():
    X, y = toy()  # 40 samples, batches of 16: 3 steps per epoch, 6 per cycle
    ens = snapshot_ensemble().fit(X, y)
    steps = 6
    expected = [0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * (i % steps) / steps)) for i in range(3 * steps)]
    np.testing.assert_allclose(ens.lr_history_, expected, rtol=1e-12)
    assert len(ens.snapshots_) == 3
    for key, value in ens.model.state_dict().items():  # the last snapshot is the final model
        np.testing.assert_array_equal(ens.snapshots_[-1][key], value.numpy())
    assert not np.array_equal(ens.snapshots_[0]["0.weight"], ens.snapshots_[1]["0.weight"])


def test_fge_pretrains_then_cycles_triangular_lr():
    X, y = toy()
    model = mlp()
    opt = sj.optim.SGD(model.parameters(), lr=0.03)
    fge = FastGeometricEnsemble(model, F.cross_entropy, opt, cycles=2, cycle_epochs=2, lr_max=0.05, lr_min=0.01,
                                pretrain_epochs=1, batch_size=16).fit(X, y)
    triangle = 0.01 + 0.04 * np.array([0, 1, 2, 3, 2, 1]) / 3  # 6 steps per cycle: up 3, down 3
    np.testing.assert_allclose(fge.lr_history_, [0.03] * 3 + list(triangle) * 2, rtol=1e-12)
    assert len(fge.snapshots_) == 2
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)  # cycles end at the low point


def test_predictions_average_the_snapshots():
    X, y = toy()
    ens = snapshot_ensemble().fit(X, y)
    final = {k: v.numpy().copy() for k, v in ens.model.state_dict().items()}
    ens.model.train()
    outputs = ens.snapshot_outputs(X)
    assert outputs.shape == (3, 40, 3)
    probe = mlp()
    for state, out in zip(ens.snapshots_, outputs):
        probe.load_state_dict(state)
        np.testing.assert_allclose(out, probe.eval()(sj.Tensor(X)).numpy(), rtol=1e-6)
    proba = F.softmax(sj.Tensor(outputs), dim=-1).numpy()
    np.testing.assert_allclose(ens.predict_proba(X), proba.mean(0), rtol=1e-6)
    np.testing.assert_allclose(ens.predict_proba(X, last=2), proba[1:].mean(0), rtol=1e-6)
    np.testing.assert_allclose(ens.predict(X), outputs.mean(0), rtol=1e-6)
    assert ens.model.training  # mode and weights are left as they were
    for key, value in ens.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), final[key])


def test_averaged_model_means_weights_and_recomputes_batchnorm():
    X, y = toy(48)
    ens = snapshot_ensemble(model=mlp(batchnorm=True)).fit(X, y)
    avg = ens.averaged_model(X)
    assert avg is not ens.model and not avg.training
    for name, p in avg.named_parameters():
        np.testing.assert_allclose(p.numpy(), np.mean([s[name] for s in ens.snapshots_], axis=0), rtol=1e-6)
    # BatchNorm statistics: cumulative average over the three equal batches of 16 of the first layer's output
    with sj.no_grad():
        h = avg[0](sj.Tensor(X)).numpy().astype(np.float64)
    batches = h.reshape(3, 16, 8)
    np.testing.assert_allclose(avg[1].running_mean.numpy(), h.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(avg[1].running_var.numpy(), batches.var(1, ddof=1).mean(0), rtol=1e-5)


def test_bad_arguments():
    model = mlp()
    opt = sj.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="cycles must be an int >= 1"):
        SnapshotEnsemble(model, F.cross_entropy, opt, cycles=0)
    with pytest.raises(ValueError, match="lr_min < lr_max"):
        FastGeometricEnsemble(model, F.cross_entropy, opt, lr_max=0.01, lr_min=0.1)
    with pytest.raises(ValueError, match="pretrain_epochs"):
        FastGeometricEnsemble(model, F.cross_entropy, opt, pretrain_epochs=-1)
    with pytest.raises(RuntimeError, match="not fitted"):
        SnapshotEnsemble(model, F.cross_entropy, opt).predict_proba(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="same, non-zero number"):
        SnapshotEnsemble(model, F.cross_entropy, opt).fit(np.zeros((3, 4), np.float32), np.zeros(2, np.int64))
