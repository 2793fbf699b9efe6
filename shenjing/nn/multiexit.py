"""Multi-exit networks (seed 004 §7, multi-exit 架构): a classifier after every block, joint training, early exits."""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from .. import functional as F
from ..tensor import Tensor, no_grad
from .containers import ModuleList
from .module import Module

__all__ = ["MultiExit"]

_EXITS = ("last", "budgeted", "dynamic")


class MultiExit(Module):
    """Blocks z_j = block_j(z_{j-1}) (z_0 = x), each followed by its own classifier ŷ_j = head_j(z_j) (seed 004 §7).

    ``MultiExit(blocks, heads, exit='last', k=None, patience=2)``; ``blocks`` and ``heads``
    are sequences of Modules of the same length n.

    - Training mode: ``forward(x)`` returns the list [ŷ_1, ..., ŷ_n] of every exit's logits, for
      the joint loss L = Σ_j j·L_j / Σ_j j (``joint_loss``, ``F.multi_exit_loss``).
    - Eval mode, ``exit='last'``: ŷ_n. ``exit='budgeted'`` (budgeted exiting): only blocks 1..k run
      and ŷ_k is returned. ``exit='dynamic'`` (dynamic exiting, as in PABEE): blocks run one at a
      time and a sample leaves at the first exit j whose prediction argmax ŷ_j equals that of the
      ``patience - 1`` exits before it (``patience`` consecutive exits agree; PABEE's patience t
      is ``patience = t + 1`` here), or at exit n; later blocks run only for the samples still in.

    After each eval-mode forward, ``exit_depth_`` holds each sample's exit (1..n, int64 array (N,)).
    ``exits(x)`` returns every exit's logits in either mode.

    >>> import shenjing as sj
    >>> from shenjing import nn
    >>> blocks = [nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 8), nn.ReLU())]
    >>> heads = [nn.Linear(8, 3), nn.Linear(8, 3)]
    >>> model = nn.MultiExit(blocks, heads)
    >>> [y.shape for y in model.exits(sj.randn(5, 4))]
    [(5, 3), (5, 3)]
    >>> model.eval()(sj.randn(5, 4)).shape
    (5, 3)
    """

    def __init__(self, blocks, heads, exit: str = "last", k: int | None = None, patience: int = 2):
        super().__init__()
        self.blocks, self.heads = ModuleList(blocks), ModuleList(heads)
        if len(self.blocks) == 0 or len(self.blocks) != len(self.heads):
            raise ValueError(
                f"MultiExit: blocks and heads must be non-empty and of equal length, got {len(self.blocks)} blocks "
                f"and {len(self.heads)} heads"
            )
        self.exit, self.k, self.patience = exit, len(self.blocks) if k is None else k, patience
        self._check_exit()
        self.exit_depth_: np.ndarray | None = None

    @property
    def n_exits(self) -> int:
        return len(self.blocks)

    def _check_exit(self) -> None:
        if self.exit not in _EXITS:
            raise ValueError(f"MultiExit: exit must be one of {_EXITS}, got {self.exit!r}")
        for name, value, top in (("k", self.k, self.n_exits), ("patience", self.patience, np.inf)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= top:
                raise ValueError(f"MultiExit: {name} must be an int in [1, {top}], got {value!r}")

    def exits(self, x: Tensor, depth: int | None = None) -> list[Tensor]:
        """Logits of exits 1..depth (default all): [head_j(z_j)] with z_j = block_j(z_{j-1})."""
        outputs = []
        for block, head in zip(list(self.blocks)[: depth or self.n_exits], self.heads):
            x = block(x)
            outputs.append(head(x))
        return outputs

    def forward(self, x: Tensor):
        if self.training:
            return self.exits(x)
        self._check_exit()
        if self.exit == "dynamic":
            return self._dynamic(x)
        depth = self.k if self.exit == "budgeted" else self.n_exits
        self.exit_depth_ = np.full(len(x), depth, dtype=np.int64)
        for block in list(self.blocks)[:depth]:
            x = block(x)
        return self.heads[depth - 1](x)

    def _dynamic(self, x: Tensor) -> Tensor:
        """Patience-based early exit: stop a sample once ``patience`` consecutive exits agree on its class."""
        result = active = depth = prev = streak = None
        with no_grad():
            for j, (block, head) in enumerate(zip(self.blocks, self.heads), start=1):
                x = block(x)
                logits = head(x).data
                xp = B.xp_of(logits)
                if result is None:
                    result = xp.empty_like(logits)
                    active = xp.arange(len(logits))
                    depth = xp.full(len(logits), self.n_exits, dtype=np.int64)
                pred = logits.reshape(len(logits), -1).argmax(1)
                streak = xp.ones_like(pred) if prev is None else xp.where(pred == prev, streak + 1, 1)
                done = (streak >= self.patience) | (j == self.n_exits)
                result[active[done]] = logits[done]
                depth[active[done]] = j
                keep = ~done
                if not bool(keep.any()):
                    break
                active, prev, streak, x = active[keep], pred[keep], streak[keep], x[keep]
        self.exit_depth_ = B.to_numpy(depth)
        return Tensor._wrap(result)

    def joint_loss(self, outputs, target: Tensor, loss_fn=None) -> Tensor:
        """L = Σ_j j·L_j / Σ_j j over the exits, L_j = loss_fn(ŷ_j, y) (default cross-entropy), seed 004 §7.

        ``outputs`` is the list from a training-mode forward; a single Tensor (an eval-mode
        forward) gives plain ``loss_fn(outputs, target)``, so the same callable serves as a
        Trainer's loss for training and validation.
        """
        loss_fn = F.cross_entropy if loss_fn is None else loss_fn
        if isinstance(outputs, Tensor):
            return loss_fn(outputs, target)
        return F.multi_exit_loss([loss_fn(out, target) for out in outputs])

    def extra_repr(self) -> str:
        return f"exit={self.exit!r}, k={self.k}, patience={self.patience}"
