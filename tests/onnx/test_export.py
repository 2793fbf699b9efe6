"""ONNX export checked by the real runtime: onnx.checker and an onnxruntime CPU session reproduce
shenjing's outputs (float32, 1e-5), at the traced batch size and at another one (dynamic axis)."""

import re
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
sj_onnx = pytest.importorskip("shenjing.onnx")

RNG = np.random.default_rng(0)


class Lambda(nn.Module):
    """A module running ``fn`` on its inputs (functional ops as layers); ``modules`` are the ones ``fn`` calls."""

    def __init__(self, fn, *modules):
        super().__init__()
        self.fn, self.parts = fn, nn.ModuleList(modules)

    def forward(self, *xs):
        return self.fn(*xs)


def _like(t: sj.Tensor, batch: int, batch_axis: int) -> sj.Tensor:
    """A fresh input like ``t`` with ``batch`` elements along ``batch_axis``."""
    shape = list(t.shape)
    shape[batch_axis] = batch
    data = np.asarray(t)
    if data.dtype == bool:  # masks: rows of the original, which keep at least one position open
        return sj.Tensor(np.take(data, RNG.integers(0, data.shape[batch_axis], batch), axis=batch_axis))
    if data.dtype.kind in "iu":
        return sj.Tensor(RNG.integers(0, int(data.max()) + 1, shape).astype(data.dtype))
    return sj.Tensor(RNG.standard_normal(shape).astype(data.dtype))


def _outputs(result) -> list:
    if isinstance(result, sj.Tensor):
        return [np.asarray(result)]
    return [a for r in result if r is not None for a in _outputs(r)]


