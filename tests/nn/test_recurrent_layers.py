"""RNN / LSTM / GRU modules and cells: PyTorch state dicts both ways, parity, init, dropout, clipping."""

import math

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn

LAYERS = ["RNN", "LSTM", "GRU"]


def torch_twin(torch, name, *args, **kw):
    torch.manual_seed(0)
    return getattr(torch.nn, name)(*args, **kw).double()


def load_from_torch(module, torch_module):
    module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})
    return module


@pytest.mark.parametrize("name", LAYERS)
def test_parameter_names_and_shapes_match_torch(torch, name):
    ours = getattr(nn, name)(3, 5, num_layers=2, bidirectional=True)
    theirs = torch_twin(torch, name, 3, 5, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, v), tv in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert v.shape == tuple(tv.shape), k
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("batch_first", [True, False])
def test_module_matches_torch_with_initial_state(torch, name, batch_first):
    rng = np.random.default_rng(0)
    theirs = torch_twin(torch, name, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    ours = load_from_torch(getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double(),
                           theirs)
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    h = [rng.standard_normal((4, 2, 4)) for _ in range(2)]
    hx = (sj.Tensor(h[0]), sj.Tensor(h[1])) if name == "LSTM" else sj.Tensor(h[0])
    thx = (torch.tensor(h[0]), torch.tensor(h[1])) if name == "LSTM" else torch.tensor(h[0])
    out, state = ours(sj.Tensor(x), hx)
    tout, tstate = theirs(torch.tensor(x), thx)
    assert_close(out, tout)
    for a, b in zip(state if name == "LSTM" else [state], tstate if name == "LSTM" else [tstate]):
        assert a.shape == (4, 2, 4)
        assert_close(a, b)
    (out.sum() + (state[0] if name == "LSTM" else state).sum()).backward()
    (tout.sum() + (tstate[0] if name == "LSTM" else tstate).sum()).backward()
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad)


def test_lstm_defaults_to_torch_sequence_first_layout(torch):
    """nn.LSTM(4, 6) on PyTorch's default (L, N, C) input: same output, h_n and c_n (layers, N, H)."""
    theirs = torch_twin(torch, "LSTM", 4, 6)
    ours = load_from_torch(nn.LSTM(4, 6).double(), theirs)
    assert ours.batch_first is False
    x = np.random.default_rng(7).standard_normal((5, 3, 4))
    out, (h_n, c_n) = ours(sj.Tensor(x))
    tout, (th_n, tc_n) = theirs(torch.tensor(x))
    assert out.shape == (5, 3, 6) and h_n.shape == c_n.shape == (1, 3, 6)
    for a, b in ((out, tout), (h_n, th_n), (c_n, tc_n)):
        np.testing.assert_allclose(np.asarray(a), b.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", LAYERS)
def test_unbatched_input(torch, name):
    rng = np.random.default_rng(1)
    theirs = torch_twin(torch, name, 2, 3)
    ours = load_from_torch(getattr(nn, name)(2, 3).double(), theirs)
    x = rng.standard_normal((6, 2))
    out, state = ours(sj.Tensor(x))
    tout, tstate = theirs(torch.tensor(x))
    assert out.shape == (6, 3)
    assert_close(out, tout)
    assert_close(state[0] if name == "LSTM" else state, tstate[0] if name == "LSTM" else tstate)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(torch, name):
    rng = np.random.default_rng(2)
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 4).double()
    ours = load_from_torch(getattr(nn, name)(3, 4).double(), theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((2, 3))
    out, tout = ours(sj.Tensor(x)), theirs(torch.tensor(x))
    for a, b in zip(out if name == "LSTMCell" else [out], tout if name == "LSTMCell" else [tout]):
        assert_close(a, b)


def test_relu_rnn_and_no_bias(torch):
    theirs = torch_twin(torch, "RNN", 2, 3, nonlinearity="relu", bias=False)
    ours = load_from_torch(nn.RNN(2, 3, nonlinearity="relu", bias=False).double(), theirs)
    assert [k for k, _ in ours.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    x = np.random.default_rng(3).standard_normal((2, 4, 2))
    assert_close(ours(sj.Tensor(x))[0], theirs(torch.tensor(x))[0])


@pytest.mark.parametrize("name", LAYERS + ["GRUCell"])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(name):
    sj.manual_seed(0)
    layer = getattr(nn, name)(5, 16)
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.numpy().ravel() for p in layer.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.9 * bound
    assert abs(values.mean()) < 0.15 * bound


def test_dropout_between_layers_only_while_training():
    sj.manual_seed(0)
    gru = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = sj.Tensor(np.random.default_rng(4).standard_normal((2, 6, 3)).astype(np.float32))
    train_a, train_b = gru(x)[0].numpy(), gru(x)[0].numpy()
    assert not np.allclose(train_a, train_b)
    gru.eval()
    eval_a, eval_b = gru(x)[0].numpy(), gru(x)[0].numpy()
    np.testing.assert_array_equal(eval_a, eval_b)
    single = nn.GRU(3, 8, num_layers=1, dropout=0.5)
    np.testing.assert_array_equal(single(x)[0].numpy(), single(x)[0].numpy())


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="input_size"):
        nn.GRUCell(-1, 4)


def test_gradient_clipping_bounds_exploding_rnn_gradients():
    """Seed 002/004: large recurrent weights make BPTT gradients explode; clip_grad_norm_ rescales them."""
    clip_grad_norm_ = pytest.importorskip("shenjing.nn.utils").clip_grad_norm_
    sj.manual_seed(0)
    rnn = nn.RNN(1, 16, nonlinearity="relu", batch_first=True)
    with sj.no_grad():
        rnn.weight_hh_l0.data[...] = 1.5 * np.eye(16, dtype=np.float32) + 0.05
    x = sj.Tensor(np.random.default_rng(5).uniform(0.5, 1.0, (4, 30, 1)).astype(np.float32))
    out, _ = rnn(x)
    out[:, -1].sum().backward()
    grads = [p.grad.numpy().copy() for p in rnn.parameters()]
    unclipped = float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)))
    returned = float(clip_grad_norm_(rnn.parameters(), max_norm=1.0))
    clipped = float(np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in rnn.parameters())))
    assert unclipped > 1e3
    assert returned == pytest.approx(unclipped, rel=1e-4)
    assert clipped == pytest.approx(1.0, rel=1e-4)
    for p, g in zip(rnn.parameters(), grads):  # direction kept
        np.testing.assert_allclose(p.grad.numpy(), g * (clipped / unclipped), rtol=1e-4, atol=1e-12)
