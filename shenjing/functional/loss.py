"""Loss functions (seed 003 §4.2, seed 004 §4) with PyTorch's ``reduction`` and ``weight`` semantics.

``reduction='none'`` returns the per-element (or per-sample) losses, ``'sum'`` their sum and
``'mean'`` their average (for class-weighted losses, PyTorch's weighted average Σ w_i l_i / Σ w_i).
Cross-entropy, NLL, the two binary cross-entropies and KL divergence are fused ``Function`` objects
(one pass forward, the closed-form gradient backward); the others are compositions.
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import as_tensor
from .activation import log_softmax, log_softmax_array
from . import elementwise as E
from . import reduction as R

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "kl_div", "focal_loss", "dice_loss", "zero_one_loss", "multi_exit_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


# ----- shared helpers -------------------------------------------------------------------------
def _check_reduction(reduction: str, name: str, extra=()) -> None:
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS + tuple(extra)}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _reduce_array(per, reduction: str, count=None):
    """(reduced value, scale of each element's gradient) for a raw per-element loss array."""
    if reduction == "none":
        return per, 1
    total = B.xp_of(per).asarray(per.sum())
    if reduction == "sum":
        return total, 1
    scale = 1 / (per.size if count is None else count)
    return total * scale, scale


def _target(target, like: Tensor, name: str) -> Tensor:
    """``target`` as a Tensor; a constant floating target takes the input's dtype (no silent upcast)."""
    target = as_tensor(target) if isinstance(target, Tensor) else Tensor(B.asarray(target, device=like.device))
    if target.dtype.kind == "f" and target.dtype != like.dtype and not target.requires_grad:
        target = Tensor._wrap(target.data.astype(like.dtype))
    if target.device != like.device:
        raise TypeError(f"{name}: input is on {like.device} but target is on {target.device}")
    return target


def _same_shape(input: Tensor, target: Tensor, name: str) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} must be equal")


def _const(value, like: Tensor, name: str):
    """A constant array argument (class weights, pos_weight) in the input's dtype, or None."""
    if value is None:
        return None
    data = value.data if isinstance(value, Tensor) else B.asarray(value, device=like.device)
    if data.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be numeric, got dtype {data.dtype}")
    return data.astype(like.dtype, copy=False)


def _class_weight(weight, x: Tensor, name: str):
    w = _const(weight, x, f"{name}: weight")
    if w is not None and (w.ndim != 1 or x.ndim < 2 or w.shape[0] != x.shape[1]):
        raise ValueError(f"{name}: weight must have shape ({x.shape[1] if x.ndim > 1 else 'C'},), got {w.shape}")
    return w


def _class_targets(x: Tensor, target: Tensor, name: str):
    """Integer class targets of shape (N, d1, ...) for input (N, C, d1, ...)."""
    expected = x.shape[:1] + x.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: class-index target must have shape {expected} for input {x.shape}, "
                         f"got {target.shape}")
    return target.data


def _pick_weights(target, weight, ignore_index: int, n_classes: int, dtype, name: str):
    """(safe indices with ignored entries set to 0, per-sample weights w_{y_i}, zero where ignored)."""
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    if safe.size and (int(safe.min()) < 0 or int(safe.max()) >= n_classes):
        raise ValueError(f"{name}: target values must lie in [0, {n_classes}) or equal ignore_index={ignore_index}")
    wy = valid.astype(dtype) if weight is None else weight[safe] * valid
    return safe, wy


def _per_sample_grad(grad, scale):
    g = grad * scale
    return D.expand_dims(g, (1,)) if g.ndim else g


