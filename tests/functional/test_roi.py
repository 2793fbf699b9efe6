"""RoI pooling (torchvision's semantics) and deformable RoI pooling (seed 004 §2.2.4) against loop references."""

import math

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck


def _round(v):
    """C's round(): half away from zero."""
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def _roi_bins_ref(box, ph, pw, scale, h, w):
    """torchvision roi_pool's kernel, bin by bin: yields (i, j, rows, cols, roi_h, roi_w)."""
    x1, y1, x2, y2 = (_round(v * scale) for v in box[1:])
    roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    bh, bw = roi_h / ph, roi_w / pw
    for i in range(ph):
        for j in range(pw):
            hs = min(max(math.floor(i * bh) + y1, 0), h)
            he = min(max(math.ceil((i + 1) * bh) + y1, 0), h)
            ws = min(max(math.floor(j * bw) + x1, 0), w)
            we = min(max(math.ceil((j + 1) * bw) + x1, 0), w)
            yield i, j, range(hs, he), range(ws, we), roi_h, roi_w


def _roi_pool_ref(x, boxes, size, scale):
    """Values and input gradient (for an all-ones upstream) of torchvision's roi_pool, loop by loop."""
    k, c = len(boxes), x.shape[1]
    out, grad = np.zeros((k, c) + size), np.zeros_like(x)
    for r, box in enumerate(boxes):
        n = int(box[0])
        for i, j, rows, cols, _, _ in _roi_bins_ref(box, *size, scale, *x.shape[2:]):
            for ch in range(c):
                best, arg = (0.0, None) if not (rows and cols) else (-np.inf, None)
                for yy in rows:
                    for xx in cols:
                        if x[n, ch, yy, xx] > best:
                            best, arg = x[n, ch, yy, xx], (yy, xx)
                out[r, ch, i, j] = best
                if arg is not None:
                    grad[n, ch][arg] += 1
    return out, grad


def _bilinear(img, y, x):
    c, h, w = img.shape
    if y <= -1 or y >= h or x <= -1 or x >= w:
        return np.zeros(c)
    y0, x0 = math.floor(y), math.floor(x)
    total = np.zeros(c)
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                total += wy * wx * img[:, yy, xx]
    return total


def _deform_roi_pool_ref(x, boxes, offset, size, scale, gamma):
    """Every bin of roi_pool shifted by γ·Δp̂∘(w, h), its points read bilinearly, max per channel."""
    out = np.zeros((len(boxes), x.shape[1]) + size)
    for r, box in enumerate(boxes):
        n = int(box[0])
        for i, j, rows, cols, roi_h, roi_w in _roi_bins_ref(box, *size, scale, *x.shape[2:]):
            if not (rows and cols):
                continue
            dx, dy = gamma * roi_w * offset[r, 0, i, j], gamma * roi_h * offset[r, 1, i, j]
            samples = [_bilinear(x[n], yy + dy, xx + dx) for yy in rows for xx in cols]
            out[r, :, i, j] = np.max(samples, axis=0)
    return out


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 10, 12))
    boxes = np.array([
        [0, 1.0, 2.0, 8.0, 7.0],
        [1, 0.0, 0.0, 11.0, 9.0],
        [1, 3.4, 1.6, 5.5, 8.49],    # fractional corners, rounded half away from zero
        [0, 9.0, 8.0, 20.0, 15.0],   # partly outside the map
        [0, 30.0, 30.0, 40.0, 40.0],  # outside: every bin empty
        [1, 6.0, 5.0, 4.0, 3.0],     # malformed (x2 < x1): treated as 1x1
    ])
    return x, boxes


@pytest.mark.parametrize("size,scale", [((3, 3), 1.0), ((2, 4), 0.5), ((7, 7), 1.0)])
def test_roi_pool_matches_torchvision_reference(size, scale):
    x, boxes = _inputs()
    xt = sj.tensor(x, requires_grad=True)
    out = F.roi_pool(xt, boxes, size, scale)
    expected, grad = _roi_pool_ref(x, boxes, size, scale)
    assert out.shape == (len(boxes), 3) + size
    np.testing.assert_array_equal(out.numpy(), expected)
    out.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), grad)


def test_roi_pool_ties_go_to_first_maximum_and_float32_is_kept():
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    xt = sj.tensor(x, requires_grad=True)
    out = F.roi_pool(xt, sj.tensor([[0, 0, 0, 3, 3]]), 1)
    out.sum().backward()
    assert out.dtype == xt.grad.dtype == np.float32
    expected = np.zeros((1, 1, 4, 4), dtype=np.float32)
    expected[0, 0, 0, 0] = 1
    np.testing.assert_array_equal(xt.grad.numpy(), expected)


