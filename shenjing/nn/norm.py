"""Normalisation layers: BatchNorm1d/2d, LayerNorm, InstanceNorm2d, GroupNorm (seed 000 §5.1, 004 §2.4.2).

State-dict keys are PyTorch's: ``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``.
"""

from __future__ import annotations

from .. import _backend as B
from ..functional import norm as N
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "InstanceNorm2d", "GroupNorm"]


def _affine(module: Module, shape: tuple, affine: bool, dtype, device) -> None:
    xp, dtype = B.xp_for(device), B.as_dtype(dtype)
    if affine:
        module.weight = Parameter(xp.ones(shape, dtype=dtype))
        module.bias = Parameter(xp.zeros(shape, dtype=dtype))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


class _NormBase(Module):
    """Per-channel affine parameters and (optionally) running statistics."""

    def __init__(self, num_features: int, eps: float, momentum, affine: bool, track_running_stats: bool,
                 dtype=None, device=None):
        super().__init__()
        if not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine(self, (num_features,), affine, dtype, device)
        if track_running_stats:
            xp, dtype = B.xp_for(device), B.as_dtype(dtype)
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype=B.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def _check_input(self, x: Tensor) -> None:
        raise NotImplementedError

    def _factor(self) -> float:
        """The update weight: ``momentum``, or 1/t (the cumulative average E[μ_B]) when momentum is None."""
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                return 1.0 / float(self.num_batches_tracked.data)
        return 0.0 if self.momentum is None else self.momentum

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch statistics while training (running stats updated with the unbiased variance), running stats in eval.

    ``momentum=None`` makes the running stats the cumulative average over all batches: exactly
    the notes' E[μ_B] and m/(m-1)·E[σ²_B] (seed 004 §2.4.2.1).
    """

    dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None, device=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, device)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input of {' or '.join(map(str, self.dims))} dims "
                             f"with {self.num_features} channels in dim 1, got shape {x.shape}")

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        use_batch = self.training or not self.track_running_stats
        return N.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            self._factor(), self.eps)


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) inputs, per channel C: y = γ (x - μ_B) / √(σ²_B + ε) + β
    (seed 000 §5.1, 004 §2.4.2.1).

    >>> import shenjing as sj
    >>> bn = sj.nn.BatchNorm1d(3)
    >>> y = bn(sj.randn(16, 3) * 4 + 2)
    >>> y.shape, bn.running_mean.shape, bn.num_batches_tracked
    ((16, 3), (3,), tensor(1, dtype=int64))
    """

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) inputs, per channel C (seed 000 §5.1, 004 §2.4.2.1).

    >>> import shenjing as sj
    >>> sj.nn.BatchNorm2d(8)(sj.randn(4, 8, 5, 5)).shape
    (4, 8, 5, 5)
    """

    dims = (4,)


class InstanceNorm2d(_NormBase):
    """Each (sample, channel) normalised over H, W (seed 004 §2.4.2: IN); no affine parameters or running stats by
    default (PyTorch).

    >>> import shenjing as sj
    >>> sj.nn.InstanceNorm2d(3)(sj.randn(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, dtype=None, device=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4) or x.shape[-3] != self.num_features:
            raise ValueError(f"InstanceNorm2d: expected (N, {self.num_features}, H, W) or "
                             f"({self.num_features}, H, W), got shape {x.shape}")
        unbatched = x.ndim == 3
        if unbatched:
            x = x.unsqueeze(0)
        use_input = self.training or not self.track_running_stats
        out = N.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input,
                              self._factor(), self.eps)
        return out[0] if unbatched else out


class LayerNorm(Module):
    """y = γ (x - μ) / √(σ² + ε) + β with μ, σ² over each sample's trailing ``normalized_shape`` dims; γ, β of that
    shape (seed 004 §2.4.2: LN).

    >>> import shenjing as sj
    >>> sj.nn.LayerNorm(4)(sj.tensor([[1.0, 2.0, 3.0, 4.0]]))
    tensor([[-1.3416355 , -0.44721183,  0.44721183,  1.3416355 ]], grad_fn=<Normalize>)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None, device=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        _affine(self, shape, elementwise_affine, dtype, device)
        if elementwise_affine and not bias:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return N.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Splits C channels into ``num_groups`` groups normalised per sample; γ, β per channel (seed 004 §2.4.2: GN).

    >>> import shenjing as sj
    >>> sj.nn.GroupNorm(2, 6)(sj.randn(2, 6, 4, 4)).shape
    (2, 6, 4, 4)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype=None, device=None):
        super().__init__()
        if not isinstance(num_groups, int) or num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups must be a positive int dividing num_channels={num_channels}, "
                             f"got {num_groups!r}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine(self, (num_channels,), affine, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        return N.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
