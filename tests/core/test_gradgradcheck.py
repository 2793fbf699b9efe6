"""Every core op is twice differentiable: float64 second derivatives against central differences of the
first, and against PyTorch's (``torch.autograd.grad(..., create_graph=True)`` twice)."""

import numpy as np
import pytest
from helpers import RawCube, assert_close
from op_table import CASES, make_inputs

import shenjing as sj
from shenjing.autograd import GradcheckError, gradcheck, gradgradcheck


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck(case, device):
    _, fn, _, shapes, domain = case
    inputs = [sj.tensor(a, requires_grad=True, device=device) for a in make_inputs(shapes, domain)]
    assert gradgradcheck(fn, inputs)


def _second_derivatives(lib, fn, tensors, upstream, probe):
    out = fn(*tensors)
    grads = lib.autograd.grad(out, tensors, upstream, create_graph=True, allow_unused=True)
    total = sum((g * p).sum() for g, p in zip(grads, probe) if g is not None and g.requires_grad)
    if not isinstance(total, lib.Tensor):
        return [None] * len(tensors)
    return lib.autograd.grad(total, tensors, allow_unused=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_torch(case, dtype, torch, device):
    _, fn, torch_fn, shapes, domain = case
    arrays = make_inputs(shapes, domain, dtype=np.dtype(dtype), seed=1)
    rng = np.random.default_rng(2)
    upstream = rng.standard_normal(np.shape(torch_fn(*[torch.tensor(a) for a in arrays]))).astype(dtype)
    probe = [rng.standard_normal(a.shape).astype(dtype) for a in arrays]
    ours = [sj.tensor(a, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    mine = _second_derivatives(sj, fn, ours, sj.tensor(upstream, device=device),
                               [sj.tensor(p, device=device) for p in probe])
    try:
        ref = _second_derivatives(torch, torch_fn, theirs, torch.tensor(upstream), [torch.tensor(p) for p in probe])
    except NotImplementedError as err:  # e.g. cdist with p = 3 or inf: PyTorch has no double backward
        pytest.skip(f"PyTorch gives no second derivative to compare with: {err}")
    for m, r in zip(mine, ref):
        if r is None:
            assert m is None or not np.asarray(m).any()
        else:
            expected = r.detach().numpy(force=True)  # torch may answer with a lazy ZeroTensor
            # float32 sums of many second-order terms: absolute error relative to the largest entry
            scale = {} if dtype == "float64" else {"atol": 1e-6 * max(1.0, float(np.abs(expected).max()))}
            assert_close(m if m is not None else np.zeros(r.shape), expected, dtype, **scale)


ELEMENTWISE = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "pow_tensor", "div_bcast", "rpow"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_third_derivatives_of_elementwise_ops_match_torch(name, torch):
    _, fn, torch_fn, shapes, domain = next(c for c in CASES if c[0] == name)
    arrays = make_inputs(shapes, domain or "pos", seed=3)

    def third(lib, f, tensors):
        total = f(*tensors).sum()
        for _ in range(3):
            grads = lib.autograd.grad(total, tensors, create_graph=True)
            total = sum((g * g).sum() for g in grads) if _ < 2 else total
            if _ == 2:
                return grads

    mine = third(sj, fn, [sj.tensor(a, requires_grad=True) for a in arrays])
    ref = third(torch, torch_fn, [torch.tensor(a, requires_grad=True) for a in arrays])
    for m, r in zip(mine, ref):
        assert_close(m, r.detach(), "float64")


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class WrongCube(RawCube):
        differentiable_backward = True  # wrongly: np.square turns the saved input into a constant

        @staticmethod
        def backward(ctx, grad):
            return 3 * np.square(ctx.x) * grad

    x = sj.tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert gradcheck(WrongCube.apply, [x])
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongCube.apply, [x])


def test_deformable_convolution_is_twice_differentiable():
    rng = np.random.default_rng(4)
    x, offset, weight = (sj.tensor(a, requires_grad=True) for a in (
        rng.standard_normal((1, 2, 4, 4)), 0.7 * rng.standard_normal((1, 8, 3, 3)), rng.standard_normal((3, 2, 2, 2))))
    assert gradgradcheck(lambda x, o, w: sj.nn.functional.deform_conv2d(x, o, w) ** 2, [x, offset, weight])


@pytest.mark.parametrize("mode,gates", [("rnn_tanh", 1), ("rnn_relu", 1), ("gru", 3), ("lstm", 4)])
def test_bidirectional_recurrent_layers_are_twice_differentiable(mode, gates):
    rng = np.random.default_rng(5)
    shapes = [(gates * 2, 3), (gates * 2, 2), (gates * 2,), (gates * 2,)] * 2
    weights = [sj.tensor(0.5 * rng.standard_normal(s), requires_grad=True) for s in shapes]
    x = sj.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)

    def fn(x, *weights):
        out, state = sj.nn.functional.recurrent_layers(x, None, list(weights), mode=mode, bidirectional=True)
        h_n = state[0] if mode == "lstm" else state
        return (out**2).sum() + (h_n**2).sum()

    assert gradgradcheck(fn, [x, *weights])


def test_gradgradcheck_takes_the_upstream_gradient():
    x = sj.tensor(np.array([0.4, -0.7, 1.1]), requires_grad=True)
    assert gradgradcheck(lambda t: t.sin() * t, [x], grad_outputs=[np.array([1.0, -2.0, 0.5], dtype=np.float32)])


@pytest.mark.parametrize("mode,size", [("bilinear", None), ("nearest", (5, 7))])
def test_resampling_is_twice_differentiable(mode, size):
    x = sj.tensor(np.random.default_rng(6).standard_normal((1, 2, 3, 4)), requires_grad=True)
    scale = None if size else 2
    assert gradgradcheck(lambda t: sj.nn.functional.interpolate(t, size, scale, mode=mode) ** 2, [x])
