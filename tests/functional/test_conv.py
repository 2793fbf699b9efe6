"""conv1d / conv2d / deform_conv2d: PyTorch parity (values and gradients), gradchecks, the notes' identities."""

import itertools

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

GRID = [
    (s, p, d, g)
    for s, p, d, g in itertools.product((1, 2), (0, 1, "same"), (1, 2), ("one", "depthwise"))
    if not (p == "same" and s == 2)
]


def _run_pair(torch, ours_fn, theirs_fn, arrays, device="cpu", seed=5):
    """Forward and backward through both frameworks with the same upstream gradient."""
    ours = [sj.tensor(a, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours_fn(*ours), theirs_fn(*theirs)
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(arrays[0].dtype)
    out.backward(sj.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    return out, expected, ours, theirs


def _check_pair(torch, ours_fn, theirs_fn, arrays, dtype, device="cpu", **tol):
    out, expected, ours, theirs = _run_pair(torch, ours_fn, theirs_fn, arrays, device)
    assert out.dtype == np.dtype(dtype)
    assert_close(out, expected, dtype, **tol)
    for mine, ref in zip(ours, theirs):
        assert_close(mine.grad, ref.grad, dtype, **tol)


# float32 sums of ~30 products of order 1 carry ~1e-6 absolute error whatever the summation order
# (BLAS on the CPU, cuBLAS on a GPU): compare at 1e-5 relative to that scale.
F32 = dict(atol=1e-5)


def _conv_arrays(nd, c, o, groups, k, size, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c) + (size,) * nd).astype(dtype)
    w = rng.standard_normal((o, c // groups) + (k,) * nd).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return [x, w, b]


@pytest.mark.parametrize("nd, channels, size, seed", [(2, 3, 6, 7), (1, 4, 8, 11)], ids=["conv2d", "conv1d"])
@pytest.mark.parametrize("stride,padding,dilation,groups", GRID)
def test_conv_matches_torch_grid(torch, nd, channels, size, seed, stride, padding, dilation, groups):
    g = 1 if groups == "one" else channels
    arrays = _conv_arrays(nd, channels, size, g, 3, seed, np.float64)
    args = (stride, padding, dilation, g)
    ours, theirs = getattr(F, f"conv{nd}d"), getattr(torch.nn.functional, f"conv{nd}d")
    _check_pair(torch, lambda x, w, b: ours(x, w, b, *args), lambda x, w, b: theirs(x, w, b, *args), arrays,
                np.float64)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", [
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    dict(stride=1, padding="valid", dilation=1, groups=1),
    dict(stride=1, padding="same", dilation=(2, 1), groups=2),
])
def test_conv2d_matches_torch_float32_and_mixed_geometry(torch, device, case):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4 // case["groups"], 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    _check_pair(torch, lambda x, w, b: F.conv2d(x, w, b, **case),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **case), [x, w, b], np.float32, device, **F32)


def test_conv1d_matches_torch_float32(torch, device):
    arrays = _conv_arrays(1, 4, 5, 1, 4, 13, np.float32)
    _check_pair(torch, lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2),
                lambda x, w, b: torch.nn.functional.conv1d(x, w, b, stride=2, padding=2, dilation=2),
                arrays, np.float32, device, **F32)


def test_conv2d_without_bias_and_with_strided_input(torch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7, 3, 2)).transpose(3, 2, 1, 0)  # (2, 3, 7, 5), not contiguous
    w = rng.standard_normal((4, 3, 2, 2))
    out = F.conv2d(sj.tensor(x), sj.tensor(w), padding=1)
    assert_close(out, torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1))


def test_conv_output_feeds_another_conv(torch):
    """Layers chain: a conv output (channels-last memory) is a valid input for the next conv and pool."""
    arrays = _conv_arrays(2, 2, 4, 1, 3, 8, np.float64) + [np.random.default_rng(3).standard_normal((3, 4, 3, 3))]

    def ours(x, w, b, w2):
        return F.conv2d(F.max_pool2d(F.conv2d(x, w, b, padding=1).relu(), 2), w2, stride=2, padding=1)

    def theirs(x, w, b, w2):
        tf = torch.nn.functional
        return tf.conv2d(tf.max_pool2d(tf.conv2d(x, w, b, padding=1).relu(), 2), w2, stride=2, padding=1)

    _check_pair(torch, ours, theirs, arrays, np.float64)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("case", [dict(padding=1), dict(stride=2, padding=(2, 1), dilation=(1, 2), groups=2)])
