"""Reductions at their kinks: the gradients of norm, std, var, dist and normalize where the norm or
the spread is zero are PyTorch's (finite), and no NumPy warning escapes."""

import warnings

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F

ZERO_ROW = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
CONSTANT_ROW = np.array([[3.0, 3.0, 3.0], [1.0, -2.0, 2.0]])

KINKS = [  # id, input, op(x, F) written once for both libraries (F is their functional module)
    ("norm_all_zero", np.zeros(2), lambda x, F: x.norm()),
    ("norm_rows", ZERO_ROW, lambda x, F: x.norm(dim=1)),
    ("norm_p1", ZERO_ROW, lambda x, F: x.norm(1, dim=1)),
    ("norm_p3", ZERO_ROW, lambda x, F: x.norm(3, dim=1)),
    ("norm_inf", ZERO_ROW, lambda x, F: x.norm(float("inf"), dim=1)),
    ("std_all_equal", np.ones(3), lambda x, F: x.std()),
    ("std_rows", CONSTANT_ROW, lambda x, F: x.std(1)),
    ("std_biased", CONSTANT_ROW, lambda x, F: x.std(1, unbiased=False)),
    ("var_rows", CONSTANT_ROW, lambda x, F: x.var(1)),
    ("dist_equal", ZERO_ROW, lambda x, F: x.dist(x * 1.0)),
    ("dist_equal_rows", CONSTANT_ROW, lambda x, F: x.dist(x[:1].expand(2, 3) * 1.0, 3)),
    ("normalize_zero_row", ZERO_ROW, lambda x, F: F.normalize(x, dim=1)),
    ("normalize_p1", ZERO_ROW, lambda x, F: F.normalize(x, p=1, dim=1)),
]


@pytest.mark.parametrize("case", KINKS, ids=[c[0] for c in KINKS])
def test_gradient_at_the_kink_is_torchs(case, torch):
    _, array, op = case
    ours = sj.tensor(array, requires_grad=True)
    theirs = torch.tensor(array, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning may escape
        out = op(ours, F)
        out.sum().backward()
    expected = op(theirs, torch.nn.functional)
    expected.sum().backward()
    assert_close(out, expected)
    assert np.isfinite(ours.grad.numpy()).all()
    assert_close(ours.grad, theirs.grad)


def test_zero_norm_backward_is_zero_as_in_the_issue():
    x = sj.zeros(2, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 0.0])
    y = sj.ones(3, requires_grad=True)
    y.std().backward()
    np.testing.assert_array_equal(np.asarray(y.grad), [0.0, 0.0, 0.0])


def test_norm_spellings_and_bad_p(torch):
    a = np.random.default_rng(0).standard_normal((3, 4))
    for ours, theirs in [(sj.norm(sj.tensor(a), "fro"), torch.norm(torch.tensor(a), "fro")),
                         (sj.norm(sj.tensor(a), 2, 0, True), torch.norm(torch.tensor(a), 2, 0, True)),
                         (sj.tensor(a).norm(dim=(0, 1)), torch.tensor(a).norm(dim=(0, 1)))]:
        assert_close(ours, theirs)
    with pytest.raises(ValueError, match="p must be"):
        sj.tensor(a).norm(-1)
    with pytest.raises(ValueError, match="p must be"):
        sj.tensor(a).norm("nuc")


def pair(torch, array):
    return sj.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def test_cumprod_gradient_through_zeros_is_torchs(torch):
    a = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.5, -1.0, 0.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    ours, theirs = pair(torch, a)
    upstream = np.random.default_rng(0).standard_normal(a.shape)
    out, expected = ours.cumprod(1), theirs.cumprod(1)
    assert_close(out, expected)
    out.backward(sj.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert_close(ours.grad, theirs.grad)
    assert_close(sj.cumprod(sj.tensor([1, 2, 3]), 0), torch.cumprod(torch.tensor([1, 2, 3]), 0))


def test_median_is_the_lower_median_with_its_index(torch):
    a = np.array([[4.0, 1.0, 3.0, 2.0], [0.5, 9.0, -1.0, 7.0]])
    assert_close(sj.tensor(a).median(), torch.tensor(a).median())
    for keepdim in (False, True):
        ours, theirs = sj.median(sj.tensor(a), 1, keepdim), torch.median(torch.tensor(a), 1, keepdim)
        assert_close(ours.values, theirs.values)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        assert ours.indices.dtype == np.int64


def test_argsort_unique_and_bincount_match_torch(torch):
    a = np.array([[3.0, -1.0, 2.5], [0.0, 7.0, -4.0]])
    for kw in ({}, {"dim": 0}, {"descending": True}):
        np.testing.assert_array_equal(sj.tensor(a).argsort(**kw).numpy(), torch.tensor(a).argsort(**kw).numpy())
    b = np.array([[3, 1, 3], [2, 1, 7]])
    values, inverse, counts = sj.unique(sj.tensor(b), return_inverse=True, return_counts=True)
    t_values, t_inverse, t_counts = torch.unique(torch.tensor(b), return_inverse=True, return_counts=True)
    for x, y in ((values, t_values), (inverse, t_inverse), (counts, t_counts)):
        assert x.dtype.name == str(y.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert_close(sj.tensor(b).unique(), torch.tensor(b).unique())
    c = np.array([0, 2, 2, 5])
    for weights in (None, np.array([0.5, 1.0, 2.0, 0.25], np.float32), np.array([1.0, 2.0, 3.0, 4.0])):
        ours = sj.bincount(sj.tensor(c), None if weights is None else sj.tensor(weights), minlength=8)
        theirs = torch.bincount(torch.tensor(c), None if weights is None else torch.tensor(weights), minlength=8)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert_close(ours, theirs)
    with pytest.raises(ValueError, match="1-d integer"):
        sj.bincount(sj.tensor([1.0, 2.0]))


def test_scatter_forms_match_torch(torch):
    index = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])
    base, src = np.zeros((3, 4)), np.arange(20.0).reshape(4, 5)
    assert_close(sj.tensor(base).scatter(0, sj.tensor(index), sj.tensor(src)),
                 torch.tensor(base).scatter(0, torch.tensor(index), torch.tensor(src)))
    assert_close(sj.tensor(base).scatter(1, sj.tensor(index[:, :3]), 2.5),
                 torch.tensor(base).scatter(1, torch.tensor(index[:, :3]), 2.5))
    ours = sj.tensor(base)
    alias = ours
    ours.scatter_add_(0, sj.tensor(index), sj.tensor(src))
    assert ours is alias
    assert_close(ours, torch.tensor(base).scatter_add_(0, torch.tensor(index), torch.tensor(src)))
    ours.index_add_(1, sj.tensor([3, 3]), sj.tensor(np.ones((3, 2))), alpha=2)
    expected = torch.tensor(base).scatter_add_(0, torch.tensor(index), torch.tensor(src))
    assert_close(ours, expected.index_add_(1, torch.tensor([3, 3]), torch.ones(3, 2, dtype=torch.float64), alpha=2))
    with pytest.raises(ValueError, match="index"):
        sj.tensor(base).scatter(0, sj.tensor(index[0]), 1.0)
