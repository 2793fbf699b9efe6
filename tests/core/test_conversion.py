"""Results convert to NumPy the way users convert them, for every public op, loss and metric.

``np.asarray(loss)``, ``np.array(t)``, ``float(loss)``, ``.item()`` and ``.tolist()`` must work on every
result (a 0-d result too), ``t.data`` must be an ndarray, and the same holds for ``.grad`` of a 0-d
parameter that scales the result.
"""

import numpy as np
import pytest
from op_table import CASES, make_inputs

import shenjing as sj
import shenjing.metrics as M
import shenjing.nn.functional as F

RNG = np.random.default_rng(0)


def _t(*shape, grad=True, low=None):
    arr = RNG.standard_normal(shape) if low is None else RNG.uniform(low, 1.0, shape)
    return sj.tensor(arr, requires_grad=grad)


def _labels(n, classes=3):
    return sj.tensor(RNG.integers(0, classes, n))


def _probs(*shape):
    return sj.tensor(RNG.uniform(0.05, 0.95, shape), requires_grad=True)


def _lstm_cell(x, h, c):
    return F.lstm_cell(x, (h, c), _t(16, 3), _t(16, 4), _t(16), _t(16))


# One call of every public function of shenjing.nn.functional (F_EXEMPT: those that return no tensor).
F_CALLS = {
    "abs": lambda: F.abs(_t(3, 4)),
    "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(_t(2, 3, 5, 5), 2),
    "add": lambda: F.add(_t(3, 4), _t(4)),
    "amax": lambda: F.amax(_t(3, 4), 1),
    "amin": lambda: F.amin(_t(3, 4)),
    "argmax": lambda: F.argmax(_t(3, 4)),
    "argmin": lambda: F.argmin(_t(3, 4), 0),
    "attention_weights": lambda: F.attention_weights(_t(2, 3, 4), _t(2, 5, 4)),
    "avg_pool1d": lambda: F.avg_pool1d(_t(2, 3, 6), 2),
    "avg_pool2d": lambda: F.avg_pool2d(_t(2, 3, 6, 6), 2),
    "batch_norm": lambda: F.batch_norm(_t(4, 3), None, None, _t(3), _t(3), training=True),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(_probs(6), sj.tensor(RNG.integers(0, 2, 6) * 1.0)),
    "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(
        _t(6), sj.tensor(RNG.integers(0, 2, 6) * 1.0)),
    "broadcast_to": lambda: F.broadcast_to(_t(3, 1), 2, 3, 4),
    "cast": lambda: F.cast(_t(3), sj.float32),
    "cat": lambda: F.cat([_t(2, 3), _t(1, 3)]),
    "cdist": lambda: F.cdist(_t(3, 4), _t(5, 4), p=1.5),
    "chunk": lambda: F.chunk(_t(4, 3), 2),
    "chunk_avg_pool1d": lambda: F.chunk_avg_pool1d(_t(2, 3, 6), 3),
    "chunk_max_pool1d": lambda: F.chunk_max_pool1d(_t(2, 3, 6), 3),
    "clamp": lambda: F.clamp(_t(3, 4), -0.5, 0.5),
    "clip": lambda: F.clip(_t(3, 4), max=0.5),
    "clone": lambda: F.clone(_t(3)),
    "concatenate": lambda: F.concatenate([_t(2), _t(3)]),
    "conv1d": lambda: F.conv1d(_t(2, 4, 7), _t(6, 2, 3), _t(6), padding=1, groups=2),
    "conv2d": lambda: F.conv2d(_t(2, 3, 6, 6), _t(4, 3, 3, 3), _t(4), stride=2),
    "conv_transpose1d": lambda: F.conv_transpose1d(_t(2, 4, 5), _t(4, 3, 3), _t(6), stride=2, groups=2),
    "conv_transpose2d": lambda: F.conv_transpose2d(_t(2, 4, 3, 3), _t(4, 2, 2, 2), _t(2), stride=2, padding=1),
    "cos": lambda: F.cos(_t(3)),
    "cosine_similarity": lambda: F.cosine_similarity(_t(3, 4), _t(3, 4)),
    "cross_entropy": lambda: F.cross_entropy(_t(5, 3), _labels(5)),
    "cumsum": lambda: F.cumsum(_t(3, 4), 1),
    "deform_conv2d": lambda: F.deform_conv2d(_t(1, 2, 5, 5), _t(1, 18, 3, 3) * 0.3, _t(3, 2, 3, 3)),
    "deform_roi_pool": lambda: F.deform_roi_pool(_t(1, 2, 8, 8), sj.tensor([[0, 1.0, 1.0, 6.0, 6.0]]),
                                                 _t(1, 2, 2, 2) * 0.1, 2),
    "dice_loss": lambda: F.dice_loss(_probs(3, 4), sj.tensor(RNG.integers(0, 2, (3, 4)) * 1.0)),
    "div": lambda: F.div(_t(3), _t(3, low=0.5)),
    "dot": lambda: F.dot(_t(2, 4, 6), _t(6, 2)),
    "dropout": lambda: F.dropout(_t(4, 5), 0.3),
    "dropout1d": lambda: F.dropout1d(_t(2, 3, 4), 0.3),
    "dropout2d": lambda: F.dropout2d(_t(2, 3, 4, 4), 0.3),
    "dynamic_routing": lambda: F.dynamic_routing(_t(2, 5, 3, 4)),
    "einsum": lambda: F.einsum("ij,jk->ik", _t(2, 3), _t(3, 4)),
    "elu": lambda: F.elu(_t(3, 4)),
    "embedding": lambda: F.embedding(sj.tensor([[0, 2], [1, 1]]), _t(3, 4)),
    "eq": lambda: F.eq(_t(3), _t(3)),
    "exp": lambda: F.exp(_t(3)),
    "expand": lambda: F.expand(_t(3, 1), 3, 4),
    "flatten": lambda: F.flatten(_t(2, 3, 4), 1),
    "focal_loss": lambda: F.focal_loss(_t(5, 3), _labels(5)),
    "gather": lambda: F.gather(_t(3, 4), 1, sj.tensor([[0], [3], [1]])),
    "ge": lambda: F.ge(_t(3), 0.0),
    "gelu": lambda: F.gelu(_t(3, 4), approximate="tanh"),
    "getitem": lambda: F.getitem(_t(3, 4), (1, 2)),
    "global_avg_pool": lambda: F.global_avg_pool(_t(2, 3, 4, 4)),
    "global_max_pool": lambda: F.global_max_pool(_t(2, 3, 4, 4)),
    "group_norm": lambda: F.group_norm(_t(2, 4, 3), 2, _t(4), _t(4)),
    "gru_cell": lambda: F.gru_cell(_t(2, 3), _t(2, 4), _t(12, 3), _t(12, 4), _t(12), _t(12)),
    "gt": lambda: F.gt(_t(3), _t(3)),
    "hardsigmoid": lambda: F.hardsigmoid(_t(3, 4)),
    "hardswish": lambda: F.hardswish(_t(3, 4)),
    "hardtanh": lambda: F.hardtanh(_t(3, 4)),
    "huber_loss": lambda: F.huber_loss(_t(3, 4), _t(3, 4, grad=False)),
    "instance_norm": lambda: F.instance_norm(_t(2, 3, 5)),
    "interpolate": lambda: F.interpolate(_t(2, 3, 4, 4), scale_factor=2, mode="bilinear"),
    "kavg_pool1d": lambda: F.kavg_pool1d(_t(2, 3, 6), 2),
    "kl_div": lambda: F.kl_div(F.log_softmax(_t(4, 3)), F.softmax(_t(4, 3, grad=False)), reduction="batchmean"),
    "kmax_pool1d": lambda: F.kmax_pool1d(_t(2, 3, 6), 2),
    "l1_loss": lambda: F.l1_loss(_t(3, 4), _t(3, 4, grad=False)),
    "layer_norm": lambda: F.layer_norm(_t(2, 3, 4), (4,), _t(4), _t(4)),
    "le": lambda: F.le(_t(3), 0.5),
    "leaky_relu": lambda: F.leaky_relu(_t(3, 4), 0.1),
    "linear": lambda: F.linear(_t(2, 3), _t(4, 3), _t(4)),
    "log": lambda: F.log(_t(3, low=0.5)),
    "log1p": lambda: F.log1p(_t(3, low=0.5)),
    "log_softmax": lambda: F.log_softmax(_t(3, 4), dim=1),
    "logsigmoid": lambda: F.logsigmoid(_t(3, 4)),
    "logsumexp": lambda: F.logsumexp(_t(3, 4)),
    "lstm_cell": lambda: _lstm_cell(_t(2, 3), _t(2, 4), _t(2, 4)),
    "lt": lambda: F.lt(_t(3), _t(3)),
    "matmul": lambda: F.matmul(_t(2, 3, 4), _t(4, 5)),
    "max": lambda: F.max(_t(3, 4), 1),
    "max_pool1d": lambda: F.max_pool1d(_t(2, 3, 6), 2),
    "max_pool2d": lambda: F.max_pool2d(_t(2, 3, 6, 6), 3, stride=2, padding=1),
    "maximum": lambda: F.maximum(_t(3, 4), _t(4)),
    "maxout": lambda: F.maxout(_t(3, 6), 3),
    "mean": lambda: F.mean(_t(3, 4)),
    "min": lambda: F.min(_t(3, 4)),
    "minimum": lambda: F.minimum(_t(3, 4), 0.0),
    "mish": lambda: F.mish(_t(3, 4)),
    "mse_loss": lambda: F.mse_loss(_t(3, 4), _t(3, 4, grad=False)),
    "mul": lambda: F.mul(_t(3, 4), 2.0),
    "multi_exit_loss": lambda: F.multi_exit_loss([F.mse_loss(_t(3), _t(3)), F.l1_loss(_t(3), _t(3))]),
    "ne": lambda: F.ne(_t(3), _t(3)),
    "neg": lambda: F.neg(_t(3)),
    "nll_loss": lambda: F.nll_loss(F.log_softmax(_t(5, 3)), _labels(5)),
    "normalize": lambda: F.normalize(_t(3, 4)),
    "one_hot": lambda: F.one_hot(_labels(5), 3),
    "pad": lambda: F.pad(_t(2, 3), (1, 2)),
    "permute": lambda: F.permute(_t(2, 3, 4), 2, 0, 1),
    "pow": lambda: F.pow(_t(3, low=0.5), 1.5),
    "prelu": lambda: F.prelu(_t(2, 3, 4), _t(1)),
    "prod": lambda: F.prod(_t(3, 4)),
    "recurrent_layers": lambda: F.recurrent_layers(_t(2, 5, 3), None, [_t(12, 3), _t(12, 4), _t(12), _t(12)],
                                                   mode="gru", batch_first=True),
    "relu": lambda: F.relu(_t(3, 4)),
    "relu6": lambda: F.relu6(_t(3, 4) * 4),
    "repeat": lambda: F.repeat(_t(2, 3), 2, 1),
    "reshape": lambda: F.reshape(_t(2, 6), 3, 4),
    "rnn_cell": lambda: F.rnn_cell(_t(2, 3), _t(2, 4), _t(4, 3), _t(4, 4), _t(4), _t(4)),
    "roi_pool": lambda: F.roi_pool(_t(1, 2, 8, 8), sj.tensor([[0, 1.0, 1.0, 6.0, 6.0]]), 2),
    "rrelu": lambda: F.rrelu(_t(3, 4)),
    "scaled_dot_product_attention": lambda: F.scaled_dot_product_attention(_t(2, 3, 4), _t(2, 5, 4), _t(2, 5, 4)),
    "selu": lambda: F.selu(_t(3, 4)),
    "sigmoid": lambda: F.sigmoid(_t(3, 4)),
    "sign": lambda: F.sign(_t(3, 4)),
    "silu": lambda: F.silu(_t(3, 4)),
    "sin": lambda: F.sin(_t(3)),
    "smooth_l1_loss": lambda: F.smooth_l1_loss(_t(3, 4), _t(3, 4, grad=False)),
    "softmax": lambda: F.softmax(_t(3, 4), temperature=2.0),
    "softplus": lambda: F.softplus(_t(3, 4)),
    "softsign": lambda: F.softsign(_t(3, 4)),
    "sort": lambda: F.sort(_t(3, 4)),
    "split": lambda: F.split(_t(4, 3), 2),
    "sqrt": lambda: F.sqrt(_t(3, low=0.5)),
    "squash": lambda: F.squash(_t(2, 3, 4)),
    "squeeze": lambda: F.squeeze(_t(3, 1)),
    "stack": lambda: F.stack([_t(3), _t(3)]),
    "std": lambda: F.std(_t(3, 4)),
    "sub": lambda: F.sub(_t(3, 4), _t(3, 1)),
    "sum": lambda: F.sum(_t(3, 4)),
    "swapaxes": lambda: F.swapaxes(_t(2, 3, 4)),
    "tanh": lambda: F.tanh(_t(3)),
    "tensordot": lambda: F.tensordot(_t(2, 3, 4), _t(3, 4, 5)),
    "topk": lambda: F.topk(_t(3, 4), 2),
    "transpose": lambda: F.transpose(_t(2, 3, 4), 0, 2),
    "unsqueeze": lambda: F.unsqueeze(_t(3), 0),
    "upsample": lambda: F.upsample(_t(2, 3, 5), size=7),
    "var": lambda: F.var(_t(3, 4), 0),
    "view": lambda: F.view(_t(2, 6), 4, 3),
    "where": lambda: F.where(_t(3, 4) > 0, _t(3, 4), 0.0),
    "zero_one_loss": lambda: F.zero_one_loss(_t(5, 3), _labels(5)),
    "argsort": lambda: F.argsort(_t(3, 4)),
    "bincount": lambda: F.bincount(_labels(6), _t(6)),
    "bitwise_and": lambda: F.bitwise_and(_labels(4), 1),
    "bitwise_not": lambda: F.bitwise_not(_t(3) > 0),
    "bitwise_or": lambda: F.bitwise_or(_t(3) > 0, _t(3) < 0),
    "bitwise_xor": lambda: F.bitwise_xor(_labels(4), _labels(4)),
    "bmm": lambda: F.bmm(_t(2, 3, 4), _t(2, 4, 5)),
    "ceil": lambda: F.ceil(_t(3, 4)),
    "cumprod": lambda: F.cumprod(_t(3, 4), 1),
    "diag": lambda: F.diag(_t(3, 4), 1),
    "floor": lambda: F.floor(_t(3, 4)),
    "floor_divide": lambda: F.floor_divide(_t(3, 4), 0.5),
    "fmod": lambda: F.fmod(_t(3, 4), 0.7),
    "index_add": lambda: F.index_add(_t(3, 4), 0, sj.tensor([2, 0]), _t(2, 4)),
    "index_select": lambda: F.index_select(_t(3, 4), 1, sj.tensor([3, 3, 0])),
    "isfinite": lambda: F.isfinite(_t(3)),
    "isinf": lambda: F.isinf(_t(3)),
    "isnan": lambda: F.isnan(_t(3)),
    "logical_and": lambda: F.logical_and(_t(3), _t(3)),
    "logical_not": lambda: F.logical_not(_t(3)),
    "logical_or": lambda: F.logical_or(_t(3), 0.0),
    "logical_xor": lambda: F.logical_xor(_t(3), _t(3)),
    "masked_fill": lambda: F.masked_fill(_t(3, 4), _t(4) > 0, 0.0),
    "median": lambda: F.median(_t(3, 4)),
    "mm": lambda: F.mm(_t(3, 4), _t(4, 2)),
    "movedim": lambda: F.movedim(_t(2, 3, 4), 0, -1),
    "narrow": lambda: F.narrow(_t(3, 4), 1, 1, 2),
    "nonzero": lambda: F.nonzero(_t(3, 4) > 0, as_tuple=True),
    "outer": lambda: F.outer(_t(3), _t(4)),
    "remainder": lambda: F.remainder(_t(3, 4), _t(4, low=0.5)),
    "repeat_interleave": lambda: F.repeat_interleave(_t(2, 3), 2, dim=0),
    "roll": lambda: F.roll(_t(3, 4), 1, 1),
    "round": lambda: F.round(_t(3, 4), decimals=1),
    "scatter": lambda: F.scatter(_t(3, 4), 0, sj.tensor([[2, 0, 1, 1]]), _t(1, 4)),
    "scatter_add": lambda: F.scatter_add(_t(3, 4), 1, sj.tensor([[0, 0], [3, 1], [2, 2]]), _t(3, 2)),
    "tile": lambda: F.tile(_t(2, 3), (2, 1)),
    "tril": lambda: F.tril(_t(3, 4)),
    "triu": lambda: F.triu(_t(3, 4), -1),
    "trunc": lambda: F.trunc(_t(3, 4)),
    "unflatten": lambda: F.unflatten(_t(2, 6), 1, (3, 2)),
    "unique": lambda: F.unique(_labels(6), return_inverse=True, return_counts=True),
}
# in-place (returns None); device move; a __future__ import; the two comparisons that answer with a Python bool
F_EXEMPT = {"setitem", "move", "annotations", "allclose", "equal"}


