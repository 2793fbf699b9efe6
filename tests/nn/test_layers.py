"""Layers against PyTorch with the same weights: Linear, activations, losses, norms, dropout, embedding;
and the notes' extra layers (Maxout, RBF, MultiSampleDropout, Residual)."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn
from shenjing.autograd import gradcheck

RNG = np.random.default_rng(0)


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _compare_step(torch, ours, theirs, x, dtype="float64"):
    xa = sj.tensor(x.astype(dtype), requires_grad=True)
    xb = torch.tensor(x.astype(dtype), requires_grad=True)
    out_a, out_b = ours(xa), theirs(xb)
    assert_close(out_a, out_b)
    g = np.random.default_rng(x.size).standard_normal(out_a.shape).astype(dtype)
    out_a.backward(g)
    out_b.backward(torch.tensor(g))
    assert_close(xa.grad, xb.grad)
    for (name, pa), (_, pb) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(pa.grad, pb.grad, err_msg=name)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (6, 3, 4)),
                                         ("BatchNorm2d", (4, 3, 2, 5))])
def test_batchnorm_three_training_steps_then_eval(torch, kind, shape, momentum):
    ours = getattr(nn, kind)(3, momentum=momentum).double()
    theirs = getattr(torch.nn, kind)(3, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.normal_()
    _load_from_torch(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(3):
        _compare_step(torch, ours, theirs, RNG.standard_normal(shape) * (step + 1) + step)
        ours.zero_grad()
        theirs.zero_grad()
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, err_msg=key)
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    _compare_step(torch, ours, theirs, RNG.standard_normal(shape))


def test_batchnorm_float32_and_cumulative_average_is_the_notes_estimate():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [RNG.standard_normal((5, 2)).astype(np.float32) for _ in range(4)]
    for b in batches:
        out = bn(sj.tensor(b))
        assert out.dtype == np.float32
    assert_close(bn.running_mean, np.mean([b.mean(0) for b in batches], 0))
    assert_close(bn.running_var, 5 / 4 * np.mean([b.var(0) for b in batches], 0))


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval(torch):
    ours, theirs = nn.BatchNorm2d(2, track_running_stats=False).double(), torch.nn.BatchNorm2d(
        2, track_running_stats=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.eval()
    theirs.eval()
    _compare_step(torch, ours, theirs, RNG.standard_normal((3, 2, 2, 2)))
    with pytest.raises(ValueError, match="BatchNorm2d"):
        ours(sj.randn(3, 2))


def test_norm_layers_parity(torch):
    x = RNG.standard_normal((2, 4, 3, 3))
    pairs = [(nn.LayerNorm((3, 3)), torch.nn.LayerNorm((3, 3))),
             (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
             (nn.InstanceNorm2d(4), torch.nn.InstanceNorm2d(4)),
             (nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
              torch.nn.InstanceNorm2d(4, affine=True, track_running_stats=True))]
    for ours, theirs in pairs:
        ours.double()
        theirs.double()
        with torch.no_grad():
            for p in theirs.parameters():
                p.uniform_(0.5, 1.5)
        _load_from_torch(ours, theirs)
        _compare_step(torch, ours, theirs, x)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert nn.InstanceNorm2d(4).num_parameters() == 0


def test_linear_parity_and_default_init_bounds(torch):
    ours, theirs = nn.Linear(5, 3).double(), torch.nn.Linear(5, 3).double()
    _load_from_torch(ours, theirs)
    _compare_step(torch, ours, theirs, RNG.standard_normal((4, 5)))
    sj.manual_seed(0)
    big = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w = big.weight.numpy()
    assert w.min() >= -bound and w.max() < bound
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.01)
    assert np.abs(big.bias.numpy()).max() < bound
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)


ACTIVATIONS = [
    (nn.ReLU(), "ReLU", {}), (nn.Sigmoid(), "Sigmoid", {}), (nn.Tanh(), "Tanh", {}), (nn.ReLU6(), "ReLU6", {}),
    (nn.LeakyReLU(0.1), "LeakyReLU", {"negative_slope": 0.1}), (nn.ELU(0.5), "ELU", {"alpha": 0.5}),
    (nn.GELU("tanh"), "GELU", {"approximate": "tanh"}), (nn.GELU(), "GELU", {}),
    (nn.Softplus(2.0, 5.0), "Softplus", {"beta": 2.0, "threshold": 5.0}),
    (nn.Hardtanh(-2.0, 2.0), "Hardtanh", {"min_val": -2.0, "max_val": 2.0}),
    (nn.Softmax(1), "Softmax", {"dim": 1}), (nn.LogSoftmax(1), "LogSoftmax", {"dim": 1}),
    (nn.PReLU(4), "PReLU", {"num_parameters": 4}),
]


@pytest.mark.parametrize("ours, name, kw", ACTIVATIONS, ids=[a[1] + str(i) for i, a in enumerate(ACTIVATIONS)])
def test_activation_modules_parity(torch, ours, name, kw):
    theirs = getattr(torch.nn, name)(**kw).double()
    ours.double()
    _load_from_torch(ours, theirs)
    _compare_step(torch, ours, theirs, RNG.standard_normal((3, 4)) * 3)


def test_rrelu_module_modes(torch):
    m = nn.RReLU(0.1, 0.2)
    x = -sj.ones(1000)
    assert len(np.unique(m(x).numpy())) > 10
    m.eval()
    assert_close(m(x), np.full(1000, -0.15, dtype=np.float32))
    assert nn.Abs()(sj.tensor([-2.0, 3.0])).tolist() == [2.0, 3.0]


LOSSES = [
    (lambda: nn.MSELoss(), "MSELoss", {}, "reg"), (lambda: nn.L1Loss("sum"), "L1Loss", {"reduction": "sum"}, "reg"),
    (lambda: nn.SmoothL1Loss(beta=0.5), "SmoothL1Loss", {"beta": 0.5}, "reg"),
    (lambda: nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5]), label_smoothing=0.1), "CrossEntropyLoss",
     {"label_smoothing": 0.1}, "cls"),
    (lambda: nn.NLLLoss(reduction="none"), "NLLLoss", {"reduction": "none"}, "cls"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 1.0, 0.5])), "BCEWithLogitsLoss", {}, "bin"),
    (lambda: nn.KLDivLoss("batchmean"), "KLDivLoss", {"reduction": "batchmean"}, "kl"),
]


@pytest.mark.parametrize("factory, name, kw, kind", LOSSES, ids=[x[1] for x in LOSSES])
def test_loss_modules_parity(torch, factory, name, kw, kind):
    ours = factory()
    if "weight" in ours._buffers:
        kw = dict(kw, weight=torch.tensor(ours.weight.numpy()))
    if "pos_weight" in ours._buffers:
        kw = dict(kw, pos_weight=torch.tensor(ours.pos_weight.numpy()))
    theirs = getattr(torch.nn, name)(**kw)
    x = RNG.standard_normal((4, 3))
    target = {"reg": RNG.standard_normal((4, 3)), "cls": np.array([0, 2, 1, 2]),
              "bin": (RNG.random((4, 3)) > 0.5).astype(float), "kl": RNG.dirichlet(np.ones(3), 4)}[kind]
    xa, xb = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(xa, target), theirs(xb, torch.tensor(target))
    assert_close(out_a, out_b)
    out_a.sum().backward()
    out_b.sum().backward()
    assert_close(xa.grad, xb.grad)


def test_notes_loss_modules():
    x = sj.tensor(RNG.standard_normal((5, 3)))
    y = np.array([0, 1, 2, 1, 0])
    assert nn.FocalLoss(gamma=0.0)(x, y).item() == pytest.approx(nn.CrossEntropyLoss()(x, y).item())
    probs = sj.tensor(RNG.random((2, 6)))
    assert 0 <= nn.DiceLoss()(probs, (RNG.random((2, 6)) > 0.5).astype(float)).item() <= 1
    assert nn.ZeroOneLoss()(x, y).item() == pytest.approx((x.numpy().argmax(1) != y).mean())


def test_dropout_modules_follow_mode():
    sj.manual_seed(0)
    d = nn.Dropout(0.5)
    x = sj.ones(50, 50)
    assert (d(x).numpy() == 0).any()
    d.eval()
    assert d(x) is x
    t = nn.Dropout(0.25, scale="test").eval()
    assert_close(t(x), np.full((50, 50), 0.75, dtype=np.float32))
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout(-0.1)


def test_multi_sample_dropout_averages_heads():
    sj.manual_seed(1)
    head = nn.Linear(6, 2)
    msd = nn.MultiSampleDropout(0.5, samples=4, head=head)
    x = sj.randn(3, 6)
    sj.manual_seed(7)
    out = msd(x)
    sj.manual_seed(7)
    manual = sum(head(nn.functional.dropout(x, 0.5)).numpy() for _ in range(4)) / 4
    assert_close(out, manual)
    msd.eval()
    assert_close(msd(x), head(x))
    assert [n for n, _ in msd.named_parameters()] == ["head.weight", "head.bias"]


def test_maxout_layer():
    sj.manual_seed(0)
    m = nn.Maxout(4, 3, k=2).double()
    assert m.weight.shape == (6, 4) and m.num_parameters() == 6 * 4 + 6
    x = sj.tensor(RNG.standard_normal((5, 4)))
    z = x.numpy() @ m.weight.numpy().T + m.bias.numpy()
    assert_close(m(x), z.reshape(5, 3, 2).max(-1))
    assert gradcheck(lambda t, w, b: nn.functional.maxout(nn.functional.linear(t, w, b), 2),
                     [sj.tensor(RNG.standard_normal((2, 4)), requires_grad=True), m.weight, m.bias])


def test_rbf_layer():
    m = nn.RBF(3, 2).double()
    with sj.no_grad():
        m.log_sigma.data[...] = np.log([0.5, 2.0])
    x = RNG.standard_normal((4, 3))
    d2 = ((x[:, None, :] - m.centers.numpy()[None]) ** 2).sum(-1)
    assert_close(m(sj.tensor(x)), np.exp(-d2 / np.array([0.25, 4.0])))
    assert gradcheck(lambda t: m(t), [sj.tensor(x, requires_grad=True)])
    m(sj.tensor(x)).sum().backward()
    assert m.centers.grad is not None and m.log_sigma.grad is not None


def test_embedding_module_and_from_pretrained(torch):
    sj.manual_seed(0)
    e = nn.Embedding(10, 4, padding_idx=0)
    assert (e.weight.numpy()[0] == 0).all()
    assert e(np.array([[1, 2]])).shape == (1, 2, 4)
    w = RNG.standard_normal((5, 3))
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad
    assert_close(frozen(np.array([4, 0])), w[[4, 0]])
    trainable = nn.Embedding.from_pretrained(sj.tensor(w), freeze=False)
    trainable(np.array([1, 1])).sum().backward()
    assert_close(trainable.weight.grad.numpy()[1], np.full(3, 2.0))
    w[0, 0] = 99.0
    assert trainable.weight.numpy()[0, 0] != 99.0


def test_residual_adds_identity_path():
    block = nn.Linear(3, 3)
    res = nn.Residual(block)
    x = sj.randn(2, 3, requires_grad=True)
    assert_close(res(x), x.numpy() + block(x).numpy())
    res(x).sum().backward()
    assert_close(x.grad, 1 + block.weight.numpy().sum(0)[None].repeat(2, 0))
    with pytest.raises(ValueError, match="Residual"):
        nn.Residual(nn.Linear(3, 2))(x)
