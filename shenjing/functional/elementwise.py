"""Element-wise ops with broadcasting (seed 000 §1.2.1-1.2.2).

Each op's backward is the element-wise derivative times the incoming gradient,
summed back over broadcast axes (:func:`unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from ._util import NonDifferentiable, unbroadcast

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "log1p", "sqrt", "sin", "cos",
    "tanh", "sigmoid", "relu", "clip", "clamp", "maximum", "minimum", "where", "sign", "cast", "move",
    "eq", "ne", "lt", "le", "gt", "ge",
]


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        gb = unbroadcast(-grad, sb) if ctx.needs_input_grad[1] else None
        return unbroadcast(grad, sa), gb


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad * b, a.shape) if need_a else None
        gb = unbroadcast(grad * a, b.shape) if need_b else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad / b, a.shape) if need_a else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if need_b else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.a, ctx.b, ctx.out = a, b, out
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.a, ctx.b, ctx.out
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                if np.isscalar(b):
                    local = b * a ** (b - 1) if b != 0 else a * 0
                else:
                    local = np.where(b == 0, 0, b * a ** (b - 1))
                ga = unbroadcast(grad * local, _shape(a))
            if need_b:
                xp = B.xp_of(out)
                a = xp.asarray(a)
                local = xp.where(a == 0, 0, out * xp.log(xp.where(a == 0, 1, a)))
                gb = unbroadcast(grad * local, _shape(b))
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.sign(ctx.x)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.out = np.exp(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.x


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / (1 + ctx.x)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.out = np.sqrt(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.out)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.cos(ctx.x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad * np.sin(ctx.x)


class Tanh(Function):
    """tanh(x); d/dx = 1 - tanh(x)^2 (seed 000 §4.4.2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.out = np.tanh(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.out
        return grad * (1 - out * out)


def stable_sigmoid(x):
    """σ(x) = 1 / (1 + e^{-x}), computed from e^{-|x|} so it never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def stable_softplus(x):
    """softplus(x) = log(1 + eˣ) = max(x, 0) + log(1 + e^{-|x|}), which never overflows; its derivative is σ(x)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e^{-x}); d/dx = σ(x)(1 - σ(x)) (seed 000 §4.4.1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.out = stable_sigmoid(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.out
        return grad * out * (1 - out)


class Relu(Function):
    """max(0, x); derivative 1 for x > 0, else 0 (seed 000 §4.4.3)."""

    @staticmethod
    def forward(ctx, x):
        ctx.out = np.maximum(x, 0)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.out > 0)


class Clip(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.x, ctx.low, ctx.high = x, low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.x, ctx.low, ctx.high
        keep = B.xp_of(x).ones(x.shape, dtype=bool) if low is None else x >= low
        if high is not None:
            keep &= x <= high
        return grad * keep, None, None


class Maximum(Function):
    """Element-wise max; on ties the gradient is split evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _split_on_ties(grad, ctx.a, ctx.b, ctx.a > ctx.b, ctx.needs_input_grad)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _split_on_ties(grad, ctx.a, ctx.b, ctx.a < ctx.b, ctx.needs_input_grad)


def _split_on_ties(grad, a, b, a_wins, needs):
    tie = a == b
    share = np.where(tie, 0.5, 1.0).astype(grad.dtype, copy=False)
    ga = unbroadcast(grad * share * (a_wins | tie), _shape(a)) if needs[0] else None
    gb = unbroadcast(grad * share * ~a_wins, _shape(b)) if needs[1] else None
    return ga, gb


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond, ctx.shapes = cond, (_shape(a), _shape(b))
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        sa, sb = ctx.shapes
        zero = grad.dtype.type(0)
        ga = unbroadcast(np.where(cond, grad, zero), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(np.where(cond, zero, grad), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype), None


class Move(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = B.device_of(x)
        return B.to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return B.to_device(grad, ctx.device), None


class Sign(NonDifferentiable):
    @staticmethod
    def forward(ctx, x):
        return np.sign(x)


class Compare(NonDifferentiable):
    """An element-wise comparison ``ufunc(a, b)``: a boolean array."""

    @staticmethod
    def forward(ctx, a, b, ufunc):
        try:
            return ufunc(a, b)
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} do not broadcast"
            ) from None


class CastIndex(NonDifferentiable):
    """A cast that leaves the graph: to an integer or boolean dtype, or of one (int→float promotion)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)


def _floating(x):
    """An integer or boolean tensor as the default float dtype (PyTorch's promotion for float math)."""
    if isinstance(x, Tensor) and x.dtype.kind in "iub":
        return CastIndex.apply(x, B.get_default_dtype())
    return x


def _binary(op):
    def apply(a, b):
        # NumPy scalars act like Python scalars (as in PyTorch): np.float64(2) * float32 stays float32
        if isinstance(a, np.generic):
            a = a.item()
        if isinstance(b, np.generic):
            b = b.item()
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            a = Tensor(a)
        if isinstance(a, float) or isinstance(b, float) or op is Div:
            a, b = _floating(a), _floating(b)  # int tensor with a float (or true division) gives float32
        return op.apply(a, b)

    return apply


def _check_same_device(a, b, name):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.device != b.device:
        raise TypeError(f"{name}: tensors are on different devices ({a.device} and {b.device})")


def add(a, b) -> Tensor:
    """a + b with broadcasting."""
    _check_same_device(a, b, "add")
    return _binary(Add)(a, b)


def sub(a, b) -> Tensor:
    """a - b with broadcasting."""
    _check_same_device(a, b, "sub")
    return _binary(Sub)(a, b)


def mul(a, b) -> Tensor:
    """a ⊙ b (element-wise product) with broadcasting."""
    _check_same_device(a, b, "mul")
    return _binary(Mul)(a, b)


def div(a, b) -> Tensor:
    """a / b with broadcasting; d/db = -a / b²."""
    _check_same_device(a, b, "div")
    return _binary(Div)(a, b)


def pow(a, b) -> Tensor:
    """a ** b; d/da = b a^{b-1}, d/db = a^b ln a."""
    _check_same_device(a, b, "pow")
    return _binary(Pow)(a, b)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def abs(x: Tensor) -> Tensor:
    """|x| (absolute-value rectification, 004 §3); gradient sign(x), 0 at 0."""
    return Abs.apply(x)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(_floating(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm; d/dx = 1/x."""
    return Log.apply(_floating(x))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), accurate for small x."""
    return Log1p.apply(_floating(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(_floating(x))


def sin(x: Tensor) -> Tensor:
    return Sin.apply(_floating(x))


def cos(x: Tensor) -> Tensor:
    return Cos.apply(_floating(x))


def tanh(x: Tensor) -> Tensor:
    """tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x}) (seed 000 §4.4.2)."""
    return Tanh.apply(_floating(x))


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e^{-x}), split by sign for stability (seed 000 §4.4.1)."""
    return Sigmoid.apply(_floating(x))


def relu(x: Tensor) -> Tensor:
    """ReLU(x) = max(0, x) (seed 000 §4.4.3)."""
    return Relu.apply(x)


def clip(x: Tensor, min=None, max=None) -> Tensor:
    """Clamp to [min, max]; the gradient flows where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip.apply(x, min, max)


clamp = clip


def maximum(a, b) -> Tensor:
    """Element-wise maximum; ties split the gradient evenly (PyTorch's rule)."""
    _check_same_device(a, b, "maximum")
    return _binary(Maximum)(a, b)


def minimum(a, b) -> Tensor:
    """Element-wise minimum; ties split the gradient evenly (PyTorch's rule)."""
    _check_same_device(a, b, "minimum")
    return _binary(Minimum)(a, b)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (broadcast); the gradient is routed the same way.

    The condition is brought to the device of the Tensor operands (a host copy of it at most).
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    device = (a if isinstance(a, Tensor) else b).device
    if isinstance(condition, Tensor) and condition.device == device:
        cond = condition  # stays a Tensor, so observers of the op see where it came from
    else:
        cond = B.asarray(condition.data if isinstance(condition, Tensor) else condition, device=device)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    return Where.apply(cond, a, b)


def sign(x: Tensor) -> Tensor:
    """sign(x) in {-1, 0, 1} (not differentiable: no graph)."""
    return Sign.apply(x)


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype``; the gradient is converted back."""
    return Cast.apply(x, B.as_dtype(dtype))


def move(x: Tensor, device: str) -> Tensor:
    """``x`` copied to ``device``; the gradient is copied back."""
    return Move.apply(x, B.parse_device(device))


def _compare(ufunc):
    def compare(a, b) -> Tensor:
        return Compare.apply(a, b, ufunc)

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Element-wise ``{ufunc.__name__}`` comparison; a boolean tensor with no gradient."
    return compare


eq, ne, lt = _compare(np.equal), _compare(np.not_equal), _compare(np.less)
le, gt, ge = _compare(np.less_equal), _compare(np.greater), _compare(np.greater_equal)
