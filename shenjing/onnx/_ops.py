"""ONNX forms of shenjing's ops: one converter per Function class, ``fn(g, out, *args, **kwargs)``
with the arguments the op's ``forward`` received (Tensors where the caller passed Tensors)."""

from __future__ import annotations

import math

import numpy as np

from ..functional import _bind
from ..functional import activation as A
from ..functional import attention as T
from ..functional import capsule as K
from ..functional import conv as C
from ..functional import elementwise as E
from ..functional.embedding import Embedding, OneHot
from ..functional import linalg as L
from ..functional import norm as N
from ..functional import pool as P
from ..functional import recurrent as R
from ..functional import reduction as D
from ..functional import shape as S
from ..functional.pool import _padded_shape
from ._graph import INT64_MAX, INT64_MIN, UnsupportedOperatorError, converts, elem_type


# ----- element-wise -------------------------------------------------------------------------------

def _binary(op_type: str):
    def convert(g, out, a, b):
        return g.node(op_type, [g.value(a, out.dtype), g.value(b, out.dtype)])

    return convert


for _cls, _op in ((E.Add, "Add"), (E.Sub, "Sub"), (E.Mul, "Mul"), (E.Div, "Div"), (E.Pow, "Pow"),
                  (E.Maximum, "Max"), (E.Minimum, "Min")):
    converts(_cls)(_binary(_op))


def _unary(op_type: str):
    def convert(g, out, x):
        return g.node(op_type, [g.value(x)])

    return convert


for _cls, _op in ((E.Neg, "Neg"), (E.Abs, "Abs"), (E.Exp, "Exp"), (E.Log, "Log"), (E.Sqrt, "Sqrt"),
                  (E.Sin, "Sin"), (E.Cos, "Cos"), (E.Tanh, "Tanh"), (E.Sigmoid, "Sigmoid"), (E.Relu, "Relu"),
                  (A.Softsign, "Softsign"), (A.Hardswish, "HardSwish"),
                  (S.Clone, "Identity"), (E.Move, "Identity")):
    converts(_cls)(_unary(_op))


@converts(E.Log1p)
def _log1p(g, out, x):
    return g.node("Log", [g.node("Add", [g.value(x), g.const(1, out.dtype)])])


@converts(E.Clip, A.Hardtanh)
def _clip(g, out, x, low, high):
    bound = [("" if v is None else g.const(v, out.dtype)) for v in (low, high)]
    return g.node("Clip", [g.value(x), *bound])


@converts(E.Where)
def _where(g, out, cond, a, b):
    return g.node("Where", [g.value(cond), g.value(a, out.dtype), g.value(b, out.dtype)])


@converts(E.Cast, E.CastIndex)
def _cast(g, out, x, dtype):
    return g.node("Cast", [g.value(x)], to=elem_type(g.onnx, out.dtype))


_BINARY_UFUNCS = {np.equal: "Equal", np.less: "Less", np.less_equal: "LessOrEqual", np.greater: "Greater",
                  np.greater_equal: "GreaterOrEqual", np.logical_and: "And", np.logical_or: "Or",
                  np.logical_xor: "Xor"}
_BOOLEAN_FORMS = {np.bitwise_and: np.logical_and, np.bitwise_or: np.logical_or, np.bitwise_xor: np.logical_xor}


@converts(E.BinaryUfunc)
def _binary_ufunc(g, out, a, b, ufunc):
    """Comparisons; bitwise ops of booleans (And, Or, Xor); floor division of floats (Floor of Div)."""
    like = a if hasattr(a, "dtype") else b
    operands = [g.value(a, like.dtype), g.value(b, like.dtype)]
    if ufunc is np.not_equal:
        return g.node("Not", [g.node("Equal", operands)])
    if ufunc is np.floor_divide and out.dtype.kind == "f":
        return g.node("Floor", [g.node("Div", operands)])
    if out.dtype == np.bool_:
        ufunc = _BOOLEAN_FORMS.get(ufunc, ufunc)
    if ufunc not in _BINARY_UFUNCS:
        raise UnsupportedOperatorError(f"onnx.export: {ufunc.__name__} of {out.dtype} tensors has no ONNX form")
    return g.node(_BINARY_UFUNCS[ufunc], operands)


