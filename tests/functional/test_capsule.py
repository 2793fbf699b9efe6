"""Capsule pooling (seed 004 §2.3.5): squash, dynamic routing (standard and reversed DR-AGG), CapsulePooling."""

import numpy as np
import pytest

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck


def _x(shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _squash_ref(s):
    n2 = (s**2).sum(-1, keepdims=True)
    return n2 / (1 + n2) * s / np.sqrt(n2)


def test_squash_matches_the_notes_formula_and_keeps_direction():
    s = _x((5, 4), scale=3.0)
    v = F.squash(sj.tensor(s)).numpy()
    np.testing.assert_allclose(v, _squash_ref(s), rtol=1e-12)
    norms = np.linalg.norm(v, axis=-1)
    assert np.all(norms < 1)
    np.testing.assert_allclose(v / norms[:, None], s / np.linalg.norm(s, axis=-1, keepdims=True), rtol=1e-12)


def test_squash_along_another_dim_and_at_zero():
    s = _x((3, 4, 2))
    np.testing.assert_allclose(F.squash(sj.tensor(s), dim=1).numpy(),
                               _squash_ref(s.swapaxes(1, 2)).swapaxes(1, 2), rtol=1e-12)
    z = sj.zeros(2, 3, dtype=sj.float64, requires_grad=True)
    out = F.squash(z)
    out.sum().backward()
    assert np.all(out.numpy() == 0) and np.all(np.isfinite(z.grad.numpy()))


def test_squash_gradcheck():
    s = np.concatenate([_x((3, 4), seed=1), np.zeros((1, 4))])
    assert gradcheck(lambda t: F.squash(t), [sj.tensor(s, requires_grad=True)])


def test_squash_keeps_float32():
    assert F.squash(sj.randn(2, 3)).dtype == np.float32


def _routing_ref(u, iterations, mode):
    """DR-AGG written out with NumPy: b = 0; c = softmax(b); s = Σ_i c u; v = squash(s); b += v·u."""
    b = np.zeros(u.shape[:3])
    axis = 2 if mode == "standard" else 1
    for it in range(iterations):
        e = np.exp(b - b.max(axis=axis, keepdims=True))
        c = e / e.sum(axis=axis, keepdims=True)
        v = _squash_ref(np.einsum("nlm,nlmd->nmd", c, u))
        if it + 1 < iterations:
            b = b + np.einsum("nlmd,nmd->nlm", u, v)
    return v, c


@pytest.mark.parametrize("mode", ["standard", "reversed"])
def test_dynamic_routing_matches_reference(mode):
    u = _x((2, 5, 3, 4), seed=2)
    v, c = F.dynamic_routing(sj.tensor(u), 3, mode)
    v_ref, c_ref = _routing_ref(u, 3, mode)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-10)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-10)


def test_routing_coefficients_sum_to_one_over_the_right_axis():
    u = sj.tensor(_x((2, 6, 3, 4), seed=3))
    _, c = F.dynamic_routing(u, 3, "standard")
    np.testing.assert_allclose(c.numpy().sum(axis=2), 1.0, rtol=1e-12)  # over output capsules j
    assert not np.allclose(c.numpy().sum(axis=1), 1.0)
    _, c = F.dynamic_routing(u, 3, "reversed")
    np.testing.assert_allclose(c.numpy().sum(axis=1), 1.0, rtol=1e-12)  # over input capsules i
    assert not np.allclose(c.numpy().sum(axis=2), 1.0)


def test_one_iteration_routes_uniformly():
    u = _x((1, 4, 2, 3), seed=4)
    v, c = F.dynamic_routing(sj.tensor(u), 1)
    np.testing.assert_allclose(c.numpy(), 0.5)
    np.testing.assert_allclose(v.numpy(), _squash_ref(0.5 * u.sum(1)), rtol=1e-12)


@pytest.mark.parametrize("mode", ["standard", "reversed"])
def test_dynamic_routing_gradcheck(mode):
    u = sj.tensor(_x((2, 3, 2, 3), seed=5), requires_grad=True)
    assert gradcheck(lambda t: F.dynamic_routing(t, 3, mode)[0], [u])


@pytest.mark.parametrize("mode", ["standard", "reversed"])
def test_capsule_pooling_layer(mode):
    sj.manual_seed(0)
    layer = nn.CapsulePooling(6, out_caps=3, out_dim=4, mode=mode).double()
    x = sj.tensor(_x((2, 7, 6), seed=6, scale=2.0), requires_grad=True)
    v = layer(x)
    assert v.shape == (2, 3, 4)
    assert np.all(np.linalg.norm(v.numpy(), axis=-1) < 1)
    axis = 2 if mode == "standard" else 1
    np.testing.assert_allclose(layer.routing_weights.numpy().sum(axis=axis), 1.0, rtol=1e-12)
    u = np.einsum("nli,jdi->nljd", x.numpy(), layer.weight.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(v.numpy(), _routing_ref(u, 3, mode)[0], rtol=1e-10)
    assert gradcheck(lambda t, w, b: F.dynamic_routing(
        sj.einsum("nli,jdi->nljd", t, w) + b, 3, mode)[0], [x, layer.weight, layer.bias])


def test_capsule_pooling_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        nn.CapsulePooling(4, 2, 3, mode="sideways")
    with pytest.raises(ValueError, match="iterations"):
        nn.CapsulePooling(4, 2, 3, iterations=0)
    with pytest.raises(ValueError, match="shape"):
        nn.CapsulePooling(4, 2, 3)(sj.randn(2, 5, 3))
    with pytest.raises(ValueError, match="shape"):
        F.dynamic_routing(sj.randn(2, 5, 3), 3)
