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
from ._util import DtypeError, NonDifferentiable, unbroadcast

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "log1p", "sqrt", "sin", "cos",
    "tanh", "sigmoid", "relu", "clip", "clamp", "maximum", "minimum", "where", "sign", "cast", "move",
    "eq", "ne", "lt", "le", "gt", "ge", "floor_divide", "remainder", "fmod", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "logical_and", "logical_or", "logical_xor", "logical_not", "floor", "ceil",
    "trunc", "round", "isnan", "isinf", "isfinite", "allclose", "equal", "nonzero",
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


class Remainder(Function):
    """a mod b with the sign of b (Python's ``%``, ``torch.remainder``): r = a - q b with q = ⌊a/b⌋;
    dr/da = 1, dr/db = -q."""

    remainder = staticmethod(np.remainder)
    quotient = staticmethod(np.floor_divide)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return ctx.remainder(a, b)

    differentiable_backward = True

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad, _shape(a)) if need_a else None
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = unbroadcast(-grad * ctx.quotient(D.raw(a), D.raw(b)), _shape(b)) if need_b else None
        return ga, gb


class Fmod(Remainder):
    """a mod b with the sign of a (C's ``fmod``): the same with q = trunc(a/b)."""

    remainder = staticmethod(np.fmod)
    quotient = staticmethod(lambda a, b: np.trunc(a / b))


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


def stable_softplus(x):
    """softplus(x) = log(1 + eˣ) = max(x, 0) + log(1 + e^{-|x|}), which never overflows; its derivative is σ(x).
    Raw arrays or Tensors (then differentiable)."""
    return D.maximum(x, 0) + D.log1p(D.exp(-D.absolute(x)))


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
        keep = B.xp_of(x).ones(x.shape, dtype=bool) if low is None else x >= low
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


class UnaryUfunc(NonDifferentiable):
    """``ufunc(x)`` outside the graph: tests such as ``np.isnan``, bitwise and logical not."""

    @staticmethod
    def forward(ctx, x, ufunc):
        return ufunc(x)


class BinaryUfunc(NonDifferentiable):
    """``ufunc(a, b)`` outside the graph: comparisons, bitwise ops, floor division."""

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


def _scalar(x):
    """NumPy scalars act like Python scalars (as in PyTorch): np.float64(2) * float32 stays float32."""
    return x.item() if isinstance(x, np.generic) else x


def _in_dtype(x, dtype):
    """A Tensor operand converted to the op's result dtype (differentiably between float types);
    Python scalars stay as they are, since NumPy lets them take the array's dtype."""
    return x.to(dtype) if isinstance(x, Tensor) and x.dtype != dtype else x


def promote(*operands) -> list:
    """The operands in their common dtype, ``torch.result_type``'s (``_backend.result_type``); when
    none is a Tensor, the first becomes one."""
    operands = [_scalar(x) for x in operands]
    dtype = B.result_type(*operands)
    if not any(isinstance(x, Tensor) for x in operands):
        operands[0] = Tensor(operands[0], dtype=dtype)
    return [_in_dtype(x, dtype) for x in operands]


