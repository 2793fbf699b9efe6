"""Recurrent ops: PyTorch parity (values, final states, every gradient), gradchecks, BPTT blocks, errors."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.functional.recurrent as R
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
CONFIGS = [  # num_layers, bidirectional, batch_first, initial states
    (1, False, True, False),
    (2, False, False, True),
    (1, True, True, True),
    (2, True, True, True),
]


def torch_layer(torch, mode, input_size, hidden, num_layers, bidirectional, batch_first, dtype):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(mode, torch.nn.RNN)
    kw = {"nonlinearity": mode[4:]} if mode.startswith("rnn") else {}
    torch.manual_seed(0)
    layer = cls(input_size, hidden, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **kw)
    return layer.to(getattr(torch, np.dtype(dtype).name))


def pair(torch, array):
    return sj.Tensor(array.copy(), requires_grad=True), torch.tensor(array.copy(), requires_grad=True)


def run_parity(torch, mode, num_layers, bidirectional, batch_first, with_state, dtype, T=5, N=3, n_in=4, H=6,
               x_scale=1.0):
    rng = np.random.default_rng(1)
    D = 2 if bidirectional else 1
    layer = torch_layer(torch, mode, n_in, H, num_layers, bidirectional, batch_first, dtype)
    torch_weights = list(layer.parameters())
    weights = [sj.Tensor(p.detach().numpy().copy(), requires_grad=True) for p in torch_weights]
    x, tx = pair(torch, (x_scale * rng.standard_normal((N, T, n_in) if batch_first else (T, N, n_in))).astype(dtype))
    hx = thx = None
    if with_state:
        states = [pair(torch, rng.standard_normal((num_layers * D, N, H)).astype(dtype))
                  for _ in range(2 if mode == "lstm" else 1)]
        hx, thx = (tuple(s) for s in zip(*states))
        if mode != "lstm":
            hx, thx = hx[0], thx[0]
    out, state = F.recurrent_layers(x, hx, weights, mode=mode, num_layers=num_layers,
                                    bidirectional=bidirectional, batch_first=batch_first)
    tout, tstate = layer(tx, thx)
    outs = [out] + list(state if mode == "lstm" else [state])
    touts = [tout] + list(tstate if mode == "lstm" else [tstate])
    loss, tloss = 0, 0
    for o, to in zip(outs, touts):
        assert_close(o, to)
        g = rng.standard_normal(o.shape).astype(dtype)
        loss = loss + (o * sj.Tensor(g)).sum()
        tloss = tloss + (to * torch.tensor(g)).sum()
    loss.backward()
    tloss.backward()
    leaves = [x, *weights] + ([] if hx is None else list(hx if mode == "lstm" else [hx]))
    tleaves = [tx, *torch_weights] + ([] if thx is None else list(thx if mode == "lstm" else [thx]))
    for a, b in zip(leaves, tleaves):
        assert_close(a.grad, b.grad, dtype=dtype, atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS)
def test_layers_match_torch_float64(torch, mode, config):
    run_parity(torch, mode, *config, np.float64)


@pytest.mark.parametrize("mode", MODES)
def test_layers_match_torch_float32(torch, mode):
    run_parity(torch, mode, 2, True, True, True, np.float32)


@pytest.mark.parametrize("mode", ["gru", "lstm"])
@pytest.mark.parametrize("dtype,x_scale", [(np.float64, 60.0), (np.float32, 6.0)])
def test_saturated_gates_match_torch(torch, mode, dtype, x_scale):
    """Inputs large enough to drive sigmoid gates (computed as ½ + ½·tanh(x/2)) towards 0 and 1.

    In float32 the weight gradients of ~60x inputs differ from PyTorch's by ~1e-5 whichever way σ is
    computed (e^{-x} or tanh), so float32 is checked at a scale where its rounding stays below 1e-5.
    """
    run_parity(torch, mode, 1, True, True, True, dtype, x_scale=x_scale)


@pytest.mark.parametrize("mode", MODES)
def test_bptt_in_several_blocks_matches_torch(torch, mode, monkeypatch):
    """Scratch blocks of 1 and 2 steps: projections and weight gradients assembled block by block."""
    for block_bytes in (1, 2 * 3 * 24 * 8):
        monkeypatch.setattr(R, "BLOCK_BYTES", block_bytes)
        run_parity(torch, mode, 2, True, True, True, np.float64, T=5)


@pytest.mark.parametrize("mode", ["gru", "lstm"])
def test_outputs_stay_float32_and_repeat_exactly(mode):
    rng = np.random.default_rng(0)
    G = R.GATES[mode]
    weights = [sj.Tensor(rng.uniform(-0.3, 0.3, s).astype(np.float32), requires_grad=True)
               for s in [(G * 8, 3), (G * 8, 8), (G * 8,), (G * 8,)]]
    x = sj.Tensor(rng.standard_normal((4, 7, 3)).astype(np.float32))
    results = []
    for _ in range(3):  # scratch buffers come back from the pool: results must not change
        out, _ = F.recurrent_layers(x, None, weights, mode=mode, batch_first=True)
        out.sum().backward()
        results.append((out.numpy().copy(), [w.grad.numpy().copy() for w in weights]))
        for w in weights:
            assert w.grad.dtype == np.float32
            w.grad = None
    assert out.dtype == np.float32
    for out_i, grads_i in results[1:]:
        np.testing.assert_array_equal(out_i, results[0][0])
        for g, g0 in zip(grads_i, results[0][1]):
            np.testing.assert_array_equal(g, g0)


def test_backward_twice_with_retain_graph():
    rng = np.random.default_rng(0)
    weights = [sj.Tensor(rng.standard_normal(s) * 0.3, requires_grad=True) for s in [(12, 2), (12, 4), (12,), (12,)]]
    x = sj.Tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    out, _ = F.recurrent_layers(x, None, weights, mode="gru", batch_first=True)
    loss = (out ** 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    assert_close(x.grad, 2 * first)


def small(rng, *shape):
    return sj.Tensor(rng.standard_normal(shape) * 0.5, requires_grad=True)


@pytest.mark.parametrize("mode", MODES)
def test_layer_gradcheck(mode):
    rng = np.random.default_rng(2)
    G, H, D = R.GATES[mode], 2, 2
    weights = []
    for layer in range(2):
        for _ in range(D):
            weights += [small(rng, G * H, 2 if layer == 0 else D * H), small(rng, G * H, H), small(rng, G * H),
                        small(rng, G * H)]
    x = small(rng, 2, 3, 2)
    h0 = small(rng, 2 * D, 2, H)
    hx = (h0, small(rng, 2 * D, 2, H)) if mode == "lstm" else h0

    def fn(x, *args):
        state = (args[0], args[1]) if mode == "lstm" else args[0]
        ws = list(args[2 if mode == "lstm" else 1:])
        out, st = F.recurrent_layers(x, state, ws, mode=mode, num_layers=2, bidirectional=True, batch_first=True)
        return (out,) + (st if mode == "lstm" else (st,))

    states = list(hx) if mode == "lstm" else [hx]
    assert gradcheck(fn, [x, *states, *weights])


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_cells_match_torch_and_gradcheck(torch, cell):
    rng = np.random.default_rng(3)
    G, n_in, H, N = R.GATES[cell], 3, 4, 2
    shapes = [(N, n_in), (N, H), (N, H), (G * H, n_in), (G * H, H), (G * H,), (G * H,)]
    arrays = [rng.standard_normal(s) * 0.5 for s in shapes]
    x, h, c, *w = [sj.Tensor(a, requires_grad=True) for a in arrays]
    tx, th, tc, *tw = [torch.tensor(a, requires_grad=True) for a in arrays]
    if cell == "lstm":
        fn = lambda x, h, c, *w: F.lstm_cell(x, (h, c), *w)  # noqa: E731
        ours, theirs = fn(x, h, c, *w), torch.lstm_cell(tx, (th, tc), *tw)
        inputs = [x, h, c, *w]
    elif cell == "gru":
        fn = F.gru_cell
        ours, theirs = (fn(x, h, *w),), (torch.gru_cell(tx, th, *tw),)
        inputs = [x, h, *w]
    else:
        fn = lambda x, h, *w: F.rnn_cell(x, h, *w, nonlinearity=cell[4:])  # noqa: E731
        ours, theirs = (fn(x, h, *w),), (getattr(torch, cell + "_cell")(tx, th, *tw),)
        inputs = [x, h, *w]
    for a, b in zip(ours, theirs):
        assert_close(a, b)
    sum(o.sum() for o in ours).backward()
    sum(t.sum() for t in theirs).backward()
    for a, b in zip(inputs, [tx, th, tc, *tw] if cell == "lstm" else [tx, th, *tw]):
        assert_close(a.grad, b.grad)
    assert gradcheck(fn, inputs)


def test_cells_accept_unbatched_input_and_no_state():
    rng = np.random.default_rng(4)
    w = [sj.Tensor(rng.standard_normal(s)) for s in [(12, 3), (12, 4), (12,), (12,)]]
    x = sj.Tensor(rng.standard_normal(3))
    h = F.gru_cell(x, None, *w)
    assert h.shape == (4,)
    expected = F.gru_cell(sj.Tensor(x.numpy()[None]), sj.Tensor(np.zeros((1, 4))), *w)
    assert_close(h, expected.numpy()[0])
    h2, c2 = F.lstm_cell(x, None, *[sj.Tensor(rng.standard_normal(s)) for s in [(16, 3), (16, 4), (16,), (16,)]])
    assert h2.shape == c2.shape == (4,)


def test_no_bias_and_relu_saturation():
    rng = np.random.default_rng(5)
    w_ih, w_hh = sj.Tensor(rng.standard_normal((4, 2))), sj.Tensor(rng.standard_normal((4, 4)))
    x = sj.Tensor(rng.standard_normal((3, 6, 2)))
    out, h_n = F.recurrent_layers(x, None, [w_ih, w_hh, None, None], mode="rnn_relu", batch_first=True)
    assert (out.numpy() >= 0).all()
    assert_close(h_n.numpy()[0], out.numpy()[:, -1])


def test_large_gate_inputs_saturate_without_warnings():
    big = sj.Tensor(np.full((12, 1), 200.0, np.float32))
    w_hh = sj.Tensor(np.zeros((12, 4), np.float32))
    for sign in (1, -1):
        with np.errstate(all="raise"):
            out, _ = F.recurrent_layers(sj.Tensor(np.full((1, 2, 1), sign, np.float32)), None, [big, w_hh, None, None])
        assert np.isfinite(out.numpy()).all()


def test_bad_arguments_raise():
    rng = np.random.default_rng(6)
    w = [sj.Tensor(rng.standard_normal(s)) for s in [(12, 3), (12, 4), (12,), (12,)]]
    x = sj.Tensor(rng.standard_normal((2, 5, 3)))
    with pytest.raises(ValueError, match="mode"):
        F.recurrent_layers(x, None, w, mode="elman")
    with pytest.raises(ValueError, match="w_ih"):
        F.recurrent_layers(x, None, w, mode="lstm")
    with pytest.raises(ValueError, match="3-d"):
        F.recurrent_layers(sj.Tensor(rng.standard_normal((5, 3))), None, w)
    with pytest.raises(ValueError, match="h0"):
        F.recurrent_layers(x, sj.Tensor(np.zeros((1, 3, 4))), w)
    with pytest.raises(ValueError, match="expected 4 weights"):
        F.recurrent_layers(x, None, w[:3])
    with pytest.raises(TypeError, match="dtype"):
        F.recurrent_layers(x.to(sj.float32), None, w)
    with pytest.raises(ValueError, match="nonlinearity"):
        F.rnn_cell(x[:, 0], None, *[sj.Tensor(rng.standard_normal(s)) for s in [(4, 3), (4, 4)]], nonlinearity="gelu")
