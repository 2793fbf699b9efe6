"""Input normalisation and image augmentation (seed 001 过拟合与欠拟合: 数据增强 — shift, rotate, scale;
seed 004 §2.4.4; seed 002 神经网络调参: normalise the inputs).

Every transform takes one image ``(C, H, W)`` or a batch ``(N, C, H, W)`` (a NumPy/CuPy array or a
Tensor) and returns the same kind, shape and dtype. Random transforms draw an independent
parameter per image, vectorised over the batch (no Python loop over images or pixels), from
their own generator: seeded by ``seed``, or from shenjing's global generator when ``seed`` is None.
Geometric transforms resample with bilinear interpolation and fill with zeros outside the image.
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..tensor import Tensor
from .sampler import make_generator

__all__ = ["Compose", "Normalize", "RandomShift", "RandomRotation", "RandomScale", "RandomHorizontalFlip",
           "GaussianNoise"]


class Transform:
    """Base class: ``__call__`` unwraps a Tensor, applies ``apply`` to the array, wraps the result."""

    def __call__(self, x):
        if isinstance(x, Tensor):
            return Tensor._wrap(self.apply(x.data))
        if not hasattr(x, "shape"):
            x = B.asarray(x)
        return self.apply(x)

    def apply(self, x):
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({fields})"


class Compose(Transform):
    """Apply transforms one after another: ``Compose([RandomRotation(10), Normalize(0.5, 0.2)])``.

    >>> import numpy as np
    >>> from shenjing.data import transforms as T
    >>> pipeline = T.Compose([T.Normalize(mean=[0.5], std=[0.5]), T.GaussianNoise(0.0)])
    >>> pipeline(np.ones((1, 2, 2)))
    array([[[1., 1.],
            [1., 1.]]])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class Normalize(Transform):
    """x' = (x - mean_c) / std_c per channel c (seed 002: normalise the inputs).

    ``mean``/``std`` are numbers or one value per channel. Channels are axis -3 of an image
    or batch of images; for 1-d and 2-d inputs (features, or (N, features)) the last axis.

    >>> import numpy as np
    >>> from shenjing.data.transforms import Normalize
    >>> Normalize(mean=[1.0, 2.0], std=[2.0, 4.0])(np.full((2, 1, 1), 3.0)).ravel()
    array([1.  , 0.25])
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError("Normalize: mean and std must be numbers or 1-d sequences")
        if np.any(self.std <= 0) or not np.all(np.isfinite(self.std)):
            raise ValueError(f"Normalize: std must be positive and finite, got {self.std.tolist()}")

    def apply(self, x):
        xp = B.xp_of(x)
        shape = (-1, 1, 1) if x.ndim >= 3 else (-1,)
        channels = x.shape[-3] if x.ndim >= 3 else x.shape[-1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {v.size} values but the input has {channels} channels")
        dtype = x.dtype if x.dtype.kind == "f" else B.get_default_dtype()
        mean = xp.asarray(self.mean.reshape(shape), dtype=dtype)
        std = xp.asarray(self.std.reshape(shape), dtype=dtype)
        return (x - mean) / std


class _RandomTransform(Transform):
    def __init__(self, seed):
        self.generator = make_generator(seed)

    def apply(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: expected an image (C, H, W) or a batch (N, C, H, W), "
                             f"got shape {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: expected floating-point images, got dtype {x.dtype}")
        batch = x if x.ndim == 4 else x[None]
        out = self.apply_batch(batch)
        return out if x.ndim == 4 else out[0]

    def apply_batch(self, x):
        raise NotImplementedError

    def uniform(self, low, high, n: int) -> np.ndarray:
        return self.generator.uniform(low, high, size=n)


def _range(value, name: str, centre: float = 0.0) -> tuple:
    """``v`` -> (centre - v, centre + v); a pair stays as it is."""
    if np.ndim(value) == 0:
        v = float(value)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite non-negative number or a (min, max) pair, got {value!r}")
        return centre - v, centre + v
    low, high = (float(v) for v in value)
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        raise ValueError(f"{name} must be a (min, max) pair with min <= max, got {value!r}")
    return low, high


def affine_warp(x, matrices: np.ndarray):
    """Resample a batch: out[n, :, i, j] = bilinear x[n, :, A_n · (i, j, 1)] (zero outside).

    ``x`` (N, C, H, W); ``matrices`` (N, 2, 3) map output pixel coordinates (row, col, 1)
    to source coordinates. The result keeps x's dtype.
    """
    xp = B.xp_of(x)
    n, _, h, w = x.shape
    a = xp.asarray(matrices)
    rows, cols = xp.meshgrid(xp.arange(h, dtype=a.dtype), xp.arange(w, dtype=a.dtype), indexing="ij")
    src_r = a[:, 0, 0, None, None] * rows + a[:, 0, 1, None, None] * cols + a[:, 0, 2, None, None]
    src_c = a[:, 1, 0, None, None] * rows + a[:, 1, 1, None, None] * cols + a[:, 1, 2, None, None]
    r0, c0 = xp.floor(src_r), xp.floor(src_c)
    fr, fc = (src_r - r0).astype(x.dtype), (src_c - c0).astype(x.dtype)
    r0, c0 = r0.astype(np.int64), c0.astype(np.int64)
    channels_last = xp.moveaxis(x, 1, -1)  # (N, H, W, C): one gather per corner
    batch = xp.arange(n)[:, None, None]
    out = xp.zeros(channels_last.shape, dtype=x.dtype)
    for dr, dc, weight in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
        r, c = r0 + dr, c0 + dc
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        values = channels_last[batch, xp.clip(r, 0, h - 1), xp.clip(c, 0, w - 1)]
        out += values * (weight * inside)[..., None]
    return xp.ascontiguousarray(xp.moveaxis(out, -1, 1))


def _about_centre(linear: np.ndarray, h: int, w: int) -> np.ndarray:
    """(N, 2, 3) matrices applying ``linear`` (N, 2, 2) about the image centre."""
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    offset = centre - linear @ centre
    return np.concatenate([linear, offset[..., None]], axis=-1)


class RandomShift(_RandomTransform):
    """Translate each image by whole pixels, dy and dx uniform in {-max_shift, ..., max_shift};
    vacated pixels are zero (seed 001: 平移).

    >>> import numpy as np
    >>> from shenjing.data.transforms import RandomShift
    >>> image = np.zeros((1, 8, 8)); image[0, 4, 4] = 1.0
    >>> shifted = RandomShift(2, seed=0)(image)
    >>> shifted.shape, shifted.sum()
    ((1, 8, 8), np.float64(1.0))
    """

    def __init__(self, max_shift: int, seed: int | None = None):
        if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative integer, got {max_shift!r}")
        self.max_shift = int(max_shift)
        super().__init__(seed)

    def apply_batch(self, x):
        n = x.shape[0]
        shifts = self.generator.integers(-self.max_shift, self.max_shift + 1, size=(n, 2))
        matrices = np.zeros((n, 2, 3))
        matrices[:, 0, 0] = matrices[:, 1, 1] = 1.0
        matrices[:, :, 2] = -shifts
        return affine_warp(x, matrices)


class RandomRotation(_RandomTransform):
    """Rotate each image about its centre by θ uniform in [-degrees, degrees] (or a (min, max)
    pair), counter-clockwise as displayed for θ > 0 (as ``np.rot90``), bilinear (seed 001: 旋转).

    >>> import numpy as np
    >>> from shenjing.data.transforms import RandomRotation
    >>> RandomRotation(15, seed=0)(np.ones((1, 8, 8))).shape
    (1, 8, 8)
    """

    def __init__(self, degrees, seed: int | None = None):
        self.degrees = _range(degrees, "RandomRotation: degrees")
        super().__init__(seed)

    def apply_batch(self, x):
        theta = np.deg2rad(self.uniform(*self.degrees, x.shape[0]))
        cos, sin = np.cos(theta), np.sin(theta)
        linear = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
        return affine_warp(x, _about_centre(linear, *x.shape[2:]))


class RandomScale(_RandomTransform):
    """Zoom each image about its centre by s uniform in ``scale_range`` (s > 1 enlarges), bilinear
    (seed 001: 缩放).

    >>> import numpy as np
    >>> from shenjing.data.transforms import RandomScale
    >>> RandomScale((0.9, 1.1), seed=0)(np.ones((1, 8, 8))).shape
    (1, 8, 8)
    """

    def __init__(self, scale_range=(0.9, 1.1), seed: int | None = None):
        low, high = _range(scale_range, "RandomScale: scale_range")
        if np.ndim(scale_range) == 0 or low <= 0:
            raise ValueError(f"RandomScale: scale_range must be a (min, max) pair of positive numbers, "
                             f"got {scale_range!r}")
        self.scale_range = (low, high)
        super().__init__(seed)

    def apply_batch(self, x):
        inv = 1.0 / self.uniform(*self.scale_range, x.shape[0])
        linear = inv[:, None, None] * np.eye(2)
        return affine_warp(x, _about_centre(linear, *x.shape[2:]))


class RandomHorizontalFlip(_RandomTransform):
    """Mirror each image left-right with probability ``p``.

    >>> import numpy as np
    >>> from shenjing.data.transforms import RandomHorizontalFlip
    >>> RandomHorizontalFlip(p=1.0)(np.array([[[1.0, 2.0, 3.0]]]))
    array([[[3., 2., 1.]]])
    """

    def __init__(self, p: float = 0.5, seed: int | None = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        self.p = float(p)
        super().__init__(seed)

    def apply_batch(self, x):
        flip = B.xp_of(x).asarray(self.generator.random(x.shape[0]) < self.p)
        return B.xp_of(x).where(flip[:, None, None, None], x[..., ::-1], x)


class GaussianNoise(Transform):
    """x' = x + σ·ε with ε ~ N(0, 1) per element, kept in x's dtype. Works on inputs of any shape.

    >>> import numpy as np
    >>> from shenjing.data.transforms import GaussianNoise
    >>> noisy = GaussianNoise(0.1, seed=0)(np.zeros((1, 100, 100)))
    >>> round(float(noisy.std()), 2)
    0.1
    """

    def __init__(self, std: float, seed: int | None = None):
        if not np.isfinite(std) or std < 0:
            raise ValueError(f"GaussianNoise: std must be a finite non-negative number, got {std!r}")
        self.std = float(std)
        self.generator = make_generator(seed)

    def apply(self, x):
        if x.dtype.kind != "f":
            raise TypeError(f"GaussianNoise: expected floating-point input, got dtype {x.dtype}")
        noise = self.generator.standard_normal(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
        return x + B.xp_of(x).asarray(noise * x.dtype.type(self.std)).astype(x.dtype, copy=False)
