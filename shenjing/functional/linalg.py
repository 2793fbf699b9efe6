"""Products: ``matmul`` (batched, broadcasting), ``mm bmm outer``, ``dot`` (NumPy's N-d dot) and
``einsum``; the matrix parts ``diag tril triu``.

Matrix-calculus rules of seed 003 §4.3.1: for Y = A B, dL/dA = dL/dY Bᵀ and
dL/dB = Aᵀ dL/dY; every product here is a tensor contraction whose backward is
another contraction of the output gradient with the other operand.
"""

from __future__ import annotations

import string

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from . import _dispatch as D
from ._util import DtypeError, as_tensor, unbroadcast
from .elementwise import where
from .shape import scatter_index

__all__ = ["matmul", "mm", "bmm", "outer", "dot", "tensordot", "einsum", "linear", "diag", "tril", "triu"]


class MatMul(Function):
    """A @ B with NumPy/PyTorch batch broadcasting; 1-d operands are promoted and squeezed."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        need_a, need_b = ctx.needs_input_grad
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1 or b.ndim == 1:
            batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
            grad = grad.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = unbroadcast(grad @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if need_a else None
        gb = unbroadcast(a2.swapaxes(-1, -2) @ grad, b2.shape).reshape(b.shape) if need_b else None
        return ga, gb


class Linear(Function):
    """y = x Wᵀ + b for x of shape ``(*, in)``, W ``(out, in)``, b ``(out,)``: one GEMM forward, two backward."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.x, ctx.weight = x, weight
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.x, ctx.weight
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = grad @ weight if need_x else None
        g2 = grad.reshape(-1, grad.shape[-1])
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb


class TensorDot(Function):
    """Contraction of ``a`` axes with ``b`` axes; the output is a's free axes then b's."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b, axes_a, axes_b):
        ctx.a, ctx.b, ctx.axes = a, b, (axes_a, axes_b)
        return np.tensordot(a, b, axes=(axes_a, axes_b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        axes_a, axes_b = ctx.axes
        free_a = [i for i in range(a.ndim) if i not in axes_a]
        free_b = [i for i in range(b.ndim) if i not in axes_b]
        grad_free_a = list(range(len(free_a)))
        grad_free_b = list(range(len(free_a), grad.ndim))
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _contract(grad, b, grad_free_b, free_b)
            paired = [axes_a[axes_b.index(j)] for j in sorted(axes_b)]
            ga = D.permute(ga, tuple(int(i) for i in np.argsort(free_a + paired)))
        if ctx.needs_input_grad[1]:
            gb = _contract(a, grad, free_a, grad_free_a)
            paired = [axes_b[axes_a.index(i)] for i in sorted(axes_a)]
            gb = D.permute(gb, tuple(int(i) for i in np.argsort(paired + free_b)))
        return ga, gb, None, None


def _contract(a, b, axes_a, axes_b):
    """``np.tensordot`` of raw arrays, or the differentiable :func:`tensordot` when a Tensor is involved."""
    if D.is_graph(a, b):
        return tensordot(a, b, (axes_a, axes_b))
    return np.tensordot(a, b, axes=(axes_a, axes_b))


def _einsum(spec: str, *operands):
    return einsum(spec, *operands) if D.is_graph(*operands) else np.einsum(spec, *operands)


class Einsum(Function):
    """``einsum`` over explicit subscripts; the gradient of operand i is the einsum of
    the output gradient with every other operand, written to operand i's subscripts."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        ctx.arrays, ctx.inputs, ctx.output = arrays, inputs, output
        return np.einsum(",".join(inputs) + "->" + output, *arrays)

    @staticmethod
    def backward(ctx, grad):
        arrays, inputs, output = ctx.arrays, ctx.inputs, ctx.output
        grads = []
        for i, (arr, subs) in enumerate(zip(arrays, inputs)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(inputs) if j != i]
            available = set(output).union(*others)
            target = "".join(dict.fromkeys(c for c in subs if c in available))
            spec = ",".join([output] + others) + "->" + target
            g = _einsum(spec, grad, *[a for j, a in enumerate(arrays) if j != i])
            grads.append(_expand_to(g, target, subs, arr.shape))
        return tuple(grads)