# ----- regression losses -----------------------------------------------------------------------
def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """MSE = mean((x - y)²) (seed 003 §4.2; seed 004 §4). Input and target of equal shape.

    No ½ factor, as PyTorch; the notes' ½Σ(x - y)² is ``0.5 * mse_loss(x, y, reduction='sum')``.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, y = sj.tensor([1.0, 2.0, 4.0]), sj.tensor([1.0, 0.0, 1.0])
    >>> F.mse_loss(x, y), F.mse_loss(x, y, reduction="sum")
    (tensor(4.3333335), tensor(13.))
    """
    _check_reduction(reduction, "mse_loss")
    target = _target(target, input, "mse_loss")
    _same_shape(input, target, "mse_loss")
    diff = E.sub(input, target)
    return _reduce(E.mul(diff, diff), reduction)


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """L1 = ``mean(|x - y|)``. Input and target of equal shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.l1_loss(sj.tensor([1.0, -2.0]), sj.tensor([0.0, 0.0]))
    tensor(1.5)
    """
    _check_reduction(reduction, "l1_loss")
    target = _target(target, input, "l1_loss")
    _same_shape(input, target, "l1_loss")
    return _reduce(E.abs(E.sub(input, target)), reduction)


def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth-L1: ``½d²/β`` where ``|d| < β``, ``|d| - ½β`` elsewhere, d = x - y (β = 0 is L1).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.smooth_l1_loss(sj.tensor([0.5, 3.0]), sj.zeros(2), reduction="none")
    tensor([0.125, 2.5  ])
    """
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _target(target, input, "smooth_l1_loss")
    _same_shape(input, target, "smooth_l1_loss")
    diff = E.sub(input, target)
    ad = E.abs(diff)
    if beta == 0:
        return _reduce(ad, reduction)
    quadratic = E.mul(E.mul(diff, diff), 0.5 / beta)
    return _reduce(E.where(ad.data < beta, quadratic, E.sub(ad, 0.5 * beta)), reduction)


# ----- binary cross-entropy --------------------------------------------------------------------
class BinaryCrossEntropy(Function):
    """l = -w (y log p + (1 - y) log(1 - p)), logs clamped at -100 as PyTorch; dl/dp = w (p - y) / (p(1 - p))."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, p, t, w, reduction):
        with np.errstate(divide="ignore"):  # log 0 = -inf is clamped to -100 next
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        per = -(t * log_p + (1 - t) * log_q)
        if w is not None:
            per = per * w
        out, ctx.scale = _reduce_array(per, reduction)
        ctx.p, ctx.t, ctx.w = p, t, w
        return out

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.p, ctx.t
        g = grad * ctx.scale if ctx.w is None else grad * ctx.scale * ctx.w
        gp = g * (p - t) / D.maximum((1 - p) * p, 1e-12) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            gt = g * (D.maximum(D.log1p(-p), -100) - D.maximum(D.log(p), -100))
        return gp, gt, None, None


