"""The notes' BP network (seed 000 §2): hand-derived gradients, XOR, standard vs accumulated BP."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.classic import BPNetwork

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([0, 1, 1, 0])


def autograd_gradients(net, X, Y):
    """The same network built from shenjing ops; gradients of (1/m) Σ_k ½ Σ_j (ŷ - y)² by autograd."""
    params = {name: sj.Tensor(getattr(net, name).copy(), requires_grad=True) for name in ("v", "gamma", "w", "theta")}
    b = sj.sigmoid(sj.Tensor(X) @ params["v"] - params["gamma"])
    out = sj.sigmoid(b @ params["w"] - params["theta"])
    loss = 0.5 * ((out - sj.Tensor(Y)) ** 2).sum() / X.shape[0]
    loss.backward()
    return {name: p.grad.numpy() for name, p in params.items()}


@pytest.mark.parametrize("m", [1, 7])
def test_gradients_equal_autograd(m):
    rng = np.random.default_rng(0)
    net = BPNetwork(5, 4, 3, seed=1)
    X, Y = rng.normal(size=(m, 5)), rng.uniform(size=(m, 3))
    hand, auto = net.gradients(X, Y), autograd_gradients(net, X, Y)
    assert set(hand) == {"v", "gamma", "w", "theta"}
    for name in hand:
        assert hand[name].shape == getattr(net, name).shape
        np.testing.assert_allclose(hand[name], auto[name], rtol=0, atol=1e-12)


def test_single_sample_gradient_is_notes_formula():
    """∂L_k/∂w_hj = (ŷ_j - y_j) ŷ_j (1 - ŷ_j) b_h, written out for one sample (seed 000 §2.5)."""
    net = BPNetwork(3, 2, 2, seed=3)
    x, y = np.array([0.2, -1.0, 0.5]), np.array([1.0, 0.0])
    b = 1 / (1 + np.exp(-(x @ net.v - net.gamma)))
    out = 1 / (1 + np.exp(-(b @ net.w - net.theta)))
    g = net.gradients(x, y)
    for h in range(2):
        for j in range(2):
            assert g["w"][h, j] == pytest.approx((out[j] - y[j]) * out[j] * (1 - out[j]) * b[h], abs=1e-15)
    assert g["theta"] == pytest.approx((out - y) * out * (out - 1), abs=1e-15)
    s = net.w @ (out * (1 - out) * (out - y))
    assert g["gamma"] == pytest.approx(b * (b - 1) * s, abs=1e-15)
    assert g["v"] == pytest.approx(np.outer(x, b * (1 - b) * s), abs=1e-15)


def test_parameters_and_initialisation():
    d, q, l = 6, 5, 3  # noqa: E741 (the notes' names)
    net = BPNetwork(d, q, l, seed=0)
    assert net.n_parameters == (d + l + 1) * q + l
    assert (net.v.shape, net.gamma.shape, net.w.shape, net.theta.shape) == ((d, q), (q,), (q, l), (l,))
    for p in (net.v, net.gamma, net.w, net.theta):
        assert p.dtype == np.float64 and p.min() > 0 and p.max() < 1
    assert np.array_equal(BPNetwork(d, q, l, seed=0).v, net.v)
    sj.manual_seed(4)
    a = BPNetwork(d, q, l).v
    sj.manual_seed(4)
    assert np.array_equal(BPNetwork(d, q, l).v, a)


@pytest.mark.parametrize("mode, lr", [("standard", 0.5), ("accumulated", 2.0)])
def test_learns_xor(mode, lr):
    net = BPNetwork(2, 4, 1, lr=lr, mode=mode, seed=0)
    start = net.loss(XOR_X, XOR_Y)
    net.fit(XOR_X, XOR_Y, epochs=3000)
    assert np.array_equal(net.predict(XOR_X), XOR_Y)
    assert net.loss_history_[-1] < 0.01 * start
    assert len(net.loss_history_) == 3000


def test_standard_updates_once_per_sample_in_order():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    net = BPNetwork(3, 4, 2, lr=0.3, mode="standard", seed=2)
    ref = BPNetwork(3, 4, 2, lr=0.3, mode="standard", seed=2)
    net.fit(X, Y, epochs=2)
    for _ in range(2):
        for xk, yk in zip(X, Y):
            for name, g in ref.gradients(xk, yk).items():
                setattr(ref, name, getattr(ref, name) - 0.3 * g)
    assert net.n_updates_ == 10
    for name in ("v", "gamma", "w", "theta"):
        np.testing.assert_allclose(getattr(net, name), getattr(ref, name), rtol=0, atol=1e-14)


def test_accumulated_updates_once_per_pass_with_mean_gradient():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    net = BPNetwork(3, 4, 2, lr=0.3, mode="accumulated", seed=2)
    before = {name: getattr(net, name).copy() for name in ("v", "gamma", "w", "theta")}
    per_sample = [net.gradients(xk, yk) for xk, yk in zip(X, Y)]
    net.fit(X, Y, epochs=1)
    assert net.n_updates_ == 1
    for name, p in before.items():
        mean_grad = np.mean([g[name] for g in per_sample], axis=0)
        np.testing.assert_allclose(getattr(net, name), p - 0.3 * mean_grad, rtol=0, atol=1e-14)
    assert net.loss_history_[-1] == pytest.approx(net.loss(X, Y))


def test_fit_continues_from_current_weights():
    a = BPNetwork(2, 3, 1, lr=0.5, seed=5).fit(XOR_X, XOR_Y, epochs=4).fit(XOR_X, XOR_Y, epochs=6)
    b = BPNetwork(2, 3, 1, lr=0.5, seed=5).fit(XOR_X, XOR_Y, epochs=10)
    np.testing.assert_array_equal(a.w, b.w)
    assert a.loss_history_ == b.loss_history_


def test_multiclass_labels_are_one_hot_and_predict_argmax():
    net = BPNetwork(2, 3, 3, seed=0)
    X, labels = np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([2, 0])
    g_labels, g_onehot = net.gradients(X, labels), net.gradients(X, np.eye(3)[labels])
    for name in g_labels:
        np.testing.assert_array_equal(g_labels[name], g_onehot[name])
    np.testing.assert_array_equal(net.predict(X), net.predict_proba(X).argmax(1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d=0, q=2, l=1), "d must be a positive int"),
        (dict(d=2, q=2.5, l=1), "q must be a positive int"),
        (dict(d=2, q=2, l=1, lr=-1), "lr must be a positive number"),
        (dict(d=2, q=2, l=1, mode="batch"), "mode must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BPNetwork(**kwargs)


def test_bad_shapes():
    net = BPNetwork(2, 2, 3, seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(m, 2\)"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Y must have shape \(4, 3\)"):
        net.fit(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="class labels must lie in"):
        net.fit(np.zeros((2, 2)), np.array([0, 3]))
