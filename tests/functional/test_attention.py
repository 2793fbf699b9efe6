"""scaled_dot_product_attention: PyTorch parity (masks, causal, scale), gradcheck, dropout, errors."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck


def qkv(rng, dtype=np.float64, N=2, h=3, L=4, S=5, E=6, Ev=7):
    return [rng.standard_normal(s).astype(dtype) for s in [(N, h, L, E), (N, h, S, E), (N, h, S, Ev)]]


MASKS = {
    "none": lambda rng: None,
    "bool": lambda rng: rng.random((4, 5)) > 0.3,
    "bool_batched": lambda rng: rng.random((2, 1, 4, 5)) > 0.3,
    "float": lambda rng: rng.standard_normal((4, 5)),
}


@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(torch, mask, dtype):
    rng = np.random.default_rng(0)
    arrays = qkv(rng, dtype)
    m = MASKS[mask](rng)
    if m is not None and m.dtype == bool:
        m[..., 0] = True  # every query sees at least one key
    if m is not None and m.dtype != bool:
        m = m.astype(dtype)
    ours = [sj.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, attn_mask=m)
    tout = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=None if m is None else torch.tensor(m))
    assert out.dtype == dtype
    assert_close(out, tout)
    g = rng.standard_normal(out.shape).astype(dtype)
    (out * sj.Tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad, atol=1e-5 if dtype == np.float32 else 1e-12)


def test_causal_and_custom_scale_match_torch(torch):
    rng = np.random.default_rng(1)
    q, k, v = qkv(rng, L=5, S=5)
    out = F.scaled_dot_product_attention(sj.Tensor(q), sj.Tensor(k), sj.Tensor(v), is_causal=True, scale=0.3)
    tout = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), is_causal=True, scale=0.3)
    assert_close(out, tout)
    # the first query only sees the first key
    assert_close(out.numpy()[..., 0, :], v[..., 0, :])


def test_gradcheck():
    rng = np.random.default_rng(2)
    inputs = [sj.Tensor(a, requires_grad=True) for a in qkv(rng, N=1, h=2, L=2, S=3, E=2, Ev=2)]
    mask = np.array([[True, False, True], [True, True, False]])
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), inputs)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), inputs)


def test_dropout_on_weights():
    rng = np.random.default_rng(3)
    q, k, v = (sj.Tensor(a) for a in qkv(rng))
    sj.manual_seed(0)
    assert np.abs(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy()).max() == 0
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    b = F.scaled_dot_product_attention(q, k, v).numpy()
    assert not np.allclose(a, b)


def test_bad_arguments():
    rng = np.random.default_rng(4)
    q, k, v = (sj.Tensor(a) for a in qkv(rng))
    with pytest.raises(ValueError, match="last dimension"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(ValueError, match="number of positions"):
        F.scaled_dot_product_attention(q, k, q)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 5), bool), is_causal=True)
    with pytest.raises(TypeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 5), int))
