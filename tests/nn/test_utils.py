"""Penalties, gradient clipping (PyTorch parity), no-decay parameter groups and receptive fields."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn
from shenjing.nn import utils

RNG = np.random.default_rng(0)


def test_penalties_and_their_gradients():
    w = sj.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    b = sj.tensor(RNG.standard_normal(2), requires_grad=True)
    assert utils.l1_penalty([w, b]).item() == pytest.approx(np.abs(w.numpy()).sum() + np.abs(b.numpy()).sum())
    l2 = utils.l2_penalty([w, b])
    assert l2.item() == pytest.approx(0.5 * ((w.numpy() ** 2).sum() + (b.numpy() ** 2).sum()))
    l2.backward()
    assert_close(w.grad, w.numpy())
    model = nn.Linear(3, 2)
    assert utils.l1_penalty(model).item() == pytest.approx(sum(np.abs(p.numpy()).sum() for p in model.parameters()),
                                                          rel=1e-6)


def _grads_pair(torch):
    grads = [RNG.standard_normal((3, 4)) * 5, RNG.standard_normal(4)]
    ours = [sj.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for a, b, g in zip(ours, theirs, grads):
        a.grad = sj.tensor(g.copy())
        b.grad = torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(torch, norm_type):
    ours, theirs = _grads_pair(torch)
    total_a = utils.clip_grad_norm_(ours, 1.5, norm_type)
    total_b = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
    assert total_a.item() == pytest.approx(total_b.item(), rel=1e-12)
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)


def test_clip_grad_norm_leaves_small_gradients_and_value_clipping(torch):
    ours, theirs = _grads_pair(torch)
    before = [p.grad.numpy().copy() for p in ours]
    utils.clip_grad_norm_(ours, 1e6)
    for p, g in zip(ours, before):
        assert_close(p.grad, g)
    utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)
    p = sj.tensor([1.0], requires_grad=True)
    p.grad = sj.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_param_groups_no_decay_bert_recipe():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(4, 4)
            self.LayerNorm = nn.LayerNorm(4)
            self.bn = nn.BatchNorm1d(4)

    model = Block()
    groups = utils.param_groups_no_decay(model, weight_decay=0.05)
    assert [g["weight_decay"] for g in groups] == [0.05, 0.0]
    assert groups[0]["params"] == [model.dense.weight]
    assert len(groups[1]["params"]) == 5
    decayed, exempt = utils.param_groups_no_decay(nn.Linear(2, 2), no_decay=())
    assert len(decayed["params"]) == 2 and exempt["params"] == []


def test_receptive_field_of_dilated_stack():
    assert utils.receptive_field([(3, 1, 1)]) == 3
    assert utils.receptive_field([(3, 1, 1), (3, 1, 2)]) == 7
    assert utils.receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15
    assert utils.receptive_field([(3, 2, 1), (3, 2, 1), (2, 2, 1)]) == 1 + 2 + 4 + 4

    class Conv(nn.Module):
        def __init__(self, dilation):
            super().__init__()
            self.kernel_size, self.stride, self.dilation = (3, 3), (1, 1), (dilation, dilation)

    stack = nn.Sequential(Conv(1), nn.ReLU(), Conv(2), nn.ReLU(), Conv(4))
    assert utils.receptive_field(stack) == 15
    with pytest.raises(ValueError, match="receptive_field"):
        utils.receptive_field([(3, 0, 1)])
