"""Trainer: BP modes (seed 000 §2.6-2.7, seed 001 mini-batch SGD), evaluation, validation of inputs,
resumable checkpoints (bit-exact in float64, from the middle of an epoch too) and Ctrl-C."""

import os
import signal

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset, datasets
from shenjing.data.transforms import GaussianNoise
from shenjing.train import Callback, LRSchedulerCallback, ModelCheckpoint, Trainer, to_labels


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


class _InterruptAt(Callback):
    """Raises KeyboardInterrupt in ``hook`` at global batch ``at`` (counted over the run from 0; None: never)."""

    def __init__(self, hook="on_batch_end", at=None):
        self.hook, self.at, self.seen = hook, at, 0

    def _maybe_raise(self, hook):
        if hook == self.hook and self.seen == self.at:
            raise KeyboardInterrupt

    def on_batch_begin(self, trainer, batch):
        self._maybe_raise("on_batch_begin")

    def on_after_backward(self, trainer):
        self._maybe_raise("on_after_backward")

    def on_batch_end(self, trainer, batch, logs):
        self._maybe_raise("on_batch_end")
        self.seen += 1


def _mid_epoch_trainer(*callbacks):
    """Float64 with dropout, momentum, an epoch schedule, a per-batch schedule, accuracy: state in every part."""
    sj.manual_seed(0)
    model = _mlp(16, sj.float64, dropout=0.2)
    opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    per_batch = LRSchedulerCallback(optim.lr_scheduler.ExponentialLR(opt, gamma=0.99), interval="batch")
    return Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=optim.lr_scheduler.StepLR(opt, step_size=2),
                   progress=False, seed=7, callbacks=[per_batch, *callbacks])


def _noisy_moons():
    """Moons whose inputs get fresh Gaussian noise in every batch (a random transform with its own generator)."""
    (X, y), (Xt, yt) = datasets.moons(n_samples=130)  # 97 training samples: 8 batches of 13 or fewer
    return TensorDataset(X.astype(np.float64), y, transform=GaussianNoise(0.05, seed=3)), (Xt, yt)


def _assert_same_run(a, b):
    for k, v in _weights(a).items():
        np.testing.assert_array_equal(v, _weights(b)[k])
    assert a.history.history == b.history.history and a.global_step == b.global_step


@pytest.mark.parametrize("hook", ["on_batch_begin", "on_after_backward", "on_batch_end"])
@pytest.mark.parametrize("at", [9, 15, 16], ids=["mid-epoch", "last-batch", "first-batch"])
def test_ctrl_c_mid_epoch_resumes_with_the_next_batch_bit_exact(tmp_path, hook, at):
    """8 batches an epoch; Ctrl-C before the update (the batch is redone) or after it (the next one follows)."""
    train, val = _noisy_moons()
    straight = _mid_epoch_trainer(_InterruptAt())
    straight.fit(train, val=val, epochs=3, batch_size=13)

    train, val = _noisy_moons()
    first = _mid_epoch_trainer(_InterruptAt(hook, at))
    first.fit(train, val=val, epochs=3, batch_size=13, interrupt_checkpoint=tmp_path / "stop.npz")
    assert first.interrupted and first.epoch == at // 8
    sj.manual_seed(123)
    train, val = _noisy_moons()
    resumed = _mid_epoch_trainer(_InterruptAt())
    resumed.load_checkpoint(tmp_path / "stop.npz")
    resumed.fit(train, val=val, epochs=3, batch_size=13)
    _assert_same_run(straight, resumed)
    assert resumed.global_step == 24


