"""Shape ops as PyTorch: ``view`` never copies (a non-contiguous tensor raises, ``reshape`` copies),
and the small tensor queries and conversions ported code uses."""

import numpy as np
import pytest

import shenjing as sj


def test_view_of_a_non_contiguous_tensor_raises_as_torch(torch):
    a = np.arange(12.0).reshape(3, 4)
    for lib in (torch, sj):
        x = lib.tensor(a)
        with pytest.raises(RuntimeError):
            x.t().view(12)
        with pytest.raises(RuntimeError):
            x[:, 1:3].view(6)
        assert x[:, ::2].view(6).tolist() == a[:, ::2].ravel().tolist()  # equal strides merge: a view
        assert x.t().reshape(12).shape == (12,)
        assert not x.t().is_contiguous() and x.is_contiguous() and x.t().contiguous().is_contiguous()
        assert x.t().contiguous().view(12).tolist() == a.T.ravel().tolist()


def test_view_shares_memory_so_writes_show_through():
    x = sj.zeros(2, 3)
    v = x.view(6)
    v[4] = 7.0
    assert float(x[1, 1]) == 7.0
    assert x.t().view(3, 2).shape == (3, 2)  # the same shape needs no new layout


def test_queries_and_conversions_match_torch(torch):
    a = np.arange(6).reshape(2, 3)
    for lib in (torch, sj):
        x, f = lib.tensor(a), lib.tensor(a, dtype=lib.float32)
        assert x.is_floating_point() is False and f.is_floating_point() is True
        assert str(x.type_as(f).dtype).removeprefix("torch.") == "float32"
        assert lib.numel(x) == x.numel() == 6
        for like in (lib.randn_like(f), lib.empty_like(f), lib.rand_like(f)):
            assert tuple(like.shape) == (2, 3) and str(like.dtype).removeprefix("torch.") == "float32"


def test_masked_fill_in_place_keeps_the_tensor_and_its_dtype(torch):
    mask = np.array([[True, False, True], [False, False, True]])
    for lib in (torch, sj):
        x = lib.tensor(np.arange(6).reshape(2, 3))
        alias = x
        x.masked_fill_(lib.tensor(mask), 9.7)
        assert x is alias and str(x.dtype).removeprefix("torch.") == "int64"
        assert x.tolist() == [[9, 1, 9], [3, 4, 9]]


def test_bad_arguments_raise():
    x = sj.zeros(2, 3)
    with pytest.raises(IndexError, match="narrow"):
        x.narrow(1, 2, 2)
    with pytest.raises(ValueError, match="index_select"):
        x.index_select(0, sj.tensor([[0]]))
    with pytest.raises(ValueError, match="same length"):
        x.roll((1, 2), (0,))
    with pytest.raises(ValueError, match="mm"):
        sj.mm(x, sj.zeros(3))
    with pytest.raises(ValueError, match="batch sizes"):
        sj.bmm(sj.zeros(2, 2, 3), sj.zeros(3, 3, 2))
