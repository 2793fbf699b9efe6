"""Callbacks: early stopping, checkpoints, schedules, clipping, NaN guard, CSV log, snapshots."""

import csv
import math

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import datasets
from shenjing.train import (
    Callback, CSVLogger, EarlyStopping, GradientClipping, LRSchedulerCallback, ModelCheckpoint, NaNGuard,
    SnapshotCollector, Trainer, load_state,
)


def _trainer(lr=0.3, callbacks=(), loss=None, scheduler=None, opt=None):
    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = opt(model.parameters()) if opt else optim.SGD(model.parameters(), lr=lr)
    return Trainer(model, loss or nn.CrossEntropyLoss(), opt, scheduler=scheduler and scheduler(opt),
                   callbacks=list(callbacks), progress=False, seed=0)


@pytest.fixture(scope="module")
def moons():
    return datasets.moons(n_samples=120)


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_early_stopping_stops_after_patience_and_restores_best(moons):
    train, val = moons
    stop = EarlyStopping(monitor="val_loss", patience=2)
    trainer = _trainer(lr=0.0, callbacks=[stop])  # lr 0: the validation loss never improves after epoch 1
    trainer.fit(train, val=val, epochs=20)
    assert trainer.epoch == 3 and stop.stopped_epoch == 3 and stop.best_epoch == 1
    snapshots = []

    class Keep(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots.append((logs["val_loss"], _weights(trainer.model)))

    best = EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True)
    trainer = _trainer(lr=3.0, callbacks=[Keep(), best])
    trainer.fit(train, val=val, epochs=40)
    assert best.mode == "max" and trainer.stop_training
    best_weights = snapshots[best.best_epoch - 1][1]
    for k, v in _weights(trainer.model).items():
        np.testing.assert_array_equal(v, best_weights[k])


def test_early_stopping_names_missing_monitor(moons):
    with pytest.raises(ValueError, match="val_loss.*pass val="):
        _trainer(callbacks=[EarlyStopping()]).fit(moons[0], epochs=2)


def test_model_checkpoint_best_only_formats_names_and_leaves_no_temp_files(tmp_path, moons):
    train, val = moons
    ckpt = ModelCheckpoint(tmp_path / "m-{epoch:02d}-{val_loss:.3f}.npz", save_best_only=True,
                           save_weights_only=True)
    trainer = _trainer(lr=0.3, callbacks=[ckpt])
    history = trainer.fit(train, val=val, epochs=4)
    names = sorted(p.name for p in tmp_path.iterdir())
    improved = [e for e in range(1, 5) if history["val_loss"][e - 1] == min(history["val_loss"][:e])]
    assert names == [f"m-{e:02d}-{history['val_loss'][e - 1]:.3f}.npz" for e in improved]
    last = sj.io.load(ckpt.last_path)
    assert set(last) == set(trainer.model.state_dict())
    full = ModelCheckpoint(tmp_path / "full.npz")
    _trainer(callbacks=[full]).fit(train, epochs=1)
    assert load_state(tmp_path / "full.npz")["epoch"] == 1


def test_model_checkpoint_every_n_train_steps_best_only_on_the_batch_loss(tmp_path, moons):
    train, _ = moons
    losses = []

    class BatchLosses(Callback):
        def on_batch_end(self, trainer, batch, logs):
            losses.append(logs["loss"])

    ckpt = ModelCheckpoint(tmp_path / "s{step:03d}-e{epoch}.npz", monitor="loss", save_best_only=True,
                           save_weights_only=True, every_n_train_steps=3)
    _trainer(callbacks=[BatchLosses(), ckpt]).fit(train, epochs=2, batch_size=10)  # 9 updates an epoch
    best, expected = math.inf, []
    for step in range(3, len(losses) + 1, 3):
        if losses[step - 1] < best:
            best = losses[step - 1]
            expected.append(f"s{step:03d}-e{(step - 1) // 9 + 1}.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == expected and len(expected) >= 2
    assert set(sj.io.load(ckpt.last_path)) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_lr_scheduler_callback_per_batch_and_plateau(moons):
    train, val = moons
    box = {}

    def make(opt):
        box["s"] = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        return box["s"]

    trainer = _trainer(lr=0.1)
    trainer.callbacks.append(LRSchedulerCallback(make(trainer.optimizer), interval="batch"))
    trainer.fit(train, epochs=2, batch_size=30)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9 ** 6)
    # a relative threshold of 10 means no epoch ever counts as an improvement: the lr halves every epoch
    plateau = _trainer(lr=0.1, scheduler=lambda o: optim.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=0, threshold=10.0))
    plateau.fit(train, val=val, epochs=3)
    assert plateau.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
    assert plateau.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="interval"):
        LRSchedulerCallback(box["s"], interval="week")


def test_gradient_clipping_bounds_the_update(moons):
    train, _ = moons
    before = {}

    class Record(Callback):
        def on_batch_begin(self, trainer, batch):
            before.update(_weights(trainer.model))

    clip = GradientClipping(max_norm=0.01)
    trainer = _trainer(lr=1.0, callbacks=[Record(), clip])
    trainer.fit(train, epochs=1, batch_size=200)
    step = np.sqrt(sum(((v - before[k]) ** 2).sum() for k, v in _weights(trainer.model).items()))
    assert clip.last_norm > 0.01 and step == pytest.approx(0.01, rel=1e-4)
    with pytest.raises(ValueError, match="max_norm"):
        GradientClipping()


def _nan_at(step):
    calls = {"n": 0}

    def loss(out, target):
        calls["n"] += 1
        value = nn.functional.cross_entropy(out, target)
        return value * float("nan") if calls["n"] == step else value

    return loss


def test_nan_guard_stops_skips_or_raises(moons):
    train, _ = moons
    guard = NaNGuard("stop")
    trainer = _trainer(callbacks=[guard], loss=_nan_at(3))
    trainer.fit(train, epochs=5, batch_size=20)
    assert guard.events == [(1, 2, "loss")] and trainer.stop_training and trainer.global_step == 2
    assert all(np.isfinite(v).all() for v in _weights(trainer.model).values())
    skip = _trainer(callbacks=[NaNGuard("skip")], loss=_nan_at(3))
    skip.fit(train, epochs=1, batch_size=20)
    assert skip.global_step == math.ceil(len(train[0]) / 20) - 1 and skip.epoch == 1
    with pytest.raises(FloatingPointError, match="epoch 1, batch 2"):
        _trainer(callbacks=[NaNGuard("raise")], loss=_nan_at(3)).fit(train, epochs=1, batch_size=20)


def test_csv_logger_writes_a_row_per_epoch_and_appends_on_resume(tmp_path, moons):
    train, val = moons
    path = tmp_path / "log.csv"
    trainer = _trainer(callbacks=[CSVLogger(path)])
    trainer.fit(train, val=val, epochs=2)
    trainer.fit(train, val=val, epochs=3)  # continuing: rows are appended
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert float(rows[3][1]) == pytest.approx(trainer.history["loss"][2])


def test_snapshot_collector_keeps_copies(tmp_path, moons):
    snaps = SnapshotCollector(epochs=[2], every=3, directory=tmp_path)
    trainer = _trainer(callbacks=[snaps])
    trainer.fit(moons[0], epochs=6)
    assert [e for e, _ in snaps.snapshots] == [2, 3, 6]
    final = _weights(trainer.model)
    for k, v in snaps.snapshots[-1][1].items():
        np.testing.assert_array_equal(v, final[k])
    assert not np.array_equal(snaps.snapshots[0][1]["0.weight"], final["0.weight"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"snapshot-epoch{e:03d}.npz" for e in (2, 3, 6)]
