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
