"""Embedding lookup: values, scatter-add gradients with repeated indices, padding_idx, PyTorch parity."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

WEIGHT = np.random.default_rng(0).standard_normal((6, 3))
INDEX = np.array([[0, 2, 2], [5, 1, 0]])


def test_lookup_and_parity(torch):
    w = sj.tensor(WEIGHT, requires_grad=True)
    wt = torch.tensor(WEIGHT, requires_grad=True)
    out, ref = F.embedding(INDEX, w, padding_idx=2), torch.nn.functional.embedding(torch.tensor(INDEX), wt,
                                                                                  padding_idx=2)
    assert out.shape == (2, 3, 3)
    assert_close(out, WEIGHT[INDEX])
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert_close(w.grad, wt.grad)
    assert (w.grad.numpy()[2] == 0).all()


def test_repeated_indices_accumulate():
    w = sj.tensor(WEIGHT, requires_grad=True)
    F.embedding(np.array([1, 1, 1]), w).sum().backward()
    assert_close(w.grad.numpy()[1], np.full(3, 3.0))


def test_gradcheck_and_errors():
    assert gradcheck(lambda w: F.embedding(INDEX, w), [sj.tensor(WEIGHT, requires_grad=True)])
    with pytest.raises(TypeError, match="integer"):
        F.embedding(np.array([0.5]), sj.tensor(WEIGHT))
    with pytest.raises(ValueError, match="indices"):
        F.embedding(np.array([6]), sj.tensor(WEIGHT))
