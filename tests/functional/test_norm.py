"""Normalisation functions: PyTorch parity of values, gradients and running statistics; gradchecks."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

RNG = np.random.default_rng(0)


def _pair(torch, x, dtype="float64"):
    return sj.tensor(x.astype(dtype), requires_grad=True), torch.tensor(x.astype(dtype), requires_grad=True)


def _backward_both(torch, out_a, out_b, seed=1):
    g = np.random.default_rng(seed).standard_normal(out_a.shape).astype(out_a.dtype)
    out_a.backward(g)
    out_b.backward(torch.tensor(g))


def _check_outputs_stats_grads(torch, outputs, stats, inputs):
    """Outputs, updated running statistics and the inputs' gradients all equal PyTorch's."""
    out_a, out_b = outputs
    assert_close(out_a, out_b)
    for ours, theirs in stats:
        assert_close(ours, theirs)
    _backward_both(torch, out_a, out_b)
    for ours, theirs in inputs:
        assert_close(ours.grad, theirs.grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_parity(torch, shape, training, dtype):
    x = RNG.standard_normal(shape) * 2 + 1
    c = shape[1]
    xa, xb = _pair(torch, x, dtype)
    wa, wb = _pair(torch, RNG.random(c) + 0.5, dtype)
    ba, bb = _pair(torch, RNG.standard_normal(c), dtype)
    stats = RNG.standard_normal(c), RNG.random(c) + 0.5
    rma, rva = (sj.tensor(s.astype(dtype)) for s in stats)
    rmb, rvb = (torch.tensor(s.astype(dtype)) for s in stats)
    out_a = F.batch_norm(xa, rma, rva, wa, ba, training=training, momentum=0.3, eps=1e-3)
    out_b = torch.nn.functional.batch_norm(xb, rmb, rvb, wb, bb, training=training, momentum=0.3, eps=1e-3)
    _check_outputs_stats_grads(torch, (out_a, out_b), [(rma, rmb), (rva, rvb)], [(xa, xb), (wa, wb), (ba, bb)])


def test_batch_norm_running_var_is_unbiased():
    x = RNG.standard_normal((5, 2))
    rm, rv = sj.zeros(2, dtype="float64"), sj.ones(2, dtype="float64")
    F.batch_norm(sj.tensor(x), rm, rv, training=True, momentum=1.0)
    assert_close(rm, x.mean(0))
    assert_close(rv, x.var(0, ddof=1))


def test_batch_norm_training_output_is_standardised():
    x = sj.tensor(RNG.standard_normal((64, 3, 4, 4)) * 5 + 3)
    out = F.batch_norm(x, None, None, training=True, eps=1e-12).numpy()
    assert np.abs(out.mean((0, 2, 3))).max() < 1e-10
    assert np.abs(out.var((0, 2, 3)) - 1).max() < 1e-8


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value"):
        F.batch_norm(sj.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean"):
        F.batch_norm(sj.randn(4, 3), None, None, training=False)
    with pytest.raises(ValueError, match="weight"):
        F.batch_norm(sj.randn(4, 3), None, None, weight=sj.ones(2), training=True)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    x = sj.tensor(RNG.standard_normal((4, 3, 2)), requires_grad=True)
    w = sj.tensor(RNG.random(3) + 0.5, requires_grad=True)
    b = sj.tensor(RNG.standard_normal(3), requires_grad=True)
    rm, rv = sj.tensor(RNG.standard_normal(3)), sj.tensor(RNG.random(3) + 0.5)
    assert gradcheck(lambda *a: F.batch_norm(*a[:1], rm, rv, *a[1:], training=training, momentum=0.0), [x, w, b])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer_norm_parity(torch, dtype):
    x = RNG.standard_normal((3, 4, 5))
    xa, xb = _pair(torch, x, dtype)
    wa, wb = _pair(torch, RNG.random((4, 5)) + 0.5, dtype)
    ba, bb = _pair(torch, RNG.standard_normal((4, 5)), dtype)
    out_a, out_b = F.layer_norm(xa, (4, 5), wa, ba), torch.nn.functional.layer_norm(xb, (4, 5), wb, bb)
    assert_close(out_a, out_b)
    _backward_both(torch, out_a, out_b)
    for a, b in ((xa, xb), (wa, wb), (ba, bb)):
        assert_close(a.grad, b.grad)


def test_layer_norm_gradcheck_and_shape_error():
    x = sj.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    w = sj.tensor(RNG.random(4) + 0.5, requires_grad=True)
    b = sj.tensor(RNG.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda *a: F.layer_norm(a[0], 4, a[1], a[2]), [x, w, b])
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, (5,))


def test_instance_norm_parity_with_running_stats(torch):
    x = RNG.standard_normal((3, 2, 4, 5))
    xa, xb = _pair(torch, x)
    wa, wb = _pair(torch, RNG.random(2) + 0.5)
    ba, bb = _pair(torch, RNG.standard_normal(2))
    rma, rva = sj.zeros(2, dtype="float64"), sj.ones(2, dtype="float64")
    rmb, rvb = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    out_a = F.instance_norm(xa, rma, rva, wa, ba, momentum=0.2)
    out_b = torch.nn.functional.instance_norm(xb, rmb, rvb, wb, bb, momentum=0.2)
    _check_outputs_stats_grads(torch, (out_a, out_b), [(rma, rmb), (rva, rvb)], [(xa, xb), (wa, wb), (ba, bb)])
    evald = F.instance_norm(sj.tensor(x), rma, rva, use_input_stats=False)
    assert_close(evald, torch.nn.functional.instance_norm(torch.tensor(x), rmb, rvb, use_input_stats=False))


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm_parity(torch, groups):
    x = RNG.standard_normal((2, 4, 3, 3))
    xa, xb = _pair(torch, x)
    wa, wb = _pair(torch, RNG.random(4) + 0.5)
    ba, bb = _pair(torch, RNG.standard_normal(4))
    out_a, out_b = F.group_norm(xa, groups, wa, ba), torch.nn.functional.group_norm(xb, groups, wb, bb)
    assert_close(out_a, out_b)
    _backward_both(torch, out_a, out_b)
    for a, b in ((xa, xb), (wa, wb), (ba, bb)):
        assert_close(a.grad, b.grad)


def test_instance_and_group_norm_gradcheck():
    x = sj.tensor(RNG.standard_normal((2, 4, 3)), requires_grad=True)
    w = sj.tensor(RNG.random(4) + 0.5, requires_grad=True)
    b = sj.tensor(RNG.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda *a: F.group_norm(a[0], 2, a[1], a[2]), [x, w, b])
    assert gradcheck(lambda *a: F.instance_norm(a[0], weight=a[1], bias=a[2]), [x, w, b])
    with pytest.raises(ValueError, match="num_groups"):
        F.group_norm(x, 3)
