"""Small datasets for the notes' experiments, each as Keras-style NumPy train/test splits.

Every loader returns ``(X_train, y_train), (X_test, y_test)`` with float32 features and int64
labels, is reproducible from ``seed``, and validates its output with ``check_finite``.
scikit-learn (bundled digits and breast-cancer data, ``make_moons``) and ``mnist1d`` are
imported only when their loader is called.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .dataset import check_finite

__all__ = ["digits", "breast_cancer", "mnist1d", "moons", "spirals", "xor", "cache_dir", "DATASETS"]


def _require(module: str, extra: str = "data"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"this dataset needs {module.split('.')[0]}: pip install 'shenjing[{extra}]'") from None


def _split(X, y, test_size: float, seed: int, stratify: bool = True):
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    model_selection = _require("sklearn.model_selection")
    return model_selection.train_test_split(X, y, test_size=test_size, random_state=seed,
                                            stratify=y if stratify else None)


def _finish(X_train, y_train, X_test, y_test, name: str):
    out = []
    for X, y, part in ((X_train, y_train, "train"), (X_test, y_test, "test")):
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.int64)
        check_finite(X, f"{name} X_{part}")
        out.append((X, y))
    return tuple(out)


def _standardize_features(X_train, X_test):
    """Per-feature z-score with the training set's mean and std (seed 002: normalise the inputs)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    return (X_train - mean) / std, (X_test - mean) / std


def _standardize_global(X_train, X_test):
    """One mean and std over all training values, so images stay images."""
    mean, std = X_train.mean(), X_train.std()
    return (X_train - mean) / std, (X_test - mean) / std