def test_conv2d_in_batch_chunks_matches_torch(torch, monkeypatch, channels_last, case):
    """A tiny chunk budget lowers one sample at a time; both input layouts give PyTorch's values and gradients."""
    import shenjing.functional.conv as conv_module

    monkeypatch.setattr(conv_module, "CHUNK_BYTES", 1)
    x, w, b = _conv_arrays(2, 4, 6, case.get("groups", 1), 3, 7, np.float64)
    x = np.concatenate([x, x[::-1] * 0.5])  # 4 samples
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert conv_module.is_channels_last(x) == channels_last
    assert len(conv_module.Lowering(x, (7, 7), (3, 3), conv_module.Geometry((1, 1), ((1, 1),) * 2, (1, 1), 1))
               .chunks) == 4
    _check_pair(torch, lambda x, w, b: F.conv2d(x, w, b, **case),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **case), [x, w, b], np.float64)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding="same"),
                                dict(groups=2, padding=(0, 1))])
def test_conv2d_gradcheck(kw):
    g = kw.get("groups", 1)
    x, w, b = (sj.tensor(a, requires_grad=True) for a in _conv_arrays(2, 2, 2, g, 3, 5, np.float64))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, dilation=2), dict(groups=2, padding="same")])
def test_conv1d_gradcheck(kw):
    g = kw.get("groups", 1)
    x, w, b = (sj.tensor(a, requires_grad=True) for a in _conv_arrays(1, 2, 4, g, 3, 7, np.float64))
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, **kw), [x, w, b])


def test_conv2d_keeps_float32_end_to_end():
    x, w, b = (sj.tensor(a, requires_grad=True) for a in _conv_arrays(2, 3, 4, 1, 3, 6, np.float32))
    out = F.conv2d(x, w, b, padding=1)
    out.sum().backward()
    assert out.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_depthwise_then_pointwise_equals_separable_formula():
    """Seed 004 §2.2.2: a depthwise conv (one kernel per channel) then a 1x1 conv mixing channels."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6))
    wd, wp = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal((5, 3, 1, 1))
    out = F.conv2d(F.conv2d(sj.tensor(x), sj.tensor(wd), groups=3), sj.tensor(wp)).numpy()
    depth = np.stack([F.conv2d(sj.tensor(x[:, c : c + 1]), sj.tensor(wd[c : c + 1])).numpy()[:, 0]
                      for c in range(3)], axis=1)
    np.testing.assert_allclose(out, np.einsum("oc,nchw->nohw", wp[:, :, 0, 0], depth), rtol=1e-12)


def test_fully_connected_layer_as_convolution():
    """Seed 004 §2.2.5: a conv whose kernel covers the whole (3, 3, 5) input is the fully-connected layer."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((4, 5, 3, 3)), rng.standard_normal((7, 5, 3, 3)), rng.standard_normal(7)
    out = F.conv2d(sj.tensor(x), sj.tensor(w), sj.tensor(b))
    assert out.shape == (4, 7, 1, 1)
    np.testing.assert_allclose(out.numpy()[:, :, 0, 0], x.reshape(4, -1) @ w.reshape(7, -1).T + b, rtol=1e-12)


def test_notes_conv_example_shapes():
    """Seed 004 §2.2.1: a 5x5x3 image and four 3x3x3 kernels give 5x5x4 with same padding, 3x3x4 without."""
    x, w = sj.randn(1, 3, 5, 5), sj.randn(4, 3, 3, 3)
    assert F.conv2d(x, w, padding="same").shape == (1, 4, 5, 5)
    assert F.conv2d(x, w).shape == (1, 4, 3, 3)