def _tensors(result):
    """The Tensors in a result: a Tensor, or a (named) tuple / list of them, nested."""
    if isinstance(result, sj.Tensor):
        return [result]
    return [t for item in result for t in _tensors(item)]


def assert_converts(t: sj.Tensor) -> None:
    """Every conversion a user reaches for gives the tensor's values, with its shape and dtype."""
    assert type(t.data) is np.ndarray, type(t.data)
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.shape == t.shape and a.dtype == t.dtype
    assert np.shares_memory(np.asarray(t, copy=False), t.data) or t.data.size == 0
    b = np.array(t)
    assert b.shape == t.shape and not np.shares_memory(b, t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert t.tolist() == t.data.tolist()
    if t.numel() == 1:
        assert float(t) == float(t.data.reshape(()))
        assert t.item() == t.data.reshape(()).item()
    np.testing.assert_array_equal(a, t.numpy())


def assert_user_path(result) -> None:
    """Convert every output and a 0-d reduction of it; backpropagate into a 0-d parameter and convert its grad."""
    scale = sj.tensor(np.float64(1.5), requires_grad=True)
    loss = None
    for out in _tensors(result):
        assert_converts(out)
        if out.dtype.kind == "f":
            total = (out * scale).sum()
            assert total.ndim == 0
            assert_converts(total)
            loss = total if loss is None else loss + total
    if loss is not None and loss.requires_grad:
        loss.backward()
        assert scale.grad is not None and scale.grad.ndim == 0
        assert_converts(scale.grad)


def test_every_public_function_of_F_is_in_the_table():
    public = {n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))}
    assert public - F_EXEMPT - set(F_CALLS) == set()