class BinaryCrossEntropyWithLogits(Function):
    """l = w [(1 - y) x + (1 + (pw - 1) y) softplus(-x)]; dl/dx = w [(1 - y) - (1 + (pw - 1) y) σ(-x)]."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, t, w, pos_weight, reduction):
        sp = E.stable_softplus(-x)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        per = (1 - t) * x + lw * sp
        if w is not None:
            per = per * w
        out, ctx.scale = _reduce_array(per, reduction)
        ctx.x, ctx.t, ctx.w, ctx.pw = x, t, w, pos_weight
        return out

    @staticmethod
    def backward(ctx, grad):
        x, t, pw = ctx.x, ctx.t, ctx.pw
        g = grad * ctx.scale if ctx.w is None else grad * ctx.scale * ctx.w
        lw = 1 if pw is None else 1 + (pw - 1) * t
        gx = g * ((1 - t) - lw * D.sigmoid(-x)) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pw is None else -x + (pw - 1) * E.stable_softplus(-x))
        return gx, gt, None, None, None


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber: ``½d²`` where ``|d| < δ``, ``δ(|d| - ½δ)`` elsewhere, d = x - y; equals δ·smooth_l1_loss(β=δ).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.huber_loss(sj.tensor([0.5, 3.0]), sj.zeros(2), reduction="none", delta=2.0)
    tensor([0.125, 4.   ])
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return E.mul(smooth_l1_loss(input, target, reduction, beta=delta), delta)


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """BCE = -w [y log p + (1 - y) log(1 - p)] for probabilities p ∈ [0, 1] (seed 004 §4.2.2).

    ``input`` and ``target`` have equal shapes; ``weight`` broadcasts against them. Prefer
    :func:`binary_cross_entropy_with_logits` on raw scores (numerically stable).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.binary_cross_entropy(sj.tensor([0.9, 0.2]), sj.tensor([1.0, 0.0]))
    tensor(0.16425206)
    """
    _check_reduction(reduction, "binary_cross_entropy")
    target = _target(target, input, "binary_cross_entropy")
    _same_shape(input, target, "binary_cross_entropy")
    data = input.data
    if data.size and (float(data.min()) < 0 or float(data.max()) > 1):
        raise ValueError("binary_cross_entropy: input must contain probabilities in [0, 1]; "
                         "use binary_cross_entropy_with_logits for raw scores")
    return BinaryCrossEntropy.apply(input, target, _const(weight, input, "binary_cross_entropy: weight"), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """BCE on logits: -w [p_w y log σ(x) + (1 - y) log(1 - σ(x))], computed as
    ``(1 - y) x + (1 + (p_w - 1) y)(log(1 + e^{-|x|}) + max(-x, 0))`` (stable; seed 004 §4.2.2).

    ``pos_weight`` weighs the positive term, broadcast along the last (class) dim.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> z = sj.tensor([2.0, -1.0], requires_grad=True)
    >>> y = sj.tensor([1.0, 0.0])
    >>> F.binary_cross_entropy_with_logits(z, y, reduction="sum").backward()
    >>> z.grad
    tensor([-0.11920292,  0.2689414 ])
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = _target(target, input, "binary_cross_entropy_with_logits")
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    return BinaryCrossEntropyWithLogits.apply(
        input, target, _const(weight, input, "binary_cross_entropy_with_logits: weight"),
        _const(pos_weight, input, "binary_cross_entropy_with_logits: pos_weight"), reduction,
    )


# ----- softmax cross-entropy and NLL ----------------------------------------------------------------
def _tempered_log_softmax(x, t: float):
    """log softmax(x / T) over the class dim 1."""
    return log_softmax_array(x / t if t != 1 else x, 1)


def _class_weight_column(weight, x):
    """The class weights (C,) shaped to broadcast along dim 1 of ``x`` (None stays None)."""
    return None if weight is None else weight.reshape((1, x.shape[1]) + (1,) * (x.ndim - 2))


class CrossEntropyProbabilities(Function):
    """Fused log-softmax + cross-entropy with class probabilities p: l_i = -Σ_c q_ic log softmax(x_i / T)_c.

    q = ((1 - ε) p + ε / C) · w_c (label smoothing, class weights); dl/dx = (softmax · Σ_c q - q) / T.
    """

    @staticmethod
    def forward(ctx, x, target, weight, reduction, eps, t):
        logp, wc = _tempered_log_softmax(x, t), _class_weight_column(weight, x)
        q = target if eps == 0 else target * (1 - eps) + eps / x.shape[1]
        q = q if wc is None else q * wc
        ctx.logp, ctx.q, ctx.t = logp, q, t
        out, ctx.scale = _reduce_array(-(q * logp).sum(axis=1), reduction)
        return out

    @staticmethod
    def backward(ctx, grad):
        s, q = np.exp(ctx.logp), ctx.q
        g = _per_sample_grad(grad, ctx.scale)
        gz = s * (g * q.sum(axis=1, keepdims=True)) - g * q
        return (gz / ctx.t if ctx.t != 1 else gz), None, None, None, None, None


