"""MultiheadAttention, TransformerEncoderLayer, PositionalEncoding: PyTorch parity, masks, gradcheck."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn
from shenjing.autograd import gradcheck

E, HEADS, N, L, S = 8, 2, 3, 4, 5


def twin_mha(torch, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, batch_first=True, **kw).double()
    ours = nn.MultiheadAttention(E, HEADS, batch_first=True, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def masks(rng, kind):
    if kind == "none":
        return {}
    padding = np.zeros((N, S), bool)
    padding[0, -2:] = True
    if kind == "bool":
        attn = rng.random((L, S)) > 0.7
        attn[:, 0] = False
        return {"key_padding_mask": padding, "attn_mask": attn}
    if kind == "float":
        return {"key_padding_mask": np.where(padding, -np.inf, 0.0), "attn_mask": rng.standard_normal((L, S))}
    return {"attn_mask": rng.standard_normal((N * HEADS, L, S))}


@pytest.mark.parametrize("kind", ["none", "bool", "float", "per_head"])
def test_mha_matches_torch(torch, kind):
    rng = np.random.default_rng(0)
    ours, theirs = twin_mha(torch)
    arrays = [rng.standard_normal(s) for s in [(N, L, E), (N, S, E), (N, S, E)]]
    x = [sj.Tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    kw = masks(rng, kind)
    out, w = ours(*x, **kw)
    tout, tw = theirs(*tx, **{k: torch.tensor(v) for k, v in kw.items()})
    assert_close(out, tout)
    assert w.shape == (N, L, S)
    assert_close(w, tw)
    g = rng.standard_normal(out.shape)
    (out * sj.Tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    for a, b in zip(x, tx):
        assert_close(a.grad, b.grad)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad)


def test_mha_self_attention_per_head_weights_and_kdim(torch):
    rng = np.random.default_rng(1)
    ours, theirs = twin_mha(torch)
    x = rng.standard_normal((N, L, E))
    xs, tx = sj.Tensor(x), torch.tensor(x)
    out, w = ours(xs, xs, xs, average_attn_weights=False)
    tout, tw = theirs(tx, tx, tx, average_attn_weights=False)
    assert w.shape == (N, HEADS, L, L)
    assert_close(out, tout)
    assert_close(w, tw)
    assert ours(xs, xs, xs, need_weights=False)[1] is None
    ours, theirs = twin_mha(torch, kdim=3, vdim=5)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    k, v = rng.standard_normal((N, S, 3)), rng.standard_normal((N, S, 5))
    assert_close(ours(xs, sj.Tensor(k), sj.Tensor(v))[0], theirs(tx, torch.tensor(k), torch.tensor(v))[0])


def test_mha_causal_and_sequence_first(torch):
    rng = np.random.default_rng(2)
    ours, theirs = twin_mha(torch)
    x = rng.standard_normal((N, L, E))
    causal = np.triu(np.ones((L, L), bool), 1)
    out = ours(sj.Tensor(x), sj.Tensor(x), sj.Tensor(x), is_causal=True)[0]
    tout = theirs(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(causal))[0]
    assert_close(out, tout)
    seq_first = nn.MultiheadAttention(E, HEADS, batch_first=False).double()
    seq_first.load_state_dict(ours.state_dict())
    xt = sj.Tensor(x.transpose(1, 0, 2).copy())
    assert_close(seq_first(xt, xt, xt)[0].numpy().transpose(1, 0, 2), ours(*[sj.Tensor(x)] * 3)[0])


def test_mha_gradcheck():
    sj.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    rng = np.random.default_rng(3)
    q, k = (sj.Tensor(rng.standard_normal((1, 2, 4)), requires_grad=True) for _ in range(2))
    pad = np.array([[False, True]])
    assert gradcheck(lambda q, k, w: mha(q, k, k, key_padding_mask=pad)[0], [q, k, mha.in_proj_weight])


def test_mha_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(E, HEADS, batch_first=True)
    x = sj.Tensor(np.zeros((N, L, E), np.float32))
    with pytest.raises(ValueError, match="attn_mask"):
        mha(x, x, x, attn_mask=np.zeros((L + 1, L), bool))
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=np.zeros((N, L + 1), bool))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(torch, norm_first, activation):
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, activation=activation, batch_first=True,
                                              norm_first=norm_first).double()
    ours = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, activation=activation, batch_first=True,
                                      norm_first=norm_first)
    ours.double().load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, L, E))
    pad = np.zeros((N, L), bool)
    pad[1, -1] = True
    xs, tx = sj.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours(xs, src_key_padding_mask=pad)
    tout = theirs(tx, src_key_padding_mask=torch.tensor(pad))
    assert_close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    assert_close(xs.grad, tx.grad)
    theirs_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs_grads[name].grad)


def test_encoder_layer_dropout_only_in_training():
    sj.manual_seed(0)
    layer = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.5, batch_first=True)
    x = sj.Tensor(np.random.default_rng(5).standard_normal((N, L, E)).astype(np.float32))
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(E, HEADS, activation="swish")


def test_positional_encoding_is_the_sinusoid():
    pe = nn.PositionalEncoding(6, max_len=10, batch_first=True)
    assert "pe" not in pe.state_dict()
    x = sj.Tensor(np.zeros((2, 4, 6), np.float32))
    y = pe(x).numpy()
    assert y.dtype == np.float32
    pos, i = 3, 1  # dims 2i and 2i+1
    angle = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(y[:, pos, 2 * i], np.sin(angle), rtol=1e-6)
    np.testing.assert_allclose(y[:, pos, 2 * i + 1], np.cos(angle), rtol=1e-6)
    np.testing.assert_array_equal(y[0], y[1])
    with pytest.raises(ValueError, match="length"):
        pe(sj.Tensor(np.zeros((1, 11, 6), np.float32)))
    seq_first = nn.PositionalEncoding(6, max_len=10)(sj.Tensor(np.zeros((4, 2, 6), np.float32))).numpy()
    np.testing.assert_array_equal(seq_first, y.transpose(1, 0, 2))


def test_defaults_are_pytorchs_sequence_first(torch):
    """As in PyTorch, attention layers take (L, N, E) unless batch_first=True."""
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS).double()
    ours = nn.MultiheadAttention(E, HEADS).double()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(6).standard_normal((L, N, E))
    assert_close(ours(*[sj.Tensor(x)] * 3)[0], theirs(*[torch.tensor(x)] * 3)[0])


@pytest.mark.parametrize("batch_first", [True, False])
def test_encoder_stack_matches_torch(torch, batch_first):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, batch_first=batch_first).double()
    theirs = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(E).double(), enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, batch_first=batch_first), 2,
                                 norm=nn.LayerNorm(E))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.double().load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, L, E) if batch_first else (L, N, E))
    pad = np.zeros((N, L), bool)
    pad[2, -2:] = True
    causal = np.triu(np.ones((L, L), bool), 1)
    xs, tx = sj.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours(xs, mask=causal, src_key_padding_mask=pad)
    tout = theirs(tx, mask=torch.tensor(causal), src_key_padding_mask=torch.tensor(pad))
    assert_close(out, tout)
    upstream = rng.standard_normal(x.shape)
    out.backward(sj.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    assert_close(xs.grad, tx.grad)
    theirs_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs_grads[name].grad, err_msg=name)


def test_encoder_stack_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(E, HEADS, 16)
    stack = nn.TransformerEncoder(layer, 3)
    assert len(stack.layers) == 3 and stack.norm is None
    first, second = stack.layers[0].linear1.weight, stack.layers[1].linear1.weight
    assert first is not second and first is not layer.linear1.weight
    np.testing.assert_array_equal(np.asarray(first), np.asarray(second))
    with pytest.raises(ValueError, match="num_layers must be a positive int"):
        nn.TransformerEncoder(layer, 0)


def test_encoder_stack_gradcheck():
    sj.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True)
    stack = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4)).double()
    x = sj.Tensor(np.random.default_rng(5).standard_normal((2, 3, 4)), requires_grad=True)
    weight = stack.layers[1].linear1.weight
    assert gradcheck(lambda x, w: stack(x, src_key_padding_mask=np.array([[False, False, True]] * 2)), [x, weight])