@pytest.mark.parametrize("name", sorted(F_CALLS))
def test_functional_results_convert(name):
    assert_user_path(F_CALLS[name]())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_core_op_results_convert(case):
    _, fn, _, shapes, domain = case
    inputs = [sj.tensor(a, requires_grad=True) for a in make_inputs(shapes, domain)]
    assert_user_path(fn(*inputs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_d_reductions_of_either_dtype_hold_arrays(dtype):
    x = sj.tensor(np.arange(6, dtype=dtype).reshape(2, 3), requires_grad=True)
    for out in (x.sum(), x.mean(), x.max(), x.min(), x.prod(), x.var(), x.std(), x.norm(), x.logsumexp(dim=(0, 1)),
                x[1, 2], x.sum() * 2 + 1, -x.mean(), x.sum() / 3, x.sum() ** 2, abs(x.sum())):
        assert out.dtype == dtype
        assert_converts(out)


def test_module_outputs_losses_and_parameter_grads_convert():
    model = sj.nn.Sequential(sj.nn.Linear(4, 8), sj.nn.ReLU(), sj.nn.Linear(8, 3))
    x, y = sj.randn(6, 4), _labels(6)
    loss = sj.nn.CrossEntropyLoss()(model(x), y)
    assert_converts(loss)
    assert isinstance(np.asarray(loss).item(), float)
    assert f"{float(loss):.3f}" == f"{np.asarray(loss).item():.3f}"
    loss.backward()
    for p in model.parameters():
        assert_converts(p)
        assert_converts(p.grad)


def test_state_dict_arrays_and_optimizer_steps_keep_arrays():
    w = sj.nn.Parameter(sj.tensor(np.float32(0.5)))
    opt = sj.optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w * w).backward()
        opt.step()
    assert_converts(w)
    assert_converts(w.grad)


def test_tensor_conversion_protocol():
    t = sj.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="copy"):
        np.asarray(t, dtype=np.float64, copy=False)
    assert np.asarray(t, copy=True) is not t.data
    assert np.asarray(t, dtype=np.float32, copy=False) is t.data