def test_roi_pool_gradcheck():
    x, boxes = _inputs(1)
    assert gradcheck(lambda t: F.roi_pool(t, boxes[:4], (2, 3), 0.75), [sj.tensor(x[:, :2, :8, :8],
                                                                                  requires_grad=True)])


def test_deform_roi_pool_zero_offsets_equal_roi_pool():
    x, boxes = _inputs(2)
    a, b = sj.tensor(x, requires_grad=True), sj.tensor(x, requires_grad=True)
    out = F.deform_roi_pool(a, boxes, sj.zeros(len(boxes), 2, 3, 3, dtype=sj.float64), (3, 3))
    expected = F.roi_pool(b, boxes, (3, 3))
    assert_close(out, expected)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(sj.tensor(upstream))
    expected.backward(sj.tensor(upstream))
    assert_close(a.grad, b.grad)


@pytest.mark.parametrize("scale,gamma", [(1.0, 0.1), (0.5, 0.3)])
def test_deform_roi_pool_matches_loop_reference(scale, gamma):
    x, boxes = _inputs(3)
    offset = np.random.default_rng(4).uniform(-1, 1, (len(boxes), 2, 2, 3))
    out = F.deform_roi_pool(sj.tensor(x), boxes, sj.tensor(offset), (2, 3), scale, gamma)
    np.testing.assert_allclose(out.numpy(), _deform_roi_pool_ref(x, boxes, offset, (2, 3), scale, gamma),
                               rtol=1e-10, atol=1e-12)


def test_deform_roi_pool_gradcheck():
    x, boxes = _inputs(5)
    x = x[:, :2, :7, :7]
    boxes = np.array([[0, 1.0, 1.0, 5.0, 4.0], [1, 0.0, 2.0, 6.0, 6.0]])
    offset = np.random.default_rng(6).uniform(-0.8, 0.8, (2, 2, 2, 2)).round(1) + 0.033
    args = [sj.tensor(x, requires_grad=True), sj.tensor(offset, requires_grad=True)]
    assert gradcheck(lambda t, o: F.deform_roi_pool(t, boxes, o, (2, 2), gamma=0.25), args)


def test_roi_pool_layers():
    x, boxes = _inputs(7)
    pool = nn.RoIPool2d((2, 2), spatial_scale=0.5)
    np.testing.assert_array_equal(pool(sj.tensor(x), boxes).numpy(), _roi_pool_ref(x, boxes, (2, 2), 0.5)[0])
    sj.manual_seed(0)
    deform = nn.DeformRoIPool2d(3, (2, 2), spatial_scale=0.5).double()
    xt = sj.tensor(x, requires_grad=True)
    out = deform(xt, boxes)
    assert_close(out, pool(sj.tensor(x), boxes))  # zero-initialised offsets: plain RoI pooling
    weight = sj.tensor(np.random.default_rng(8).standard_normal(out.shape))
    (out * weight).sum().backward()
    assert np.abs(deform.offset_fc.weight.grad.numpy()).sum() > 0  # the offsets are learned
    assert deform.offset_fc.weight.shape == (2 * 4, 3 * 4)


@pytest.mark.parametrize("call,match", [
    (lambda: F.roi_pool(sj.randn(1, 2, 5, 5), np.zeros((2, 4)), 2), "boxes"),
    (lambda: F.roi_pool(sj.randn(1, 2, 5, 5), np.array([[1, 0, 0, 2, 2]]), 2), "batch"),
    (lambda: F.roi_pool(sj.randn(2, 5, 5), np.zeros((1, 5)), 2), "shape"),
    (lambda: F.roi_pool(sj.randn(1, 2, 5, 5), np.zeros((1, 5)), 0), "output_size"),
    (lambda: F.deform_roi_pool(sj.randn(1, 2, 5, 5), np.zeros((1, 5)), sj.zeros(1, 2, 3, 3), 2), "offset"),
])
def test_roi_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("size,scale", [((3, 3), 1.0), ((2, 4), 0.5)])
def test_roi_pool_matches_torchvision(torch, size, scale):
    ops = pytest.importorskip("torchvision.ops")
    x, boxes = _inputs(9)
    ours, theirs = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.roi_pool(ours, boxes, size, scale)
    expected = ops.roi_pool(theirs, torch.tensor(boxes), size, scale)
    assert_close(out, expected)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(sj.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    assert_close(ours.grad, theirs.grad)