@converts(E.UnaryUfunc)
def _unary_ufunc(g, out, x, ufunc):
    """isnan, isinf, isfinite; logical not, and bitwise not of booleans."""
    x = g.value(x)
    if ufunc is np.isnan:
        return g.node("IsNaN", [x])
    if ufunc is np.isinf:
        return g.node("IsInf", [x])
    if ufunc is np.isfinite:
        return g.node("Not", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])])
    if ufunc is np.logical_not or (ufunc is np.invert and out.dtype == np.bool_):
        return g.node("Not", [g.node("Cast", [x], to=elem_type(g.onnx, np.bool_))])
    raise UnsupportedOperatorError(f"onnx.export: {ufunc.__name__} of this tensor has no ONNX form")


_STEPS = {E._sign: "Sign", np.floor: "Floor", np.ceil: "Ceil"}


@converts(E.PiecewiseConstant)
def _piecewise_constant(g, out, x, step):
    if step not in _STEPS:
        raise UnsupportedOperatorError(f"onnx.export: the step function {step.__name__} has no ONNX form")
    return g.node(_STEPS[step], [g.value(x)])


@converts(_bind.ArrayMethod)
def _array_method(g, out, x, fn, dim=None):
    """``all`` and ``any`` (over ``dim`` or everything): a reduction of the booleans as integers."""
    if fn not in (_bind._all, _bind._any):
        raise UnsupportedOperatorError(f"onnx.export: the tensor method {fn.__name__} has no ONNX form")
    as_int = g.node("Cast", [g.value(x)], to=elem_type(g.onnx, np.int32))
    found = g.reduce("ReduceMin" if fn is _bind._all else "ReduceMax", as_int, None if dim is None else [dim], False)
    return g.node("Cast", [found], to=elem_type(g.onnx, np.bool_))


# ----- activations --------------------------------------------------------------------------------

@converts(A.LeakyRelu)
def _leaky_relu(g, out, x, slope):
    return g.node("LeakyRelu", [g.value(x)], alpha=float(slope))


@converts(A.Elu)
def _elu(g, out, x, alpha):
    return g.node("Elu", [g.value(x)], alpha=float(alpha))


@converts(A.Selu)
def _selu(g, out, x):
    return g.node("Selu", [g.value(x)], alpha=A._SELU_ALPHA, gamma=A._SELU_SCALE)


@converts(A.Hardsigmoid)
def _hardsigmoid(g, out, x):
    return g.node("HardSigmoid", [g.value(x)], alpha=1 / 6, beta=0.5)


@converts(A.GeluExact)
def _gelu(g, out, x):
    """½x(1 + erf(x/√2))."""
    x = g.value(x)
    erf = g.node("Erf", [g.node("Mul", [x, g.const(1 / math.sqrt(2), out.dtype)])])
    return g.node("Mul", [g.node("Mul", [x, g.const(0.5, out.dtype)]), g.node("Add", [erf, g.const(1, out.dtype)])])


