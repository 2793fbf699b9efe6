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
    """mean((x - y)²) (no ½, as PyTorch)."""

    fn = staticmethod(L.mse_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class L1Loss(_Loss):
    """``mean(|x - y|)``."""

    fn = staticmethod(L.l1_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__(reduction=reduction)


class SmoothL1Loss(_Loss):
    """``½d²/β`` for ``|d| < β``, ``|d| - ½β`` otherwise."""

    fn = staticmethod(L.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction=reduction, beta=beta)


class HuberLoss(_Loss):
    """``½d²`` for ``|d| < δ``, ``δ(|d| - ½δ)`` otherwise."""

    fn = staticmethod(L.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction, delta=delta)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities."""

    fn = staticmethod(L.binary_cross_entropy)

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable), with ``pos_weight``."""

    fn = staticmethod(L.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight=weight, reduction=reduction, pos_weight=pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy with class weights, ``ignore_index``, label smoothing and temperature."""

    fn = staticmethod(L.cross_entropy)

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0,
                 temperature: float = 1.0):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing, temperature=temperature)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities."""

    fn = staticmethod(L.nll_loss)

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction)


class KLDivLoss(_Loss):
    """KL(target ‖ exp(input)) with ``input`` log-probabilities."""

    fn = staticmethod(L.kl_div)

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction=reduction, log_target=log_target)


class FocalLoss(_Loss):
    """-α_t (1 - p_t)^γ log p_t on softmax probabilities (seed 004 §4.2.3.2)."""

    fn = staticmethod(L.focal_loss)

    def __init__(self, gamma: float = 2.0, alpha=None, reduction: str = "mean"):
        super().__init__(gamma=gamma, alpha=alpha, reduction=reduction)


class DiceLoss(_Loss):
    """1 - (2 Σ p·y + s) / (Σ p + Σ y + s) per sample (seed 004 §4.2.3.2)."""

    fn = staticmethod(L.dice_loss)

    def __init__(self, smooth: float = 1.0, reduction: str = "mean"):
        super().__init__(smooth=smooth, reduction=reduction)


class ZeroOneLoss(_Loss):
    """Fraction of argmax mistakes (seed 004 §4.2.1); not differentiable."""

    fn = staticmethod(L.zero_one_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__(reduction=reduction)
