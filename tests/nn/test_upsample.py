"""Upsample layers against torch.nn.Upsample; interpolate's argument checks."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn


@pytest.mark.parametrize("make", [
    lambda m: m.Upsample(scale_factor=2), lambda m: m.Upsample(size=(5, 3), mode="bilinear"),
    lambda m: m.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
    lambda m: m.UpsamplingNearest2d(scale_factor=3), lambda m: m.UpsamplingBilinear2d(size=7)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_upsample_layers_match_torch(torch, make, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(dtype)
    ours, theirs = make(nn), make(torch.nn)
    out = ours(sj.tensor(x))
    assert out.dtype == np.dtype(dtype) and repr(ours) == repr(theirs)
    assert_close(out, theirs(torch.tensor(x)), dtype)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(), ValueError, "exactly one of size and scale_factor"),
    (dict(size=4, scale_factor=2), ValueError, "exactly one"),
    (dict(size=4, mode="cubic"), NotImplementedError, "mode must be one of"),
    (dict(size=4, mode="linear"), NotImplementedError, "takes 3-d input"),
    (dict(size=4, align_corners=True), ValueError, "align_corners"),
    (dict(scale_factor=0.1), RuntimeError, "empty output"),
    (dict(size=(2, 3, 4)), ValueError, "size must be"),
])
def test_interpolate_rejects_bad_arguments_like_torch(torch, kwargs, error, match):
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(error, match=match):
        sj.nn.functional.interpolate(sj.tensor(x), **kwargs)
    with pytest.raises(error):
        torch.nn.functional.interpolate(torch.tensor(x), **kwargs)