@converts(A.GeluTanh)
def _gelu_tanh(g, out, x):
    """½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x = g.value(x)
    cube = g.node("Mul", [g.node("Mul", [x, x]), x])
    inner = g.node("Add", [x, g.node("Mul", [cube, g.const(A._GELU_CUBIC, out.dtype)])])
    t = g.node("Tanh", [g.node("Mul", [inner, g.const(A._SQRT_2_OVER_PI, out.dtype)])])
    return g.node("Mul", [g.node("Mul", [x, g.const(0.5, out.dtype)]), g.node("Add", [t, g.const(1, out.dtype)])])


@converts(A.Softplus)
def _softplus(g, out, x, beta, threshold):
    """log(1 + e^{βx})/β, x itself where βx > threshold."""
    x = g.value(x)
    z = g.node("Mul", [x, g.const(beta, out.dtype)])
    smooth = g.node("Div", [g.node("Softplus", [z]), g.const(beta, out.dtype)])
    return g.node("Where", [g.node("Greater", [z, g.const(threshold, out.dtype)]), x, smooth])


@converts(A.Silu)
def _silu(g, out, x):
    x = g.value(x)
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


@converts(A.Mish)
def _mish(g, out, x):
    x = g.value(x)
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


@converts(A.LogSigmoid)
def _logsigmoid(g, out, x):
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [g.value(x)])])])


@converts(A.Prelu)
def _prelu(g, out, x, weight):
    slope = g.value(weight)
    if x.ndim >= 2 and weight.numel() > 1:
        slope = g.reshape(slope, (-1,) + (1,) * (x.ndim - 2))
    return g.node("PRelu", [g.value(x), slope])


def _softmax(op_type: str):
    def convert(g, out, x, axis, t):
        x = g.value(x)
        if t != 1:
            x = g.node("Div", [x, g.const(t, out.dtype)])
        return g.node(op_type, [x], axis=int(axis))

    return convert


converts(A.Softmax)(_softmax("Softmax"))
converts(A.LogSoftmax)(_softmax("LogSoftmax"))


# ----- reductions ---------------------------------------------------------------------------------

def _reduction(op_type: str):
    def convert(g, out, x, axes, keepdims):
        return g.reduce(op_type, g.value(x), axes, keepdims)

    return convert


for _cls, _op in ((D.Sum, "ReduceSum"), (D.Mean, "ReduceMean"), (D.Prod, "ReduceProd"),
                  (D.Logsumexp, "ReduceLogSumExp")):
    converts(_cls)(_reduction(_op))


@converts(D.Amax)
def _amax(g, out, x, axes, keepdims, largest):
    return g.reduce("ReduceMax" if largest else "ReduceMin", g.value(x), axes, keepdims)


@converts(D.Var)
def _var(g, out, x, axes, keepdims, correction):
    """Σ(x - x̄)² / (N - correction)."""
    x_name = g.value(x)
    centered = g.node("Sub", [x_name, g.reduce("ReduceMean", x_name, axes, True)])
    total = g.reduce("ReduceSum", g.node("Mul", [centered, centered]), axes, keepdims)
    count = x.numel() if axes is None else int(np.prod([x.shape[a] for a in axes]))
    return g.node("Div", [total, g.const(count - correction, out.dtype)])


@converts(D.Std)
def _std(g, out, x, axes, keepdims, correction):
    return g.node("Sqrt", [_var(g, out, x, axes, keepdims, correction)])


@converts(D.Norm)
def _norm(g, out, x, p, axes, keepdims):
    """‖x‖_p: ReduceL2, ReduceL1, max |x|, or (Σ|x|^p)^{1/p}."""
    x = g.value(x)
    if p == 2 or p == 1:
        return g.reduce("ReduceL2" if p == 2 else "ReduceL1", x, axes, keepdims)
    magnitude = g.node("Abs", [x])
    if p == np.inf:
        return g.reduce("ReduceMax", magnitude, axes, keepdims)
    total = g.reduce("ReduceSum", g.node("Pow", [magnitude, g.const(p, out.dtype)]), axes, keepdims)
    return g.node("Pow", [total, g.const(1 / p, out.dtype)])


@converts(D.ArgExtreme)
def _arg_extreme(g, out, x, axis, keepdims, largest):
    op = "ArgMax" if largest else "ArgMin"
    if axis is None:
        flat = g.node(op, [g.reshape(g.value(x), (-1,))], axis=0, keepdims=0)
        return g.reshape(flat, (1,) * x.ndim) if keepdims else flat
    return g.node(op, [g.value(x)], axis=int(axis), keepdims=int(keepdims))


@converts(D.SortIndices)
def _sort_indices(g, out, x, axis, k, largest):
    _, indices = g.node("TopK", [g.value(x), g.ints([k])], outputs=2, axis=int(axis), largest=int(largest),
                        sorted=1)
    return indices


@converts(D.Gather)
def _gather(g, out, x, index, axis):
    return g.node("GatherElements", [g.value(x), g.value(index)], axis=int(axis))


@converts(D.MaxAlong)
def _max_along(g, out, x, indices, axis, keepdims):
    if not hasattr(indices, "grad_fn"):
        raise UnsupportedOperatorError("onnx.export: MaxAlong with indices computed outside the graph "
                                       "(k-max pooling) has no ONNX form")
    picked = g.node("GatherElements", [g.value(x), g.value(indices)], axis=int(axis))
    return picked if keepdims else g.squeeze(picked, [axis])


@converts(D.Cumsum)
def _cumsum(g, out, x, axis):
    return g.node("CumSum", [g.value(x), g.const(np.int64(axis))])


# ----- shapes -------------------------------------------------------------------------------------

def _common_prefix(a: tuple, b: tuple) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


@converts(S.Reshape)
def _reshape(g, out, x, shape):
    """Squeeze/Unsqueeze when only size-1 dims come or go; else a Reshape that copies the leading
    dims it keeps (0) and infers the first changed one (-1), so a dynamic batch axis survives."""
    src, dst = tuple(x.shape), tuple(out.shape)
    head = _common_prefix(src, dst)
    tail = _common_prefix(src[head:][::-1], dst[head:][::-1])
    mid_src, mid_dst = src[head:len(src) - tail], dst[head:len(dst) - tail]
    name = g.value(x)
    if not mid_dst and all(n == 1 for n in mid_src):
        return g.squeeze(name, range(head, head + len(mid_src))) if mid_src else g.node("Identity", [name])
    if not mid_src and all(n == 1 for n in mid_dst):
        return g.unsqueeze(name, range(head, head + len(mid_dst)))
    target = [0] * head + [-1] + list(dst[head + 1:]) if head < len(dst) else list(dst)
    return g.reshape(name, target)


@converts(S.Squeeze)
def _squeeze(g, out, x, axes):
    return g.squeeze(g.value(x), axes) if axes else g.node("Identity", [g.value(x)])


@converts(S.Unsqueeze)
def _unsqueeze(g, out, x, axis):
    return g.unsqueeze(g.value(x), [axis])


@converts(S.Permute)
def _permute(g, out, x, axes):
    return g.node("Transpose", [g.value(x)], perm=[int(a) for a in axes])


@converts(S.BroadcastTo)
def _broadcast_to(g, out, x, shape):
    padded = (1,) * (len(shape) - x.ndim) + tuple(x.shape)
    return g.node("Expand", [g.value(x), g.ints([t if n == 1 else 1 for n, t in zip(padded, shape)])])


@converts(S.Concatenate)
def _concatenate(g, out, *tensors, axis):
    return g.node("Concat", [g.value(t) for t in tensors], axis=int(axis))


@converts(S.Stack)
def _stack(g, out, *tensors, axis):
    return g.node("Concat", [g.unsqueeze(g.value(t), [axis]) for t in tensors], axis=int(axis))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@converts(S.Pad)
def _pad(g, out, x, widths, mode, value):
    if mode == "circular" and g.opset < 19:
        raise UnsupportedOperatorError("onnx.export: circular padding needs opset_version >= 19")
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    inputs = [g.value(x), g.ints(pads)]
    if mode == "constant":
        inputs.append(g.const(value, out.dtype))
    return g.node("Pad", inputs, mode=_PAD_MODES[mode])


@converts(S.Repeat)
def _repeat(g, out, x, reps):
    name = g.value(x)
    if len(reps) > x.ndim:
        name = g.unsqueeze(name, range(len(reps) - x.ndim))
    return g.node("Tile", [name, g.ints(reps)])


@converts(S.GetItem)
def _getitem(g, out, x, index):
    """Basic indexing as Slice, Gather (integers, one integer array) and Unsqueeze (None)."""
    items = list(index) if isinstance(index, tuple) else [index]
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    ellipsis = [k for k, i in enumerate(items) if i is Ellipsis]
    if ellipsis:
        at = ellipsis[0]
        items[at:at + 1] = [slice(None)] * (x.ndim - used)
    items += [slice(None)] * (x.ndim - sum(1 for i in items if i is not None))
    slices, picks, new_axes, arrays = [], [], [], []
    axis = out_axis = 0
    for item in items:
        if item is None:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, slice):
            if item != slice(None):
                slices.append((axis, item))
            out_axis += 1
        elif isinstance(item, (int, np.integer)):
            picks.append((axis, int(item)))
        elif getattr(item, "dtype", None) is not None and item.dtype.kind in "iu":
            arrays.append((axis, item))
            out_axis += item.ndim
        else:
            raise UnsupportedOperatorError(f"onnx.export: indexing with {type(item).__name__} "
                                           f"{getattr(item, 'dtype', '')} has no ONNX form")
        axis += 1
    advanced = sorted(a for a, _ in picks + arrays)
    if arrays and (len(arrays) > 1 or new_axes or advanced != list(range(advanced[0], advanced[-1] + 1))):
        raise UnsupportedOperatorError("onnx.export: an index with several integer arrays, or with new or "
                                       "sliced axes between its integers, has no ONNX form")
    name = g.value(x)
    if slices:
        starts, ends, steps = zip(*(_slice_bounds(s) for _, s in slices))
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints([a for a, _ in slices]), g.ints(steps)])
    for axis, i in sorted(picks, reverse=True):
        name = g.node("Gather", [name, g.const(np.int64(i))], axis=axis)
    for axis, array in arrays:  # the integers beside it are gone: its axis moved left by their number
        name = g.node("Gather", [name, g.const(array)], axis=axis - sum(a < axis for a, _ in picks))
    return g.unsqueeze(name, new_axes) if new_axes else name


def _slice_bounds(s: slice) -> tuple:
    step = 1 if s.step is None else int(s.step)
    if step > 0:
        return (0 if s.start is None else int(s.start)), (INT64_MAX if s.stop is None else int(s.stop)), step
    return ((INT64_MAX if s.start is None else int(s.start)), (INT64_MIN if s.stop is None else int(s.stop)),
            step)


# ----- products, convolutions, pools --------------------------------------------------------------

@converts(L.MatMul)
def _matmul(g, out, a, b):
    return g.node("MatMul", [g.value(a), g.value(b)])


@converts(L.Linear)
def _linear(g, out, x, weight, bias):
    """y = x Wᵀ + b: one Gemm for 2-d inputs, MatMul (and Add) otherwise."""
    if x.ndim == 2:
        return g.node("Gemm", [g.value(x), g.value(weight), g.optional(bias)], transB=1)
    y = g.node("MatMul", [g.value(x), g.node("Transpose", [g.value(weight)], perm=[1, 0])])
    return y if bias is None else g.node("Add", [y, g.value(bias)])


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@converts(L.TensorDot)
def _tensordot(g, out, a, b, axes_a, axes_b):
    sub_a = list(_LETTERS[:a.ndim])
    sub_b = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(axes_a, axes_b):
        sub_b[j] = sub_a[i]
    free = [c for i, c in enumerate(sub_a) if i not in axes_a] + [c for j, c in enumerate(sub_b) if j not in axes_b]
    equation = f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(free)}"
    return g.node("Einsum", [g.value(a), g.value(b)], equation=equation)


@converts(L.Einsum)
def _einsum(g, out, *arrays, inputs, output):
    return g.node("Einsum", [g.value(t) for t in arrays], equation=",".join(inputs) + "->" + output)


@converts(C.Conv2dFunction)
def _conv2d(g, out, x, weight, bias, geom):
    (pt, pb), (pl, pr) = geom.pads
    return g.node("Conv", [g.value(x), g.value(weight), g.optional(bias)], kernel_shape=list(weight.shape[2:]),
                  strides=list(geom.stride), dilations=list(geom.dilation), pads=[pt, pl, pb, pr],
                  group=int(geom.groups))


def _pool_pads(x, geom) -> list:
    """ONNX pads (top, left, bottom, right) reaching every window PyTorch's geometry reads (ceil_mode)."""
    ph, pw = geom.pads
    height, width = _padded_shape(x.shape, geom)[2:]
    return [ph, pw, height - ph - x.shape[2], width - pw - x.shape[3]]