class CrossEntropyIndices(Function):
    """Fused log-softmax + NLL with class indices y: l_i = -a_i log p_{i,y_i} - b_i Σ_c w_c log p_ic.

    p_i = softmax(x_i / T); a_i = (1 - ε) w_{y_i} and b_i = ε / C (0 where y_i is ignored): the
    one-hot target smoothed towards uniform (PyTorch's formula, class weights included).
    dl/dx = (softmax · Σ_c q - q) / T with q_ic = a_i [c = y_i] + b_i w_c.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, eps, t):
        n_classes = x.shape[1]
        logp, wc = _tempered_log_softmax(x, t), _class_weight_column(weight, x)
        ctx.logp, ctx.t, ctx.wc = logp, t, wc
        safe, wy = _pick_weights(target, weight, ignore_index, n_classes, x.dtype, "cross_entropy")
        ctx.index = np.expand_dims(safe, 1)
        ctx.a = (1 - eps) * wy if eps else wy
        per = -ctx.a * np.take_along_axis(logp, ctx.index, axis=1).squeeze(1)
        ctx.b = None
        if eps:
            ctx.b = (eps / n_classes) * (target != ignore_index).astype(x.dtype)
            per = per - ctx.b * (logp if wc is None else logp * wc).sum(axis=1)
        out, ctx.scale = _reduce_array(per, reduction, count=wy.sum())
        return out

    @staticmethod
    def backward(ctx, grad):
        s = np.exp(ctx.logp)
        ga = _per_sample_grad(grad * ctx.a, ctx.scale)
        qsum = ga
        if ctx.b is not None:
            gb = _per_sample_grad(grad * ctx.b, ctx.scale)
            wsum = s.shape[1] if ctx.wc is None else ctx.wc.sum()
            qsum = ga + gb * wsum
        gz = s * qsum
        if ctx.b is not None:
            gz -= gb if ctx.wc is None else gb * ctx.wc
        picked = np.take_along_axis(gz, ctx.index, axis=1) - ga
        np.put_along_axis(gz, ctx.index, picked, axis=1)
        return (gz / ctx.t if ctx.t != 1 else gz), None, None, None, None, None, None


def _graph_log_probs(x, weight, t):
    """(log softmax(x / T) over dim 1, class weights as a column or 1) with differentiable ops."""
    logp = log_softmax(as_tensor(x) * (1 / t), dim=1)
    return logp, 1 if weight is None else _class_weight_column(weight, logp)


def _probabilities_composite(x, target, weight, reduction, eps, t):
    """:class:`CrossEntropyProbabilities` with differentiable ops (its composite): -Σ_c q_c w_c log p_c."""
    logp, wc = _graph_log_probs(x, weight, t)
    q = target * (1 - eps) + eps / logp.shape[1]
    return _reduce(-(q * wc * logp).sum(axis=1), reduction)


def _indices_composite(x, target, weight, ignore_index, reduction, eps, t):
    """:class:`CrossEntropyIndices` as log-softmax then NLL (its composite): per sample
    l = (1 - ε) nll(log p) - ε/C Σ_c w_c log p_c, ignored targets excepted."""
    logp, wc = _graph_log_probs(x, weight, t)
    n_classes = logp.shape[1]
    _, wy = _pick_weights(target, weight, ignore_index, n_classes, logp.dtype, "cross_entropy")
    per = NllLoss.apply(logp, target, weight, ignore_index, "none") * (1 - eps)
    if eps:
        per = per - (logp * wc).sum(axis=1) * ((eps / n_classes) * (target != ignore_index))
    if reduction == "mean":
        return per.sum() * (1 / wy.sum())
    return per.sum() if reduction == "sum" else per


CrossEntropyProbabilities.composite = staticmethod(_probabilities_composite)
CrossEntropyIndices.composite = staticmethod(_indices_composite)


class NllLoss(Function):
    """l_i = -w_{y_i} x_{i, y_i} for log-probabilities x; 'mean' divides by Σ_i w_{y_i}."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        safe, wy = _pick_weights(target, weight, ignore_index, x.shape[1], x.dtype, "nll_loss")
        ctx.index, ctx.wy, ctx.shape = np.expand_dims(safe, 1), wy, x.shape
        per = -wy * np.take_along_axis(x, ctx.index, axis=1).squeeze(1)
        out, ctx.scale = _reduce_array(per, reduction, count=wy.sum())
        return out

    @staticmethod
    def backward(ctx, grad):
        picked = -_per_sample_grad(grad * ctx.wy, ctx.scale)
        return R.scatter_along(D.broadcast_to(picked, ctx.index.shape), ctx.shape, ctx.index, 1), None, None, None, None


