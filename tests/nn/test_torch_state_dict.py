"""PyTorch state dicts both ways, for every layer family: the same names, layouts and dtypes (BatchNorm's
num_batches_tracked included); a torch model's weights give equal outputs in shenjing (float64, 1e-10) and
shenjing's state dict loads back into torch with strict=True."""

import numpy as np
import pytest

import shenjing as sj
import shenjing.nn as nn

torch = pytest.importorskip("torch")
tnn = torch.nn

F64 = {"dtype": torch.float64}

# name: (shenjing constructor, torch constructor, input shape; None: query, key, value; "tokens": indices)
FAMILIES = {
    "linear": (lambda: nn.Linear(5, 3, dtype=sj.float64), lambda: tnn.Linear(5, 3, **F64), (4, 5)),
    "conv1d": (lambda: nn.Conv1d(4, 6, 3, padding=1, dilation=2, groups=2, dtype=sj.float64),
               lambda: tnn.Conv1d(4, 6, 3, padding=1, dilation=2, groups=2, **F64), (2, 4, 9)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding_mode="reflect", padding=1, dtype=sj.float64),
               lambda: tnn.Conv2d(3, 4, 3, stride=2, padding_mode="reflect", padding=1, **F64), (2, 3, 7, 7)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5, dtype=sj.float64), lambda: tnn.BatchNorm1d(5, **F64), (6, 5)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3, dtype=sj.float64), lambda: tnn.BatchNorm2d(3, **F64), (4, 3, 5, 5)),
    "layernorm": (lambda: nn.LayerNorm(6, dtype=sj.float64), lambda: tnn.LayerNorm(6, **F64), (3, 4, 6)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4, dtype=sj.float64), lambda: tnn.GroupNorm(2, 4, **F64), (3, 4, 5)),
    "instancenorm2d": (lambda: nn.InstanceNorm2d(3, affine=True, dtype=sj.float64),
                       lambda: tnn.InstanceNorm2d(3, affine=True, **F64), (2, 3, 5, 5)),
    "embedding": (lambda: nn.Embedding(10, 4, padding_idx=1, dtype=sj.float64),
                  lambda: tnn.Embedding(10, 4, padding_idx=1, **F64), "tokens"),
    "instancenorm2d_running_stats": (
        lambda: nn.InstanceNorm2d(3, track_running_stats=True, dtype=sj.float64),
        lambda: tnn.InstanceNorm2d(3, track_running_stats=True, **F64), (2, 3, 5, 5)),
    "rnn_cell": (lambda: nn.RNNCell(5, 4, dtype=sj.float64), lambda: tnn.RNNCell(5, 4, **F64), (3, 5)),
    "lstm_cell": (lambda: nn.LSTMCell(5, 4, dtype=sj.float64), lambda: tnn.LSTMCell(5, 4, **F64), (3, 5)),
    "gru_cell": (lambda: nn.GRUCell(5, 4, dtype=sj.float64), lambda: tnn.GRUCell(5, 4, **F64), (3, 5)),
    "prelu": (lambda: nn.PReLU(4, dtype=sj.float64), lambda: tnn.PReLU(4, **F64), (3, 4, 5)),
    "rnn": (lambda: nn.RNN(5, 4, num_layers=2, nonlinearity="relu", batch_first=True, dtype=sj.float64),
            lambda: tnn.RNN(5, 4, num_layers=2, nonlinearity="relu", batch_first=True, **F64), (3, 6, 5)),
    "lstm": (lambda: nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=False, dtype=sj.float64),
             lambda: tnn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=False, **F64), (6, 3, 5)),
    "gru": (lambda: nn.GRU(5, 4, bidirectional=True, batch_first=True, dtype=sj.float64),
            lambda: tnn.GRU(5, 4, bidirectional=True, batch_first=True, **F64), (3, 6, 5)),
    "multihead_attention": (lambda: nn.MultiheadAttention(8, 2, batch_first=True, dtype=sj.float64),
                            lambda: tnn.MultiheadAttention(8, 2, batch_first=True, **F64), (3, 5, 8)),
    "multihead_attention_kdim": (
        lambda: nn.MultiheadAttention(8, 2, kdim=8, vdim=6, batch_first=True, dtype=sj.float64),
        lambda: tnn.MultiheadAttention(8, 2, kdim=8, vdim=6, batch_first=True, **F64), None),
    "transformer_encoder_layer": (
        lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, dtype=sj.float64),
        lambda: tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **F64), (3, 5, 8)),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, dtype=sj.float64), nn.BatchNorm2d(4, dtype=sj.float64),
                                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3, dtype=sj.float64)),
            lambda: tnn.Sequential(tnn.Conv2d(1, 4, 3, **F64), tnn.BatchNorm2d(4, **F64), tnn.ReLU(),
                                   tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(36, 3, **F64)), (2, 1, 8, 8)),
}