def _expand_to(g, target: str, subs: str, shape: tuple):
    """Turn a gradient over the unique, available letters ``target`` into one for ``subs``:
    letters summed only inside this operand are broadcast back; repeated letters
    (diagonals such as 'ii') put the gradient on the diagonal."""
    unique = "".join(dict.fromkeys(subs))
    sizes = dict(zip(subs, shape))
    g = _einsum(f"{target}->{''.join(c for c in unique if c in target)}", g)
    g = D.expand_dims(g, [pos for pos, c in enumerate(unique) if c not in target])
    g = D.broadcast_to(g, tuple(sizes[c] for c in unique))
    if unique == subs:
        return g
    # a repeated letter (a diagonal, 'ii'): spread g over fresh letters, times δ masks
    spare = iter(c for c in string.ascii_letters if c not in subs)
    seen, renamed = set(), ""
    for c in subs:
        renamed += c if c not in seen else next(spare)
        seen.add(c)
    xp = B.xp_of(D.raw(g))
    mask = xp.ones(shape, dtype=g.dtype)
    for pos, c in enumerate(subs):
        first = subs.index(c)
        if first != pos:
            axes = [1] * len(shape)
            axes[first], axes[pos] = shape[first], shape[pos]
            mask = mask * xp.eye(shape[first], dtype=g.dtype).reshape(axes)
    return _einsum(f"{unique},{renamed}->{renamed}", g, mask)


def _parse_einsum(spec: str, shapes: list) -> tuple:
    """Explicit subscripts for every operand and the output, with '...' expanded."""
    spec = spec.replace(" ", "")
    lhs, _, rhs = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: '{spec}' names {len(inputs)} operands but {len(shapes)} were given")
    spare = [c for c in string.ascii_letters if c not in spec]
    ell_ndim = max((len(s) - len(sub.replace("...", "")) for sub, s in zip(inputs, shapes) if "..." in sub),
                   default=0)
    ell = "".join(spare[:ell_ndim])
    expanded = []
    for sub, shape in zip(inputs, shapes):
        if "..." in sub:
            n = len(shape) - len(sub.replace("...", ""))
            sub = sub.replace("...", ell[ell_ndim - n :] if n else "")
        if len(sub) != len(shape):
            raise ValueError(f"einsum: subscripts '{sub}' do not match an operand of shape {tuple(shape)}")
        expanded.append(sub)
    if "->" in spec:
        output = rhs.replace("...", ell)
    else:
        counts = {}
        for c in "".join(expanded):
            counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, output


def matmul(a, b) -> Tensor:
    """Matrix product with batch broadcasting (``a @ b``).

    >>> import shenjing as sj
    >>> (sj.ones(5, 2, 3) @ sj.ones(3, 4)).shape
    (5, 2, 4)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")
    _check_same_dtype("matmul", a, b)
    return MatMul.apply(a, b)


def _check_ndim(name: str, expected: int, *tensors) -> None:
    for t in tensors:
        if t.ndim != expected:
            raise ValueError(f"{name}: expected {expected}-d tensors, got shape {t.shape}")


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The matrix product of (n, m) and (m, p) matrices (``torch.mm``: no broadcasting).

    >>> import shenjing as sj
    >>> sj.mm(sj.ones(2, 3), sj.ones(3, 4)).shape
    (2, 4)
    """
    _check_ndim("mm", 2, a, b)
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix products (b, n, m) @ (b, m, p) -> (b, n, p) (``torch.bmm``: no broadcasting).

    >>> import shenjing as sj
    >>> sj.bmm(sj.ones(5, 2, 3), sj.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    _check_ndim("bmm", 3, a, b)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product (a bᵀ)_ij = a_i b_j of two vectors: (n,), (m,) -> (n, m).

    >>> import shenjing as sj
    >>> sj.outer(sj.tensor([1, 2]), sj.tensor([3, 4]))
    tensor([[3, 4],
            [6, 8]], dtype=int64)
    """
    _check_ndim("outer", 1, a, b)
    return a.unsqueeze(1) * b.unsqueeze(0)


class Diag(Function):
    """A vector placed on the k-th diagonal of a square matrix, or the k-th diagonal of a matrix;
    the backward is the other of the two."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, k):
        ctx.shape, ctx.k = x.shape, k
        return x.diagonal(k).copy() if x.ndim == 2 else B.xp_of(x).diag(x, k)

    @staticmethod
    def backward(ctx, grad):
        k, vector = ctx.k, len(ctx.shape) == 1
        steps = B.xp_of(D.raw(grad)).arange(ctx.shape[0] if vector else grad.shape[0])
        diagonal = (steps + max(-k, 0), steps + max(k, 0))
        return (grad[diagonal] if vector else scatter_index(grad, ctx.shape, diagonal)), None


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """``torch.diag``: a 1-d x becomes the square matrix with x on diagonal k (k > 0 above the main
    one); a 2-d x gives its k-th diagonal as a vector.

    >>> import shenjing as sj
    >>> sj.diag(sj.tensor([1.0, 2.0])), sj.diag(sj.tensor([[1.0, 2.0], [3.0, 4.0]]))
    (tensor([[1., 0.],
            [0., 2.]]), tensor([1., 4.]))
    """
    if x.ndim not in (1, 2):
        raise ValueError(f"diag: expected a 1-d or 2-d tensor, got shape {x.shape}")
    return Diag.apply(x, int(diagonal))


def _triangle(name: str, keep):
    def triangle(x: Tensor, diagonal: int = 0) -> Tensor:
        if x.ndim < 2:
            raise ValueError(f"{name}: expected a tensor of at least 2 dims, got shape {x.shape}")
        rows, cols = x.shape[-2:]
        mask = keep(B.xp_of(x.data).ones((rows, cols), dtype=bool), diagonal)
        return where(mask, x, False)  # False keeps x's dtype and turns ±inf outside into 0, as torch

    triangle.__name__ = name
    part = "on and below" if name == "tril" else "on and above"
    triangle.__doc__ = (f"The elements of the last two dims {part} diagonal k (k > 0: above the main one), "
                        "zeros elsewhere; the gradient is masked the same way.")
    return triangle


tril, triu = _triangle("tril", np.tril), _triangle("triu", np.triu)


def tensordot(a, b, dims=2) -> Tensor:
    """Sum of products over ``dims`` (an int: the last n axes of a with the first n of b,
    or a pair of axis lists), as ``np.tensordot``.

    >>> import shenjing as sj
    >>> sj.tensordot(sj.ones(3, 4, 5), sj.ones(4, 5, 2), dims=2).shape
    (3, 2)
    """
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, int):
        axes_a, axes_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        axes_a = [d % a.ndim for d in np.atleast_1d(dims[0])]
        axes_b = [d % b.ndim for d in np.atleast_1d(dims[1])]
    if [a.shape[i] for i in axes_a] != [b.shape[i] for i in axes_b]:
        raise ValueError(f"tensordot: shapes {a.shape} and {b.shape} do not match over the contracted axes")
    return TensorDot.apply(a, b, tuple(axes_a), tuple(axes_b))


