"""Values and gradients of every core op equal PyTorch's (1e-10 in float64, 1e-5 in float32)."""

import numpy as np
import pytest
from helpers import assert_close
from op_table import CASES, make_inputs

import shenjing as sj


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_value_and_grad_match_torch(case, dtype, torch, device):
    _, fn, torch_fn, shapes, domain = case
    arrays = make_inputs(shapes, domain, dtype=np.dtype(dtype), seed=1)
    ours = [sj.tensor(a, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), torch_fn(*theirs)
    assert out.dtype == np.dtype(dtype)
    assert_close(out, expected, dtype)
    upstream = np.random.default_rng(2).standard_normal(expected.shape).astype(dtype)
    assert out.device == device
    out.backward(sj.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    for mine, ref in zip(ours, theirs):
        assert_close(mine.grad, ref.grad, dtype)


def test_seed_dot_example_shapes_and_values():
    """Seed 000 §1.2.3: np.dot of (2, 4, 6) and (6, 2) gives (2, 4, 2)."""
    x1 = np.random.default_rng(0).integers(10, size=(2, 4, 6))
    x2 = np.random.default_rng(1).integers(10, size=(6, 2))
    out = sj.dot(sj.tensor(x1), sj.tensor(x2))
    assert out.shape == (2, 4, 2)
    np.testing.assert_array_equal(out.numpy(), np.dot(x1, x2))


@pytest.mark.parametrize("shapes", [((3, 4, 5), (2, 5, 6)), ((5,), (3, 5, 2)), ((2, 3), (3,))])
def test_dot_matches_numpy_nd(shapes):
    a, b = (np.random.default_rng(i).standard_normal(s) for i, s in enumerate(shapes))
    assert_close(sj.dot(sj.tensor(a), sj.tensor(b)), np.dot(a, b))


def test_seed_broadcast_example():
    """Seed 000 §1.2.2: (2, 4, 6) + (4, 6) broadcasts to (2, 4, 6); the small operand's grad sums the copies."""
    x1 = sj.tensor(np.ones((2, 4, 6)), requires_grad=True)
    x2 = sj.tensor(np.ones((4, 6)), requires_grad=True)
    (x1 + x2).sum().backward()
    assert x2.grad.shape == (4, 6)
    np.testing.assert_array_equal(x2.grad.numpy(), np.full((4, 6), 2.0))
