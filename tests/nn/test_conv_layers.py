"""Convolution and pooling layers: PyTorch parity with the same weights, default init, parameter counts,
the notes' extra layers (depthwise separable, deformable, attention pooling)."""

import math

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.autograd import gradcheck


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _same_step(torch, ours, theirs, x):
    """Load PyTorch's weights into ``ours``, run forward/backward on both, compare output and every grad."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    xa, xb = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(xa), theirs(xb)
    assert_close(out_a, out_b)
    g = _x(tuple(out_b.shape), seed=9)
    out_a.backward(sj.tensor(g))
    out_b.backward(torch.tensor(g))
    assert_close(xa.grad, xb.grad)
    for (name, pa), (_, pb) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(pa.grad, pb.grad, err_msg=name)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(padding="same", dilation=2),
                                dict(groups=2, bias=False, padding=(1, 0))])
def test_conv2d_layer_matches_torch(torch, kw):
    ours = nn.Conv2d(4, 6, (3, 2), **kw).double()
    theirs = torch.nn.Conv2d(4, 6, (3, 2), **kw).double()
    _same_step(torch, ours, theirs, _x((2, 4, 7, 6)))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=2, dilation=2), dict(groups=4, padding="same")])
def test_conv1d_layer_matches_torch(torch, kw):
    ours, theirs = nn.Conv1d(4, 8, 3, **kw).double(), torch.nn.Conv1d(4, 8, 3, **kw).double()
    _same_step(torch, ours, theirs, _x((2, 4, 10)))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(2, 1), dilation=2, groups=2, bias=False)])
def test_conv_transpose2d_layer_matches_torch(torch, kw):
    ours = nn.ConvTranspose2d(4, 6, (3, 2), **kw).double()
    theirs = torch.nn.ConvTranspose2d(4, 6, (3, 2), **kw).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _same_step(torch, ours, theirs, _x((2, 4, 5, 4)))


@pytest.mark.parametrize("kw", [dict(), dict(stride=3, padding=1, output_padding=2, groups=2)])
def test_conv_transpose1d_layer_matches_torch(torch, kw):
    ours, theirs = nn.ConvTranspose1d(4, 2, 4, **kw).double(), torch.nn.ConvTranspose1d(4, 2, 4, **kw).double()
    _same_step(torch, ours, theirs, _x((2, 4, 6)))


def test_conv_transpose_init_bound_and_output_size_follow_torch(torch):
    sj.manual_seed(0)
    layer = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, groups=2)
    bound = 1 / math.sqrt(3 * 3 * 3)  # fan_in = out/groups · kh·kw
    assert np.abs(np.asarray(layer.weight)).max() <= bound and np.abs(np.asarray(layer.weight)).max() > 0.9 * bound
    x = _x((1, 8, 5, 5))
    theirs = torch.nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, groups=2).double()
    layer.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert_close(layer.double()(sj.tensor(x), output_size=(10, 10)), theirs(torch.tensor(x), output_size=(10, 10)))
    with pytest.raises(ValueError, match="output_size"):
        layer(sj.tensor(x), output_size=(12, 12))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(sj.tensor(x), layer.weight, stride=2, output_padding=2)


@pytest.mark.parametrize("layer,shape", [
    (lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 9, 8)),
    (lambda m: m.MaxPool1d(2, dilation=2), (2, 3, 9)),
    (lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 9, 8)),
    (lambda m: m.AvgPool1d(3, 2, 1, ceil_mode=True), (2, 3, 9)),
    (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 9, 8)),
])
def test_pool_layers_match_torch(torch, layer, shape):
    _same_step(torch, layer(nn), layer(torch.nn), _x(shape))


def test_conv_default_init_is_pytorch_kaiming_uniform():
    """PyTorch's default: kaiming_uniform(a=√5) i.e. U(-1/√fan_in, 1/√fan_in) for weight and bias."""
    sj.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3, groups=2)
    bound = 1 / math.sqrt(8 * 9)
    for p in (conv.weight.numpy(), conv.bias.numpy()):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound
    assert np.isclose(conv.weight.numpy().std(), bound / math.sqrt(3), rtol=0.05)
    assert conv.weight.shape == (32, 8, 3, 3)


def test_conv_parameter_counts():
    assert nn.Conv2d(3, 4, 3).num_parameters() == 3 * 4 * 9 + 4
    assert nn.Conv1d(6, 4, 5, groups=2, bias=False).num_parameters() == 3 * 4 * 5


