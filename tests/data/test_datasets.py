"""Bundled and generated datasets: Keras-style splits, dtypes, seeds, the MNIST-1D cache."""

import numpy as np
import pytest

from shenjing.data import datasets


@pytest.mark.parametrize("name, n_features, n_classes", [
    ("digits", 64, 10), ("breast_cancer", 30, 2), ("moons", 2, 2), ("spirals", 2, 2), ("xor", 2, 2),
])
def test_splits_shapes_dtypes_and_seed(name, n_features, n_classes):
    (X, y), (Xt, yt) = getattr(datasets, name)()
    assert X.dtype == np.float32 and Xt.dtype == np.float32 and y.dtype == np.int64 and yt.dtype == np.int64
    assert X.shape[1:] == (n_features,) and Xt.shape[1:] == (n_features,)
    assert len(X) == len(y) and len(Xt) == len(yt) and len(X) > len(Xt)
    assert set(np.unique(y)) == set(range(n_classes))
    (X2, _), _ = getattr(datasets, name)(seed=1)
    (X3, _), _ = getattr(datasets, name)()
    np.testing.assert_array_equal(X, X3)
    assert not np.array_equal(X, X2)


def test_digits_standardised_and_as_images():
    (X, _), _ = datasets.digits()
    assert abs(X.mean()) < 1e-5 and abs(X.std() - 1) < 1e-5
    (Xi, _), (Xti, _) = datasets.digits(images=True)
    assert Xi.shape[1:] == (1, 8, 8) and Xti.shape[1:] == (1, 8, 8)
    (Xr, _), _ = datasets.digits(standardize=False)
    assert Xr.min() == 0.0 and Xr.max() == 1.0


def test_xor_truth_table():
    (X, y), (Xt, yt) = datasets.xor(n_samples=4, noise=0.0)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    np.testing.assert_array_equal(Xt, X)


def test_breast_cancer_standardised_per_feature():
    (X, _), _ = datasets.breast_cancer()
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-4)


def test_mnist1d_defaults_and_cache(tmp_path, monkeypatch):
    pytest.importorskip("mnist1d")
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path))
    (X, y), (Xt, yt) = datasets.mnist1d()
    assert X.shape == (4000, 40) and Xt.shape == (1000, 40) and X.dtype == np.float32 and y.dtype == np.int64
    files = list(tmp_path.glob("mnist1d-*.npz"))
    assert len(files) == 1
    state = np.random.get_state()[1].copy()
    (X2, _), _ = datasets.mnist1d()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_bad_split_and_sizes():
    with pytest.raises(ValueError, match="test_size"):
        datasets.moons(test_size=1.5)
    with pytest.raises(ValueError, match="n_samples"):
        datasets.xor(n_samples=2)
