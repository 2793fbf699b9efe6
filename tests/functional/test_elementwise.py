"""Operators ``& | ^ ~ // %`` (and their in-place forms), fmod, the logical ops and ``__format__``
against PyTorch: values, dtypes by name and exception classes."""

import operator

import numpy as np
import pytest

import shenjing as sj

BOOLS = [np.array([True, False, True, False]), np.array([True, True, False, False])]
INTS = [np.array([5, -3, 7, 0, -8]), np.array([2, 2, -3, 4, -3])]
FLOATS = [np.array([5.5, -3.25, 7.0, 0.0, -8.5]), np.array([2.0, 2.0, -3.0, 4.0, -3.0])]
BINARY = {"and": operator.and_, "or": operator.or_, "xor": operator.xor, "floordiv": operator.floordiv,
          "mod": operator.mod}


def same(ours, theirs):
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours.numpy(), dtype=np.float64), theirs.double().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("pair", [BOOLS, INTS, FLOATS], ids=["bool", "int64", "float64"])
def test_binary_operators_match_torch(torch, name, pair):
    op = BINARY[name]
    a, b = pair
    scalar = b[1].item()
    forms = [(sj.tensor(b), torch.tensor(b)), (sj.tensor(b[1]), torch.tensor(b[1])), (scalar, scalar)]
    for ours_b, theirs_b in forms:  # a tensor, a 0-d tensor and a Python scalar on the right
        try:
            expected = op(torch.tensor(a), theirs_b)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                op(sj.tensor(a), ours_b)
            continue
        same(op(sj.tensor(a), ours_b), expected)


@pytest.mark.parametrize("name", ["and", "or", "xor", "mod", "floordiv"])
def test_reflected_operators_with_a_python_scalar(torch, name):
    op = BINARY[name]
    a = INTS[1]
    same(op(7, sj.tensor(a)), op(7, torch.tensor(a)))
    if name in ("and", "or", "xor"):
        same(op(True, sj.tensor(BOOLS[0])), op(True, torch.tensor(BOOLS[0])))


@pytest.mark.parametrize("name, inplace", [("and", operator.iand), ("or", operator.ior), ("xor", operator.ixor),
                                           ("mod", operator.imod), ("floordiv", operator.ifloordiv)])
def test_inplace_forms_write_into_the_same_tensor(torch, name, inplace):
    pairs = [BOOLS, INTS] if name in ("and", "or", "xor") else [INTS, FLOATS]
    for a, b in pairs:
        ours, theirs = sj.tensor(a), torch.tensor(a)
        alias = ours
        ours = inplace(ours, sj.tensor(b))
        theirs = inplace(theirs, torch.tensor(b))
        assert ours is alias
        same(ours, theirs)


def test_invert(torch):
    for a in (BOOLS[0], INTS[0]):
        same(~sj.tensor(a), ~torch.tensor(a))
    with pytest.raises(TypeError):
        ~torch.tensor(FLOATS[0])
    with pytest.raises(TypeError):
        ~sj.tensor(FLOATS[0])


def test_float_bitwise_and_integer_division_by_zero_raise_runtime_errors(torch):
    for lib in (torch, sj):
        with pytest.raises(RuntimeError):
            lib.tensor(FLOATS[0]) & lib.tensor(FLOATS[1])
        with pytest.raises(RuntimeError):
            lib.tensor(INTS[0]) // 0
        with pytest.raises(RuntimeError):
            lib.tensor(BOOLS[0]) // lib.tensor(BOOLS[1])


def test_float_division_by_zero_gives_infs_and_nans_without_warnings(torch):
    with np.errstate(all="raise"):
        same(sj.tensor(FLOATS[0]) // 0.0, torch.tensor(FLOATS[0]) // 0.0)
        ours, theirs = sj.tensor(FLOATS[0]) % 0.0, torch.tensor(FLOATS[0]) % 0.0
    assert np.isnan(ours.numpy()).all() and theirs.isnan().all()


@pytest.mark.parametrize("fn", ["remainder", "fmod"])
def test_modulo_gradients_match_torch(torch, fn):
    a, b = FLOATS[0] + 0.1, FLOATS[1]
    ours = [sj.tensor(x, requires_grad=True) for x in (a, b)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (a, b)]
    out, expected = getattr(sj, fn)(*ours), getattr(torch, fn)(*theirs)
    same(out, expected.detach())
    out.sum().backward()
    expected.sum().backward()
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-10)