def check_export(model, *args, tmp_path, batch_axis=0, other_batch=5, atol=1e-5, opset_version=17):
    """Export ``model(*args)``, check the file, and compare onnxruntime with shenjing at two batch sizes
    (``batch_axis``: one for every input, or a tuple with one per input)."""
    path = tmp_path / "model.onnx"
    names = [f"x{i}" for i in range(len(args))]
    axes = batch_axis if isinstance(batch_axis, tuple) else (batch_axis,) * len(args)
    sj_onnx.export(model, args, path, input_names=names,
                   dynamic_axes={n: {axis: "batch"} for n, axis in zip(names, axes)}, opset_version=opset_version)
    onnx.checker.check_model(onnx.load(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for inputs in (args, tuple(_like(a, other_batch, axis) for a, axis in zip(args, axes))):
        expected = _outputs(model(*inputs))
        got = session.run(None, {n: np.asarray(a) for n, a in zip(names, inputs)})
        assert len(got) == len(expected)
        for e, o in zip(expected, got):
            assert o.shape == e.shape and not np.isnan(e).any()
            np.testing.assert_allclose(o, e, rtol=1e-5, atol=atol)
    return session


def randn(*shape):
    return sj.Tensor(RNG.standard_normal(shape).astype(np.float32))


LAYERS = {
    "linear": (lambda: nn.Linear(6, 4), (3, 6)),
    "linear_3d": (lambda: nn.Linear(6, 4), (3, 2, 6)),
    "conv1d": (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (3, 4, 11)),
    "conv1d_same_reflect": (lambda: nn.Conv1d(4, 4, 3, padding="same", padding_mode="reflect"), (3, 4, 9)),
    "conv2d": (lambda: nn.Conv2d(4, 6, 3, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2), (3, 4, 9, 8)),
    "conv2d_replicate": (lambda: nn.Conv2d(3, 2, 3, padding=1, padding_mode="replicate"), (3, 3, 6, 6)),
    "conv2d_depthwise_no_bias": (lambda: nn.Conv2d(4, 4, 3, groups=4, bias=False), (3, 4, 7, 7)),
    "maxpool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (3, 2, 9, 8)),
    "maxpool2d_ceil_dilated": (lambda: nn.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True), (3, 2, 9, 8)),
    "maxpool1d": (lambda: nn.MaxPool1d(3, stride=2), (3, 2, 10)),
    "avgpool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (3, 2, 9, 8)),
    "avgpool2d_ceil": (lambda: nn.AvgPool2d(2, ceil_mode=True), (3, 2, 7, 7)),
    "avgpool1d": (lambda: nn.AvgPool1d(2), (3, 2, 10)),
    "adaptive_avgpool2d": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (3, 2, 7, 5)),
    "global_maxpool": (lambda: nn.GlobalMaxPool(), (3, 4, 5, 5)),
    "global_avgpool": (lambda: nn.GlobalAvgPool(), (3, 4, 5, 5)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), (4, 5)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "layernorm": (lambda: nn.LayerNorm((4, 6)), (3, 2, 4, 6)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), (3, 4, 5, 5)),
    "instancenorm2d": (lambda: nn.InstanceNorm2d(3, affine=True), (3, 3, 5, 5)),
    "dropout": (lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), (3, 4)),
    "maxout": (lambda: nn.Maxout(6, 4, 3), (3, 6)),
    "rbf": (lambda: nn.RBF(6, 4), (3, 6)),
    "depthwise_separable_conv2d": (lambda: nn.DepthwiseSeparableConv2d(4, 6, 3, padding=1), (3, 4, 6, 6)),
    "kmax_pool1d": (lambda: nn.KMaxPool1d(3), (3, 4, 8)),
    "kavg_pool1d": (lambda: nn.KAvgPool1d(3), (3, 4, 8)),
    "chunk_max_pool1d": (lambda: nn.ChunkMaxPool1d(3), (3, 4, 8)),
    "chunk_avg_pool1d": (lambda: nn.ChunkAvgPool1d(3), (3, 4, 8)),
    "attention_pooling": (lambda: nn.AttentionPooling(6), (3, 5, 6)),
    "multi_sample_dropout": (lambda: nn.MultiSampleDropout(0.3, 4, nn.Linear(6, 2)), (3, 6)),
    "residual_flatten_identity": (lambda: nn.Sequential(nn.Residual(nn.Sequential(nn.Linear(6, 6), nn.Tanh())),
                                                        nn.Identity(), nn.Flatten()), (3, 2, 6)),
}

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "abs": nn.Abs, "relu6": nn.ReLU6,
    "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": lambda: nn.ELU(0.7), "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"), "softplus": lambda: nn.Softplus(beta=2.0, threshold=3.0),
    "hardtanh": lambda: nn.Hardtanh(-0.5, 0.7), "softmax": lambda: nn.Softmax(dim=1),
    "log_softmax": lambda: nn.LogSoftmax(dim=-1), "rrelu": nn.RReLU, "prelu": lambda: nn.PReLU(4),
    "prelu_shared": nn.PReLU, "silu": lambda: Lambda(F.silu), "mish": lambda: Lambda(F.mish),
    "selu": lambda: Lambda(F.selu), "logsigmoid": lambda: Lambda(F.logsigmoid),
    "softsign": lambda: Lambda(F.softsign), "hardsigmoid": lambda: Lambda(F.hardsigmoid),
    "hardswish": lambda: Lambda(F.hardswish), "squash": lambda: Lambda(F.squash),
    "soft_softmax": lambda: Lambda(lambda x: F.softmax(x, 1, 2.0)),
}


def _randomise_running_stats(model):
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.data[...] = RNG.standard_normal(buf.shape)
        elif name.endswith("running_var"):
            buf.data[...] = RNG.uniform(0.5, 2.0, buf.shape)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_onnxruntime(name, tmp_path):
    make, shape = LAYERS[name]
    model = make()
    _randomise_running_stats(model)
    check_export(model, randn(*shape), tmp_path=tmp_path)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_onnxruntime(name, tmp_path):
    x = randn(3, 4, 5) * 4
    check_export(ACTIVATIONS[name](), x, tmp_path=tmp_path)


def test_embedding_matches_onnxruntime(tmp_path):
    idx = sj.Tensor(RNG.integers(0, 10, (3, 7)))
    check_export(nn.Embedding(10, 4), idx, tmp_path=tmp_path)
    check_export(nn.Embedding.from_pretrained(RNG.standard_normal((10, 3)), padding_idx=0), idx, tmp_path=tmp_path)


def test_attention_pooling_mask_is_an_input(tmp_path):
    pool = nn.AttentionPooling(6)
    mask = sj.Tensor(RNG.random((3, 5)) > 0.3)
    mask.data[:, 0] = True
    check_export(pool, randn(3, 5, 6), mask, tmp_path=tmp_path)


