"""ParameterList against torch.nn.ParameterList: registration, names, state dicts, optimisation."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn


def test_parameter_list_registers_like_torch(torch):
    ours, theirs = nn.ParameterList([sj.ones(3), nn.Parameter(sj.zeros(2))]), torch.nn.ParameterList(
        [torch.ones(3), torch.nn.Parameter(torch.zeros(2))])
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["0", "1"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours)
    ours.append(sj.ones(4))
    ours[0] = sj.full((3,), 2.0)
    assert len(ours) == 3 and ours[-1].shape == (4,) and float(ours[0].sum()) == 6.0
    assert isinstance(ours[0], nn.Parameter) and list(ours.state_dict()) == ["0", "1", "2"]


def test_parameters_in_a_list_train():
    model = nn.Module()
    model.weights = nn.ParameterList([sj.tensor([3.0]), sj.tensor([-2.0])])
    opt = sj.optim.SGD(model.parameters(), lr=0.25)
    for _ in range(20):
        opt.zero_grad()
        loss = sum((p * p).sum() for p in model.weights)
        loss.backward()
        opt.step()
    assert len(list(model.parameters())) == 2 and float(loss) < 1e-3
    assert list(model.state_dict()) == ["weights.0", "weights.1"]


def test_parameter_list_rejects_non_tensors():
    with pytest.raises(TypeError, match="items must be Tensors or Parameters"):
        nn.ParameterList([np.ones(2)])