def _unbatched(x: Tensor, target: Tensor, name: str):
    """PyTorch's unbatched form: input (C,) with a scalar class target, or (C,) probabilities."""
    from .shape import unsqueeze

    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dim, got a 0-d tensor")
    if x.ndim == 1:
        return unsqueeze(x, 0), Tensor._wrap(target.data[None]), True
    return x, target, False


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0, temperature: float = 1.0) -> Tensor:
    """Softmax cross-entropy l_i = -Σ_c q_ic log softmax(x_i / T)_c (seed 004 §4.2.3, seed 003 §4.2).

    ``input`` (N, C) or (N, C, d1, ...) logits. ``target`` class indices (N, d1, ...) or class
    probabilities of the input's shape. ``weight`` (C,) gives the weighted softmax loss
    (004 §4.2.3.2); 'mean' is then Σ w_{y_i} l_i / Σ w_{y_i} as PyTorch. ``label_smoothing`` ε
    mixes the target with the uniform distribution: q = (1 - ε) onehot + ε/C (PyTorch's formula,
    class weights included). ``temperature`` T divides the logits (the notes' soft softmax loss;
    T = 1 is the plain loss). Targets equal to ``ignore_index`` contribute nothing.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> logits = sj.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]])
    >>> target = sj.tensor([0, 1])
    >>> F.cross_entropy(logits, target)
    tensor(0.39637795)
    >>> F.cross_entropy(logits, target, label_smoothing=0.1, temperature=2.0)
    tensor(0.71534294)
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    from .activation import _temperature

    t = _temperature(temperature)
    target = _target(target, input, "cross_entropy")
    x, target, unbatched = _unbatched(input, target, "cross_entropy")
    weight = _class_weight(weight, x, "cross_entropy")
    eps = float(label_smoothing)
    if target.dtype.kind == "f":
        _same_shape(x, target, "cross_entropy (probability target)")
        out = CrossEntropyProbabilities.apply(x, target.data, weight, reduction, eps, t)
    else:
        out = CrossEntropyIndices.apply(x, _class_targets(x, target, "cross_entropy"), weight, ignore_index, reduction,
                                        eps, t)
    return out[0] if unbatched and reduction == "none" else out


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood l_i = -w_{y_i} x_{i, y_i} of log-probabilities ``input`` (N, C, d1, ...).

    ``cross_entropy(x, y) == nll_loss(log_softmax(x, 1), y)`` (seed 004 §4.2.3.1).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> logp = F.log_softmax(sj.tensor([[2.0, 0.5, -1.0]]), dim=1)
    >>> F.nll_loss(logp, sj.tensor([0]))
    tensor(0.24131124)
    """
    _check_reduction(reduction, "nll_loss")
    target = _target(target, input, "nll_loss")
    x, target, unbatched = _unbatched(input, target, "nll_loss")
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype {target.dtype}")
    data = _class_targets(x, target, "nll_loss")
    out = NllLoss.apply(x, data, _class_weight(weight, x, "nll_loss"), ignore_index, reduction)
    return out[0] if unbatched and reduction == "none" else out


