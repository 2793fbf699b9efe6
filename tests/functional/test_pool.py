"""Pooling: PyTorch parity for every pool PyTorch has (values and gradients), gradchecks, the notes' pools."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

MAX2D = [
    (2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True), ((3, 2), (2, 1), (1, 0), 1, True),
    (3, 1, 1, 2, False), (2, 3, 1, 1, True), ((2, 3), 2, (1, 1), (2, 1), True),
]
AVG2D = [
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, True, True, None),
    (3, 2, 1, True, False, None), ((3, 2), (2, 1), (1, 0), True, True, None), (3, 2, 1, False, False, None),
    (2, 3, 1, True, True, None), (3, 2, 1, False, True, 5),
]
MAX1D = [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 2, 1, 2, True), (4, 3, 2, 1, True)]
AVG1D = [(2, None, 0, False, True), (3, 2, 1, True, True), (3, 2, 1, True, False), (4, 3, 2, True, False)]


def _pair(torch, ours_fn, theirs_fn, x, device="cpu", seed=3):
    ours, theirs = sj.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    out, expected = ours_fn(ours), theirs_fn(theirs)
    assert out.dtype == x.dtype
    assert_close(out, expected, x.dtype)
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(x.dtype)
    out.backward(sj.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    assert_close(ours.grad, theirs.grad, x.dtype)


def _x(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("args", MAX2D)
def test_max_pool2d_matches_torch(torch, args):
    _pair(torch, lambda x: F.max_pool2d(x, *args), lambda x: torch.nn.functional.max_pool2d(x, *args),
          _x((2, 3, 9, 8)))


@pytest.mark.parametrize("args", AVG2D)
def test_avg_pool2d_matches_torch(torch, args):
    _pair(torch, lambda x: F.avg_pool2d(x, *args), lambda x: torch.nn.functional.avg_pool2d(x, *args),
          _x((2, 3, 9, 8)))


@pytest.mark.parametrize("args", MAX1D)
def test_max_pool1d_matches_torch(torch, args):
    _pair(torch, lambda x: F.max_pool1d(x, *args), lambda x: torch.nn.functional.max_pool1d(x, *args),
          _x((2, 3, 13)))


@pytest.mark.parametrize("args", AVG1D)
def test_avg_pool1d_matches_torch(torch, args):
    _pair(torch, lambda x: F.avg_pool1d(x, *args), lambda x: torch.nn.functional.avg_pool1d(x, *args),
          _x((2, 3, 13)))


@pytest.mark.parametrize("size", [(3, 4), (5, 3), 1, (None, 2), (9, 8)])
def test_adaptive_avg_pool2d_matches_torch(torch, size):
    _pair(torch, lambda x: F.adaptive_avg_pool2d(x, size), lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size),
          _x((2, 3, 9, 8)))


@pytest.mark.parametrize("call", [
    lambda f, x: f.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda f, x: f.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda f, x: f.max_pool1d(x[:, :, 0], 2),
    lambda f, x: f.avg_pool1d(x[:, :, 1], 3, 2, 1),
    lambda f, x: f.adaptive_avg_pool2d(x, (4, 3)),
])
def test_pools_match_torch_float32(torch, device, call):
    _pair(torch, lambda x: call(F, x), lambda x: call(torch.nn.functional, x), _x((2, 4, 9, 8), np.float32), device)


@pytest.mark.parametrize("args", [(2,), (3, 1, 1), (3, 2, 1, 1, True)])
def test_max_pool_ties_send_gradient_to_first_maximum(torch, args):
    """PyTorch's rule: among equal maxima the gradient goes to the first in row-major window order."""
    x = np.round(_x((2, 3, 8, 8), seed=1))
    x[0, 0] = 1.0
    _pair(torch, lambda t: F.max_pool2d(t, *args), lambda t: torch.nn.functional.max_pool2d(t, *args), x)


