"""Dropout layers (seed 004 §2.4.3.1-2.4.3.2)."""

from __future__ import annotations

from ..functional.dropout import dropout, dropout1d, dropout2d
from ..tensor import Tensor
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "MultiSampleDropout"]


def _check_p(p: float, name: str) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: p must be in [0, 1], got {p}")
    return float(p)


class Dropout(Module):
    """Zeroes elements with probability ``p`` while training (see :func:`shenjing.nn.functional.dropout`).

    ``scale='train'`` rescales kept units by 1/(1 - p) in training (inverted dropout);
    ``scale='test'`` scales by (1 - p) at inference instead (the notes' second way).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, scale: str = "train"):
        super().__init__()  # ``inplace`` is accepted for PyTorch code; the input is never overwritten
        if scale not in ("train", "test"):
            raise ValueError(f"Dropout: scale must be 'train' or 'test', got {scale!r}")
        self.p, self.scale = _check_p(p, "Dropout"), scale

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, self.scale)

    def extra_repr(self) -> str:
        return f"p={self.p}, scale={self.scale!r}"


class Dropout1d(Module):
    """Zeroes whole channels of (N, C, L) inputs while training (see :func:`shenjing.nn.functional.dropout1d`)."""

    _fn = staticmethod(dropout1d)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()  # ``inplace`` is accepted for PyTorch code; the input is never overwritten
        self.p = _check_p(p, type(self).__name__)

    def forward(self, x: Tensor) -> Tensor:
        return self._fn(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout1d):
    """Zeroes whole feature maps of (N, C, H, W) inputs while training (see
    :func:`shenjing.nn.functional.dropout2d`)."""

    _fn = staticmethod(dropout2d)


class MultiSampleDropout(Module):
    """Multi-sample dropout (seed 004 §2.4.3.2): mean over ``samples`` independent masks of head(dropout(x)).

    In evaluation it is ``head(x)``. Only the dropout and the head are repeated, so it costs about
    ``samples`` head evaluations.
    """

    def __init__(self, p: float, samples: int, head: Module, scale: str = "train"):
        super().__init__()
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"MultiSampleDropout: samples must be a positive int, got {samples!r}")
        if not isinstance(head, Module):
            raise TypeError(f"MultiSampleDropout: head must be a Module, got {type(head).__name__}")
        self.p, self.samples, self.scale = _check_p(p, "MultiSampleDropout"), samples, scale
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return self.head(dropout(x, self.p, False, self.scale))
        total = None
        for _ in range(self.samples):
            out = self.head(dropout(x, self.p, True, self.scale))
            total = out if total is None else total + out
        return total / self.samples if self.samples > 1 else total

    def extra_repr(self) -> str:
        return f"p={self.p}, samples={self.samples}"