# ----- KL divergence ------------------------------------------------------------------------------
class KlDiv(Function):
    """l = y (log y - x) (0 where y = 0), or e^y (y - x) with ``log_target``; x holds log-probabilities."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction, log_target):
        if log_target:
            p = np.exp(y)
            per = p * (y - x)
        else:
            p = y
            with np.errstate(divide="ignore", invalid="ignore"):
                log_y = np.where(y > 0, np.log(np.where(y > 0, y, 1)), 0)
            per = y * log_y - y * x
        count = x.shape[0] if reduction == "batchmean" and x.ndim else None
        out, ctx.scale = _reduce_array(per, "mean" if reduction == "batchmean" else reduction, count)
        ctx.x, ctx.y, ctx.log_target = x, y, log_target
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.x, ctx.y
        g = grad * ctx.scale
        p = D.exp(y) if ctx.log_target else y
        gx = -g * p if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                gy = g * p * (y - x + 1)
            else:
                positive = D.raw(y) > 0
                gy = g * D.where(positive, D.log(D.where(positive, y, 1)) + 1 - x, 0)
        return gx, gy, None, None


def kl_div(input: Tensor, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(y ‖ p) = Σ y (log y - log p) with ``input`` = log p (PyTorch's convention; seed 004 §4.2.2).

    ``reduction='mean'`` averages over all elements, ``'batchmean'`` divides the sum by the batch
    size (the mathematically proper KL per sample). ``log_target=True`` takes log y as target.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> p = sj.tensor([[0.5, 0.5]])
    >>> F.kl_div(p.log(), p, reduction="batchmean"), F.kl_div(sj.tensor([[0.9, 0.1]]).log(), p, reduction="sum")
    (tensor(0.), tensor(0.51082563))
    """
    _check_reduction(reduction, "kl_div", extra=("batchmean",))
    target = _target(target, input, "kl_div")
    _same_shape(input, target, "kl_div")
    return KlDiv.apply(input, target, reduction, bool(log_target))


