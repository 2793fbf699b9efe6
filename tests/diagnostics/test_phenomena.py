"""The notes' failure modes show in Monitor's numbers with clear margins, over several seeds
(seed 003 梯度消失问题 / 梯度爆炸问题, seed 002 神经元饱和)."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data.datasets import digits
from shenjing.diagnostics import Monitor

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def data():
    return digits()


def first_to_last_gradient(block, seed, X, y, depth=10):
    sj.manual_seed(seed)
    layers, size = [], 64
    for _ in range(depth):
        layers += [nn.Linear(size, 32), *block(32)]
        size = 32
    model = nn.Sequential(*layers, nn.Linear(size, 10))
    with Monitor(model) as monitor:
        nn.functional.cross_entropy(model(sj.tensor(X)), sj.tensor(y)).backward()
    norms = [monitor.summary()[name]["grad_norm"] for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    assert len(norms) == depth + 1
    return norms[0] / norms[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_gradients_vanish_and_relu_batchnorm_keeps_them(data, seed):
    (X, y), _ = data
    sigmoid = first_to_last_gradient(lambda w: [nn.Sigmoid()], seed, X[:128], y[:128])
    relu_bn = first_to_last_gradient(lambda w: [nn.BatchNorm1d(w), nn.ReLU()], seed, X[:128], y[:128])
    assert sigmoid < 1e-5  # (1/4)^10 ≈ 1e-6 is the notes' bound per unit weight
    assert 0.1 < relu_bn < 10


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_escapes_saturated_sigmoid_outputs_where_mse_stays(data, seed):
    (X, y), (Xt, yt) = data
    target = np.eye(10, dtype=np.float32)[y]
    accuracy, saturated, first_gradient = {}, {}, {}
    for name, loss in (("mse", nn.MSELoss()), ("bce", nn.BCELoss())):
        sj.manual_seed(seed)
        model = nn.Sequential(nn.Linear(64, 10), nn.Sigmoid())
        model[0].weight.data *= 30
        opt = optim.SGD(model.parameters(), lr=0.5)
        with Monitor(model, opt) as monitor:
            for start in range(0, 6 * len(X), 32):
                idx = np.arange(start, start + 32) % len(X)
                opt.zero_grad()
                loss(model(sj.tensor(X[idx])), sj.tensor(target[idx])).backward()
                opt.step()
        saturated[name] = monitor.history[0]["1"]["saturated_fraction"]
        first_gradient[name] = monitor.history[0]["0"]["grad_norm"]
        with sj.no_grad():
            accuracy[name] = float((np.asarray(model(sj.tensor(Xt))).argmax(1) == yt).mean())
    assert saturated["mse"] == saturated["bce"] > 0.5  # the same start, deep in saturation
    assert first_gradient["mse"] < 0.2 * first_gradient["bce"]  # σ'(z) ≈ 0 multiplies MSE's gradient
    assert accuracy["bce"] > accuracy["mse"] + 0.2


@pytest.mark.parametrize("seed", [0, 1])
def test_clipping_caps_an_exploding_rnn(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((128, 20, 1)).astype(np.float32) * 0.1
    label = rng.integers(0, 2, 128)
    x[:, 0, 0] = np.where(label == 1, 1.0, -1.0)
    results = {}
    for clip in (np.inf, 1.0):
        sj.manual_seed(seed)
        rnn, head = nn.RNN(1, 32, batch_first=True), nn.Linear(32, 2)
        nn.init.orthogonal_(rnn.weight_hh_l0, gain=3.0)
        params = list(rnn.parameters()) + list(head.parameters())
        opt = optim.SGD(params, lr=0.5)
        norms = []
        for _ in range(40):
            opt.zero_grad()
            out, _ = rnn(sj.tensor(x))
            loss = nn.functional.cross_entropy(head(out[:, -1]), sj.tensor(label))
            loss.backward()
            norms.append(float(nn.utils.clip_grad_norm_(params, clip)))
            applied = np.sqrt(sum(float((np.asarray(p.grad) ** 2).sum()) for p in params))
            assert applied <= min(clip, norms[-1]) * (1 + 1e-5)
            opt.step()
        results[clip] = (max(norms), float(loss))
    assert results[np.inf][0] > 30  # the gradient explodes (norm at init is about 1)
    assert results[1.0][1] < 0.5 * results[np.inf][1]
