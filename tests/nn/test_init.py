"""Initialisers: gains and fans as PyTorch, and empirical moments/bounds of large draws against the formulas."""

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.nn import init


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")


def _draw(fn, shape=(400, 300, 3), **kw):
    sj.manual_seed(0)
    t = sj.empty(*shape)
    assert fn(t, **kw) is t
    return t.numpy().astype(np.float64)


def test_uniform_and_normal_moments():
    u = _draw(init.uniform_, a=-2.0, b=4.0)
    assert u.min() >= -2.0 and u.max() < 4.0
    assert u.mean() == pytest.approx(1.0, abs=0.01)
    assert u.std() == pytest.approx(6 / math.sqrt(12), rel=0.01)
    n = _draw(init.normal_, mean=0.5, std=2.0)
    assert n.mean() == pytest.approx(0.5, abs=0.02)
    assert n.std() == pytest.approx(2.0, rel=0.01)


def test_xavier_and_kaiming_follow_their_formulas():
    fan_in, fan_out = 300 * 3, 400 * 3
    xa = _draw(init.xavier_uniform_, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(xa).max() <= bound and np.abs(xa).max() > 0.99 * bound
    assert _draw(init.xavier_normal_).std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.01)
    ku = _draw(init.kaiming_uniform_, nonlinearity="relu")
    assert np.abs(ku).max() <= math.sqrt(6 / fan_in)
    assert ku.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.01)
    kn = _draw(init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert kn.std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.01)
    assert _draw(init.lecun_normal_).std() == pytest.approx(math.sqrt(1 / fan_in), rel=0.01)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(sj.empty(3, 3), mode="fan_avg")


def test_trunc_normal_stays_in_bounds_with_truncated_moments():
    t = _draw(init.trunc_normal_, std=1.0, a=-1.0, b=2.0)
    assert t.min() >= -1.0 and t.max() <= 2.0
    from scipy.stats import truncnorm

    dist = truncnorm(-1.0, 2.0)
    assert t.mean() == pytest.approx(dist.mean(), abs=0.01)
    assert t.std() == pytest.approx(dist.std(), rel=0.01)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal(shape):
    t = _draw(init.orthogonal_, shape=shape, gain=2.0).reshape(shape[0], -1)
    rows, cols = t.shape
    gram = t @ t.T if rows <= cols else t.T @ t
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)


def test_constants_and_errors():
    t = sj.empty(3, 2)
    assert (init.constant_(t, 0.25).numpy() == 0.25).all()
    assert (init.ones_(t).numpy() == 1).all() and (init.zeros_(t).numpy() == 0).all()
    with pytest.raises(ValueError, match="2 dims"):
        init.xavier_uniform_(sj.empty(5))
    with pytest.raises(TypeError, match="Tensor"):
        init.zeros_(np.zeros(3))


def test_init_keeps_dtype_and_does_not_record_a_graph():
    p = sj.nn.Parameter(sj.empty(4, 4, dtype="float64"))
    init.kaiming_uniform_(p)
    assert p.dtype == np.float64 and p.grad_fn is None and p.requires_grad


def test_uniform_parameter_is_the_one_uniform_draw(device):
    """Conv, recurrent and pooling layers draw their U(-b, b) parameters as uniform_ does, from the seeded generator."""
    sj.manual_seed(3)
    p = init.uniform_parameter((40, 50), 0.25, dtype=sj.float64, device=device)
    sj.manual_seed(3)
    q = init.uniform_(sj.empty(40, 50, dtype=sj.float64, device=device), -0.25, 0.25)
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.device == device and p.dtype == np.float64
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert np.abs(p.numpy()).max() <= 0.25 and np.abs(p.numpy()).max() > 0.24
    sj.manual_seed(3)
    layer = nn.Conv1d(2, 3, 4, dtype=sj.float64, device=device)
    sj.manual_seed(3)
    expected = init.uniform_parameter((3, 2, 4), 1 / math.sqrt(2 * 4), dtype=sj.float64, device=device)
    np.testing.assert_array_equal(layer.weight.numpy(), expected.numpy())
