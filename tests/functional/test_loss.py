"""Losses: PyTorch parity (values and gradients, every reduction), gradchecks and the notes' identities."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 4))
LABELS = np.array([0, 3, 1, 2, 3, 1])
WEIGHT = np.array([0.2, 1.0, 0.5, 2.0])
PROBS = RNG.dirichlet(np.ones(4), size=6)
PRED = RNG.standard_normal((5, 3))
TARGET = RNG.standard_normal((5, 3))


def _run(torch, ours, theirs, inputs, dtype, device, grad_seed=1, n_grad=None):
    """Compare values and the gradients of the floating inputs (the first ``n_grad`` of them, default all)."""
    n_grad = len(inputs) if n_grad is None else n_grad
    need = [x.dtype.kind == "f" and i < n_grad for i, x in enumerate(inputs)]
    a = [sj.tensor(x.astype(dtype) if x.dtype.kind == "f" else x, requires_grad=r, device=device)
         for x, r in zip(inputs, need)]
    b = [torch.tensor(x.astype(dtype) if x.dtype.kind == "f" else x, requires_grad=r) for x, r in zip(inputs, need)]
    out_a, out_b = ours(*a), theirs(*b)
    assert out_a.dtype == np.dtype(dtype) and out_a.device == device
    assert_close(out_a, out_b)
    g = np.random.default_rng(grad_seed).standard_normal(out_a.shape).astype(dtype)
    out_a.backward(sj.tensor(g, device=device))
    out_b.backward(torch.tensor(g))
    for ta, tb in zip(a, b):
        if ta.requires_grad:
            assert_close(ta.grad, tb.grad)


PAIRWISE = {
    "mse": (F.mse_loss, "mse_loss", {}),
    "l1": (F.l1_loss, "l1_loss", {}),
    "smooth_l1": (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.7}),
    "smooth_l1_beta0": (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(PAIRWISE))
def test_regression_losses_parity(torch, name, reduction, dtype, device):
    ours, theirs, kw = PAIRWISE[name]
    _run(torch, lambda x, y: ours(x, y, reduction=reduction, **kw),
         lambda x, y: getattr(torch.nn.functional, theirs)(x, y, reduction=reduction, **kw), [PRED, TARGET], dtype,
         device)


@pytest.mark.parametrize("name", sorted(PAIRWISE))
def test_regression_losses_gradcheck(name, device):
    ours, _, kw = PAIRWISE[name]
    x = sj.tensor(PRED, requires_grad=True, device=device)
    y = sj.tensor(TARGET, requires_grad=True, device=device)
    assert gradcheck(lambda a, b: ours(a, b, reduction="sum", **kw), [x, y])


def test_mse_half_sum_is_the_notes_form():
    x, y = sj.tensor(PRED), sj.tensor(TARGET)
    assert (0.5 * F.mse_loss(x, y, reduction="sum")).item() == pytest.approx(0.5 * ((PRED - TARGET) ** 2).sum())


def test_shape_mismatch_and_bad_reduction_raise():
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(5,\)"):
        F.mse_loss(sj.tensor(PRED), sj.tensor(TARGET[:, 0]))
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(sj.tensor(PRED), sj.tensor(TARGET), reduction="avg")


def test_float64_target_does_not_upcast_float32_input():
    assert F.mse_loss(sj.randn(3, 2), np.zeros((3, 2))).dtype == np.float32


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_parity(torch, reduction, weighted, smoothing, dtype, device):
    w = WEIGHT if weighted else None
    labels = LABELS.copy()
    labels[2] = -100
    _run(torch,
         lambda x, y: F.cross_entropy(x, y, weight=w, reduction=reduction, label_smoothing=smoothing),
         lambda x, y: torch.nn.functional.cross_entropy(
             x, y, weight=None if w is None else torch.tensor(w.astype(dtype)), reduction=reduction,
             label_smoothing=smoothing), [LOGITS, labels], dtype, device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_and_spatial_dims(torch, reduction, device):
    x = RNG.standard_normal((3, 4, 2, 2))
    y = RNG.integers(0, 4, (3, 2, 2))
    p = RNG.dirichlet(np.ones(4), size=(3, 2, 2)).transpose(0, 3, 1, 2).copy()
    w = torch.tensor(WEIGHT)
    _run(torch, lambda a, b: F.cross_entropy(a, b, weight=WEIGHT, reduction=reduction, label_smoothing=0.1),
         lambda a, b: torch.nn.functional.cross_entropy(a, b, weight=w, reduction=reduction, label_smoothing=0.1),
         [x, y], "float64", device)
    _run(torch, lambda a, b: F.cross_entropy(a, b, weight=WEIGHT, reduction=reduction, label_smoothing=0.2),
         lambda a, b: torch.nn.functional.cross_entropy(a, b, weight=w, reduction=reduction, label_smoothing=0.2),
         [x, p], "float64", device, n_grad=1)


def test_cross_entropy_temperature_divides_logits(torch, device):
    _run(torch, lambda x, y: F.cross_entropy(x, y, temperature=3.0),
         lambda x, y: torch.nn.functional.cross_entropy(x / 3.0, y), [LOGITS, LABELS], "float64", device)
    x = sj.tensor(LOGITS)
    assert F.cross_entropy(x, LABELS, temperature=1.0).item() == F.cross_entropy(x, LABELS).item()


def test_cross_entropy_is_softmax_plus_nll():
    x = sj.tensor(LOGITS)
    assert_close(F.cross_entropy(x, LABELS, reduction="none"),
                 F.nll_loss(F.log_softmax(x, 1), LABELS, reduction="none"))
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    assert_close(F.cross_entropy(x, LABELS, reduction="none"), -np.log(p[np.arange(6), LABELS]))


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = sj.tensor(LOGITS, requires_grad=True)
    F.cross_entropy(x, LABELS, reduction="sum").backward()
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    assert_close(x.grad, p - np.eye(4)[LABELS])


@pytest.mark.parametrize("kw", [{}, {"weight": WEIGHT, "label_smoothing": 0.3}, {"temperature": 2.0}])
def test_cross_entropy_gradcheck(kw, device):
    assert gradcheck(lambda x: F.cross_entropy(x, LABELS, **kw), [sj.tensor(LOGITS, requires_grad=True, device=device)])
    assert gradcheck(lambda x: F.cross_entropy(x, PROBS, **kw), [sj.tensor(LOGITS, requires_grad=True, device=device)])


def test_cross_entropy_unbatched_and_errors():
    x = sj.tensor(LOGITS[0])
    assert F.cross_entropy(x, np.array(2)).item() == pytest.approx(F.cross_entropy(sj.tensor(LOGITS[:1]), [2]).item())
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        F.cross_entropy(sj.tensor(LOGITS), np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match="shape"):
        F.cross_entropy(sj.tensor(LOGITS), LABELS[:3])
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(sj.tensor(LOGITS), LABELS, weight=np.ones(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_parity(torch, reduction, device):
    logp = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    labels = LABELS.copy()
    labels[0] = 5
    _run(torch, lambda x, y: F.nll_loss(x, y, weight=WEIGHT, ignore_index=5, reduction=reduction),
         lambda x, y: torch.nn.functional.nll_loss(x, y, weight=torch.tensor(WEIGHT), ignore_index=5,
                                                   reduction=reduction), [logp, labels], "float64", device)


def test_nll_gradcheck(device):
    x = sj.tensor(LOGITS, requires_grad=True, device=device)
    assert gradcheck(lambda a: F.nll_loss(a, LABELS, weight=WEIGHT), [x])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_parity(torch, reduction, dtype, device):
    p = 1 / (1 + np.exp(-PRED))
    y = (TARGET > 0).astype(float) * 0.9 + 0.05
    w = RNG.random(3)
    _run(torch, lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
         lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, weight=torch.tensor(w.astype(dtype)),
                                                               reduction=reduction), [p, y], dtype, device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_parity(torch, reduction, dtype, device):
    x = PRED * 10
    y = (TARGET > 0).astype(float)
    w, pw = RNG.random((5, 1)), np.array([0.5, 2.0, 3.0])
    _run(torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw, reduction=reduction),
         lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
             a, b, weight=torch.tensor(w.astype(dtype)), pos_weight=torch.tensor(pw.astype(dtype)),
             reduction=reduction), [x, y], dtype, device)


def test_bce_gradchecks_and_range_check(device):
    p = sj.tensor(1 / (1 + np.exp(-PRED)), requires_grad=True, device=device)
    y = sj.tensor(np.clip(TARGET, 0.1, 0.9), requires_grad=True, device=device)
    assert gradcheck(F.binary_cross_entropy, [p, y])
    x = sj.tensor(PRED, requires_grad=True, device=device)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=[1.5, 0.5, 2.0]), [x, y])
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(sj.tensor(PRED), sj.tensor(TARGET))


def test_bce_with_logits_is_stable_for_large_logits():
    x = sj.tensor([1000.0, -1000.0], dtype="float64")
    out = F.binary_cross_entropy_with_logits(x, [0.0, 1.0], reduction="none").numpy()
    assert_close(out, np.array([1000.0, 1000.0]))


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_parity(torch, reduction, log_target, device):
    logp = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    target = PROBS.copy()
    target[0, 1] = 0.0
    if log_target:
        target = np.log(PROBS)
    _run(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
         lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
         [logp, target], "float64", device, n_grad=2 if log_target else 1)


def test_kl_div_gradcheck_and_zero_for_equal_distributions(device):
    logp = sj.tensor(np.log(PROBS), requires_grad=True, device=device)
    assert abs(F.kl_div(logp, PROBS, reduction="sum").item()) < 1e-12
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"),
                     [logp, sj.tensor(PROBS, requires_grad=True, device=device)])
    assert gradcheck(lambda a, b: F.kl_div(a, b, log_target=True),
                     [logp, sj.tensor(np.log(PROBS[::-1].copy()), requires_grad=True, device=device)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_loss_gamma0_is_cross_entropy(reduction):
    x = sj.tensor(LOGITS)
    assert_close(F.focal_loss(x, LABELS, gamma=0.0, reduction=reduction),
                 F.cross_entropy(x, LABELS, reduction=reduction))


def test_focal_loss_formula_and_gradcheck():
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    pt = p[np.arange(6), LABELS]
    alpha = np.array([0.25, 0.5, 0.75, 1.0])
    expected = -alpha[LABELS] * (1 - pt) ** 2 * np.log(pt)
    x = sj.tensor(LOGITS, requires_grad=True)
    assert_close(F.focal_loss(x, LABELS, gamma=2.0, alpha=alpha, reduction="none"), expected)
    scalar_alpha = F.focal_loss(x, LABELS, gamma=2.0, alpha=0.5, reduction="sum").item()
    assert scalar_alpha == pytest.approx((0.5 * (1 - pt) ** 2 * -np.log(pt)).sum(), rel=1e-12)
    assert gradcheck(lambda t: F.focal_loss(t, LABELS, gamma=1.5, alpha=alpha), [x])
    easy = F.focal_loss(x, LABELS, reduction="none").numpy() / F.cross_entropy(x, LABELS, reduction="none").numpy()
    assert (easy < 1).all()


def test_dice_loss_formula_and_gradcheck():
    p = 1 / (1 + np.exp(-RNG.standard_normal((3, 2, 4))))
    y = (RNG.random((3, 2, 4)) > 0.5).astype(float)
    inter = (p * y).sum((1, 2))
    expected = 1 - (2 * inter + 1) / (p.sum((1, 2)) + y.sum((1, 2)) + 1)
    x = sj.tensor(p, requires_grad=True)
    assert_close(F.dice_loss(x, y, reduction="none"), expected)
    assert F.dice_loss(x, y).item() == pytest.approx(expected.mean(), rel=1e-12)
    assert gradcheck(lambda t: F.dice_loss(t, y, smooth=0.5), [x])
    perfect = sj.tensor(y)
    assert F.dice_loss(perfect, y, smooth=0.0).item() == pytest.approx(0.0, abs=1e-12)


def test_dice_loss_with_class_index_targets():
    labels = np.array([[0, 1, 2], [2, 2, 0]])
    probs = np.eye(3)[labels].transpose(0, 2, 1)
    assert F.dice_loss(sj.tensor(probs), labels, smooth=0.0).item() == pytest.approx(0.0, abs=1e-7)


def test_zero_one_loss():
    x = sj.tensor(LOGITS)
    wrong = (LOGITS.argmax(1) != LABELS)
    assert F.zero_one_loss(x, LABELS).item() == pytest.approx(wrong.mean())
    assert F.zero_one_loss(x, LABELS, reduction="sum").item() == wrong.sum()
    assert F.zero_one_loss(np.array([1, 2, 3]), np.array([1, 0, 3])).item() == pytest.approx(1 / 3)


def test_multi_exit_loss_is_depth_weighted_mean():
    losses = [sj.tensor(v, dtype="float64", requires_grad=True) for v in (3.0, 2.0, 1.0)]
    out = F.multi_exit_loss(losses)
    assert out.item() == pytest.approx((1 * 3 + 2 * 2 + 3 * 1) / 6)
    out.backward()
    assert [t.grad.item() for t in losses] == pytest.approx([1 / 6, 2 / 6, 3 / 6])
    assert F.multi_exit_loss(losses, weights=[1, 1, 2]).item() == pytest.approx((3 + 2 + 2) / 4)
    with pytest.raises(ValueError, match="weights"):
        F.multi_exit_loss(losses, weights=[1, 2])
