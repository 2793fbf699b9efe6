"""Trainer: BP modes (seed 000 §2.6-2.7, seed 001 mini-batch SGD), evaluation, validation of inputs,
resumable checkpoints (bit-exact in float64) and Ctrl-C."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset, datasets
from shenjing.train import Callback, ModelCheckpoint, Trainer, to_labels


def _mlp(hidden=8, dtype=None, dropout=0.0):
    layers = [nn.Linear(2, hidden), nn.Tanh()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(hidden, 2)]
    model = nn.Sequential(*layers)
    return model if dtype is None else model.to(dtype)


def _trainer(model, lr, seed=0, **kw):
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), progress=False, seed=seed, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("batch_size, epochs, lr", [(1, 300, 1.0), (None, 1000, 1.0), (2, 500, 0.5)],
                         ids=["standard-BP", "accumulated-BP", "mini-batch"])
def test_bp_modes_solve_xor(batch_size, epochs, lr):
    sj.manual_seed(0)
    (X, y), (Xt, yt) = datasets.xor(n_samples=4, noise=0.0)
    trainer = _trainer(_mlp(), lr)
    history = trainer.fit((X, y), epochs=epochs, batch_size=batch_size)
    assert trainer.evaluate((Xt, yt))["accuracy"] == 1.0
    assert history["loss"][-1] < 0.1
    steps_per_epoch = {1: 4, None: 1, 2: 2}[batch_size]
    assert trainer.global_step == epochs * steps_per_epoch


@pytest.mark.slow
@pytest.mark.parametrize("batch_size, epochs, lr", [(1, 20, 0.05), (None, 600, 1.0), (16, 60, 0.3)],
                         ids=["standard-BP", "accumulated-BP", "mini-batch"])
def test_bp_modes_solve_moons(batch_size, epochs, lr):
    sj.manual_seed(0)
    (X, y), (Xt, yt) = datasets.moons(n_samples=400, noise=0.1)
    trainer = _trainer(_mlp(16), lr)
    trainer.fit((X, y), epochs=epochs, batch_size=batch_size)
    assert trainer.evaluate((Xt, yt))["accuracy"] >= 0.97


def test_history_evaluate_and_predict():
    sj.manual_seed(1)
    (X, y), (Xt, yt) = datasets.moons(n_samples=200)
    trainer = _trainer(_mlp(), 0.3, metrics=["accuracy", "f1"])
    history = trainer.fit((X, y), val=(Xt, yt), epochs=3, batch_size=32)
    assert history.epoch == [1, 2, 3] and len(history) == 3
    assert set(history.keys()) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"}
    result = trainer.evaluate((Xt, yt))
    assert result["loss"] == pytest.approx(history["val_loss"][-1])
    out = trainer.predict(Xt)
    assert isinstance(out, np.ndarray) and out.shape == (len(Xt), 2) and out.dtype == np.float32
    assert result["accuracy"] == pytest.approx(np.mean(out.argmax(1) == yt))
    assert trainer.model.training


def test_fit_accepts_dataset_and_loader_and_casts_to_model_dtype():
    sj.manual_seed(0)
    (X, y), _ = datasets.xor()
    trainer = _trainer(_mlp(dtype=sj.float64), 0.5)
    trainer.fit(TensorDataset(X, y), epochs=1, batch_size=50)
    assert trainer.global_step == 3
    trainer.fit(DataLoader(TensorDataset(X, y), batch_size=150), epochs=2)
    assert trainer.global_step == 4 and trainer.epoch == 2
    assert all(p.dtype == np.float64 for p in trainer.model.parameters())


def test_nan_in_inputs_raises_naming_the_index():
    X = np.zeros((10, 2), dtype=np.float32)
    X[7, 1] = np.nan
    trainer = _trainer(_mlp(), 0.1)
    with pytest.raises(ValueError, match=r"train X has a non-finite value \(nan\) at index \(7, 1\) \(sample 7\)"):
        trainer.fit((X, np.zeros(10, dtype=np.int64)), epochs=1)
    with pytest.raises(ValueError, match=r"index \(7, 1\)"):
        trainer.fit((np.zeros((10, 2), np.float32), np.zeros(10, np.int64)), val=(X, np.zeros(10, np.int64)))


def test_bad_arguments_are_reported():
    model = _mlp()
    with pytest.raises(TypeError, match="loss"):
        Trainer(model, 3, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="unknown metric"):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), metrics=["nope"])
    with pytest.raises(TypeError, match="Callback"):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), callbacks=[object()])
    with pytest.raises(TypeError, match="DataLoader"):
        _trainer(model, 0.1).fit(object())
    with pytest.raises(ValueError, match="one-element"):
        Trainer(model, nn.CrossEntropyLoss(reduction="none"), optim.SGD(model.parameters(), lr=0.1),
                progress=False).fit(datasets.xor()[0], epochs=1)
    with pytest.raises(TypeError, match=r"\(X, y\)"):
        _trainer(model, 0.1).fit(datasets.xor())


def test_to_labels():
    np.testing.assert_array_equal(to_labels(np.array([[0.1, 0.9], [2.0, -1.0]])), [1, 0])
    np.testing.assert_array_equal(to_labels(np.array([[0.3], [-0.2]])), [1, 0])
    np.testing.assert_array_equal(to_labels(np.array([0.3, -0.2])), [1, 0])


def _resumable(optimizer_name):
    """A float64 model with dropout (global RNG), momentum/Adam state, a schedule and a checkpoint callback."""
    sj.manual_seed(0)
    model = _mlp(16, sj.float64, dropout=0.2)
    if optimizer_name == "sgd":
        opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, progress=False,
                   callbacks=[ModelCheckpoint("unused-{epoch}.npz", every=1000)])


def _weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_resume_is_bit_exact_in_float64(tmp_path, optimizer_name, suffix):
    (X, y), (Xt, yt) = datasets.moons(n_samples=120)
    X, Xt = X.astype(np.float64), Xt.astype(np.float64)
    straight = _resumable(optimizer_name)
    straight.fit((X, y), val=(Xt, yt), epochs=5, batch_size=16)

    first = _resumable(optimizer_name)
    first.fit((X, y), val=(Xt, yt), epochs=2, batch_size=16)
    path = first.save_checkpoint(tmp_path / f"ckpt{suffix}")
    sj.manual_seed(123)  # the resumed process starts from an unrelated random state
    resumed = _resumable(optimizer_name)
    resumed.load_checkpoint(path)
    assert resumed.epoch == 2
    resumed.fit((X, y), val=(Xt, yt), epochs=5, batch_size=16)

    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == np.float64
        np.testing.assert_array_equal(a[k], b[k])
    assert straight.history.history == resumed.history.history
    assert straight.optimizer.param_groups[0]["lr"] == resumed.optimizer.param_groups[0]["lr"]


def test_consecutive_fits_continue_like_one_run():
    (X, y), _ = datasets.moons(n_samples=80)
    one = _resumable("sgd")
    one.fit((X, y), epochs=4, batch_size=16)
    two = _resumable("sgd")
    two.fit((X, y), epochs=2, batch_size=16)
    two.fit((X, y), epochs=4, batch_size=16)
    for k, v in _weights(one).items():
        np.testing.assert_array_equal(v, _weights(two)[k])
    assert two.fit((X, y), epochs=3).epoch == [1, 2, 3, 4]  # already past epoch 3: nothing to do


def test_load_checkpoint_rejects_other_files_and_mismatched_trainers(tmp_path):
    (X, y), _ = datasets.xor()
    trainer = _trainer(_mlp(), 0.1)
    trainer.fit((X, y), epochs=1)
    path = trainer.save_checkpoint(tmp_path / "c.npz")
    sj.io.save(trainer.model, tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="not a shenjing checkpoint"):
        trainer.load_checkpoint(tmp_path / "weights.npz")
    with pytest.raises(FileNotFoundError):
        trainer.load_checkpoint(tmp_path / "missing.npz")
    other = _trainer(_mlp(), 0.1, callbacks=[ModelCheckpoint(tmp_path / "x.npz")])
    with pytest.raises(ValueError, match="callbacks"):
        other.load_checkpoint(path)


class _Interrupt(Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, trainer, batch, logs):
        if (trainer.epoch + 1, batch) == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_saves_a_checkpoint_and_returns(tmp_path):
    (X, y), _ = datasets.moons(n_samples=100)
    sj.manual_seed(0)
    trainer = _trainer(_mlp(), 0.1, callbacks=[_Interrupt(3, 2)])
    path = tmp_path / "interrupted.npz"
    history = trainer.fit((X, y), epochs=5, batch_size=10, interrupt_checkpoint=path)
    assert trainer.interrupted and trainer.epoch == 2 and len(history) == 2
    assert path.exists()
    resumed = _trainer(_mlp(), 0.1, callbacks=[_Interrupt(0, 0)])
    resumed.load_checkpoint(path)
    assert resumed.epoch == 2
    for k, v in _weights(trainer).items():
        np.testing.assert_array_equal(v, _weights(resumed)[k])  # the weights reached inside epoch 3
    resumed.fit((X, y), epochs=5, batch_size=10)
    assert resumed.epoch == 5 and not resumed.interrupted and len(resumed.history) == 5


def test_progress_lines_when_not_a_terminal(capsys):
    (X, y), _ = datasets.xor()
    model = _mlp()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), progress=True)
    trainer.fit((X, y), epochs=2, batch_size=64)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("epoch 2/2") and "loss" in out[1] and "accuracy" in out[1]
    silent = _trainer(_mlp(), 0.1)
    silent.fit((X, y), epochs=1)
    assert capsys.readouterr().out == ""


def test_trainer_fits_a_loader_over_an_unsized_stream():
    from shenjing.data import IterableDataset

    class Stream(IterableDataset):
        def __iter__(self):
            rng = np.random.default_rng(0)
            for _ in range(64):
                x = rng.normal(size=3).astype(np.float32)
                yield x, int(x[0] > 0)

    sj.manual_seed(0)
    model = nn.Linear(3, 2)
    trainer = Trainer(model, nn.CrossEntropyLoss(), sj.optim.SGD(model.parameters(), lr=0.5), progress=False)
    losses = trainer.fit(DataLoader(Stream(), batch_size=8), epochs=4)["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]