def test_floor_divide_has_no_gradient_as_in_torch(torch):
    with pytest.raises(RuntimeError):
        (torch.tensor(FLOATS[0], requires_grad=True) // 2).sum().backward()
    with pytest.raises(RuntimeError):
        (sj.tensor(FLOATS[0], requires_grad=True) // 2).sum().backward()


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops(torch, name):
    for a, b in (BOOLS, INTS, FLOATS):
        same(getattr(sj, name)(sj.tensor(a), sj.tensor(b)), getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
        same(getattr(sj.tensor(a), name)(sj.tensor(b)), getattr(torch.tensor(a), name)(torch.tensor(b)))
    same(sj.logical_not(sj.tensor(FLOATS[0])), torch.logical_not(torch.tensor(FLOATS[0])))


def test_format_like_torch(torch):
    for spec in (".3f", "", "8.2e", ">10"):
        assert format(sj.tensor(1.23456), spec) == format(torch.tensor(1.23456), spec)
    for spec in ("d", "04d", ""):
        assert format(sj.tensor(7), spec) == format(torch.tensor(7), spec)
    loss = (sj.tensor([1.0, 2.0]) ** 2).mean()
    assert f"loss {loss:.3f}" == "loss 2.500"
    assert f"{sj.tensor([1.5, 2.0])}" == str(sj.tensor([1.5, 2.0]))
    for lib in (torch, sj):
        with pytest.raises(TypeError):
            format(lib.tensor([1.5]), ".3f")


SPECIAL = np.array([1.5, -np.inf, np.nan, 0.0, np.inf, -2.5])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "sign", "floor", "ceil", "trunc", "round"])
def test_tests_and_steps_match_torch(torch, name):
    same(getattr(sj, name)(sj.tensor(SPECIAL)), getattr(torch, name)(torch.tensor(SPECIAL)))
    same(getattr(sj.tensor(INTS[0]), name)(), getattr(torch.tensor(INTS[0]), name)())


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_steps_have_zero_gradients_as_in_torch(torch, name):
    ours, theirs = sj.tensor(FLOATS[0], requires_grad=True), torch.tensor(FLOATS[0], requires_grad=True)
    (getattr(ours, name)() * ours).sum().backward()
    (getattr(theirs, name)() * theirs).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)


def test_round_to_decimals_is_half_to_even(torch):
    a = np.array([0.125, 2.5, -1.375, 3.14159])
    same(sj.round(sj.tensor(a), decimals=2), torch.round(torch.tensor(a), decimals=2))
    same(sj.tensor(a).round(), torch.tensor(a).round())


def test_allclose_and_equal(torch):
    a = FLOATS[0]
    for b in (a + 1e-9, a + 1e-3):
        assert sj.allclose(sj.tensor(a), sj.tensor(b)) == torch.allclose(torch.tensor(a), torch.tensor(b))
    assert sj.equal(sj.tensor(a), sj.tensor(a.copy())) is True
    assert sj.tensor(a).equal(sj.tensor(a[:3])) is False
    assert torch.equal(torch.tensor(a), torch.tensor(a[:3])) is False
    assert sj.allclose(sj.tensor(SPECIAL), sj.tensor(SPECIAL), equal_nan=True)


def test_nonzero_and_one_argument_where(torch):
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    same(sj.nonzero(sj.tensor(a)), torch.nonzero(torch.tensor(a)))
    ours, theirs = sj.tensor(a).nonzero(as_tuple=True), torch.tensor(a).nonzero(as_tuple=True)
    for x, y in zip(ours, theirs):
        same(x, y)
    for x, y in zip(sj.where(sj.tensor(a) > 0), torch.where(torch.tensor(a) > 0)):
        same(x, y)
    same(sj.tensor(a)[sj.where(sj.tensor(a) > 0)], torch.tensor(a)[torch.where(torch.tensor(a) > 0)])