def _forward(model, x, name):
    if name == "multihead_attention_kdim":
        q, k, v = x
        return model(q, k, v)[0]
    if name == "multihead_attention":
        return model(x, x, x)[0]
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


def _inputs(name, shape, rng):
    if shape is None:
        return tuple(rng.standard_normal(s) for s in ((3, 5, 8), (3, 4, 8), (3, 4, 6)))
    if shape == "tokens":
        return rng.integers(0, 10, (3, 5))
    return rng.standard_normal(shape)


def _as(framework_tensor, x):
    return tuple(framework_tensor(a) for a in x) if isinstance(x, tuple) else framework_tensor(x)


def _trained_torch(name, make_torch, x):
    """A torch model with non-default state: random weights, and for BatchNorm updated running statistics."""
    torch.manual_seed(0)
    model = make_torch()
    if any(isinstance(m, tnn.modules.batchnorm._NormBase) for m in model.modules()):
        model.train()
        for _ in range(3):
            _forward(model, _as(torch.from_numpy, x), name)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


@pytest.mark.parametrize("as_numpy", [True, False], ids=["numpy", "torch_tensors"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_torch_state_dict_loads_with_equal_outputs(name, as_numpy):
    make, make_torch, shape = FAMILIES[name]
    rng = np.random.default_rng(1)
    x = _inputs(name, shape, rng)
    reference = _trained_torch(name, make_torch, x)
    state = reference.state_dict()
    model = make()
    model.load_state_dict({k: v.numpy() for k, v in state.items()} if as_numpy else state)
    model.eval()
    with torch.no_grad():
        expected = _forward(reference, _as(torch.from_numpy, x), name).numpy()
    got = np.asarray(_forward(model, _as(sj.Tensor, x), name))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_state_dict_loads_into_torch_strictly(name):
    make, make_torch, shape = FAMILIES[name]
    sj.manual_seed(0)
    model = make()
    if any(isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d | nn.InstanceNorm2d) for m in model.modules()):
        _forward(model, _as(sj.Tensor, _inputs(name, shape, np.random.default_rng(2))), name)  # train mode
    state = model.state_dict()
    target = make_torch()
    assert list(target.state_dict()) == list(state)
    target.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}, strict=True)
    for key, value in target.state_dict().items():
        ours = np.asarray(state[key])
        assert value.numpy().dtype == ours.dtype and value.shape == ours.shape, key
        np.testing.assert_array_equal(value.numpy(), ours)


def test_num_batches_tracked_counts_like_torch():
    bn, tbn = nn.BatchNorm1d(3), tnn.BatchNorm1d(3)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for _ in range(4):
        bn(sj.Tensor(x))
        tbn(torch.from_numpy(x))
    ours = np.asarray(bn.state_dict()["num_batches_tracked"])
    assert ours.dtype == np.int64 and ours.shape == () and int(ours) == int(tbn.num_batches_tracked) == 4
