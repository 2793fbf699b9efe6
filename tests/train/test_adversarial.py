"""FGSM, FGM, PGD and adversarial training (seed 004 §7 对抗训练)."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import datasets
from shenjing.train import Trainer
from shenjing.train.adversarial import AdversarialTraining, fgm, fgsm, input_gradient, pgd

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "adversarial.py"


def _model(dtype=sj.float64, n_in=6):
    sj.manual_seed(0)
    return nn.Sequential(nn.Linear(n_in, 16), nn.Tanh(), nn.Linear(16, 3)).to(dtype)


def _batch(dtype=np.float64, n=8, n_in=6):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, n_in)).astype(dtype), sj.tensor(rng.integers(0, 3, n))


def test_fgsm_moves_every_entry_by_exactly_eps_along_the_gradient_sign():
    model, loss = _model(), nn.CrossEntropyLoss()
    x, y = _batch()
    g = input_gradient(model, loss, x, y)
    assert np.all(g != 0)
    r = fgsm(model, loss, x, y, eps=0.25).numpy() - x
    np.testing.assert_allclose(np.abs(r), 0.25, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(np.sign(r), np.sign(g))
    assert all(p.grad is None for p in model.parameters())
    xf, yf = _batch(np.float32)
    adv = fgsm(_model(sj.float32), loss, xf, yf, eps=0.1)
    assert adv.dtype == np.float32
    np.testing.assert_allclose(np.abs(adv.numpy() - xf).max(), 0.1, rtol=1e-6)


def test_fgsm_raises_the_loss_and_clip_bounds_it():
    model, loss = _model(), nn.CrossEntropyLoss()
    x, y = _batch()
    before = loss(model(sj.tensor(x)), y).item()
    assert loss(model(fgsm(model, loss, x, y, eps=0.1)), y).item() > before
    clipped = fgsm(model, loss, x, y, eps=5.0, clip=(-1.0, 1.0)).numpy()
    assert clipped.min() >= -1.0 and clipped.max() <= 1.0


def test_fgm_has_per_sample_l2_norm_eps_along_the_gradient():
    model, loss = _model(), nn.CrossEntropyLoss()
    x, y = _batch()
    g = input_gradient(model, loss, x, y)
    r = fgm(model, loss, x, y, eps=0.5).numpy() - x
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), 0.5, rtol=1e-12)
    np.testing.assert_allclose(r, 0.5 * g / np.linalg.norm(g, axis=1, keepdims=True), rtol=1e-10)


@pytest.mark.parametrize("norm", ["inf", "l2"])
def test_pgd_stays_in_the_eps_ball(norm):
    model, loss = _model(), nn.CrossEntropyLoss()
    x, y = _batch()
    sj.manual_seed(3)
    adv = pgd(model, loss, x, y, eps=0.3, alpha=0.2, steps=7, random_start=True, norm=norm).numpy()
    delta = adv - x
    size = np.abs(delta).max(axis=1) if norm == "inf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= 0.3 + 1e-12) and np.any(size > 0.29)
    no_start = pgd(model, loss, x, y, eps=0.3, steps=5, norm=norm)
    assert loss(model(no_start), y).item() > loss(model(sj.tensor(x)), y).item()


def test_attack_argument_errors():
    model, loss = _model(), nn.CrossEntropyLoss()
    x, y = _batch()
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, loss, x, y, eps=-1)
    with pytest.raises(ValueError, match="norm"):
        pgd(model, loss, x, y, eps=0.1, norm="l1")
    with pytest.raises(TypeError, match="floating"):
        fgsm(model, loss, np.zeros((2, 6), dtype=np.int64), y[:2], eps=0.1)
    with pytest.raises(ValueError, match="method"):
        AdversarialTraining("nope")
    with pytest.raises(ValueError, match="fgm"):
        AdversarialTraining("fgsm", param="0.weight")


@pytest.fixture(scope="module")
def trained_digits():
    (X, y), (Xt, yt) = datasets.digits()
    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3), progress=False, seed=0)
    trainer.fit((X, y), epochs=10, batch_size=32)
    return trainer, Xt, yt


def test_pgd_lowers_accuracy_at_least_as_much_as_fgsm(trained_digits):
    trainer, X, y = trained_digits
    model, loss = trainer.model.eval(), trainer.loss_fn
    acc = lambda inputs: np.mean(trainer.predict(inputs).argmax(1) == y)
    clean = acc(X)
    with_fgsm = acc(fgsm(model, loss, X, sj.tensor(y), eps=0.3).numpy())
    with_pgd = acc(pgd(model, loss, X, sj.tensor(y), eps=0.3, steps=10).numpy())
    assert clean >= 0.95
    assert with_pgd <= with_fgsm < clean - 0.3


def test_adversarial_training_gradients_are_the_weighted_sum():
    model, loss = _model(), nn.CrossEntropyLoss()
    x, y = _batch()
    xt = sj.tensor(x)
    loss(model(xt), y).backward()
    clean = [p.grad.numpy().copy() for p in model.parameters()]
    x_adv = fgsm(model, loss, x, y, eps=0.2)
    model.zero_grad()
    loss(model(x_adv), y).backward()
    adv = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    loss(model(xt), y).backward()
    AdversarialTraining("fgsm", eps=0.2, weight=0.3).on_after_backward(SimpleNamespace(
        model=model, loss_fn=loss, batch=(xt, y)))
    for p, c, a in zip(model.parameters(), clean, adv):
        np.testing.assert_allclose(p.grad.numpy(), 0.3 * c + 0.7 * a, rtol=1e-10, atol=1e-14)
    assert model.training


def test_fgm_on_an_embedding_table_perturbs_and_restores_it():
    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(12, 4)
            self.head = nn.Linear(4, 2)

        def forward(self, idx):
            return self.head(self.emb(idx).mean(dim=1))

    sj.manual_seed(0)
    model, loss = Bag().double(), nn.CrossEntropyLoss()
    idx, y = sj.tensor(np.random.default_rng(1).integers(0, 12, (5, 3))), sj.tensor([0, 1, 1, 0, 1])
    weight = model.emb.weight.numpy().copy()
    loss(model(idx), y).backward()
    g = model.emb.weight.grad.numpy().copy()
    clean = [p.grad.numpy().copy() for p in model.parameters()]
    # the expected adversarial gradients: the same loss with the table moved by eps·g/||g||
    model.zero_grad()
    model.emb.weight.data = weight + 0.5 * g / np.linalg.norm(g)
    loss(model(idx), y).backward()
    adv = [p.grad.numpy().copy() for p in model.parameters()]
    model.emb.weight.data = weight.copy()
    model.zero_grad()
    loss(model(idx), y).backward()
    cb = AdversarialTraining("fgm", eps=0.5, param="emb.weight")
    cb.on_after_backward(SimpleNamespace(model=model, loss_fn=loss, batch=(idx, y)))
    np.testing.assert_array_equal(model.emb.weight.numpy(), weight)
    for p, c, a in zip(model.parameters(), clean, adv):
        np.testing.assert_allclose(p.grad.numpy(), 0.5 * c + 0.5 * a, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="no parameter"):
        AdversarialTraining("fgm", param="nope").on_after_backward(
            SimpleNamespace(model=model, loss_fn=loss, batch=(idx, y)))


@pytest.mark.slow
def test_example_adversarial_training_raises_adversarial_accuracy_on_digits(capsys):
    spec = importlib.util.spec_from_file_location("adversarial_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    rows = example.main(["--epochs", "10"])
    plain, robust = rows["plain"], rows["adversarial (FGSM)"]
    assert plain["clean"] >= 0.95 and robust["clean"] >= 0.95
    assert robust["fgsm"] >= plain["fgsm"] + 0.2 and robust["pgd"] >= plain["pgd"] + 0.2
    out = capsys.readouterr().out
    assert "plain" in out and "adversarial (FGSM)" in out and "PGD" in out
