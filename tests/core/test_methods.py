"""Tensor methods PyTorch users reach for, against PyTorch."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing.autograd import gradcheck


def pair(torch, shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return sj.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


@pytest.mark.parametrize("name, ours, theirs", [
    ("cumsum", lambda t: t.cumsum(1), lambda t: t.cumsum(1)),
    ("gather", lambda t: t.gather(1, np.array([[0, 0, 2], [3, 1, 1], [2, 2, 2]])),
     lambda t: t.gather(1, __import__("torch").tensor([[0, 0, 2], [3, 1, 1], [2, 2, 2]]))),
    ("topk", lambda t: t.topk(2, dim=1).values, lambda t: t.topk(2, dim=1).values),
    ("sort", lambda t: t.sort(dim=0, descending=True).values, lambda t: t.sort(dim=0, descending=True).values),
    ("softmax", lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    ("log_softmax", lambda t: t.log_softmax(0), lambda t: t.log_softmax(0)),
    ("norm", lambda t: t.norm(), lambda t: t.norm()),
    ("norm_dim_p1", lambda t: t.norm(p=1, dim=1), lambda t: t.norm(p=1, dim=1)),
    ("t", lambda t: t.t(), lambda t: t.t()),
    ("flip", lambda t: t.flip(1), lambda t: t.flip(1)),
    ("unbind", lambda t: t.unbind(1)[2], lambda t: t.unbind(1)[2]),
    ("masked_fill", lambda t: t.masked_fill(t > 0, 0.5), lambda t: t.masked_fill(t > 0, 0.5)),
    ("square", lambda t: t.square(), lambda t: t.square()),
    ("var_positional_unbiased", lambda t: t.var(0, False), lambda t: t.var(0, False)),
])
def test_method_matches_torch(torch, name, ours, theirs):
    x, tx = pair(torch, (3, 4))
    out, expected = ours(x), theirs(tx)
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_close(x.grad, tx.grad)


def test_gather_and_cumsum_gradcheck():
    x = sj.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    index = np.array([[0, 0], [3, 1], [2, 2]])
    assert gradcheck(lambda t: t.gather(1, index), [x])
    assert gradcheck(lambda t: t.cumsum(0), [x])


def test_conversions_and_predicates():
    t = sj.tensor([[1.5, -2.0], [0.0, 3.0]])
    assert t.long().dtype == sj.int64 and t.int().dtype == sj.int32 and t.bool().dtype == sj.bool_
    assert t.long().tolist() == [[1, -2], [0, 3]] and t.type() == "shenjing.float32"
    assert bool((t > 2).any()) and not bool((t > 2).all())
    assert t.isnan().tolist() == [[False, False], [False, False]]
    assert t.view_as(sj.zeros(4)).shape == (4,) and t[0].expand_as(t).shape == (2, 2)
    assert t.new_zeros(3).dtype == sj.float32 and t.new_ones((2, 1)).tolist() == [[1.0], [1.0]]
    assert t.eq(t).all().item() and t.contiguous() is t


def test_numpy_spellings_of_dim():
    a, b = sj.ones(2, 3), sj.zeros(2, 3)
    assert sj.concatenate([a, b], axis=1).shape == (2, 6)
    assert sj.stack([a, b], axis=2).shape == (2, 3, 2)
    assert [p.shape for p in sj.split(sj.ones(4, 2), 2, axis=0)] == [(2, 2), (2, 2)]


def test_out_of_range_dim_is_an_index_error():
    with pytest.raises(IndexError, match="out of range"):
        sj.ones(2, 3).sum(dim=5)


def test_backward_takes_pytorchs_gradient_keyword():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(gradient=sj.tensor([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])


def test_save_for_backward_and_bare_no_grad_decorator():
    class Cube(sj.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * grad

    x = sj.tensor([2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.item() == 12.0

    @sj.no_grad
    def doubled(t):
        return t * 2

    assert doubled(x).grad_fn is None

    @sj.detect_anomaly()
    def sqrt_of(t):
        return sj.sqrt(t)

    with np.errstate(invalid="ignore"), pytest.raises(RuntimeError, match="Sqrt"):
        sqrt_of(sj.tensor([-1.0]))