# One call of every public metric (on float32 Tensors where it takes scores): results are Python floats, or
# float64 arrays (int64 counts for an unnormalised confusion matrix), and they convert.
Y3 = sj.tensor([0, 1, 2, 2, 1, 0, 1, 2, 0, 1, 2, 2])
P3 = sj.tensor([0, 2, 2, 1, 1, 0, 1, 0, 0, 2, 2, 1])
Y2 = sj.tensor([0, 1, 1, 0, 1, 0, 1, 1])
S2 = sj.tensor(np.array([0.1, 0.8, 0.35, 0.4, 0.9, 0.2, 0.65, 0.3], np.float32))
PROB = F.softmax(sj.tensor(np.random.default_rng(1).standard_normal((12, 3)).astype(np.float32)), dim=1)
BOXES = sj.tensor(np.array([[0, 0, 2, 2], [1, 1, 3, 4]], np.float32))
DETS = [{"boxes": BOXES, "scores": sj.tensor(np.array([0.9, 0.6], np.float32)), "labels": sj.tensor([0, 1])}]
GTS = [{"boxes": BOXES[:1], "labels": sj.tensor([0])}]
METRIC_CALLS = {
    "accuracy": lambda: M.accuracy(Y3, P3),
    "zero_one_loss": lambda: M.zero_one_loss(Y3.float(), P3.float()),
    "top_k_accuracy": lambda: M.top_k_accuracy(Y3, PROB, k=2),
    "confusion_matrix": lambda: M.confusion_matrix(Y3, P3, normalize="true"),
    "precision": lambda: M.precision(Y3, P3, average="macro"),
    "recall": lambda: M.recall(Y3, P3, average=None),
    "fpr": lambda: M.fpr(Y2, S2 > 0.5),
    "f1_score": lambda: M.f1_score(Y3, P3, average="weighted"),
    "fbeta_score": lambda: M.fbeta_score(Y3, P3, beta=2.0, average="micro"),
    "dice_coefficient": lambda: M.dice_coefficient(Y2, S2 > 0.5),
    "roc_curve": lambda: M.roc_curve(Y2, S2),
    "auc": lambda: M.auc(sj.tensor(np.array([0, 0.5, 1], np.float32)), sj.tensor(np.array([0, 0.7, 1], np.float32))),
    "roc_auc_score": lambda: M.roc_auc_score(Y2, S2),
    "precision_recall_curve": lambda: M.precision_recall_curve(Y2, S2),
    "average_precision": lambda: M.average_precision(Y2, S2, interpolation="all"),
    "box_iou": lambda: M.box_iou(BOXES, BOXES),
    "match_detections": lambda: M.match_detections(BOXES, DETS[0]["scores"], BOXES[:1]),
    "detection_ap": lambda: M.detection_ap(DETS, GTS),
    "mean_average_precision": lambda: M.mean_average_precision(DETS, GTS),
    "average_recall": lambda: M.average_recall(DETS, GTS),
    "entropy": lambda: M.entropy(PROB),
    "cross_entropy": lambda: M.cross_entropy(PROB[0], PROB[1]),
    "kl_divergence": lambda: M.kl_divergence(PROB[0], PROB[1]),
    "mutual_information": lambda: M.mutual_information(Y3, P3),
    "joint_entropy": lambda: M.joint_entropy(Y3, P3),
    "conditional_entropy": lambda: M.conditional_entropy(Y3, P3),
    "perplexity": lambda: M.perplexity(Y3, PROB),
}