def dot(a, b) -> Tensor:
    """``np.dot`` semantics (seed 000 §1.2.3): for N-d ``a`` and M-d ``b`` (M >= 2), the sum
    over the last axis of ``a`` and the second-to-last of ``b``::

        dot(a, b)[i, j, k, m] = sum(a[i, j, :] * b[k, :, m])

    so (2, 4, 6) · (6, 2) -> (2, 4, 2). 1-d ``b`` contracts with a's last axis; 0-d is a product.

    >>> import shenjing as sj
    >>> sj.dot(sj.ones(2, 4, 6), sj.ones(6, 2)).shape
    (2, 4, 2)
    >>> float(sj.dot(sj.tensor([1.0, 2.0]), sj.tensor([3.0, 4.0])))
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        from .elementwise import mul

        return mul(a, b)
    axis_b = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[axis_b]:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned ({a.shape[-1]} != {b.shape[axis_b]})")
    return TensorDot.apply(a, b, (a.ndim - 1,), (axis_b,))


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; supports '...' and diagonals.

    >>> import shenjing as sj
    >>> a, b = sj.ones(2, 3, 4), sj.ones(2, 4, 5)
    >>> sj.einsum("bij,bjk->bik", a, b).shape
    (2, 3, 5)
    >>> sj.einsum("ii->", sj.eye(3))
    tensor(3.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    operands = [as_tensor(o) for o in operands]
    inputs, output = _parse_einsum(subscripts, [o.shape for o in operands])
    sizes = {}
    for sub, o in zip(inputs, operands):
        for c, n in zip(sub, o.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: index '{c}' has sizes {sizes[c]} and {n} in '{subscripts}' "
                                 f"(shapes {[o.shape for o in operands]})")
    return Einsum.apply(*operands, inputs=tuple(inputs), output=output)


def linear(input, weight, bias=None) -> Tensor:
    """Affine map y = x Wᵀ + b (the fully-connected layer, seed 000 §2.3).

    Shapes: input ``(*, in_features)``, weight (out_features, in_features), bias (out_features,).

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, W, b = sj.ones(4, 3), sj.ones(2, 3), sj.tensor([0.5, -0.5])
    >>> F.linear(x, W, b)[0]
    tensor([3.5, 2.5])
    """
    input, weight = as_tensor(input), as_tensor(weight)
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input shape {input.shape} does not match weight shape {weight.shape} "
                         "(expected input (*, in_features) and weight (out_features, in_features))")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias shape {tuple(bias.shape)} does not match weight shape {weight.shape}")
    _check_same_dtype("linear", input, weight)
    return Linear.apply(input, weight, bias)


def _check_same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    """Matrix products need one dtype (as PyTorch): no silent promotion, an int64 input to a float
    layer raises."""
    if a.dtype != b.dtype:
        raise DtypeError(f"{name}: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
