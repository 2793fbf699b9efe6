"""Element-wise ops with broadcasting (seed 000 §1.2.1-1.2.2).

Each op's backward is the element-wise derivative times the incoming gradient,
summed back over broadcast axes (:func:`unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import unbroadcast

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "log1p", "sqrt", "sin", "cos",
    "tanh", "sigmoid", "relu", "clip", "clamp", "maximum", "minimum", "where", "sign", "cast", "move",
    "eq", "ne", "lt", "le", "gt", "ge",
]


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


class Add(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    differentiable_backward = True

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
    differentiable_backward = True

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
    differentiable_backward = True

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
    differentiable_backward = True

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
                    local = D.where(D.raw(b) == 0, 0, b * a ** (b - 1))
                ga = unbroadcast(grad * local, _shape(a))
            if need_b:
                zero = D.raw(a) == 0
                local = D.where(zero, 0, out * D.log(D.where(zero, 1, a)))
                gb = unbroadcast(grad * local, _shape(b))
        return ga, gb


class Neg(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.sign(D.raw(ctx.x))


class Exp(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.out = np.exp(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.out


class Log(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.x


class Log1p(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / (1 + ctx.x)


class Sqrt(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.out = np.sqrt(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.out)


class Sin(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * D.cos(ctx.x)


class Cos(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad * D.sin(ctx.x)


class Tanh(Function):
    """tanh(x); d/dx = 1 - tanh(x)^2 (seed 000 §4.4.2)."""

    differentiable_backward = True

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


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e^{-x}); d/dx = σ(x)(1 - σ(x)) (seed 000 §4.4.1)."""

    differentiable_backward = True

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

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.out = np.maximum(x, 0)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad * (D.raw(ctx.out) > 0)


class Clip(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.x, ctx.low, ctx.high = x, low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x, low, high = D.raw(ctx.x), ctx.low, ctx.high
        keep = np.ones(x.shape, dtype=bool) if low is None else x >= low
        if high is not None:
            keep &= x <= high
        return grad * keep, None, None


class Maximum(Function):
    """Element-wise max; on ties the gradient is split evenly, as in PyTorch."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _split_on_ties(grad, ctx.a, ctx.b, D.raw(ctx.a) > D.raw(ctx.b), ctx.needs_input_grad)


class Minimum(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _split_on_ties(grad, ctx.a, ctx.b, D.raw(ctx.a) < D.raw(ctx.b), ctx.needs_input_grad)


def _split_on_ties(grad, a, b, a_wins, needs):
    tie = D.raw(a) == D.raw(b)
    share = np.where(tie, 0.5, 1.0).astype(grad.dtype, copy=False)
    ga = unbroadcast(grad * share * (a_wins | tie), _shape(a)) if needs[0] else None
    gb = unbroadcast(grad * share * ~a_wins, _shape(b)) if needs[1] else None
    return ga, gb


class Where(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond, ctx.shapes = cond, (_shape(a), _shape(b))
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        sa, sb = ctx.shapes
        zero = grad.dtype.type(0)
        ga = unbroadcast(D.where(cond, grad, zero), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(D.where(cond, zero, grad), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Cast(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return D.cast(grad, ctx.dtype), None


class Move(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, device):
        ctx.device = B.device_of(x)
        return B.to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return (move(grad, ctx.device) if D.is_graph(grad) else B.to_device(grad, ctx.device)), None


def _floating(x):
    """An integer or boolean tensor as the default float dtype (PyTorch's promotion for float math)."""
    if isinstance(x, Tensor) and x.dtype.kind in "iub":
        return Tensor._wrap(x.data.astype(B.get_default_dtype()))
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
    """``a`` where ``condition`` holds, else ``b`` (broadcast); the gradient is routed the same way."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    return Where.apply(cond, a, b)


def sign(x: Tensor) -> Tensor:
    """sign(x) in {-1, 0, 1} (not differentiable: no graph)."""
    return Tensor._wrap(np.sign(x.data))


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype``; the gradient is converted back."""
    return Cast.apply(x, B.as_dtype(dtype))


def move(x: Tensor, device: str) -> Tensor:
    """``x`` copied to ``device``; the gradient is copied back."""
    return Move.apply(x, B.parse_device(device))


def _compare(ufunc):
    def compare(a, b) -> Tensor:
        a = a.data if isinstance(a, Tensor) else a
        b = b.data if isinstance(b, Tensor) else b
        try:
            return Tensor._wrap(ufunc(a, b))
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} do not broadcast"
            ) from None

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Element-wise ``{ufunc.__name__}`` comparison; a boolean tensor with no gradient."
    return compare


eq, ne, lt = _compare(np.equal), _compare(np.not_equal), _compare(np.less)
le, gt, ge = _compare(np.less_equal), _compare(np.greater), _compare(np.greater_equal)