@pytest.mark.parametrize("call,match", [
    (lambda: F.conv2d(sj.randn(1, 3, 5, 5), sj.randn(4, 2, 3, 3)), "groups"),
    (lambda: F.conv2d(sj.randn(1, 4, 5, 5), sj.randn(4, 2, 3, 3), groups=3), "groups"),
    (lambda: F.conv2d(sj.randn(5, 5), sj.randn(4, 3, 3, 3)), "dims"),
    (lambda: F.conv2d(sj.randn(1, 3, 5, 5), sj.randn(4, 3, 3, 3), stride=2, padding="same"), "same"),
    (lambda: F.conv2d(sj.randn(1, 3, 5, 5), sj.randn(4, 3, 3, 3), padding="full"), "padding"),
    (lambda: F.conv2d(sj.randn(1, 3, 2, 2), sj.randn(4, 3, 3, 3)), "smaller"),
    (lambda: F.conv2d(sj.randn(1, 3, 5, 5), sj.randn(4, 3, 3, 3), sj.randn(3)), "bias"),
    (lambda: F.conv2d(sj.randn(1, 3, 5, 5), sj.randn(4, 3, 3, 3), stride=0), "stride"),
    (lambda: F.conv1d(sj.randn(1, 3, 5), sj.randn(4, 3, 3), padding=-1), "padding"),
])
def test_conv_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_conv_dtype_mismatch_raises_type_error():
    with pytest.raises(TypeError, match="dtype"):
        F.conv2d(sj.randn(1, 3, 5, 5), sj.tensor(np.zeros((4, 3, 3, 3))))


# ----- deformable convolution -----------------------------------------------------------------------------


def _bilinear_ref(img, y, x):
    """torchvision's bilinear_interpolate for one (C, H, W) image: zero outside, corners checked one by one."""
    c, h, w = img.shape
    if y <= -1 or y >= h or x <= -1 or x >= w:
        return np.zeros(c)
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    ly, lx = y - y0, x - x0
    total = np.zeros(c)
    for yy, wy in ((y0, 1 - ly), (y0 + 1, ly)):
        for xx, wx in ((x0, 1 - lx), (x0 + 1, lx)):
            if 0 <= yy < h and 0 <= xx < w:
                total += wy * wx * img[:, yy, xx]
    return total


def _deform_ref(x, offset, w, b, stride, pad, dil):
    """Loop-by-loop deformable convolution (DCN), the definition written out."""
    n, _, _, _ = x.shape
    o, _, kh, kw = w.shape
    _, _, ho, wo = offset.shape
    out = np.zeros((n, o, ho, wo))
    for bi, i, j in itertools.product(range(n), range(ho), range(wo)):
        cols = []
        for k, (ki, kj) in enumerate(itertools.product(range(kh), range(kw))):
            y = i * stride - pad + ki * dil + offset[bi, 2 * k, i, j]
            xx = j * stride - pad + kj * dil + offset[bi, 2 * k + 1, i, j]
            cols.append(_bilinear_ref(x[bi], y, xx))
        out[bi, :, i, j] = np.einsum("ock,ck->o", w.reshape(o, -1, kh * kw), np.stack(cols, axis=1)) + b
    return out