@converts(P.MaxPool2dFunction)
def _max_pool(g, out, x, geom):
    name = g.value(x)
    pads = _pool_pads(x, geom)
    if pads[2:] != pads[:2]:  # windows past the input (ceil_mode): pad with -inf so they never win
        name = g.node("Pad", [name, g.ints([0, 0, *pads[:2], 0, 0, *pads[2:]]), g.const(-np.inf, out.dtype)])
        pads = [0, 0, 0, 0]
    return g.node("MaxPool", [name], kernel_shape=list(geom.kernel), strides=list(geom.stride), pads=pads,
                  dilations=list(geom.dilation))


@converts(P.AvgPool2dFunction)
def _avg_pool(g, out, x, geom, divisor):
    """Window sums (a depthwise convolution with ones over the zero-padded input) / PyTorch's divisor."""
    channels = x.shape[1]
    pads = _pool_pads(x, geom)
    padded = g.node("Pad", [g.value(x), g.ints([0, 0, *pads[:2], 0, 0, *pads[2:]])])
    ones = g.const(np.ones((channels, 1, *geom.kernel), dtype=out.dtype))
    sums = g.node("Conv", [padded, ones], kernel_shape=list(geom.kernel), strides=list(geom.stride),
                  group=int(channels))
    return g.node("Div", [sums, g.const(np.asarray(divisor, dtype=out.dtype))])


