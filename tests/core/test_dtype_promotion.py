"""Dtypes promote as ``torch.result_type``: a table of (dtype, 0-d or n-d, Python scalar) operand pairs
through + - * / ** maximum minimum where cat stack, compared with PyTorch by dtype name."""

import itertools
import operator

import numpy as np
import pytest

import shenjing as sj
from shenjing import _backend as B

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
TENSORS = [("tensor", d, nd) for d in DTYPES for nd in (0, 1)]
SCALARS = [("scalar", True), ("scalar", 3), ("scalar", 2.5)]
PAIRS = [(a, b) for a, b in itertools.product(TENSORS + SCALARS, repeat=2) if "tensor" in (a[0], b[0])]
TENSOR_PAIRS = [(a, b) for a, b in PAIRS if a[0] == b[0] == "tensor"]

OPS = {  # name: (op on two operands, needs tensors, operand pairs)
    "add": (operator.add, False, PAIRS),
    "sub": (operator.sub, False, PAIRS),
    "mul": (operator.mul, False, PAIRS),
    "truediv": (operator.truediv, False, PAIRS),
    "pow": (operator.pow, False, PAIRS),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), True, TENSOR_PAIRS),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), True, TENSOR_PAIRS),
    "where": (lambda lib, a, b: lib.where(lib.tensor([True, False]), a, b), True, PAIRS),
    "cat": (lambda lib, a, b: lib.cat([a, b]), True, [(a, b) for a, b in TENSOR_PAIRS if a[2] and b[2]]),
    "stack": (lambda lib, a, b: lib.stack([a, b]), True, [(a, b) for a, b in TENSOR_PAIRS if a[2] == b[2]]),
}


def operand(spec, lib):
    if spec[0] == "scalar":
        return spec[1]
    _, dtype, ndim = spec
    return lib.tensor(np.full((2,) * ndim, 2, dtype=dtype))


def outcome(name, lib, a, b):
    """The result's dtype name and values, or "RuntimeError" where the op refuses the dtypes."""
    fn, lib_level, _ = OPS[name]
    x, y = operand(a, lib), operand(b, lib)
    try:
        out = fn(lib, x, y) if lib_level else fn(x, y)
    except RuntimeError:
        return "RuntimeError", None
    values = out.double().numpy() if lib is not sj else np.array(out.numpy(), dtype=np.float64)
    return str(out.dtype).removeprefix("torch."), values


@pytest.mark.parametrize("name", OPS)
def test_result_dtype_is_torchs_over_the_grid(name, torch):
    mismatches = []
    for a, b in OPS[name][2]:
        (ours, values), (theirs, expected) = outcome(name, sj, a, b), outcome(name, torch, a, b)
        if ours != theirs or values is not None and not np.allclose(values, expected, rtol=1e-3):
            mismatches.append((a[1:], b[1:], ours, theirs))
    assert not mismatches, mismatches


def test_backend_result_type_matches_torch(torch):
    as_array = {"tensor": lambda s: np.full((2,) * s[2], 2, dtype=s[1]), "scalar": lambda s: s[1]}
    for a, b in PAIRS:
        ours = B.result_type(as_array[a[0]](a), as_array[b[0]](b))
        assert ours.name == str(torch.result_type(operand(a, torch), operand(b, torch))).removeprefix("torch."), (a, b)


def test_the_porting_examples():
    assert sj.full((2,), 7).dtype == np.int64
    assert sj.full((2,), True).dtype == np.bool_
    assert sj.full((2,), 7.0).dtype == np.float32
    assert sj.full((2,), 7, dtype=sj.float64).dtype == np.float64
    x32 = sj.ones(3)
    assert (x32 * sj.tensor(2.0, dtype=sj.float64)).dtype == np.float32
    assert (sj.tensor([1, 2]) * sj.tensor(2.0)).dtype == np.float32
    assert sj.cat([sj.tensor([1, 2]), sj.tensor([0.5])]).dtype == np.float32


def test_a_zero_dim_float64_scales_float32_with_a_float64_gradient():
    x = sj.ones(3, requires_grad=True)
    s = sj.tensor(2.0, dtype=sj.float64, requires_grad=True)
    y = x * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and s.grad.dtype == np.float64
    assert float(s.grad) == 3.0


def test_linear_on_an_int64_input_raises_as_torch(torch):
    layer = sj.nn.Linear(3, 2)
    with pytest.raises(RuntimeError):
        torch.nn.Linear(3, 2)(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="dtype"):
        layer(sj.ones(2, 3, dtype=sj.int64))
    with pytest.raises(TypeError):
        sj.ones(2, 3) @ sj.ones(3, 2, dtype=sj.float64)


def test_inplace_ops_keep_the_dtype_and_refuse_a_higher_category(torch):
    for lib in (torch, sj):
        x = lib.ones(2, dtype=lib.int64)
        with pytest.raises(RuntimeError):
            x += 1.5
        x += 2
        assert str(x.dtype).removeprefix("torch.") == "int64" and x.tolist() == [3, 3]
        y = lib.ones(2)
        y *= lib.ones(2, dtype=lib.float64)
        assert str(y.dtype).removeprefix("torch.") == "float32"
    w = sj.ones(2, requires_grad=True)
    z = w * 2
    z += sj.ones(2, dtype=sj.float64)  # recorded in the graph, still float32
    assert z.dtype == np.float32
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])