def test_depthwise_separable_conv2d_parameters_and_composition():
    """Seed 004 §2.2.2: in·k·k + in·out weights (+ in + out biases) against in·out·k·k for a full conv."""
    sj.manual_seed(1)
    layer = nn.DepthwiseSeparableConv2d(3, 8, 3, padding=1).double()
    assert layer.num_parameters() == 3 * 3 * 3 + 3 * 8 + 3 + 8
    assert nn.DepthwiseSeparableConv2d(3, 8, 3, bias=False).num_parameters() == 3 * 9 + 24
    x = sj.tensor(_x((2, 3, 5, 5)), requires_grad=True)
    dw, pw = layer.depthwise, layer.pointwise
    expected = F.conv2d(F.conv2d(x, dw.weight, dw.bias, padding=1, groups=3), pw.weight, pw.bias)
    out = layer(x)
    assert out.shape == (2, 8, 5, 5)
    assert_close(out, expected)
    assert gradcheck(lambda t: layer(t), [sj.tensor(_x((1, 3, 4, 4)), requires_grad=True)])


def test_deform_conv2d_layer_starts_as_plain_conv_and_learns_offsets():
    sj.manual_seed(2)
    layer = nn.DeformConv2d(3, 4, 3, padding=1).double()
    assert layer.offset_conv.weight.shape == (18, 3, 3, 3)
    assert np.all(layer.offset_conv.weight.numpy() == 0) and np.all(layer.offset_conv.bias.numpy() == 0)
    x = sj.tensor(_x((2, 3, 6, 5)))
    out = layer(x)
    assert_close(out, F.conv2d(x, layer.weight, layer.bias, padding=1))
    (out * sj.tensor(_x(out.shape, seed=3))).sum().backward()
    assert np.abs(layer.offset_conv.weight.grad.numpy()).sum() > 0
    names = {n for n, _ in layer.named_parameters()}
    assert names == {"weight", "bias", "offset_conv.weight", "offset_conv.bias"}


def test_conv_layer_bad_arguments():
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(3, 4, 0)
    with pytest.raises(ValueError, match="in_channels"):
        nn.Conv1d(0, 4, 3)


def test_token_pool_layers():
    x = sj.tensor(_x((2, 3, 8)))
    assert_close(nn.KMaxPool1d(3)(x), F.kmax_pool1d(x, 3))
    assert_close(nn.KAvgPool1d(3)(x), F.kavg_pool1d(x, 3))
    assert_close(nn.ChunkMaxPool1d(3)(x), F.chunk_max_pool1d(x, 3))
    assert_close(nn.ChunkAvgPool1d(3)(x), F.chunk_avg_pool1d(x, 3))
    assert_close(nn.GlobalMaxPool()(x), x.numpy().max(-1))
    assert_close(nn.GlobalAvgPool()(x), x.numpy().mean(-1))
    assert "k=3" in repr(nn.KMaxPool1d(3)) and "chunks=2" in repr(nn.ChunkMaxPool1d(2))


def test_attention_pooling_is_softmax_weighted_sum_over_time(torch):
    """Seed 004 §2.3.4: a = softmax_i(h_i·q/√d), e = Σ_i a_i h_i; gradients as PyTorch's autograd gives them."""
    sj.manual_seed(3)
    layer = nn.AttentionPooling(4).double()
    h = _x((2, 5, 4), seed=4)
    ht = sj.tensor(h, requires_grad=True)
    out = layer(ht)
    th, tq = torch.tensor(h, requires_grad=True), torch.tensor(layer.query.numpy(), requires_grad=True)
    a = torch.softmax(th @ tq / 2.0, dim=1)
    expected = (a.unsqueeze(-1) * th).sum(1)
    assert_close(out, expected)
    assert_close(layer.attention_weights, a)
    np.testing.assert_allclose(layer.attention_weights.numpy().sum(1), 1.0, rtol=1e-12)
    g = _x((2, 4), seed=6)
    out.backward(sj.tensor(g))
    expected.backward(torch.tensor(g))
    assert_close(ht.grad, th.grad)
    assert_close(layer.query.grad, tq.grad)


def test_attention_pooling_gradcheck_and_mask():
    sj.manual_seed(4)
    layer = nn.AttentionPooling(3).double()
    h = sj.tensor(_x((2, 4, 3), seed=5), requires_grad=True)
    assert gradcheck(lambda t: layer(t), [h])
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    out = layer(h, mask=mask)
    np.testing.assert_allclose(layer.attention_weights.numpy()[0, 2:], 0.0, atol=1e-12)
    assert_close(out[0], layer(h[:1, :2])[0])
    with pytest.raises(ValueError, match="shape"):
        layer(sj.randn(2, 4, 5))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_match_torch(torch, mode):
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
    ours = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 6))
    xs, xt = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xs), theirs(xt)
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_close(xs.grad, xt.grad)


def test_conv_transpose_takes_an_unbatched_sample_like_torch(torch):
    x, w = _x((4, 3, 5)), _x((4, 2, 3, 2), seed=1)
    ours = F.conv_transpose2d(sj.tensor(x), sj.tensor(w), stride=2)
    assert_close(ours, torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2))
    assert ours.shape == (2, 7, 10)
    assert F.conv_transpose1d(sj.tensor(x[:, 0]), sj.tensor(w[:, :, 0]), stride=3).shape == (2, 14)
