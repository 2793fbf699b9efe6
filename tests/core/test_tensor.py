"""Tensor construction, dtypes, conversions and error messages."""

import numpy as np
import pytest

import shenjing as sj


def test_python_floats_become_float32_and_arrays_keep_dtype():
    assert sj.tensor([1.0, 2.0]).dtype == sj.float32
    assert sj.tensor(3.0).dtype == sj.float32
    assert sj.tensor([1, 2]).dtype == sj.int64
    assert sj.tensor(np.zeros(2)).dtype == sj.float64
    assert sj.tensor([1.0], dtype=sj.float64).dtype == sj.float64
    assert sj.randn(2, 3).dtype == sj.float32


def test_float32_stays_float32_through_ops_with_python_scalars():
    x = sj.randn(3, 4, requires_grad=True)
    y = (2.5 * x + 1.0) / 3.0 - x**2
    y = sj.exp(sj.tanh(y)).mean(0)
    assert y.dtype == sj.float32
    y.sum().backward()
    assert x.grad.dtype == sj.float32


def test_attributes_and_conversions():
    t = sj.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6
    assert t.T.shape == (3, 2) and t.device == "cpu"
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert t.sum().item() == 21.0 and float(t[1, 2]) == 6.0
    np.testing.assert_array_equal(np.asarray(t), t.numpy())
    assert isinstance(t.numpy(), np.ndarray)
    assert t.double().dtype == sj.float64 and t.to(sj.float64).float().dtype == sj.float32
    assert "tensor(" in repr(t) and "grad_fn" in repr(sj.tensor([1.0], requires_grad=True) * 2)


def test_creation_functions():
    sj.manual_seed(0)
    a = sj.randn(3, 4)
    sj.manual_seed(0)
    assert np.array_equal(a.numpy(), sj.randn(3, 4).numpy())
    assert sj.zeros(2, 3).shape == (2, 3) and sj.ones((2, 3)).sum().item() == 6
    assert sj.arange(5).dtype == sj.int64 and sj.arange(0.0, 1.0, 0.25).shape == (4,)
    assert sj.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert sj.eye(3).numpy().trace() == 3
    r = sj.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    assert sj.zeros_like(a).shape == a.shape and sj.ones_like(a, dtype=sj.float64).dtype == sj.float64


def test_max_and_min_with_dim_return_values_and_indices():
    t = sj.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = t.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert t.min(1).indices.tolist() == [0, 1]
    assert t.max().item() == 7.0
    assert t.argmax().item() == 3 and t.argmin(dim=0).tolist() == [0, 1, 0]


def test_var_and_std_default_to_unbiased():
    data = np.array([1.0, 2.0, 4.0, 7.0])
    t = sj.tensor(data)
    assert np.isclose(t.var().item(), data.var(ddof=1))
    assert np.isclose(t.std(correction=0).item(), data.std())


def test_shape_mismatch_names_op_and_both_shapes():
    a, b = sj.ones(2, 3), sj.ones(4, 5)
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4, 5\)"):
        a + b
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(4, 5\)"):
        sj.cat([a, b], 0)
    with pytest.raises(ValueError, match=r"dot.*\(2, 3\).*\(4, 5\)"):
        sj.dot(a, b)


def test_bad_dtype_and_device_raise_type_error():
    with pytest.raises(TypeError, match="floating"):
        sj.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="cannot build a tensor"):
        sj.tensor(["a", "b"])
    with pytest.raises(TypeError, match="dtype"):
        sj.zeros(2, dtype="complex128")
    with pytest.raises(TypeError, match="device"):
        sj.zeros(2, device="tpu")


def test_index_errors_name_the_shape():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        sj.ones(2, 3)[5]


def test_in_place_write_on_leaf_requiring_grad_is_refused():
    w = sj.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in place"):
        w.zero_()
    with sj.no_grad():
        w.fill_(2.0)
        w[0] = 5.0
    assert w.tolist() == [5.0, 2.0, 2.0]


def test_comparisons_give_boolean_tensors_without_grad():
    x = sj.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == sj.bool_ and mask.grad_fn is None
    assert (x == 2.0).tolist() == [False, True, False]


def test_tensors_are_hashable_by_identity():
    a, b = sj.ones(2), sj.ones(2)
    assert len({a, b}) == 2


def test_split_and_stack_round_trip():
    x = sj.arange(12.0).reshape(3, 4)
    parts = sj.split(x, [1, 3], dim=1)
    assert [p.shape for p in parts] == [(3, 1), (3, 3)]
    np.testing.assert_array_equal(sj.cat(parts, dim=1).numpy(), x.numpy())
    with pytest.raises(ValueError, match="add up"):
        sj.split(x, [1, 2], dim=1)


def test_numpy_scalars_do_not_upcast_float32():
    x = sj.ones(3)
    assert (np.float64(2.0) * x).dtype == sj.float32
    assert (x + np.float64(1.5)).dtype == sj.float32
    assert (x / np.float32(2.0)).dtype == sj.float32