def test_pools_on_channels_last_memory_match_torch(torch):
    """Convolution outputs lie in channels-last memory; pooling them must not depend on that."""
    x = np.ascontiguousarray(_x((2, 7, 9, 5)).transpose(0, 3, 1, 2))  # (2, 5, 7, 9) stored as NHWC
    view = x.transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)
    assert not view.flags.c_contiguous
    for ours, theirs in [(lambda t: F.max_pool2d(t, 3, 2, 1), lambda t: torch.nn.functional.max_pool2d(t, 3, 2, 1)),
                         (lambda t: F.avg_pool2d(t, 2, ceil_mode=True),
                          lambda t: torch.nn.functional.avg_pool2d(t, 2, ceil_mode=True))]:
        _pair(torch, ours, theirs, view)


@pytest.mark.parametrize("shape,args", [((2, 3, 8, 6), (2,)), ((2, 3, 7, 9), (2,)), ((2, 3, 9, 9), (3,)),
                                        ((2, 3, 8, 8), (2, 2, 1))])
def test_max_pool_tiling_and_ties_on_channels_last_memory(torch, shape, args):
    """Windows that tile the input exactly, leave a remainder, or are padded; ties go to the first maximum."""
    x = np.round(_x(shape, seed=4))
    view = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for arr in (x, view):
        _pair(torch, lambda t: F.max_pool2d(t, *args), lambda t: torch.nn.functional.max_pool2d(t, *args), arr)


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.max_pool2d(x, 2, 1, dilation=2),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, 1),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    lambda x: F.global_avg_pool(x),
    lambda x: F.global_max_pool(x),
    lambda x: F.max_pool1d(x[:, :, 0], 2, 1, 1),
    lambda x: F.avg_pool1d(x[:, :, 0], 3, 2, 1, ceil_mode=True),
])
def test_pool_gradcheck(fn):
    assert gradcheck(fn, [sj.tensor(_x((2, 2, 5, 4), seed=2), requires_grad=True)])


def test_global_pools_values():
    x = _x((3, 4, 5, 2))
    np.testing.assert_allclose(F.global_avg_pool(sj.tensor(x)).numpy(), x.mean(axis=(2, 3)), rtol=1e-12)
    np.testing.assert_array_equal(F.global_max_pool(sj.tensor(x)).numpy(), x.max(axis=(2, 3)))
    seq = _x((3, 4, 7))
    np.testing.assert_allclose(F.global_avg_pool(sj.tensor(seq)).numpy(), seq.mean(axis=2), rtol=1e-12)


def test_pool_output_sizes_follow_torch_formula():
    x = sj.randn(1, 1, 7, 7)
    assert F.max_pool2d(x, 2).shape == (1, 1, 3, 3)
    assert F.max_pool2d(x, 2, ceil_mode=True).shape == (1, 1, 4, 4)
    assert F.avg_pool2d(x, 3, 2, 1).shape == (1, 1, 4, 4)


@pytest.mark.parametrize("call,match", [
    (lambda: F.max_pool2d(sj.randn(1, 1, 6, 6), 2, padding=2), "padding"),
    (lambda: F.max_pool2d(sj.randn(6, 6), 2), "shape"),
    (lambda: F.avg_pool2d(sj.randn(1, 1, 2, 2), 3), "too small"),
    (lambda: F.max_pool1d(sj.randn(1, 1, 1, 6, 6), 2), "shape"),
    (lambda: F.avg_pool2d(sj.randn(1, 1, 6, 6), 2, divisor_override=0), "divisor_override"),
    (lambda: F.adaptive_avg_pool2d(sj.randn(1, 1, 6, 6), (0, 2)), "output_size"),
    (lambda: F.kmax_pool1d(sj.randn(1, 2, 5), 6), "k"),
    (lambda: F.chunk_max_pool1d(sj.randn(1, 2, 5), 0), "chunks"),
])
def test_pool_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----- the notes' pools over tokens (seed 004 §2.3.2-2.3.3) -------------------------------------------------


def _kmax_ref(x, k):
    idx = np.sort(np.argsort(-x, axis=-1, kind="stable")[..., :k], axis=-1)
    return np.take_along_axis(x, idx, axis=-1)