def test_step_checkpoints_resume_mid_epoch_bit_exact(tmp_path):
    """ModelCheckpoint(every_n_train_steps=5): files inside epochs 1-3 and after the last batch of epoch 2."""
    train, val = _noisy_moons()
    straight = _mid_epoch_trainer(ModelCheckpoint(tmp_path / "e{epoch}-s{step}.npz", every_n_train_steps=4))
    straight.fit(train, val=val, epochs=3, batch_size=13)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"e{(s - 1) // 8 + 1}-s{s}.npz" for s in range(4, 25, 4))
    for name in ("e1-s4.npz", "e2-s12.npz", "e2-s16.npz"):
        train, val = _noisy_moons()
        resumed = _mid_epoch_trainer(ModelCheckpoint(tmp_path / "again-{step}.npz", every_n_train_steps=4))
        resumed.load_checkpoint(tmp_path / name)
        resumed.fit(train, val=val, epochs=3, batch_size=13)
        _assert_same_run(straight, resumed)


def test_model_checkpoint_rejects_a_bad_step_interval():
    with pytest.raises(ValueError, match="every_n_train_steps must be a positive integer"):
        ModelCheckpoint("x.npz", every_n_train_steps=0)


class _SigintInsideStep(optim.SGD):
    """SGD that receives a real SIGINT after updating its first parameter in update number ``at``."""

    def __init__(self, params, at=None, **kw):
        super().__init__(params, **kw)
        self.at, self.updates = at, 0

    def step(self, closure=None):
        self.updates += 1
        return super().step(closure)

    def _update(self, param, grad, state, group):
        super()._update(param, grad, state, group)
        if self.updates == self.at and param is self.param_groups[0]["params"][0].data:
            os.kill(os.getpid(), signal.SIGINT)


def _sigint_trainer(at):
    sj.manual_seed(0)
    model = _mlp(16, sj.float64, dropout=0.2)
    opt = _SigintInsideStep(model.parameters(), at=at, lr=0.2, momentum=0.9)
    return Trainer(model, nn.CrossEntropyLoss(), opt, progress=False, seed=7)


def test_a_real_ctrl_c_inside_an_update_lets_it_finish(tmp_path):
    train, val = _noisy_moons()
    straight = _sigint_trainer(None)
    straight.fit(train, val=val, epochs=2, batch_size=13)
    train, val = _noisy_moons()
    first = _sigint_trainer(11)
    first.fit(train, val=val, epochs=2, batch_size=13, interrupt_checkpoint=tmp_path / "stop.npz")
    assert first.interrupted and first.global_step == 11  # the interrupted update was applied whole
    train, val = _noisy_moons()
    resumed = _sigint_trainer(None)
    resumed.load_checkpoint(tmp_path / "stop.npz")
    resumed.fit(train, val=val, epochs=2, batch_size=13)
    _assert_same_run(straight, resumed)


def test_fit_after_ctrl_c_goes_on_like_the_resumed_run(tmp_path):
    """The same trainer, fit again after Ctrl-C before an update: the batch is redone, the run ends the same."""
    train, val = _noisy_moons()
    straight = _mid_epoch_trainer(_InterruptAt())
    straight.fit(train, val=val, epochs=2, batch_size=13)
    train, val = _noisy_moons()
    again = _mid_epoch_trainer(_InterruptAt("on_after_backward", 11))
    again.fit(train, val=val, epochs=2, batch_size=13, interrupt_checkpoint=tmp_path / "stop.npz")
    again.callbacks[-1].at = None
    again.fit(train, val=val, epochs=2, batch_size=13)
    _assert_same_run(straight, again)
    restored = _mid_epoch_trainer(_InterruptAt())
    restored.fit(*_noisy_moons(), epochs=1, batch_size=13)  # a loader of its own, which the checkpoint replaces
    restored.load_checkpoint(tmp_path / "stop.npz")
    state, saved = restored.state_dict(), sj.train.checkpoint.load_state(tmp_path / "stop.npz")
    assert state["in_epoch"]["batches"] == saved["in_epoch"]["batches"] == 11 - 8
    np.testing.assert_array_equal(state["in_epoch"]["labels"], saved["in_epoch"]["labels"])
    assert state["loader"] == saved["loader"] and state["in_epoch"]["total"] == saved["in_epoch"]["total"]
    restored.fit(*_noisy_moons(), epochs=2, batch_size=13)
    _assert_same_run(straight, restored)