def test_capsule_pooling_matches_onnxruntime_at_the_traced_batch(tmp_path):
    check_export(nn.CapsulePooling(6, 3, 4), randn(2, 5, 6), tmp_path=tmp_path, other_batch=2)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_matches_onnxruntime(cls, bidirectional, batch_first, tmp_path):
    rnn = cls(5, 4, num_layers=2, bidirectional=bidirectional, batch_first=batch_first)
    x = randn(3, 6, 5) if batch_first else randn(6, 3, 5)
    check_export(rnn, x, tmp_path=tmp_path, batch_axis=0 if batch_first else 1)


@pytest.mark.parametrize("make", [lambda: nn.RNNCell(5, 4), lambda: nn.LSTMCell(5, 4), lambda: nn.GRUCell(5, 4)])
def test_recurrent_cells_match_onnxruntime(make, tmp_path):
    check_export(make(), randn(3, 5), tmp_path=tmp_path)
    check_export(make(), randn(1, 5), tmp_path=tmp_path)


def test_relu_rnn_with_initial_state_matches_onnxruntime(tmp_path):
    rnn = nn.RNN(3, 4, nonlinearity="relu", bias=False, batch_first=True)
    check_export(rnn, randn(2, 5, 3), randn(1, 2, 4), tmp_path=tmp_path, batch_axis=(0, 1))


def test_lstm_with_initial_states_matches_onnxruntime(tmp_path):
    lstm = nn.LSTM(3, 4, batch_first=True)
    model = Lambda(lambda x, h, c: lstm(x, (h, c)), lstm)
    check_export(model, randn(2, 5, 3), randn(1, 2, 4), randn(1, 2, 4), tmp_path=tmp_path, batch_axis=(0, 1, 1))


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_onnxruntime(batch_first, tmp_path):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    x = randn(3, 5, 8) if batch_first else randn(5, 3, 8)
    check_export(Lambda(lambda q: mha(q, q, q), mha), x, tmp_path=tmp_path, batch_axis=0 if batch_first else 1)


def test_causal_cross_attention_matches_onnxruntime(tmp_path):
    mha = nn.MultiheadAttention(8, 4, batch_first=True, kdim=6, vdim=5)
    model = Lambda(lambda q, k, v: mha(q, k, v, is_causal=True, need_weights=False)[0], mha)
    check_export(model, randn(2, 4, 8), randn(2, 4, 6), randn(2, 4, 5), tmp_path=tmp_path)


def test_attention_key_padding_mask_is_an_input(tmp_path):
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    mask = sj.Tensor(RNG.random((3, 5)) > 0.6)
    mask.data[:, 0] = False  # every query keeps at least one key
    model = Lambda(lambda x, m: mha(x, x, x, key_padding_mask=m)[0], mha)
    check_export(model, randn(3, 5, 8), mask, tmp_path=tmp_path)


@pytest.mark.parametrize("norm_first,activation,opset", [(False, "relu", 17), (True, "gelu", 17), (False, "relu", 18)])
def test_transformer_encoder_layer_matches_onnxruntime(norm_first, activation, opset, tmp_path):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, norm_first=norm_first, activation=activation,
                                       batch_first=True)
    check_export(layer, randn(3, 5, 8), tmp_path=tmp_path, opset_version=opset)


def test_sequence_first_causal_encoder_layer_matches_onnxruntime(tmp_path):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    check_export(Lambda(lambda x: layer(x, is_causal=True), layer), randn(5, 3, 8), tmp_path=tmp_path, batch_axis=1)


