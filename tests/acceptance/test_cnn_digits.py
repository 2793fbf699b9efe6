"""End to end: a small CNN (conv, relu, max-pool, fc) learns scikit-learn's 8x8 digits to >= 98% test accuracy."""

import numpy as np
import pytest

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    x, y = datasets.load_digits(return_X_y=True)
    x = x.astype(np.float32).reshape(-1, 1, 8, 8)
    x_train, x_test, y_train, y_test = model_selection.train_test_split(x, y, test_size=0.25, random_state=0,
                                                                        stratify=y)
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, (x_test - mean) / std, y_train, y_test


@pytest.mark.slow
def test_small_cnn_reaches_98_percent_on_digits():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x_train, x_test, y_train, y_test = _digits()
    sj.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Dropout(0.3), nn.Linear(64 * 4 * 4, 10),
    )
    optimizer = sj.optim.Adam(model.parameters(), lr=2e-3)
    order = np.random.default_rng(0)
    with threadpoolctl.threadpool_limits(1):  # small GEMMs: BLAS threads cost more than they give
        for _ in range(12):
            perm = order.permutation(len(x_train))
            for start in range(0, len(perm), 32):
                idx = perm[start : start + 32]
                loss = F.cross_entropy(model(sj.tensor(x_train[idx])), sj.tensor(y_train[idx]))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            for group in optimizer.param_groups:
                group["lr"] *= 0.8
        model.eval()
        with sj.no_grad():
            logits = model(sj.tensor(x_test))
    assert logits.dtype == np.float32
    accuracy = (logits.numpy().argmax(1) == y_test).mean()
    assert accuracy >= 0.98, f"test accuracy {accuracy:.4f}"
