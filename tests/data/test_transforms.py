"""Image transforms: normalisation and seeded, vectorised augmentation (seed 001 数据增强)."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import transforms as T


def _images(n=6, c=2, h=7, w=7, seed=0):
    return np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(np.float32)


def _shifted(img, dy, dx):
    out = np.zeros_like(img)
    h, w = img.shape[-2:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_normalize_per_channel_and_per_feature():
    x = _images()
    out = T.Normalize([1.0, -2.0], [2.0, 4.0])(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, 1], (x[:, 1] + 2.0) / 4.0, rtol=1e-6)
    feats = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(T.Normalize([1, 2, 3], 2)(feats), [[0, 0, 0]])
    with pytest.raises(ValueError, match="channels"):
        T.Normalize([0, 0, 0], 1)(x)
    with pytest.raises(ValueError, match="std"):
        T.Normalize(0, 0)


def test_random_shift_moves_each_image_by_whole_pixels_with_zero_fill():
    x = _images(n=20)
    out = T.RandomShift(2, seed=0)(x)
    assert out.shape == x.shape and out.dtype == np.float32
    found = []
    for img, res in zip(x, out):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if np.array_equal(_shifted(img, dy, dx), res)]
        assert len(matches) == 1
        found.append(matches[0])
    assert len(set(found)) > 3  # a parameter per image, not one for the batch


def test_single_image_and_tensor_inputs():
    img = _images(n=1)[0]
    out = T.RandomShift(1, seed=4)(img)
    assert out.shape == img.shape
    t = T.RandomHorizontalFlip(p=1.0)(sj.tensor(img))
    assert isinstance(t, sj.Tensor)
    np.testing.assert_array_equal(t.numpy(), img[..., ::-1])


def test_rotation_by_90_degrees_is_rot90():
    x = _images(h=5, w=5)
    out = T.RandomRotation((90, 90))(x)
    np.testing.assert_allclose(out, np.rot90(x, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(T.RandomRotation(0)(x), x)


def test_scale_is_a_zoom_about_the_centre():
    h = w = 9
    ramp = np.broadcast_to(np.arange(w, dtype=np.float32), (1, 1, h, w)).copy()
    out = T.RandomScale((2.0, 2.0))(ramp)
    # bilinear resampling is exact for a linear image: out(j) = (j - c)/2 + c inside the image
    expected = (np.arange(w) - 4) / 2 + 4
    np.testing.assert_allclose(out[0, 0], np.broadcast_to(expected, (h, w)), atol=1e-6)
    np.testing.assert_allclose(T.RandomScale((1.0, 1.0))(ramp), ramp)
    with pytest.raises(ValueError, match="scale_range"):
        T.RandomScale(-1.0)


def test_flip_probability_and_noise_std():
    x = _images(n=2000, c=1, h=2, w=3)
    flipped = T.RandomHorizontalFlip(p=0.3, seed=0)(x)
    is_flipped = np.all(flipped == x[..., ::-1], axis=(1, 2, 3))
    assert np.all(is_flipped | np.all(flipped == x, axis=(1, 2, 3)))
    assert 0.26 < is_flipped.mean() < 0.34
    noisy = T.GaussianNoise(0.5, seed=0)(x)
    assert noisy.dtype == np.float32
    assert abs(float(np.std(noisy - x)) - 0.5) < 0.01


def test_compose_and_seeded_reproducibility():
    x = _images()
    make = lambda: T.Compose([T.RandomRotation(15, seed=1), T.RandomScale((0.9, 1.1), seed=2),
                              T.RandomShift(1, seed=3), T.GaussianNoise(0.1, seed=4)])
    a, b = make()(x), make()(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, x)
    assert a.dtype == np.float32


def test_geometric_transforms_reject_non_images():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        T.RandomShift(1)(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="floating"):
        T.RandomRotation(5)(np.zeros((1, 3, 3), dtype=np.int64))