def _needs_promotion(a, b) -> bool:
    """False for the common cases whose dtype is already the result's: two tensors of one dtype, or
    a floating tensor with a Python number (the hot path skips ``result_type``)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.dtype != b.dtype
    tensor, scalar = (a, b) if isinstance(a, Tensor) else (b, a)
    return not (isinstance(tensor, Tensor) and tensor.dtype.kind == "f" and type(scalar) in (float, int))


def _binary(op):
    def apply(a, b):
        if _needs_promotion(a, b):
            a, b = promote(a, b)
        if op is Div:  # true division of integers gives the default float dtype
            a, b = _floating(a), _floating(b)
        return op.apply(a, b)

    return apply


def _check_same_device(a, b, name):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.device != b.device:
        raise TypeError(f"{name}: tensors are on different devices ({a.device} and {b.device})")


def add(a, b, alpha=1) -> Tensor:
    """a + alpha·b with broadcasting.

    >>> import shenjing as sj
    >>> sj.tensor([[1.0], [2.0]]) + sj.tensor([10.0, 20.0])
    tensor([[11., 21.],
            [12., 22.]])
    """
    _check_same_device(a, b, "add")
    return _binary(Add)(a, b if alpha == 1 else mul(b, alpha))


def sub(a, b, alpha=1) -> Tensor:
    """a - alpha·b with broadcasting; booleans are refused, as in PyTorch (``~`` or ``logical_not`` invert a mask).

    >>> import shenjing as sj
    >>> sj.tensor([5.0, 7.0]) - 1
    tensor([4., 6.])
    """
    _check_same_device(a, b, "sub")
    b = b if alpha == 1 else mul(b, alpha)
    if any(isinstance(x, bool) or isinstance(x, Tensor) and x.dtype == B.bool_ for x in (a, b)):
        raise DtypeError("sub: subtraction with a bool operand is not supported; use ~ or logical_not for a mask")
    return _binary(Sub)(a, b)


def mul(a, b) -> Tensor:
    """a ⊙ b (element-wise product) with broadcasting.

    >>> import shenjing as sj
    >>> x = sj.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * sj.tensor([3.0, 4.0])).sum().backward()
    >>> x.grad
    tensor([3., 4.])
    """
    _check_same_device(a, b, "mul")
    return _binary(Mul)(a, b)


def div(a, b) -> Tensor:
    """a / b with broadcasting; d/db = -a / b².

    >>> import shenjing as sj
    >>> b = sj.tensor([2.0, 4.0], requires_grad=True)
    >>> (1 / b).sum().backward()
    >>> b.grad
    tensor([-0.25  , -0.0625])
    """
    _check_same_device(a, b, "div")
    return _binary(Div)(a, b)


def pow(a, b) -> Tensor:
    """a ** b; d/da = b a^{b-1}, d/db = a^b ln a. As in PyTorch, a bool tensor to a Python bool power
    stays bool (x ** True = x, x ** False = True) and other all-bool powers are refused.

    >>> import shenjing as sj
    >>> x = sj.tensor([2.0, 3.0], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    tensor([4., 6.])
    """
    _check_same_device(a, b, "pow")
    if B.result_type(_scalar(a), _scalar(b)) == B.bool_:
        if isinstance(a, Tensor) and isinstance(b, bool):
            return Tensor._wrap(a.data | (not b))
        raise DtypeError("pow: not implemented for two bool operands")
    return _binary(Pow)(a, b)


def _integer_divisor_check(name: str, a, b) -> None:
    """Integer division by zero raises (as in PyTorch) instead of NumPy's silent 0; booleans are refused."""
    dtype = B.result_type(a, b)
    if dtype == B.bool_:
        raise DtypeError(f"{name}: not implemented for bool operands")
    if dtype.kind in "iu" and not np.all(_data(b) != 0):
        raise RuntimeError(f"{name}: integer division by zero")


def floor_divide(a, b) -> Tensor:
    """⌊a / b⌋ element-wise (``a // b``, rounding toward -inf as PyTorch and Python); no gradient, as in
    PyTorch. Integers stay integers; integer division by zero raises.

    >>> import shenjing as sj
    >>> sj.tensor([5, -3]) // 2
    tensor([ 2, -2], dtype=int64)
    """
    _check_same_device(a, b, "floor_divide")
    a, b = promote(a, b)
    _integer_divisor_check("floor_divide", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return BinaryUfunc.apply(a, b, np.floor_divide)


def remainder(a, b) -> Tensor:
    """a - ⌊a/b⌋ b, the remainder with the sign of the divisor (``a % b``, Python's and PyTorch's);
    d/da = 1, d/db = -⌊a/b⌋.

    >>> import shenjing as sj
    >>> sj.tensor([5, -3]) % 2
    tensor([1, 1], dtype=int64)
    """
    _check_same_device(a, b, "remainder")
    a, b = promote(a, b)
    _integer_divisor_check("remainder", a, b)
    return Remainder.apply(a, b)


def fmod(a, b) -> Tensor:
    """a - trunc(a/b) b, the remainder with the sign of the dividend (C's fmod, ``torch.fmod``);
    d/da = 1, d/db = -trunc(a/b).

    >>> import shenjing as sj
    >>> sj.fmod(sj.tensor([-7.0, 7.0]), 3), sj.tensor([-7.0, 7.0]) % 3
    (tensor([-1.,  1.]), tensor([2., 1.]))
    """
    _check_same_device(a, b, "fmod")
    a, b = promote(a, b)
    _integer_divisor_check("fmod", a, b)
    return Fmod.apply(a, b)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _bitwise(ufunc):
    def bitwise(a, b) -> Tensor:
        a, b = promote(a, b)
        dtype = B.result_type(a, b)
        if dtype.kind not in "biu":
            raise DtypeError(f"{ufunc.__name__}: needs bool or integer tensors, got {dtype}")
        return BinaryUfunc.apply(a, b, ufunc)

    bitwise.__name__ = ufunc.__name__
    bitwise.__doc__ = (f"Element-wise ``{ufunc.__name__}`` of bool or integer tensors (``&``, ``|``, ``^``); "
                       "dtypes promote as ``torch.result_type``; no gradient.")
    return bitwise


bitwise_and, bitwise_or, bitwise_xor = _bitwise(np.bitwise_and), _bitwise(np.bitwise_or), _bitwise(np.bitwise_xor)


def bitwise_not(x: Tensor) -> Tensor:
    """``~x``: logical not of a bool tensor, bitwise not of an integer one (no gradient).

    >>> import shenjing as sj
    >>> ~sj.tensor([True, False]), ~sj.tensor([0, 5])
    (tensor([False,  True], dtype=bool), tensor([-1, -6], dtype=int64))
    """
    if x.dtype.kind not in "biu":
        raise DtypeError(f"bitwise_not (~): needs a bool or integer tensor, got {x.dtype}")
    return UnaryUfunc.apply(x, np.invert)


def logical_not(x: Tensor) -> Tensor:
    """True where ``x`` is zero (any dtype); a boolean tensor with no gradient.

    >>> import shenjing as sj
    >>> sj.logical_not(sj.tensor([0.0, 2.0]))
    tensor([ True, False], dtype=bool)
    """
    return UnaryUfunc.apply(x, np.logical_not)


def neg(x: Tensor) -> Tensor:
    """-x; the gradient is -1.

    >>> import shenjing as sj
    >>> -sj.tensor([1.0, -2.0])
    tensor([-1.,  2.])
    """
    return Neg.apply(x)


def abs(x: Tensor) -> Tensor:
    """``|x|`` (absolute-value rectification, 004 §3); gradient sign(x), 0 at 0.

    >>> import shenjing as sj
    >>> sj.abs(sj.tensor([-1.5, 0.0, 2.0]))
    tensor([1.5, 0. , 2. ])
    """
    return Abs.apply(x)


def exp(x: Tensor) -> Tensor:
    """e^x; d/dx = e^x (the forward's result is reused by the backward).

    >>> import shenjing as sj
    >>> sj.exp(sj.tensor([0.0, 1.0]))
    tensor([1.      , 2.718282])
    """
    return Exp.apply(_floating(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm; d/dx = 1/x.

    >>> import shenjing as sj
    >>> x = sj.tensor([1.0, 4.0], requires_grad=True)
    >>> sj.log(x).sum().backward()
    >>> x.grad
    tensor([1.  , 0.25])
    """
    return Log.apply(_floating(x))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), accurate for small x.

    >>> import shenjing as sj
    >>> float(sj.log1p(sj.tensor(1e-10, dtype=sj.float64)))
    9.999999999500001e-11
    """
    return Log1p.apply(_floating(x))


def sqrt(x: Tensor) -> Tensor:
    """√x; d/dx = 1 / (2√x).

    >>> import shenjing as sj
    >>> x = sj.tensor([4.0, 9.0], requires_grad=True)
    >>> sj.sqrt(x).sum().backward()
    >>> x.grad
    tensor([0.25      , 0.16666667])
    """
    return Sqrt.apply(_floating(x))


def sin(x: Tensor) -> Tensor:
    """sin x; d/dx = cos x.

    >>> import numpy as np
    >>> import shenjing as sj
    >>> sj.sin(sj.tensor([0.0, np.pi / 2]))
    tensor([0., 1.])
    """
    return Sin.apply(_floating(x))


def cos(x: Tensor) -> Tensor:
    """cos x; d/dx = -sin x.

    >>> import shenjing as sj
    >>> sj.cos(sj.tensor([0.0]))
    tensor([1.])
    """
    return Cos.apply(_floating(x))


def tanh(x: Tensor) -> Tensor:
    """tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x}) (seed 000 §4.4.2).

    >>> import shenjing as sj
    >>> x = sj.tensor([0.0, 1.0], requires_grad=True)
    >>> sj.tanh(x).sum().backward()
    >>> x.grad
    tensor([1.        , 0.41997433])
    """
    return Tanh.apply(_floating(x))


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e^{-x}), split by sign for stability (seed 000 §4.4.1).

    >>> import shenjing as sj
    >>> x = sj.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    >>> y = sj.sigmoid(x)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([0. , 0.5, 1. ], grad_fn=<Sigmoid>), tensor([0.  , 0.25, 0.  ]))
    """
    return Sigmoid.apply(_floating(x))


def relu(x: Tensor) -> Tensor:
    """ReLU(x) = max(0, x) (seed 000 §4.4.3).

    >>> import shenjing as sj
    >>> x = sj.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> sj.relu(x).sum().backward()
    >>> x.grad
    tensor([0., 0., 1.])
    """
    return Relu.apply(x)


def clip(x: Tensor, min=None, max=None) -> Tensor:
    """Clamp to [min, max]; the gradient flows where min <= x <= max.

    >>> import shenjing as sj
    >>> x = sj.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    >>> sj.clip(x, -1, 1).sum().backward()
    >>> x.grad
    tensor([0., 1., 0.])
    """
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip.apply(x, min, max)


clamp = clip


def maximum(a, b) -> Tensor:
    """Element-wise maximum; ties split the gradient evenly (PyTorch's rule).

    >>> import shenjing as sj
    >>> a = sj.tensor([1.0, 2.0], requires_grad=True)
    >>> sj.maximum(a, sj.tensor([2.0, 2.0])).sum().backward()
    >>> a.grad
    tensor([0. , 0.5])
    """
    _check_same_device(a, b, "maximum")
    return _binary(Maximum)(a, b)


def minimum(a, b) -> Tensor:
    """Element-wise minimum; ties split the gradient evenly (PyTorch's rule).

    >>> import shenjing as sj
    >>> sj.minimum(sj.tensor([1.0, 5.0]), 3.0)
    tensor([1., 3.])
    """
    _check_same_device(a, b, "minimum")
    return _binary(Minimum)(a, b)


def where(condition, a=None, b=None):
    """``a`` where ``condition`` holds, else ``b`` (broadcast); the gradient is routed the same way.
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.

    The condition is brought to the device of the Tensor operands (a host copy of it at most).

    >>> import shenjing as sj
    >>> x = sj.tensor([-1.0, 2.0])
    >>> sj.where(x > 0, x, sj.zeros(2))
    tensor([0., 2.])
    """
    if a is None and b is None:
        return nonzero(condition, as_tuple=True)
    a, b = promote(a, b)
    device = (a if isinstance(a, Tensor) else b).device
    if isinstance(condition, Tensor) and condition.device == device:
        cond = condition  # stays a Tensor, so observers of the op see where it came from
    else:
        cond = B.asarray(condition.data if isinstance(condition, Tensor) else condition, device=device)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    return Where.apply(cond, a, b)


class PiecewiseConstant(Function):
    """A step function f (sign, floor, ceil, trunc, round): its derivative is 0 wherever it exists,
    and PyTorch's backward returns those zeros rather than refusing."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, step):
        return step(x)

    @staticmethod
    def backward(ctx, grad):
        return D.zeros_like(grad), None


def _step(name: str, ufunc):
    def step(x: Tensor) -> Tensor:
        return PiecewiseConstant.apply(x, ufunc)

    step.__name__ = name
    step.__doc__ = f"Element-wise ``{name}`` (its gradient is 0, as in PyTorch)."
    return step


def _sign(a):
    """-1, 0 or 1; 0 for NaN, as PyTorch's sign."""
    return np.where(np.isnan(a), a.dtype.type(0), np.sign(a)) if a.dtype.kind == "f" else np.sign(a)


sign, floor = _step("sign", _sign), _step("floor", np.floor)
ceil, trunc = _step("ceil", np.ceil), _step("trunc", np.trunc)


def round(x: Tensor, decimals: int = 0) -> Tensor:
    """x rounded half to even (to ``decimals`` places, as ``torch.round``); gradient 0.

    >>> import shenjing as sj
    >>> sj.round(sj.tensor([0.5, 1.5, 2.567])), sj.round(sj.tensor([2.567]), decimals=2)
    (tensor([0., 2., 3.]), tensor([2.57]))
    """
    return PiecewiseConstant.apply(x, lambda a: np.round(a, decimals))


def _flags(ufunc):
    def test(x) -> Tensor:
        return UnaryUfunc.apply(x, ufunc)

    test.__name__ = ufunc.__name__
    test.__doc__ = f"Element-wise ``{ufunc.__name__}`` test; a boolean tensor with no gradient."
    return test


isnan, isinf, isfinite = _flags(np.isnan), _flags(np.isinf), _flags(np.isfinite)


def allclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """True when ``|a - b| <= atol + rtol |b|`` everywhere (``torch.allclose``).

    >>> import shenjing as sj
    >>> sj.allclose(sj.tensor([1.0, 2.0]), sj.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    return bool(np.allclose(_data(a), _data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when ``a`` and ``b`` have the same shape and elements (``torch.equal``).

    >>> import shenjing as sj
    >>> sj.equal(sj.tensor([1, 2]), sj.tensor([1, 2])), sj.equal(sj.tensor([1, 2]), sj.tensor([1, 3]))
    (True, False)
    """
    return a.shape == b.shape and bool((a.data == b.data).all())


def nonzero(x: Tensor, as_tuple: bool = False):
    """Indices of the non-zero elements: an int64 (count, ndim) tensor, or with ``as_tuple`` one
    1-d index tensor per dimension (what ``x[x.nonzero(as_tuple=True)]`` and ``where(cond)`` use).

    >>> import shenjing as sj
    >>> x = sj.tensor([[0, 3], [4, 0]])
    >>> x.nonzero(), x[x.nonzero(as_tuple=True)]
    (tensor([[0, 1],
            [1, 0]], dtype=int64), tensor([3, 4], dtype=int64))
    """
    indices = np.nonzero(_data(x))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(B.int64)) for i in indices)
    return Tensor._wrap(B.xp_of(x.data).stack(indices, axis=-1).astype(B.int64))


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype``; the gradient is converted back.

    >>> import shenjing as sj
    >>> x = sj.tensor([1.5], requires_grad=True)
    >>> sj.nn.functional.cast(x, sj.float64).sum().backward()
    >>> x.grad.dtype
    dtype('float32')
    """
    return Cast.apply(x, B.as_dtype(dtype))


def move(x: Tensor, device: str) -> Tensor:
    """``x`` copied to ``device``; the gradient is copied back.

    >>> import shenjing as sj
    >>> str(sj.nn.functional.move(sj.ones(2), "cpu").device)
    'cpu'
    """
    return Move.apply(x, B.parse_device(device))


def _compare(ufunc):
    def compare(a, b) -> Tensor:
        numbers = all(isinstance(x, (Tensor, bool, int, float, np.generic)) for x in (a, b))
        if numbers and _needs_promotion(a, b):
            a, b = promote(a, b)  # compared in the result dtype, as PyTorch compares
        return BinaryUfunc.apply(a, b, ufunc)

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Element-wise ``{ufunc.__name__}``; a boolean tensor with no gradient."
    return compare


eq, ne, lt = _compare(np.equal), _compare(np.not_equal), _compare(np.less)
le, gt, ge = _compare(np.less_equal), _compare(np.greater), _compare(np.greater_equal)
logical_and, logical_or, logical_xor = _compare(np.logical_and), _compare(np.logical_or), _compare(np.logical_xor)
