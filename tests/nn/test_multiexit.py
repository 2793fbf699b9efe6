"""Multi-exit networks (seed 004 §7): exits, joint loss Σ j·L_j / Σ j, budgeted and dynamic exiting."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn


def make_model(exit="last", **kw):
    sj.manual_seed(0)
    blocks = [nn.Linear(4, 6), nn.Linear(6, 6), nn.Linear(6, 6)]
    return nn.MultiExit(blocks, [nn.Linear(6, 3) for _ in range(3)], exit=exit, **kw)


def count_calls(model):
    calls = {"blocks": [0] * model.n_exits, "heads": [0] * model.n_exits}

    def counter(kind, j):
        def hook(module, inputs, output):
            calls[kind][j] += 1

        return hook

    for j in range(model.n_exits):
        model.blocks[j].register_forward_hook(counter("blocks", j))
        model.heads[j].register_forward_hook(counter("heads", j))
    return calls


def log_softmax_nll(logits, y):
    z = logits - logits.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))


def test_training_forward_returns_every_exit():
    model = make_model()
    x = sj.randn(5, 4)
    outs = model(x)
    assert len(outs) == 3 and all(o.shape == (5, 3) for o in outs)
    z = x
    for j in range(3):
        z = model.blocks[j](z)
        np.testing.assert_allclose(outs[j].numpy(), model.heads[j](z).numpy(), rtol=1e-6)


def test_last_exit_runs_every_block():
    model = make_model("last").eval()
    calls = count_calls(model)
    x = sj.randn(5, 4)
    out = model(x)
    assert calls == {"blocks": [1, 1, 1], "heads": [0, 0, 1]}
    np.testing.assert_allclose(out.numpy(), model.exits(x)[-1].numpy())
    np.testing.assert_array_equal(model.exit_depth_, [3] * 5)


@pytest.mark.parametrize("k", [1, 2])
def test_budgeted_exit_runs_only_first_k_blocks(k):
    model = make_model("budgeted", k=k).eval()
    calls = count_calls(model)
    x = sj.randn(5, 4)
    out = model(x)
    assert calls["blocks"] == [1] * k + [0] * (3 - k)
    assert calls["heads"] == [0] * (k - 1) + [1] + [0] * (3 - k)
    z = x
    for j in range(k):
        z = model.blocks[j](z)
    np.testing.assert_allclose(out.numpy(), model.heads[k - 1](z).numpy())
    np.testing.assert_array_equal(model.exit_depth_, [k] * 5)


def fixed_heads_model(signs, patience):
    """Identity blocks; head j outputs signs[j] * x, so predictions flip when the sign flips."""
    heads = []
    for s in signs:
        head = nn.Linear(2, 2, bias=False)
        head.weight.data[...] = s * np.eye(2, dtype=np.float32)
        heads.append(head)
    return nn.MultiExit([nn.Identity() for _ in signs], heads, exit="dynamic", patience=patience).eval()


def test_dynamic_exit_stops_when_patience_exits_agree():
    x = sj.Tensor(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    model = fixed_heads_model([1, 1, 1, 1], patience=2)
    calls = count_calls(model)
    out = model(x)
    np.testing.assert_array_equal(model.exit_depth_, [2, 2])
    assert calls["blocks"] == [1, 1, 0, 0]
    np.testing.assert_allclose(out.numpy(), x.numpy())
    model.patience = 3
    model(x)
    np.testing.assert_array_equal(model.exit_depth_, [3, 3])


def test_dynamic_exit_without_agreement_uses_last_exit():
    x = sj.Tensor(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    model = fixed_heads_model([1, -1, 1, -2], patience=2)
    out = model(x)
    np.testing.assert_array_equal(model.exit_depth_, [4, 4])
    np.testing.assert_allclose(out.numpy(), -2 * x.numpy())


def test_dynamic_exit_per_sample_depths_and_outputs():
    model = make_model("dynamic", patience=2).eval()
    x = sj.randn(64, 4)
    out = model(x)
    depth = model.exit_depth_
    assert depth.shape == (64,) and depth.min() >= 2 and depth.max() <= 3
    every = [o.numpy() for o in model.exits(x)]
    preds = [e.argmax(1) for e in every]
    expected_depth = np.where(preds[0] == preds[1], 2, 3)
    np.testing.assert_array_equal(depth, expected_depth)
    np.testing.assert_allclose(out.numpy(), np.where((depth == 2)[:, None], every[1], every[2]))


def test_joint_loss_is_weighted_mean_of_exit_losses():
    model = make_model()
    x, y = sj.randn(8, 4), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    outs = model(x)
    loss = model.joint_loss(outs, sj.Tensor(y))
    per_exit = [log_softmax_nll(o.numpy().astype(np.float64), y) for o in outs]
    assert loss.item() == pytest.approx(sum((j + 1) * loss_j for j, loss_j in enumerate(per_exit)) / 6, rel=1e-5)
    loss.backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in model.parameters())
    model.eval()
    assert model.joint_loss(model(x), sj.Tensor(y)).item() == pytest.approx(per_exit[-1], rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(exit="early"), "exit must be one of"),
        (dict(exit="budgeted", k=4), r"k must be an int in \[1, 3\]"),
        (dict(exit="budgeted", k=0), "k must be an int"),
        (dict(exit="dynamic", patience=0), "patience must be an int"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_model(**kwargs)
    with pytest.raises(ValueError, match="equal length"):
        nn.MultiExit([nn.Linear(2, 2)], [])


@pytest.mark.slow
def test_trained_on_digits_dynamic_exit_stops_early():
    from shenjing.data import datasets
    from shenjing.train import Trainer

    (X, y), (Xt, yt) = datasets.digits()
    sj.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(64 if j == 0 else 32, 32), nn.ReLU()) for j in range(4)]
    model = nn.MultiExit(blocks, [nn.Linear(32, 10) for _ in range(4)], exit="dynamic", patience=2)
    Trainer(model, model.joint_loss, sj.optim.Adam(model.parameters(), lr=3e-3), metrics=[], progress=False,
            seed=0).fit((X, y), epochs=10, batch_size=64)
    model.eval()
    with sj.no_grad():
        dynamic_acc = np.mean(model(sj.Tensor(Xt)).numpy().argmax(1) == yt)
        last_acc = np.mean(model.exits(sj.Tensor(Xt))[-1].numpy().argmax(1) == yt)
    assert model.exit_depth_.mean() < 0.75 * model.n_exits
    assert dynamic_acc > last_acc - 0.02 and last_acc > 0.9