def _shape_ops(x):
    n = x.shape[0]
    a = x.reshape(n, 3, 4).permute(0, 2, 1)  # (n, 4, 3)
    b = sj.cat([a, a * 2.0], dim=2).flatten(1)  # (n, 24)
    c = sj.stack([b[:, :12], b[:, 12:]], dim=1).transpose(1, 2)  # (n, 12, 2)
    d = F.pad(c, (1, 2), value=0.5)[..., ::2]  # (n, 12, 3)
    first, second = d.split([5, 7], dim=1)
    f = first.unsqueeze(1).expand(-1, 2, -1, -1).repeat(1, 1, 1, 2).reshape(n, -1)
    g = (1.0 - second.sum(dim=1) / 3.0) ** 2 + sj.maximum(second.mean(1), 0.1) - second.var(1)
    h = sj.clip(second.std(1, keepdim=True).squeeze(1), 0.2, 5.0) + second.logsumexp(1) + second.amax(1)
    i = sj.where(g > 0.5, g, -h) + sj.exp(-g.abs()) + sj.log1p(h.abs()) + sj.sqrt(h * h + 1) + sj.sin(g)
    j = sj.einsum("nij,nik->njk", second, second).reshape(n, -1) + sj.tensordot(g, sj.ones(3, 2), 1).sum(1, True)
    k = sj.cumsum(f, 1)[:, -3:] + second.prod(1) + second[:, None, 0, :].squeeze(1) / 7.0 + second[:, [0, 2, 4], 1]
    k = k + second.norm(dim=1) + second.norm(1, 1) + second.norm(3, 1)
    return sj.cat([i, j, k, f[:, 0:1].neg() + second.min(1).values[:, :1]], dim=1)


def test_shape_ops_and_arithmetic_match_onnxruntime(tmp_path):
    check_export(Lambda(_shape_ops), randn(4, 12), tmp_path=tmp_path)


def _index_dependent(x):
    """An output built from ops outside the graph: argmax, max indices, comparisons, sign, casts,
    one_hot, sort/topk indices, isnan/all: each must stay live in the exported model."""
    classes = x.argmax(1)
    top = x.topk(2, dim=1).indices
    ordered = x.sort(1, descending=True).values
    positive = (x > 0).to(sj.float32) + x.sign() + (x != 0).float() * (x <= 0.5).float() + x // 1.5
    positive = positive + ((x > 0) & (x < 2) | ~(x >= -1)).float() + x.floor() - x.ceil()
    hits = F.one_hot(classes, 5).float() + sj.gather(x, 1, top).sum(1, keepdim=True)
    finite = x.isfinite().all(1).float().unsqueeze(1) - x.isnan().any().float()
    counts = (classes + 1).float().unsqueeze(1) + x.max(1).indices.unsqueeze(1).float() - x.argmin().float()
    return positive + hits + ordered + finite + counts + x.long().float()


def test_detached_values_stay_live(tmp_path):
    check_export(Lambda(lambda x: (x * 2.0).detach() + x.detach().exp()), randn(3, 4), tmp_path=tmp_path)


def test_ops_outside_the_graph_stay_live_at_another_input(tmp_path):
    session = check_export(Lambda(_index_dependent), randn(6, 5) * 3, tmp_path=tmp_path)
    x = randn(6, 5) * 3
    assert not np.allclose(session.run(None, {"x0": np.asarray(x)})[0],
                           session.run(None, {"x0": np.asarray(-x)})[0])


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.gru = nn.GRU(8, 12, num_layers=2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(24, 3)

    def forward(self, tokens):
        output, h_n = self.gru(self.embed(tokens))
        return F.log_softmax(self.out(output[:, -1]), dim=-1)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16)
        self.position = nn.PositionalEncoding(16, max_len=32, batch_first=True)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(16, 4, 32, batch_first=True) for _ in range(2)])
        self.out = nn.Linear(16, 4)

    def forward(self, tokens):
        x = self.position(self.embed(tokens))
        for layer in self.layers:
            x = layer(x)
        return self.out(x.mean(1))


@pytest.mark.parametrize("make,shape,integer", [(CNN, (4, 1, 12, 12), False), (GRUClassifier, (4, 9), True),
                                                (Encoder, (4, 7), True)])
def test_whole_models_match_onnxruntime(make, shape, integer, tmp_path):
    model = make()
    _randomise_running_stats(model)
    x = sj.Tensor(RNG.integers(0, 20, shape)) if integer else randn(*shape)
    check_export(model, x, tmp_path=tmp_path, other_batch=11)
    check_export(model, x[:1], tmp_path=tmp_path, other_batch=6)  # traced at batch 1


def test_parameters_and_buffers_are_named_initializers(tmp_path):
    model = CNN()
    path = tmp_path / "cnn.onnx"
    sj_onnx.export(model, randn(2, 1, 12, 12), path)
    names = {init.name for init in onnx.load(path).graph.initializer}
    assert {"features.0.weight", "features.1.running_mean", "features.1.running_var", "head.2.bias"} <= names


