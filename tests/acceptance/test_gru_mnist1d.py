"""End to end: a GRU classifier on MNIST-1D reaches >= 90% test accuracy (the MNIST-1D paper: 91%)."""

import contextlib

import numpy as np
import pytest

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn

pytest.importorskip("mnist1d")


def one_blas_thread():
    """Small per-step products gain nothing from BLAS threads, and spinning threads stall on busy cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


class GRUClassifier(nn.Module):
    def __init__(self, hidden: int = 64):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


@pytest.mark.slow
def test_gru_classifies_mnist1d():
    (X_train, y_train), (X_test, y_test) = sj.data.datasets.mnist1d()
    assert X_train.shape == (4000, 40) and X_test.shape == (1000, 40)
    X_train = X_train[:, :, None].astype(np.float32)
    X_test = sj.Tensor(X_test[:, :, None].astype(np.float32))
    sj.manual_seed(0)
    model = GRUClassifier()
    epochs, batch = 16, 100
    opt = sj.optim.Adam(model.parameters(), lr=1e-2)
    schedule = sj.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    rng = np.random.default_rng(0)
    with one_blas_thread():
        train(model, opt, schedule, X_train, y_train, epochs, batch, rng)
    model.eval()
    with sj.no_grad():
        accuracy = (model(X_test).numpy().argmax(axis=1) == y_test).mean()
    assert accuracy >= 0.90, accuracy


def train(model, opt, schedule, X_train, y_train, epochs, batch, rng):
    for _ in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch):
            idx = order[start: start + batch]
            loss = F.cross_entropy(model(sj.Tensor(X_train[idx])), sj.Tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        schedule.step()
