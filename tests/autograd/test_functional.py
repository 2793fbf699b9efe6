"""shenjing.autograd.functional against torch.autograd.functional (float64, 1e-10)."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.autograd.functional as AF

RNG = np.random.default_rng(0)
X, W, V3, V2 = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal(3), RNG.standard_normal(2)


def vector_fn(x, w):
    return (w @ x).tanh() * x[:2]


def scalar_fn(x, w):
    return ((w @ x).sigmoid() ** 2).sum() + (x.exp() * x).sum()


def _both(torch, *arrays):
    return tuple(sj.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def _assert_nested_close(mine, ref):
    if isinstance(ref, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(ref)
        for m, r in zip(mine, ref):
            _assert_nested_close(m, r)
    else:
        assert isinstance(mine, sj.Tensor) and mine.shape == tuple(ref.shape)
        assert_close(mine, ref.detach(), "float64")


@pytest.mark.parametrize("tuple_inputs", [False, True])
def test_jacobian_and_hessian_match_torch(tuple_inputs, torch):
    TAF = torch.autograd.functional
    ours, theirs = _both(torch, X, W)
    if not tuple_inputs:
        ours, theirs = ours[0], theirs[0]
        w_sj, w_t = sj.tensor(W), torch.tensor(W)
        vec, vec_t = (lambda x: vector_fn(x, w_sj)), (lambda x: vector_fn(x, w_t))
        sca, sca_t = (lambda x: scalar_fn(x, w_sj)), (lambda x: scalar_fn(x, w_t))
    else:
        vec = vec_t = vector_fn
        sca = sca_t = scalar_fn
    _assert_nested_close(AF.jacobian(vec, ours), TAF.jacobian(vec_t, theirs))
    _assert_nested_close(AF.hessian(sca, ours), TAF.hessian(sca_t, theirs))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_products_match_torch(name, torch):
    TAF = torch.autograd.functional
    ours, theirs = _both(torch, X, W)
    fn = scalar_fn if name in ("hvp", "vhp") else vector_fn
    v_arrays = (V2,) if name == "vjp" else (V3, RNG.standard_normal((2, 3)))
    v_ours, v_theirs = _both(torch, *v_arrays)
    if name == "vjp":
        v_ours, v_theirs = v_ours[0], v_theirs[0]
    out, result = getattr(AF, name)(fn, ours, v_ours)
    out_t, result_t = getattr(TAF, name)(fn, theirs, v_theirs)
    _assert_nested_close(out, out_t)
    _assert_nested_close(result, result_t)
    assert not any(r.requires_grad for r in (result if isinstance(result, tuple) else (result,)))


def test_create_graph_keeps_results_differentiable(torch):
    x = sj.tensor(X, requires_grad=True)
    _, hv = AF.hvp(lambda t: (t**4).sum(), x, sj.tensor(V3), create_graph=True)
    (g,) = sj.autograd.grad(hv.sum(), x)
    np.testing.assert_allclose(np.asarray(g), 24 * X * V3, rtol=1e-12)


def test_v_must_be_given_for_a_non_scalar_output():
    with pytest.raises(ValueError, match="v can be omitted only"):
        AF.vjp(lambda x: x * 2, sj.tensor(X))


def test_hessian_needs_a_scalar_function():
    with pytest.raises(ValueError, match="one element"):
        AF.hessian(lambda x: x * 2, sj.tensor(X))
