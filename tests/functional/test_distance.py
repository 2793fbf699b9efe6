"""cosine_similarity and cdist at their kinks (zero vectors, zero distances) and on bad input."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, float("inf")])
def test_cdist_of_a_set_with_itself_has_torchs_finite_gradient(torch, p):
    x = np.random.default_rng(0).standard_normal((4, 3))
    x[2] = x[1]  # a repeated row: zero distances off the diagonal too
    ours, theirs = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = sj.cdist(ours, ours, p=p), torch.cdist(theirs, theirs, p=p)
    assert_close(out, expected, "float64")
    upstream = np.random.default_rng(1).standard_normal((4, 4))
    out.backward(sj.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert np.isfinite(np.asarray(ours.grad)).all()
    assert_close(ours.grad, theirs.grad, "float64")


def test_cosine_similarity_of_a_zero_vector_is_zero_with_torchs_gradient(torch):
    a, b = np.zeros((2, 3)), np.random.default_rng(0).standard_normal((2, 3))
    a[1] = [1.0, 2.0, 3.0]
    ours = [sj.tensor(v, requires_grad=True) for v in (a, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, b)]
    out, expected = F.cosine_similarity(*ours), torch.nn.functional.cosine_similarity(*theirs)
    assert_close(out, expected, "float64")
    assert float(out[0]) == 0.0
    out.sum().backward()
    expected.sum().backward()
    for mine, ref in zip(ours, theirs):
        assert_close(mine.grad, ref.grad, "float64")


def test_cdist_names_the_shapes_and_p_it_rejects():
    with pytest.raises(ValueError, match=r"same M, got \(2, 3\) and \(2, 4\)"):
        sj.cdist(sj.ones(2, 3), sj.ones(2, 4))
    with pytest.raises(ValueError, match="p must be a non-negative number"):
        sj.cdist(sj.ones(2, 3), sj.ones(2, 3), p=-1)
