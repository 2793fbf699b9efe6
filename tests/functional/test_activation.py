"""Activations: values and gradients against PyTorch, gradchecks, and the notes' identities."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck


def _input(dtype, shape=(3, 5), seed=0, scale=2.0):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    x[np.abs(x) < 1e-3] += 0.1  # keep away from kinks
    return x.astype(dtype)


CASES = {
    "relu6": (lambda x: F.relu6(x * 4), lambda t, x: t.nn.functional.relu6(x * 4)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 1.5), lambda t, x: t.nn.functional.hardtanh(x, -0.5, 1.5)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    "elu": (lambda x: F.elu(x, 1.3), lambda t, x: t.nn.functional.elu(x, 1.3)),
    "gelu": (lambda x: F.gelu(x), lambda t, x: t.nn.functional.gelu(x)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda t, x: t.nn.functional.gelu(x, approximate="tanh")),
    "softplus": (lambda x: F.softplus(x, beta=2.0, threshold=3.0),
                 lambda t, x: t.nn.functional.softplus(x, beta=2.0, threshold=3.0)),
    "softmax": (lambda x: F.softmax(x, dim=1), lambda t, x: t.softmax(x, dim=1)),
    "softmax_dim0": (lambda x: F.softmax(x, dim=0), lambda t, x: t.softmax(x, dim=0)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), lambda t, x: t.log_softmax(x, dim=-1)),
    "softmax_T": (lambda x: F.softmax(x, dim=1, temperature=2.5), lambda t, x: t.softmax(x / 2.5, dim=1)),
    "log_softmax_T": (lambda x: F.log_softmax(x, 1, temperature=0.5), lambda t, x: t.log_softmax(x / 0.5, 1)),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3, training=False),
                   lambda t, x: t.nn.functional.rrelu(x, 0.1, 0.3, training=False)),
    "sigmoid": (lambda x: F.sigmoid(x), lambda t, x: t.sigmoid(x)),
    "tanh": (lambda x: F.tanh(x), lambda t, x: t.tanh(x)),
    "abs": (lambda x: F.abs(x), lambda t, x: t.abs(x)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_with_torch(torch, name, dtype, device):
    ours, theirs = CASES[name]
    x = _input(dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    a = sj.tensor(x, requires_grad=True, device=device)
    b = torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(a), theirs(torch, b)
    assert out_a.dtype == np.dtype(dtype) and out_a.device == device
    assert_close(out_a, out_b)
    out_a.backward(sj.tensor(g, device=device))
    out_b.backward(torch.tensor(g))
    assert_close(a.grad, b.grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    ours, _ = CASES[name]
    assert gradcheck(ours, [sj.tensor(_input("float64", (2, 4), seed=3), requires_grad=True, device=device)])


def test_softplus_is_linear_past_threshold():
    x = sj.tensor([30.0, 5.0, -30.0], dtype="float64")
    out = F.softplus(x, beta=1.0, threshold=20.0).numpy()
    assert out[0] == 30.0
    assert out[1] == pytest.approx(np.log1p(np.exp(5.0)), rel=1e-12)
    assert out[2] == pytest.approx(np.exp(-30.0), rel=1e-9)


def test_softmax_stable_for_huge_logits():
    x = sj.tensor([[1000.0, 1000.0, -1000.0]], dtype="float64")
    assert_close(F.softmax(x, 1), np.array([[0.5, 0.5, 0.0]]))
    assert np.isfinite(F.log_softmax(x, 1).numpy()).all()


def test_temperature_one_is_plain_softmax_and_flattens_when_large():
    x = sj.tensor(_input("float64"))
    assert_close(F.softmax(x, 1, temperature=1.0), F.softmax(x, 1))
    hot, flat = F.softmax(x, 1).numpy(), F.softmax(x, 1, temperature=10.0).numpy()
    assert (flat.max(1) < hot.max(1)).all()
    with pytest.raises(ValueError, match="temperature"):
        F.softmax(x, 1, temperature=0)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(sj.randn(2), approximate="erf")


def test_gelu_matches_definition():
    x = _input("float64", (50,))
    from math import erf, sqrt
    expected = np.array([v * 0.5 * (1 + erf(v / sqrt(2))) for v in x])
    assert_close(F.gelu(sj.tensor(x)), expected)


def test_prelu_parity_per_channel(torch, device):
    x = _input("float64", (4, 3, 2, 2))
    w = np.array([0.1, -0.3, 0.7])
    a, wa = sj.tensor(x, requires_grad=True, device=device), sj.tensor(w, requires_grad=True, device=device)
    b, wb = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out_a, out_b = F.prelu(a, wa), torch.nn.functional.prelu(b, wb)
    assert_close(out_a, out_b)
    g = np.random.default_rng(2).standard_normal(x.shape)
    out_a.backward(sj.tensor(g, device=device))
    out_b.backward(torch.tensor(g))
    assert_close(a.grad, b.grad)
    assert_close(wa.grad, wb.grad)


def test_prelu_gradcheck_and_shape_error(device):
    x = sj.tensor(_input("float64", (3, 2)), requires_grad=True, device=device)
    w = sj.tensor([0.2, 0.4], dtype="float64", requires_grad=True, device=device)
    assert gradcheck(F.prelu, [x, w])
    assert gradcheck(F.prelu, [x, sj.tensor([0.3], dtype="float64", requires_grad=True, device=device)])
    with pytest.raises(ValueError, match="prelu"):
        F.prelu(x, sj.tensor([0.1, 0.2, 0.3]))


def test_rrelu_training_slopes_lie_in_range():
    sj.manual_seed(0)
    x = -sj.ones(10000, dtype="float64")
    out = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    slopes = -out
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert slopes.mean() == pytest.approx(0.2, abs=0.005)
    assert len(np.unique(slopes)) > 100
    pos = F.rrelu(sj.ones(5), training=True).numpy()
    assert (pos == 1).all()


def test_rrelu_training_gradient_is_the_drawn_slope():
    sj.manual_seed(1)
    x = sj.tensor(_input("float64", (20,)), requires_grad=True)
    out = F.rrelu(x, training=True)
    out.sum().backward()
    ratio = out.numpy() / x.numpy()
    assert_close(x.grad, ratio)


def test_maxout_takes_max_of_groups_and_gradchecks():
    x = sj.tensor(np.arange(12.0).reshape(2, 6)[:, ::-1].copy())
    assert_close(F.maxout(x, 3), np.array([[5.0, 2.0], [11.0, 8.0]]))
    assert gradcheck(lambda t: F.maxout(t, 2), [sj.tensor(_input("float64", (2, 4)), requires_grad=True)])
    with pytest.raises(ValueError, match="maxout"):
        F.maxout(x, 4)


@pytest.mark.parametrize("fn", [F.relu6, F.leaky_relu, F.elu, F.gelu, F.softplus, F.softmax, F.log_softmax])
def test_float32_stays_float32(fn):
    assert fn(sj.randn(3, 4)).dtype == np.float32