def test_export_leaves_the_model_untouched(tmp_path):
    model = CNN()
    model.train()
    before = {k: np.asarray(v).copy() for k, v in model.state_dict().items()}
    sj_onnx.export(model, randn(3, 1, 12, 12), tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(v), before[k])


def test_an_op_without_onnx_form_raises_naming_it(tmp_path):
    def writes_in_place(x):
        y = x * 2.0
        y[:, 0] = 1.0
        return y

    with pytest.raises(sj_onnx.UnsupportedOperatorError, match="Mul was updated in place"):
        sj_onnx.export(Lambda(writes_in_place), randn(2, 3), tmp_path / "m.onnx")
    with pytest.raises(sj_onnx.UnsupportedOperatorError, match="BilinearGather"):
        sj_onnx.export(nn.DeformConv2d(2, 3, 3), randn(2, 2, 6, 6), tmp_path / "k.onnx")
    assert not (tmp_path / "k.onnx").exists()
    boxes = sj.Tensor(np.array([[0, 0.0, 0.0, 3.0, 3.0]], dtype=np.float32))
    with pytest.raises(sj_onnx.UnsupportedOperatorError, match="has no ONNX form"):
        sj_onnx.export(nn.RoIPool2d(2), (randn(1, 2, 6, 6), boxes), tmp_path / "r.onnx")
    with pytest.raises(sj_onnx.UnsupportedOperatorError, match="input 'input1' does not reach"):
        sj_onnx.export(Lambda(lambda x, y: x + sj.Tensor(np.asarray(y))), (randn(2, 3), randn(2, 3)),
                       tmp_path / "r.onnx")
    with pytest.raises(sj_onnx.UnsupportedOperatorError, match="output 'output0' was not computed"):
        sj_onnx.export(Lambda(lambda x: sj.Tensor(np.asarray(x) * 2)), randn(2, 3), tmp_path / "m.onnx")


def test_circular_padding_needs_opset_19(tmp_path):
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    with pytest.raises(sj_onnx.UnsupportedOperatorError, match="opset_version >= 19"):
        sj_onnx.export(conv, randn(2, 2, 5, 5), tmp_path / "m.onnx")
    check_export(conv, randn(2, 2, 5, 5), tmp_path=tmp_path, opset_version=19)


def test_names_and_file_objects(tmp_path):
    import io

    buffer = io.BytesIO()
    proto = sj_onnx.export(nn.Linear(3, 2), randn(4, 3), buffer, input_names=["features"], output_names=["logits"])
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["logits"]
    assert onnx.load_from_string(buffer.getvalue()) == proto
    with pytest.raises(ValueError, match="input_names"):
        sj_onnx.export(nn.Linear(3, 2), randn(4, 3), buffer, input_names=["a", "b"])
    lstm = nn.LSTM(3, 2, batch_first=True)
    proto = sj_onnx.export(lstm, np.ones((2, 4, 3), np.float32), io.BytesIO(), output_names=["y"])
    assert [o.name for o in proto.graph.output] == ["y", "output1", "output2"]
    with pytest.raises(ValueError, match="opset_version must be an int from 13"):
        sj_onnx.export(nn.Linear(3, 2), randn(4, 3), buffer, opset_version=11)
    for _ in range(2):  # replaced atomically: no temporary file is left beside it
        sj_onnx.export(nn.Linear(3, 2), randn(4, 3), tmp_path / "linear.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["linear.onnx"]


def _readme_python_blocks(section: str) -> list:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


def test_readme_deploy_section_runs(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    export_block, state_dict_block = _readme_python_blocks("Deploy")
    exported, moved = {}, {}
    exec(export_block, exported)
    exec(state_dict_block, moved)
    x = exported["x"]
    assert exported["logits"].shape == (5, 10)
    np.testing.assert_allclose(exported["logits"], np.asarray(exported["model"].eval()(sj.Tensor(x))),
                               rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(moved["twin"].eval()(torch.from_numpy(x)).numpy(),
                                   np.asarray(moved["model"].eval()(sj.Tensor(x))), rtol=1e-5, atol=1e-6)