def digits(test_size: float = 0.25, seed: int = 0, standardize: bool = True, images: bool = False):
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes), stratified split.

    X is (N, 64), or (N, 1, 8, 8) with ``images=True``; pixel values 0..16 scaled to [0, 1], then
    (``standardize=True``) shifted and scaled by the training set's overall mean and std.

    >>> from shenjing.data import datasets
    >>> (X, y), (X_test, y_test) = datasets.digits()
    >>> X.shape, X_test.shape, sorted(set(y.tolist())) == list(range(10))
    ((1347, 64), (450, 64), True)
    """
    sk = _require("sklearn.datasets")
    data = sk.load_digits()
    X_train, X_test, y_train, y_test = _split(data.data / 16.0, data.target, test_size, seed)
    if standardize:
        X_train, X_test = _standardize_global(X_train, X_test)
    if images:
        X_train, X_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
    return _finish(X_train, y_train, X_test, y_test, "digits")


def breast_cancer(test_size: float = 0.25, seed: int = 0, standardize: bool = True):
    """scikit-learn's Wisconsin breast-cancer data (569 samples, 30 features, 2 classes),
    stratified split, per-feature standardised with the training statistics.

    >>> from shenjing.data import datasets
    >>> (X, y), (X_test, y_test) = datasets.breast_cancer()
    >>> X.shape, X_test.shape
    ((426, 30), (143, 30))
    """
    sk = _require("sklearn.datasets")
    data = sk.load_breast_cancer()
    X_train, X_test, y_train, y_test = _split(data.data, data.target, test_size, seed)
    if standardize:
        X_train, X_test = _standardize_features(X_train, X_test)
    return _finish(X_train, y_train, X_test, y_test, "breast_cancer")


def cache_dir() -> Path:
    """Where generated datasets are cached: ``$SHENJING_CACHE``, else ``$XDG_CACHE_HOME/shenjing``,
    else ``~/.cache/shenjing``.

    >>> import os
    >>> from unittest import mock
    >>> from shenjing.data.datasets import cache_dir
    >>> with mock.patch.dict(os.environ, {"SHENJING_CACHE": "/tmp/shenjing-cache"}):
    ...     print(cache_dir())
    /tmp/shenjing-cache
    """
    if os.environ.get("SHENJING_CACHE"):
        return Path(os.environ["SHENJING_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "shenjing"


def _generate_mnist1d(num_samples: int, length: int, seed: int) -> dict:
    data_mod = _require("mnist1d.data")
    args = data_mod.get_dataset_args()
    args.num_samples, args.final_seq_length, args.seed = num_samples, length, seed
    state = np.random.get_state()  # mnist1d seeds NumPy's global generator; leave it as it was
    try:
        return data_mod.make_dataset(args)
    finally:
        np.random.set_state(state)


def mnist1d(num_samples: int = 5000, length: int = 40, seed: int = 42, cache: bool = True):
    """MNIST-1D (Greydanus 2020): 1-d signals of length 40 built from 10 digit templates.

    Generated locally with the ``mnist1d`` package (no download) with its defaults: 5000
    samples, 80/20 split (4000 train, 1000 test), the data centred to mean 0, std 1.
    The arrays are cached as ``mnist1d-<num_samples>-<length>-<seed>.npz`` in
    :func:`cache_dir`. X is (N, length).

    >>> from shenjing.data import datasets
    >>> (X, y), (X_test, y_test) = datasets.mnist1d(num_samples=200, cache=False)
    >>> X.shape, X_test.shape
    ((160, 40), (40, 40))
    """
    path = cache_dir() / f"mnist1d-{num_samples}-{length}-{seed}.npz"
    if cache and path.exists():
        with np.load(path, allow_pickle=False) as f:
            return _finish(f["X_train"], f["y_train"], f["X_test"], f["y_test"], "mnist1d")
    data = _generate_mnist1d(num_samples, length, seed)
    out = _finish(data["x"], data["y"], data["x_test"], data["y_test"], "mnist1d")
    if cache:
        (X_train, y_train), (X_test, y_test) = out
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
        os.replace(tmp, path)
    return out


def moons(n_samples: int = 1000, noise: float = 0.1, test_size: float = 0.25, seed: int = 0):
    """Two interleaving half circles (scikit-learn's ``make_moons``), 2 features, 2 classes.

    >>> from shenjing.data import datasets
    >>> (X, y), (X_test, y_test) = datasets.moons(n_samples=100)
    >>> X.shape, X_test.shape
    ((75, 2), (25, 2))
    """
    sk = _require("sklearn.datasets")
    X, y = sk.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    X_train, X_test, y_train, y_test = _split(X, y, test_size, seed)
    return _finish(X_train, y_train, X_test, y_test, "moons")


def spirals(n_samples: int = 600, n_classes: int = 2, noise: float = 0.2, turns: float = 1.5,
            test_size: float = 0.25, seed: int = 0):
    """``n_classes`` interleaved spiral arms in the plane (pure NumPy).

    Arm k: radius r = t, angle φ = 2π·turns·t + 2πk/K (+ N(0, noise²)) for t uniform in (0, 1].

    >>> from shenjing.data import datasets
    >>> (X, y), _ = datasets.spirals(n_samples=300, n_classes=3)
    >>> X.shape, sorted(set(y.tolist()))
    ((225, 2), [0, 1, 2])
    """
    if n_classes < 2 or n_samples < 2 * n_classes:
        raise ValueError(f"spirals: need n_classes >= 2 and n_samples >= 2*n_classes, got {n_samples}, {n_classes}")
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.05, 1.0, n_samples)
    phi = 2 * np.pi * turns * t + 2 * np.pi * y / n_classes + rng.normal(0.0, noise, n_samples)
    X = np.stack([t * np.cos(phi), t * np.sin(phi)], axis=1)
    X_train, X_test, y_train, y_test = _split(X, y, test_size, seed)
    return _finish(X_train, y_train, X_test, y_test, "spirals")


def xor(n_samples: int = 200, noise: float = 0.1, test_size: float = 0.25, seed: int = 0):
    """The XOR problem: points near the corners of the unit square, label = x₁ XOR x₂.

    Sample i sits at corner i mod 4 of (0,0), (0,1), (1,0), (1,1) plus N(0, noise²) jitter.
    With ``n_samples=4, noise=0`` both splits are the four-row truth table itself.

    >>> from shenjing.data import datasets
    >>> (X, y), (X_test, y_test) = datasets.xor()
    >>> X.shape, sorted(set(y.tolist()))
    ((150, 2), [0, 1])
    """
    if n_samples < 4:
        raise ValueError(f"xor: n_samples must be at least 4, got {n_samples}")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0])[np.arange(n_samples) % 4]
    X = corners[np.arange(n_samples) % 4] + np.random.default_rng(seed).normal(0.0, noise, (n_samples, 2))
    if n_samples == 4:
        return _finish(X, y, X, y, "xor")
    X_train, X_test, y_train, y_test = _split(X, y, test_size, seed)
    return _finish(X_train, y_train, X_test, y_test, "xor")


DATASETS = {"digits": digits, "mnist1d": mnist1d, "breast_cancer": breast_cancer, "moons": moons,
            "spirals": spirals, "xor": xor}