def _values(result):
    if isinstance(result, dict):
        return [v for item in result.values() for v in _values(item)]
    if isinstance(result, tuple):
        return [v for item in result for v in _values(item)]
    return [result]


def test_every_public_metric_function_is_in_the_table():
    from shenjing.metrics import classification, detection, information, ranking

    names = {n for module in (classification, detection, information, ranking) for n in module.__all__}
    public = {n for n in names if callable(getattr(M, n)) and not isinstance(getattr(M, n), type)}
    assert public - set(METRIC_CALLS) == set()


@pytest.mark.parametrize("name", sorted(METRIC_CALLS))
def test_metrics_return_float64_and_convert(name):
    for value in _values(METRIC_CALLS[name]()):
        if isinstance(value, np.ndarray):
            assert value.dtype in (np.float64, np.int64, np.bool_), value.dtype
        else:
            assert type(value) in (float, int), type(value)
        np.asarray(value)


def test_float32_metric_inputs_give_float64_results():
    y_true = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1], np.float32)
    y_pred = np.array([0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1], np.float32)
    assert M.zero_one_loss(y_true, y_pred) == 5 / 12
    assert F.zero_one_loss(sj.tensor(y_pred), sj.tensor(y_true)).item() == 5 / 12
    assert M.accuracy(y_true, y_pred) == 7 / 12
    assert M.box_iou(BOXES, BOXES).dtype == np.float64