# ----- normalisation, embedding, attention masks --------------------------------------------------

@converts(N.Normalize)
def _normalize(g, out, x, weight, bias, mean, var, eps, axes, param_shape, batch_stats, centered=None):
    """y = γ (x - μ)/√(σ² + ε) + β, with μ, σ² of x over ``axes`` (batch statistics) or given."""
    x_name = g.value(x)
    if batch_stats:
        mean = g.reduce("ReduceMean", x_name, axes, True)
        diff = g.node("Sub", [x_name, mean])
        var = g.reduce("ReduceMean", g.node("Mul", [diff, diff]), axes, True)
    else:
        diff = g.node("Sub", [x_name, g.value(mean)])
        var = g.value(var)
    y = g.node("Div", [diff, g.node("Sqrt", [g.node("Add", [var, g.const(eps, out.dtype)])])])
    if weight is not None:
        y = g.node("Mul", [y, g.reshape(g.value(weight), param_shape)])
    if bias is not None:
        y = g.node("Add", [y, g.reshape(g.value(bias), param_shape)])
    return y


@converts(Embedding)
def _embedding(g, out, weight, indices, padding_idx):
    return g.node("Gather", [g.value(weight), g.value(indices)], axis=0)


@converts(OneHot)
def _one_hot(g, out, indices, num_classes):
    classes = g.const(np.arange(num_classes, dtype=indices.dtype))
    hit = g.node("Equal", [g.unsqueeze(g.value(indices), [-1]), classes])
    return g.node("Cast", [hit], to=elem_type(g.onnx, np.int64))