def _deform_inputs(seed=0, size=(6, 5), offset_scale=1.5, stride=1, pad=1, dil=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *size))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    ho, wo = ((s + 2 * pad - dil * 2 - 1) // stride + 1 for s in size)
    offset = rng.uniform(-offset_scale, offset_scale, (2, 18, ho, wo))
    return x, offset, w, b


@pytest.mark.parametrize("stride,pad,dil", [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_deform_conv2d_matches_loop_reference(stride, pad, dil):
    x, offset, w, b = _deform_inputs(stride=stride, pad=pad, dil=dil, offset_scale=2.5)
    out = F.deform_conv2d(sj.tensor(x), sj.tensor(offset), sj.tensor(w), sj.tensor(b), stride, pad, dil)
    np.testing.assert_allclose(out.numpy(), _deform_ref(x, offset, w, b, stride, pad, dil), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("stride,pad,dil", [(1, 1, 1), (2, 1, 1), (1, 2, 2)])
def test_deform_conv2d_zero_offsets_equal_conv2d(stride, pad, dil):
    x, offset, w, b = _deform_inputs(stride=stride, pad=pad, dil=dil)
    ours = [sj.tensor(a, requires_grad=True) for a in (x, w, b)]
    refs = [sj.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.deform_conv2d(ours[0], sj.zeros(*offset.shape, dtype=sj.float64), ours[1], ours[2], stride, pad, dil)
    expected = F.conv2d(*refs, stride=stride, padding=pad, dilation=dil)
    assert_close(out, expected)
    upstream = sj.tensor(np.random.default_rng(1).standard_normal(out.shape))
    out.backward(upstream)
    expected.backward(upstream)
    for a, r in zip(ours, refs):
        assert_close(a.grad, r.grad)


def test_deform_conv2d_integer_offsets_equal_shifted_conv():
    """Every tap moved by (Δy, Δx) = (1, -2) reads the zero-padded input shifted by that amount."""
    x, offset, w, b = _deform_inputs(seed=3, size=(7, 8))
    dy, dx, pad, margin = 1, -2, 1, 4
    offset[:, 0::2], offset[:, 1::2] = dy, dx
    big = np.pad(x, ((0, 0), (0, 0), (margin, margin), (margin, margin)))
    top, left = margin - pad + dy, margin - pad + dx
    shifted = big[:, :, top : top + 7 + 2 * pad, left : left + 8 + 2 * pad]
    out = F.deform_conv2d(sj.tensor(x), sj.tensor(offset), sj.tensor(w), sj.tensor(b), padding=pad)
    assert_close(out, F.conv2d(sj.tensor(shifted), sj.tensor(w), sj.tensor(b)))


def test_deform_conv2d_gradcheck_fractional_offsets():
    x, offset, w, b = _deform_inputs(seed=4, size=(4, 4), offset_scale=0.9)
    offset = np.round(offset, 1) + 0.05  # keep every sample away from integer coordinates (kinks)
    args = [sj.tensor(a, requires_grad=True) for a in (x, offset, w, b)]
    assert gradcheck(lambda *a: F.deform_conv2d(*a, padding=1), args)


def test_deform_conv2d_gradcheck_stride_and_dilation():
    x, offset, w, b = _deform_inputs(seed=6, size=(5, 5), stride=2, pad=1, dil=2, offset_scale=0.9)
    offset = np.round(offset, 1) + 0.05
    args = [sj.tensor(a, requires_grad=True) for a in (x, offset, w, b)]
    assert gradcheck(lambda *a: F.deform_conv2d(*a, stride=2, padding=1, dilation=2), args)


def test_deform_conv2d_offset_shape_is_checked():
    with pytest.raises(ValueError, match="offset"):
        F.deform_conv2d(sj.randn(1, 3, 5, 5), sj.randn(1, 9, 5, 5), sj.randn(4, 3, 3, 3), padding=1)


@pytest.mark.parametrize("stride,pad,dil", [(1, 1, 1), (2, 1, 2)])
def test_deform_conv2d_matches_torchvision(torch, stride, pad, dil):
    ops = pytest.importorskip("torchvision.ops")
    arrays = list(_deform_inputs(seed=7, size=(7, 6), stride=stride, pad=pad, dil=dil, offset_scale=2.0))
    _check_pair(torch, lambda x, o, w, b: F.deform_conv2d(x, o, w, b, stride, pad, dil),
                lambda x, o, w, b: ops.deform_conv2d(x, o, w, b, stride, pad, dil), arrays, np.float64)


def test_unbatched_inputs_match_torch(torch):
    """Like PyTorch, convolutions and pools take one sample without its batch dim."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 6, 5)), rng.standard_normal((3, 2, 3, 3))
    assert_close(F.conv2d(sj.tensor(x), sj.tensor(w), padding=1),
                 torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1))
    assert_close(F.max_pool2d(sj.tensor(x), 2), torch.nn.functional.max_pool2d(torch.tensor(x), 2))
    assert_close(F.avg_pool1d(sj.tensor(x[0]), 2), torch.nn.functional.avg_pool1d(torch.tensor(x[0]), 2))
    assert_close(F.conv1d(sj.tensor(x[:, :, 0]), sj.tensor(w[:, :, 0])),
                 torch.nn.functional.conv1d(torch.tensor(x[:, :, 0]), torch.tensor(w[:, :, 0])))
