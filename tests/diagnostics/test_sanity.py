"""sanity_check: each check's verdict on a healthy setup and on the failure it is meant to catch."""

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.diagnostics import sanity_check


def data(n=64, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), np.arange(n) % classes


def net(activation=nn.ReLU, depth=1, width=32, classes=3):
    layers, size = [], 4
    for _ in range(depth):
        layers += [nn.Linear(size, width), activation()]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, classes)).double()


def test_a_healthy_model_passes_and_keeps_its_weights():
    sj.manual_seed(0)
    model = net()
    before = {k: np.asarray(v).copy() for k, v in model.state_dict().items()}
    X, y = data()
    report = sanity_check(model, nn.CrossEntropyLoss(), X, y)
    assert report.ok, str(report)
    assert [c.name for c in report.checks] == ["finite data", "loss at initialisation", "overfit a small batch",
                                               "gradient flow at initialisation"]
    assert report["loss at initialisation"].numbers["expected"] == pytest.approx(math.log(3))
    for k, v in model.state_dict().items():
        assert np.array_equal(np.asarray(v), before[k])
    assert all(p.grad is None for p in model.parameters())
    assert "all checks passed" in str(report)


def test_nan_in_the_data_is_reported_first():
    X, y = data()
    X[3, 1] = np.nan
    report = sanity_check(net(), nn.CrossEntropyLoss(), X, y)
    assert not report.ok
    assert report["finite data"].passed is False
    assert "1 NaN/Inf" in str(report)


def test_an_overconfident_initialisation_is_flagged():
    sj.manual_seed(0)
    model = net()
    model[2].weight.data *= 200
    report = sanity_check(model, nn.CrossEntropyLoss(), *data())
    check = report["loss at initialisation"]
    assert check.passed is False and check.numbers["loss"] > 1.5 * math.log(3)
    assert "shrink the initial weights" in check.advice


def test_frozen_layers_cannot_overfit():
    sj.manual_seed(0)
    model = net()
    for p in model.parameters():
        p.requires_grad = False
    model[2].weight.requires_grad = True
    model[2].weight.data *= 0
    X, y = data()
    report = sanity_check(model, nn.CrossEntropyLoss(), X, np.random.default_rng(1).integers(0, 3, len(X)), lr=1e-5)
    assert report["overfit a small batch"].passed is False


def test_a_deep_sigmoid_net_shows_vanishing_gradients():
    sj.manual_seed(0)
    report = sanity_check(net(nn.Sigmoid, depth=10, width=16), nn.CrossEntropyLoss(), *data())
    check = report["gradient flow at initialisation"]
    assert check.passed is False
    assert check.numbers["first_to_last"] < 1e-3
    assert "梯度消失" in check.advice


def test_bad_arguments():
    X, y = data()
    with pytest.raises(ValueError, match="same non-zero number of samples"):
        sanity_check(net(), nn.CrossEntropyLoss(), X, y[:10])
