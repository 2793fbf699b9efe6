"""Activation layers: thin Modules around ``shenjing.nn.functional`` (seed 000 §4.4, seed 004 §3)."""

from __future__ import annotations

from .. import _backend as B
from ..functional import activation as A
from ..functional import elementwise as E
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "GELU", "Softplus", "Hardtanh", "Abs",
    "Softmax", "LogSoftmax", "SiLU", "Mish", "SELU", "LogSigmoid", "Softsign", "Hardsigmoid", "Hardswish",
]


class _Elementwise(Module):
    """A parameter-free activation: ``forward(x) = fn(x, **options)``."""

    fn = None

    def __init__(self, inplace: bool = False, **options):
        super().__init__()  # ``inplace`` is accepted for PyTorch code; the input is never overwritten
        self.options = options

    def forward(self, x: Tensor) -> Tensor:
        return type(self).fn(x, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class Sigmoid(_Elementwise):
    """σ(x) = 1 / (1 + e^{-x}) (seed 000 §4.4.1).

    >>> import shenjing as sj
    >>> sj.nn.Sigmoid()(sj.tensor([0.0]))
    tensor([0.5])
    """

    fn = staticmethod(E.sigmoid)


class Tanh(_Elementwise):
    """tanh(x) (seed 000 §4.4.2).

    >>> import shenjing as sj
    >>> sj.nn.Tanh()(sj.tensor([0.0, 100.0]))
    tensor([0., 1.])
    """

    fn = staticmethod(E.tanh)


class ReLU(_Elementwise):
    """max(0, x) (seed 000 §4.4.3).

    >>> import shenjing as sj
    >>> sj.nn.ReLU()(sj.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    fn = staticmethod(E.relu)


class Abs(_Elementwise):
    """``|x|``: absolute-value rectification (seed 001 激活函数).

    >>> import shenjing as sj
    >>> sj.nn.Abs()(sj.tensor([-2.0, 0.5]))
    tensor([2. , 0.5])
    """

    fn = staticmethod(E.abs)


class ReLU6(_Elementwise):
    """min(6, max(0, x)) (seed 004 §3.1.3).

    >>> import shenjing as sj
    >>> sj.nn.ReLU6()(sj.tensor([-1.0, 8.0]))
    tensor([0., 6.])
    """

    fn = staticmethod(A.relu6)


class LeakyReLU(_Elementwise):
    """x if x > 0 else a·x (seed 000 §4.4.4).

    >>> import shenjing as sj
    >>> sj.nn.LeakyReLU(0.1)(sj.tensor([-1.0, 2.0]))
    tensor([-0.1,  2. ])
    """

    fn = staticmethod(A.leaky_relu)

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(negative_slope=negative_slope)


class ELU(_Elementwise):
    """x if x > 0 else α(eˣ - 1) (seed 004 §3.1.3, a ReLU variant).

    >>> import shenjing as sj
    >>> sj.nn.ELU()(sj.tensor([-100.0, 1.0]))
    tensor([-1.,  1.])
    """

    fn = staticmethod(A.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(alpha=alpha)


class GELU(_Elementwise):
    """x·Φ(x), or the tanh approximation with ``approximate='tanh'`` (seed 004 §3.1.4).

    >>> import shenjing as sj
    >>> sj.nn.GELU()(sj.tensor([-1.0, 1.0]))
    tensor([-0.15865526,  0.8413447 ])
    """

    fn = staticmethod(A.gelu)

    def __init__(self, approximate: str = "none"):
        super().__init__(approximate=approximate)


class Softplus(_Elementwise):
    """(1/β) log(1 + e^{βx}), linear past ``threshold``.

    >>> import shenjing as sj
    >>> sj.nn.Softplus()(sj.tensor([0.0]))
    tensor([0.6931472])
    """

    fn = staticmethod(A.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__(beta=beta, threshold=threshold)


class Hardtanh(_Elementwise):
    """clip(x, min_val, max_val).

    >>> import shenjing as sj
    >>> sj.nn.Hardtanh()(sj.tensor([-2.0, 0.5]))
    tensor([-1. ,  0.5])
    """

    fn = staticmethod(A.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(min_val=min_val, max_val=max_val)


class Softmax(_Elementwise):
    """softmax(x / T) along ``dim`` (seed 004 §3.2, §4.2.3.2).

    >>> import shenjing as sj
    >>> sj.nn.Softmax(dim=1)(sj.tensor([[0.0, 0.0]]))
    tensor([[0.5, 0.5]])
    """

    fn = staticmethod(A.softmax)

    def __init__(self, dim: int = -1, temperature: float = 1.0):
        super().__init__(dim=dim, temperature=temperature)


class LogSoftmax(_Elementwise):
    """log softmax(x / T) along ``dim``.

    >>> import shenjing as sj
    >>> sj.nn.LogSoftmax(dim=1)(sj.tensor([[0.0, 0.0]]))
    tensor([[-0.6931472, -0.6931472]])
    """

    fn = staticmethod(A.log_softmax)

    def __init__(self, dim: int = -1, temperature: float = 1.0):
        super().__init__(dim=dim, temperature=temperature)


class RReLU(Module):
    """Randomised leaky ReLU (seed 004 §3.1.3): slope ~ U(lower, upper) per element in training, (lower + upper)/2
    in eval.

    >>> import shenjing as sj
    >>> sj.nn.RReLU(0.1, 0.3).eval()(sj.tensor([-1.0, 2.0]))
    tensor([-0.2,  2. ])
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3):
        super().__init__()
        self.lower, self.upper = lower, upper

    def forward(self, x: Tensor) -> Tensor:
        return A.rrelu(x, self.lower, self.upper, training=self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class PReLU(Module):
    """max(0, x) + a·min(0, x) with learned slopes ``weight`` (num_parameters,), initialised to ``init`` (seed 001
    激活函数: PReLU).

    >>> import shenjing as sj
    >>> layer = sj.nn.PReLU()
    >>> layer(sj.tensor([-1.0, 2.0])), layer.weight
    (tensor([-0.25,  2.  ], grad_fn=<Prelu>), Parameter containing:
    tensor([0.25], requires_grad=True))
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None, device=None):
        super().__init__()
        if not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        xp = B.xp_for(device)
        self.weight = Parameter(xp.full((num_parameters,), init, dtype=B.as_dtype(dtype)))

    def forward(self, x: Tensor) -> Tensor:
        return A.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


def _simple(name: str, fn, doc: str):
    """A parameter-free activation layer around ``fn``."""
    return type(name, (_Elementwise,), {"fn": staticmethod(fn), "__doc__": doc})


SiLU = _simple("SiLU", A.silu, "x·σ(x) (swish).")
Mish = _simple("Mish", A.mish, "x·tanh(softplus(x)).")
SELU = _simple("SELU", A.selu, "Scaled ELU with PyTorch's constants.")
LogSigmoid = _simple("LogSigmoid", A.logsigmoid, "log σ(x).")
Softsign = _simple("Softsign", A.softsign, "``x / (1 + |x|)``.")
Hardsigmoid = _simple("Hardsigmoid", A.hardsigmoid, "ReLU6(x + 3) / 6.")
Hardswish = _simple("Hardswish", A.hardswish, "x·ReLU6(x + 3) / 6.")
