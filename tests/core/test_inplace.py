"""In-place updates (``x[i] = v``, ``x += y``, ``add_`` ...) with PyTorch's semantics."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing.autograd import gradcheck


def test_sgd_loop_with_in_place_updates_under_no_grad():
    w = sj.tensor([1.0, 2.0], requires_grad=True)
    alias = w
    (w * w).sum().backward()
    with sj.no_grad():
        w -= 0.1 * w.grad
    assert w is alias and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.6, 3.2])


def test_in_place_on_a_leaf_requiring_grad_is_refused():
    w = sj.tensor([1.0], requires_grad=True)
    for update in (lambda: w.add_(1.0), lambda: w.__iadd__(1.0), lambda: w.__setitem__(0, 2.0), w.zero_):
        with pytest.raises(RuntimeError, match="in place"):
            update()


def test_setitem_on_a_graph_tensor_is_recorded(torch):
    x = sj.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[0] = 0.0
    y.sum().backward()
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ty = tx * 2
    ty[0] = 0.0
    ty.sum().backward()
    assert_close(x.grad, tx.grad)


def test_setitem_of_a_value_that_requires_grad():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    z = sj.zeros(3, dtype=sj.float32)
    z[1] = x[0] * 5
    assert z.requires_grad
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 0.0])


def test_in_place_arithmetic_on_a_non_leaf_keeps_earlier_uses_intact():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * 3  # uses y before the update
    y += x  # y = 3x from here on
    (z.sum() + (y * y).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 + 18 * x.numpy())


def test_setitem_gradcheck():
    def f(x, v):
        y = x * 1.0
        y[1:, 0] = v
        return y * y

    x = sj.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    v = sj.tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert gradcheck(f, [x, v])


def test_tensor_copies_its_input_like_torch_tensor():
    data = np.array([1.0, 2.0])
    t = sj.tensor(data)
    t[0] = 5.0
    assert data[0] == 1.0
    shared = sj.from_numpy(data)
    shared[1] = 7.0
    assert data[1] == 7.0


def test_in_place_methods_and_random_fills():
    t = sj.zeros(2, 3)
    t.add_(1.0).mul_(4.0).sub_(1.0).div_(3.0)
    np.testing.assert_allclose(t.numpy(), np.ones((2, 3)))
    t.clamp_(max=0.5)
    assert t.max().item() == 0.5
    sj.manual_seed(0)
    u = sj.empty(1000).uniform_(-2.0, 3.0)
    assert -2.0 <= u.numpy().min() and u.numpy().max() < 3.0 and u.dtype == sj.float32
    n = sj.empty(20000).normal_(1.0, 2.0)
    assert abs(n.numpy().mean() - 1.0) < 0.1 and abs(n.numpy().std() - 2.0) < 0.1
    t.copy_(np.arange(3.0))
    np.testing.assert_array_equal(t.numpy(), [[0, 1, 2], [0, 1, 2]])
    with pytest.raises(ValueError):
        t.copy_(np.ones(4))


def test_integer_tensors_promote_to_float32_for_float_math():
    ints = sj.tensor([1, 2])
    assert (ints + 0.5).dtype == sj.float32 and (ints / 2).dtype == sj.float32
    assert ints.exp().dtype == sj.float32 and (ints * 2).dtype == sj.int64


def test_products_of_mixed_float_dtypes_raise_type_error():
    with pytest.raises(TypeError, match="same dtype"):
        sj.ones(2, 3) @ sj.ones(3, 2, dtype=sj.float64)
    layer = sj.nn.Linear(3, 2)
    with pytest.raises(TypeError, match="same dtype"):
        layer(sj.ones(4, 3, dtype=sj.float64))