# ----- the notes' classification losses --------------------------------------------------------------
class TakeAlong(Function):
    """x[i, y_i, ...]: picks one entry along dim 1; the gradient goes back to it."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return np.take_along_axis(x, index, axis=1).squeeze(1)

    @staticmethod
    def backward(ctx, grad):
        return R.scatter_along(D.expand_dims(grad, (1,)), ctx.shape, ctx.index, 1), None


def focal_loss(input: Tensor, target, gamma: float = 2.0, alpha=None, reduction: str = "mean") -> Tensor:
    """Focal softmax loss l_i = -α_t (1 - p_t)^γ log p_t, p_t = softmax(x_i)_{y_i} (seed 004 §4.2.3.2).

    ``input`` (N, C, ...) logits, ``target`` class indices (N, ...). ``alpha`` is None, a number
    (a constant factor) or per-class weights (C,) giving α_t = α_{y_i}; 'mean' averages over
    samples. γ = 0 with alpha=None is the cross-entropy.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> logits, target = sj.tensor([[3.0, 0.0], [0.0, 0.5]]), sj.tensor([0, 1])
    >>> F.focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target), F.focal_loss(logits, target)
    (tensor(0.26133215), tensor(0.26133215), tensor(0.03384138))
    """
    _check_reduction(reduction, "focal_loss")
    if gamma < 0:
        raise ValueError(f"focal_loss: gamma must be non-negative, got {gamma}")
    target = _target(target, input, "focal_loss")
    index = np.expand_dims(_class_targets(input, target, "focal_loss"), 1)
    if index.size and (int(index.min()) < 0 or int(index.max()) >= input.shape[1]):
        raise ValueError(f"focal_loss: target values must lie in [0, {input.shape[1]})")
    log_pt = TakeAlong.apply(log_softmax(input, dim=1), index)
    loss = -log_pt
    if gamma:
        loss = E.mul(E.pow(E.sub(1.0, E.exp(log_pt)), float(gamma)), loss)
    if alpha is not None:
        if isinstance(alpha, (int, float)):
            loss = E.mul(loss, float(alpha))
        else:
            loss = E.mul(loss, Tensor._wrap(_class_weight(alpha, input, "focal_loss: alpha")[index.squeeze(1)]))
    return _reduce(loss, reduction)


def dice_loss(input: Tensor, target, smooth: float = 1.0, reduction: str = "mean") -> Tensor:
    """Soft dice loss per sample: 1 - (2 Σ p·y + s) / (Σ p + Σ y + s) (seed 004 §4.2.3.2, dice loss).

    ``input`` holds probabilities (N, ...); ``target`` the same shape (binary or one-hot masks) or
    class indices (N, d1, ...) for input (N, C, d1, ...), one-hot encoded along dim 1. Sums run
    over every dim but the batch dim; ``smooth`` s keeps empty masks finite.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.dice_loss(sj.tensor([[0.9, 0.8, 0.1]]), sj.tensor([[1.0, 1.0, 0.0]]), smooth=0.0)
    tensor(0.10526317)
    """
    _check_reduction(reduction, "dice_loss")
    target = _target(target, input, "dice_loss")
    if target.dtype.kind in "iu" and target.shape != input.shape:
        labels = _class_targets(input, target, "dice_loss")
        onehot = B.xp_of(input.data).zeros(input.shape, dtype=input.dtype)
        np.put_along_axis(onehot, np.expand_dims(labels, 1), 1, axis=1)
        target = Tensor._wrap(onehot)
    elif target.dtype != input.dtype and not target.requires_grad:
        target = Tensor._wrap(target.data.astype(input.dtype))
    _same_shape(input, target, "dice_loss")
    if input.ndim < 2:
        raise ValueError(f"dice_loss: input needs a batch dim and at least one more, got shape {input.shape}")
    dims = tuple(range(1, input.ndim))
    overlap = R.sum(E.mul(input, target), dim=dims)
    total = R.sum(input, dim=dims) + R.sum(target, dim=dims)
    return _reduce(1.0 - (2.0 * overlap + smooth) / (total + smooth), reduction)


def zero_one_loss(input, target, reduction: str = "mean") -> Tensor:
    """0-1 loss: 1 where the prediction differs from the label, else 0 (seed 004 §4.2.1); not differentiable.

    ``input`` scores (N, C, ...) are turned into argmax predictions; an input of the target's shape
    is taken as predicted labels. 'mean' is the fraction of mistakes, in float64 whatever the input dtype
    (scikit-learn's ``zero_one_loss``).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> float(F.zero_one_loss(sj.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]]), sj.tensor([0, 0, 1])))
    0.6666666666666666
    """
    _check_reduction(reduction, "zero_one_loss")
    input = as_tensor(input)
    target = as_tensor(target)
    pred = R.argmax(input, dim=1) if input.ndim == target.ndim + 1 else input
    if pred.shape != target.shape:
        raise ValueError(f"zero_one_loss: input shape {input.shape} does not match target shape {target.shape}")
    wrong = Tensor._wrap((pred.data != target.data).astype(np.float64))  # a count ratio: float64, as scikit-learn
    return _reduce(wrong, reduction)


def multi_exit_loss(losses, weights=None) -> Tensor:
    """Joint loss of a multi-exit network: Σ_j j·L_j / Σ_j j for exits j = 1..n (seed 004 §7).

    Deeper exits weigh more. ``weights`` replaces the default j by custom w_j: Σ w_j L_j / Σ w_j.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.multi_exit_loss([sj.tensor(1.0), sj.tensor(0.4)])
    tensor(0.6)
    """
    losses = list(losses)
    if not losses:
        raise ValueError("multi_exit_loss: losses must hold at least one loss")
    weights = list(range(1, len(losses) + 1)) if weights is None else [float(w) for w in weights]
    if len(weights) != len(losses):
        raise ValueError(f"multi_exit_loss: got {len(weights)} weights for {len(losses)} losses")
    norm = float(np.sum(weights))
    if norm <= 0:
        raise ValueError(f"multi_exit_loss: weights must have a positive sum, got {norm}")
    total = None
    for w, loss in zip(weights, losses):
        term = E.mul(as_tensor(loss), w / norm)
        total = term if total is None else total + term
    return total
