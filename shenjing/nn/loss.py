"""Loss Modules: thin wrappers around the functions of :mod:`shenjing.functional.loss` (seed 004 §4)."""

from __future__ import annotations

from ..functional import loss as L
from ..tensor import Tensor
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "KLDivLoss", "FocalLoss", "DiceLoss", "ZeroOneLoss", "HuberLoss",
]


class _Loss(Module):
    """``forward(input, target) = fn(input, target, **options)``; array options (weights) become buffers."""

    fn = None

    def __init__(self, **options):
        super().__init__()
        self.options = {}
        for name, value in options.items():
            if name in ("weight", "pos_weight") and value is not None:
                self.register_buffer(name, value if isinstance(value, Tensor) else Tensor(value))
            else:
                self.options[name] = value

    def forward(self, input: Tensor, target) -> Tensor:
        extra = {name: b for name, b in self._buffers.items() if b is not None}
        return type(self).fn(input, target, **self.options, **extra)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class MSELoss(_Loss):
    """mean((x - y)²) (seed 003 §4.2, 004 §4; no ½, as PyTorch).

    >>> import shenjing as sj
    >>> sj.nn.MSELoss()(sj.tensor([1.0, 3.0]), sj.tensor([0.0, 0.0]))
    tensor(5.)
    """

    fn = staticmethod(L.mse_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class L1Loss(_Loss):
    """``mean(|x - y|)`` (seed 003 §4.2: L1 loss).

    >>> import shenjing as sj
    >>> sj.nn.L1Loss(reduction="sum")(sj.tensor([1.0, -3.0]), sj.zeros(2))
    tensor(4.)
    """

    fn = staticmethod(L.l1_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class SmoothL1Loss(_Loss):
    """``½d²/β`` for ``|d| < β``, ``|d| - ½β`` otherwise, d = x - y (seed 003 §4.2: Smooth-L1).

    >>> import shenjing as sj
    >>> sj.nn.SmoothL1Loss()(sj.tensor([0.5, 3.0]), sj.zeros(2))
    tensor(1.3125)
    """

    fn = staticmethod(L.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction=reduction, beta=beta)


class HuberLoss(_Loss):
    """``½d²`` for ``|d| < δ``, ``δ(|d| - ½δ)`` otherwise.

    >>> import shenjing as sj
    >>> sj.nn.HuberLoss(delta=1.0)(sj.tensor([0.5, 3.0]), sj.zeros(2))
    tensor(1.3125)
    """

    fn = staticmethod(L.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction, delta=delta)


class BCELoss(_Loss):
    """Binary cross-entropy -[y log p + (1 - y) log(1 - p)] on probabilities p (seed 002, 004 §4.2.2).

    >>> import shenjing as sj
    >>> sj.nn.BCELoss()(sj.tensor([0.5]), sj.tensor([1.0]))
    tensor(0.6931472)
    """

    fn = staticmethod(L.binary_cross_entropy)

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits x, p = σ(x), computed stably, with ``pos_weight`` (seed 002, 004 §4.2.2).

    >>> import shenjing as sj
    >>> sj.nn.BCEWithLogitsLoss(pos_weight=sj.tensor([2.0]))(sj.tensor([0.0]), sj.tensor([1.0]))
    tensor(1.3862944)
    """

    fn = staticmethod(L.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight=weight, reduction=reduction, pos_weight=pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy -Σ_c q_c log softmax(x / T)_c with class weights, ``ignore_index``, label smoothing
    and temperature T (seed 003 §4.2, 004 §4.2.2-4.2.3).

    >>> import shenjing as sj
    >>> loss = sj.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss(sj.tensor([[2.0, 0.0, -2.0]]), sj.tensor([0]))
    tensor(0.3429317)
    """

    fn = staticmethod(L.cross_entropy)

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0,
                 temperature: float = 1.0):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing, temperature=temperature)


class NLLLoss(_Loss):
    """Negative log-likelihood -w_y x_y of log-probabilities x (seed 003 §4.2: softmax + NLL).

    >>> import shenjing as sj
    >>> sj.nn.NLLLoss()(sj.tensor([[-0.1, -2.5]]), sj.tensor([1]))
    tensor(2.5)
    """

    fn = staticmethod(L.nll_loss)

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction)


class KLDivLoss(_Loss):
    """KL(target ‖ exp(input)) = Σ y (log y - input) with ``input`` log-probabilities (seed 004 §4.2.2).

    >>> import shenjing as sj
    >>> p = sj.tensor([[0.25, 0.75]])
    >>> sj.nn.KLDivLoss(reduction="batchmean")(p.log(), p)
    tensor(0.)
    """

    fn = staticmethod(L.kl_div)

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction=reduction, log_target=log_target)


class FocalLoss(_Loss):
    """-α_t (1 - p_t)^γ log p_t on softmax probabilities (seed 004 §4.2.3.2).

    >>> import shenjing as sj
    >>> sj.nn.FocalLoss(gamma=2.0)(sj.tensor([[2.0, 0.0]]), sj.tensor([0]))
    tensor(0.00180357)
    """

    fn = staticmethod(L.focal_loss)

    def __init__(self, gamma: float = 2.0, alpha=None, reduction: str = "mean"):
        super().__init__(gamma=gamma, alpha=alpha, reduction=reduction)


class DiceLoss(_Loss):
    """1 - (2 Σ p·y + s) / (Σ p + Σ y + s) per sample (seed 004 §4.2.3.2).

    >>> import shenjing as sj
    >>> sj.nn.DiceLoss(smooth=0.0)(sj.tensor([[1.0, 0.0]]), sj.tensor([[1.0, 0.0]]))
    tensor(0.)
    """

    fn = staticmethod(L.dice_loss)

    def __init__(self, smooth: float = 1.0, reduction: str = "mean"):
        super().__init__(smooth=smooth, reduction=reduction)


class ZeroOneLoss(_Loss):
    """Fraction of argmax mistakes (seed 004 §4.2.1); not differentiable.

    >>> import shenjing as sj
    >>> float(sj.nn.ZeroOneLoss()(sj.tensor([[2.0, 1.0], [0.0, 1.0]]), sj.tensor([1, 1])))
    0.5
    """

    fn = staticmethod(L.zero_one_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__(reduction=reduction)