@converts(T.AdditiveMask)
def _additive_mask(g, out, mask, dtype, allow_value):
    name = g.value(mask)
    if mask.dtype != bool:
        return g.node("Cast", [name], to=elem_type(g.onnx, dtype))
    allowed = name if allow_value else g.node("Not", [name])
    return g.node("Where", [allowed, g.const(0, out.dtype), g.const(-np.inf, out.dtype)])


@converts(K.Squash)
def _squash(g, out, s, axis):
    """v = s·n / (1 + n²), n = ‖s‖ along ``axis``."""
    s = g.value(s)
    n2 = g.reduce("ReduceSum", g.node("Mul", [s, s]), [axis], True)
    scale = g.node("Div", [g.node("Sqrt", [n2]), g.node("Add", [n2, g.const(1, out.dtype)])])
    return g.node("Mul", [s, scale])


# ----- recurrent layers ---------------------------------------------------------------------------

# ONNX's gate order per block of rows: LSTM i o f c (PyTorch i f g o), GRU z r h (PyTorch r z n)
_GATE_ORDER = {"rnn_tanh": [0], "rnn_relu": [0], "lstm": [0, 3, 1, 2], "gru": [1, 0, 2]}
_RNN_OPS = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}


@converts(R.RecurrentLayer)
def _recurrent(g, out, x, h0, c0, *weights, mode, num_directions):
    """ONNX's RNN/LSTM/GRU: W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) [Wb, Rb], gates reordered;
    Y (T, D, N, H) becomes shenjing's (T, N, D·H) (plus the LSTM's final cell state as row T)."""
    hidden = weights[1].shape[1]
    order = np.concatenate([np.arange(hidden) + k * hidden for k in _GATE_ORDER[mode]])
    perm = g.const(order.astype(np.int64))

    def gates(t):
        if t is None:
            return g.const(np.zeros(len(order), dtype=out.dtype))
        return g.node("Gather", [g.value(t), perm], axis=0)

    def per_direction(make):
        parts = [g.unsqueeze(make(weights[4 * d: 4 * d + 4]), [0]) for d in range(num_directions)]
        return parts[0] if len(parts) == 1 else g.node("Concat", parts, axis=0)

    w = per_direction(lambda ws: gates(ws[0]))
    r = per_direction(lambda ws: gates(ws[1]))
    b = per_direction(lambda ws: g.node("Concat", [gates(ws[2]), gates(ws[3])], axis=0))
    attrs = {"hidden_size": int(hidden), "direction": "bidirectional" if num_directions == 2 else "forward"}
    if mode.startswith("rnn"):
        attrs["activations"] = ["Tanh" if mode == "rnn_tanh" else "Relu"] * num_directions
    if mode == "gru":
        attrs["linear_before_reset"] = 1
    inputs = [g.value(x), w, r, b, "", g.optional(h0)]
    if mode == "lstm":
        inputs.append(g.optional(c0))
    y, _, *cell = g.node(_RNN_OPS[mode], inputs, outputs=3 if mode == "lstm" else 2, **attrs)
    y = g.reshape(g.node("Transpose", [y], perm=[0, 2, 1, 3]), (0, 0, -1))
    if mode != "lstm":
        return y
    c_n = g.unsqueeze(g.reshape(g.node("Transpose", [cell[0]], perm=[1, 0, 2]), (0, -1)), [0])
    return g.node("Concat", [y, c_n], axis=0)
