"""SiLU, Mish, SELU, LogSigmoid, Softsign, Hardsigmoid, Hardswish, normalize, one_hot and Huber loss."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.autograd import gradcheck

ACTIVATIONS = ["silu", "mish", "selu", "logsigmoid", "softsign", "hardsigmoid", "hardswish"]
MODULES = {"silu": "SiLU", "mish": "Mish", "selu": "SELU", "logsigmoid": "LogSigmoid", "softsign": "Softsign",
           "hardsigmoid": "Hardsigmoid", "hardswish": "Hardswish"}


def sample(seed=0, dtype=np.float64):
    x = np.random.default_rng(seed).standard_normal((4, 5)) * 4
    x[0, :3] = [-30.0, 30.0, 0.5]  # saturated ends
    return x.astype(dtype)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_matches_torch(torch, name, dtype, device):
    x = sample(dtype=dtype)
    ours, theirs = sj.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    out, expected = getattr(F, name)(ours), getattr(torch.nn.functional, name)(theirs)
    assert out.dtype == np.dtype(dtype) and out.device == device
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    # PyTorch's hardsigmoid backward uses 1/6 rounded to float32 even in float64; ours is exact
    loose = {"rtol": 1e-7} if name == "hardsigmoid" else {}
    assert_close(ours.grad, theirs.grad, **loose)
    assert_close(getattr(nn, MODULES[name])()(sj.tensor(x, device=device)), expected)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradcheck(name, device):
    x = np.random.default_rng(1).uniform(-4, 4, (3, 4))
    x = x[np.abs(np.abs(x) - 3) > 1e-3].reshape(-1)  # away from the kinks at ±3
    assert gradcheck(getattr(F, name), [sj.tensor(x, requires_grad=True, device=device)])


def test_normalize_and_huber_match_torch(torch):
    x, y = sample(2), sample(3)
    ours, theirs = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for p, dim in [(2.0, 1), (1.0, 0)]:
        assert_close(F.normalize(ours, p=p, dim=dim), torch.nn.functional.normalize(theirs, p=p, dim=dim))
    for reduction in ("mean", "sum", "none"):
        for delta in (1.0, 2.5):
            out = F.huber_loss(ours, sj.tensor(y), reduction=reduction, delta=delta)
            expected = torch.nn.functional.huber_loss(theirs, torch.tensor(y), reduction=reduction, delta=delta)
            assert_close(out, expected)
    assert gradcheck(lambda t: F.normalize(t, dim=1), [sj.tensor(x[:2], requires_grad=True)])
    assert_close(nn.HuberLoss(delta=2.0)(sj.tensor(x), sj.tensor(y)),
                 torch.nn.HuberLoss(delta=2.0)(torch.tensor(x), torch.tensor(y)))


def test_one_hot(torch):
    idx = np.array([[0, 2], [1, 2]])
    assert_close(F.one_hot(sj.tensor(idx)), torch.nn.functional.one_hot(torch.tensor(idx)))
    assert F.one_hot(sj.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(ValueError, match="class indices"):
        F.one_hot(sj.tensor([3]), num_classes=2)
