"""parameters_to_vector / vector_to_parameters against torch.nn.utils."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn
from shenjing.nn.utils import parameters_to_vector, vector_to_parameters


def _twins(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_round_trip_and_order_match_torch(torch):
    ours, theirs = _twins(torch)
    vec = parameters_to_vector(ours.parameters())
    assert vec.shape == (26,)
    assert_close(vec, torch.nn.utils.parameters_to_vector(theirs.parameters()))
    new = np.arange(26.0)
    vector_to_parameters(sj.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(a, b, err_msg=name)
        assert a.dtype == np.float64 and a.requires_grad


def test_the_vector_is_differentiable():
    layer = nn.Linear(2, 2).double()
    (parameters_to_vector(layer.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(np.asarray(layer.weight.grad), 2 * np.asarray(layer.weight))
    np.testing.assert_allclose(np.asarray(layer.bias.grad), 2 * np.asarray(layer.bias))


def test_wrong_length_and_types_are_named():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"vec must have shape \(6,\)"):
        vector_to_parameters(sj.zeros(5), layer.parameters())
    with pytest.raises(TypeError, match="single Tensor"):
        parameters_to_vector(layer.weight)
    with pytest.raises(TypeError, match="vec must be a Tensor"):
        vector_to_parameters(np.zeros(6), layer.parameters())