def test_kmax_pool1d_keeps_the_k_largest_in_order():
    x = np.array([[[1.0, 5.0, 3.0, 4.0, 2.0, 6.0]]])
    np.testing.assert_array_equal(F.kmax_pool1d(sj.tensor(x), 3).numpy(), [[[5.0, 4.0, 6.0]]])
    y = _x((3, 4, 9))
    np.testing.assert_array_equal(F.kmax_pool1d(sj.tensor(y), 4).numpy(), _kmax_ref(y, 4))


def test_kmax_pool1d_gradient_reaches_chosen_positions_only():
    x = sj.tensor([[[1.0, 5.0, 3.0, 4.0, 2.0, 6.0]]], dtype=sj.float64, requires_grad=True)
    F.kmax_pool1d(x, 2).backward(sj.tensor([[[10.0, 20.0]]], dtype=sj.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[[0, 10, 0, 0, 0, 20]]])


def test_kmax_pool1d_ties_take_earlier_positions():
    x = np.array([[[2.0, 1.0, 2.0, 2.0]]])
    out = F.kmax_pool1d(sj.tensor(x, requires_grad=True), 2)
    np.testing.assert_array_equal(out.numpy(), [[[2.0, 2.0]]])


def test_kavg_pool1d_is_mean_of_top_k():
    x = _x((3, 4, 9))
    np.testing.assert_allclose(F.kavg_pool1d(sj.tensor(x), 3).numpy(), _kmax_ref(x, 3).mean(-1), rtol=1e-12)


def test_chunk_pools_match_array_split_reference():
    x = _x((2, 3, 11))
    chunks = np.array_split(x, 4, axis=-1)
    np.testing.assert_array_equal(F.chunk_max_pool1d(sj.tensor(x), 4).numpy(),
                                  np.stack([c.max(-1) for c in chunks], -1))
    np.testing.assert_allclose(F.chunk_avg_pool1d(sj.tensor(x), 4).numpy(),
                               np.stack([c.mean(-1) for c in chunks], -1), rtol=1e-12)


def test_chunk_max_pool1d_gradient_goes_to_first_max_of_each_chunk():
    x = sj.tensor([[[3.0, 3.0, 1.0, 2.0, 2.0, 0.0, 5.0]]], dtype=sj.float64, requires_grad=True)
    F.chunk_max_pool1d(x, 3).backward(sj.tensor([[[1.0, 2.0, 3.0]]], dtype=sj.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[[1, 0, 0, 2, 0, 0, 3]]])


@pytest.mark.parametrize("fn", [
    lambda x: F.kmax_pool1d(x, 3), lambda x: F.kavg_pool1d(x, 2),
    lambda x: F.chunk_max_pool1d(x, 3), lambda x: F.chunk_avg_pool1d(x, 4),
])
def test_token_pools_gradcheck(fn):
    assert gradcheck(fn, [sj.tensor(_x((2, 3, 7), seed=4), requires_grad=True)])


def test_token_pools_keep_float32():
    x = sj.randn(2, 3, 8)
    for out in (F.kmax_pool1d(x, 3), F.kavg_pool1d(x, 3), F.chunk_max_pool1d(x, 3), F.chunk_avg_pool1d(x, 3),
                F.adaptive_avg_pool2d(sj.randn(1, 2, 5, 5), 2), F.avg_pool2d(sj.randn(1, 2, 5, 5), 3, 2, 1)):
        assert out.dtype == np.float32


def test_max_pool_nan_window_sends_its_gradient_to_its_first_element():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan  # last tap of the first window
    x[0, 0, 2, 3] = np.nan  # second tap of the last window
    t = sj.Tensor(x, requires_grad=True)
    out = F.max_pool2d(t, 2)
    assert np.isnan(out.numpy()[0, 0, 0, 0]) and np.isnan(out.numpy()[0, 0, 1, 1])
    out.sum().backward()
    expected = np.zeros_like(x)
    expected[0, 0, [0, 1, 2, 3], [0, 3, 2, 1]] = 1  # NaN windows: their first element; others: their maximum
    np.testing.assert_array_equal(t.grad.numpy(), expected)
