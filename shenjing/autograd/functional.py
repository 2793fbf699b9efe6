"""Jacobians, Hessians and their products, with ``torch.autograd.functional``'s conventions.

``inputs`` is a Tensor or a tuple of Tensors, and each result mirrors it: a Tensor in gives a
Tensor out, a tuple gives a tuple. ``vjp``/``jvp``/``hvp``/``vhp`` return ``(func(inputs), result)``.
Results are detached unless ``create_graph=True``. All of them are built on reverse mode with
``create_graph=True`` (a Jacobian-vector product is the vjp of a vjp, linear in its upstream).
For a scalar f with gradient g and Hessian H (seed 002 参数更新2：牛顿下降法):
``hvp = H v``, ``vhp = vᵀ H`` (equal, H being symmetric).
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..tensor import Tensor, enable_grad
from . import grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, name: str) -> tuple[bool, tuple]:
    single = isinstance(x, Tensor)
    items = (x,) if single else tuple(x)
    if not all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"{name} must be a Tensor or a tuple of Tensors")
    return single, items


def _fresh(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that ``func`` is differentiated at: new leaves sharing the data or, with ``create_graph``,
    differentiable copies of inputs that require grad (so results stay connected to them, as in PyTorch)."""
    return tuple(
        t.clone() if create_graph and t.requires_grad
        else t.detach().requires_grad_(True) if t.dtype.kind == "f" else t.detach()
        for t in inputs
    )


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._wrap(B.xp_of(t.data).zeros_like(t.data))


def _grads(outputs, inputs, grad_outputs, create_graph: bool) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs``; zeros where an input was not used."""
    differentiable = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not differentiable:
        return tuple(_zeros_like(t) for t in inputs)
    grads = grad([o for o, _ in differentiable], list(inputs), [g for _, g in differentiable],
                 retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(_zeros_like(t) if g is None else g for t, g in zip(inputs, grads))


def _vectors(v, like: tuple, name: str) -> tuple:
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise ValueError(f"{name}: v can be omitted only when every tensor it pairs with has one element")
        return tuple(Tensor._wrap(B.xp_of(t.data).ones_like(t.data)) for t in like)
    _, vs = _as_tuple(v, f"{name}: v")
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise ValueError(f"{name}: v has shapes {[a.shape for a in vs]}, expected {[b.shape for b in like]}")
    return vs


def _finish(single: bool, items, create_graph: bool):
    items = tuple(t if create_graph else t.detach() for t in items)
    return items[0] if single else items


def vjp(func, inputs, v=None, create_graph: bool = False):
    """``(func(inputs), vᵀ J)``: the vector-Jacobian product, one result per input.

    >>> x = Tensor([1.0, 2.0])
    >>> vjp(lambda x: x * x, x, Tensor([1.0, 1.0]))[1].tolist()
    [2.0, 4.0]
    """
    single_in, xs = _as_tuple(inputs, "vjp: inputs")
    with enable_grad():
        xs = _fresh(xs, create_graph)
        single_out, outs = _as_tuple(func(*xs), "vjp: func's output")
        result = _grads(outs, xs, _vectors(v, outs, "vjp"), create_graph)
    return _finish(single_out, outs, create_graph), _finish(single_in, result, create_graph)


def jvp(func, inputs, v=None, create_graph: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, one result per output.

    Computed as the vjp of the (linear) vjp ``u ↦ uᵀ J`` at ``v``.

    >>> x = Tensor([1.0, 2.0])
    >>> jvp(lambda x: x * x, x, Tensor([1.0, 0.0]))[1].tolist()
    [2.0, 0.0]
    """
    single_in, xs = _as_tuple(inputs, "jvp: inputs")
    with enable_grad():
        xs = _fresh(xs, create_graph)
        vs = _vectors(v, xs, "jvp")
        single_out, outs = _as_tuple(func(*xs), "jvp: func's output")
        dummies = tuple(_zeros_like(o).requires_grad_(True) for o in outs)
        grads = _grads(outs, xs, dummies, create_graph=True)
        result = _grads(grads, dummies, vs, create_graph)
    return _finish(single_out, outs, create_graph), _finish(single_out, result, create_graph)


def _unit_rows(out: Tensor):
    """One-hot upstream gradients, one per element of ``out`` (the rows of the identity)."""
    xp = B.xp_of(out.data)
    for k in range(out.numel()):
        row = xp.zeros(out.numel(), dtype=out.dtype)
        row[k] = 1
        yield Tensor._wrap(row.reshape(out.shape))


def _jacobian_rows(outs: tuple, xs: tuple, create_graph: bool) -> list:
    """``rows[i][j]``: d outs[i] / d xs[j], of shape outs[i].shape + xs[j].shape."""
    from ..functional.shape import stack

    rows = []
    for out in outs:
        per_element = [
            _grads((out,), xs, (e,), create_graph) if out.requires_grad else tuple(map(_zeros_like, xs))
            for e in _unit_rows(out)
        ]
        rows.append(tuple(
            stack([g[j] for g in per_element]).reshape(out.shape + x.shape) if per_element
            else Tensor._wrap(np.zeros(out.shape + x.shape, dtype=x.dtype))
            for j, x in enumerate(xs)
        ))
    return rows


def _nest(single_out: bool, single_in: bool, rows: list, create_graph: bool):
    rows = [_finish(single_in, row, create_graph) for row in rows]
    return rows[0] if single_out else tuple(rows)


def jacobian(func, inputs, create_graph: bool = False):
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape``.

    A tuple of inputs gives a tuple per output, a tuple of outputs a tuple of those.

    >>> jacobian(lambda x: x * x, Tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    single_in, xs = _as_tuple(inputs, "jacobian: inputs")
    with enable_grad():
        xs = _fresh(xs, create_graph)
        single_out, outs = _as_tuple(func(*xs), "jacobian: func's output")
        rows = _jacobian_rows(outs, xs, create_graph)
    return _nest(single_out, single_in, rows, create_graph)


def _scalar(func, xs: tuple, name: str) -> Tensor:
    out = func(*xs)
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise ValueError(f"{name}: func must return a Tensor with one element")
    return out


def hessian(func, inputs, create_graph: bool = False):
    """The Hessian of a scalar ``func``: shape ``input.shape + input.shape`` (tuple of tuples for
    tuple inputs), the matrix H of Newton's method (seed 002 参数更新2：牛顿下降法).

    >>> hessian(lambda x: (x ** 3).sum(), Tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    single_in, xs = _as_tuple(inputs, "hessian: inputs")
    with enable_grad():
        xs = _fresh(xs, create_graph)
        out = _scalar(func, xs, "hessian")
        grads = _grads((out.reshape(()),), xs, (None,), create_graph=True)
        rows = _jacobian_rows(grads, xs, create_graph)
    return _nest(single_in, single_in, rows, create_graph)


def vhp(func, inputs, v=None, create_graph: bool = False):
    """``(func(inputs), vᵀ H)`` for a scalar ``func``: the gradient of ``gᵀ v``.

    >>> vhp(lambda x: (x ** 3).sum(), Tensor([1.0, 2.0]), Tensor([1.0, 1.0]))[1].tolist()
    [6.0, 12.0]
    """
    single_in, xs = _as_tuple(inputs, "vhp: inputs")
    with enable_grad():
        xs = _fresh(xs, create_graph)
        vs = _vectors(v, xs, "vhp")
        out = _scalar(func, xs, "vhp")
        grads = _grads((out.reshape(()),), xs, (None,), create_graph=True)
        result = _grads(grads, xs, vs, create_graph)
    return _finish(True, (out,), create_graph), _finish(single_in, result, create_graph)


def hvp(func, inputs, v=None, create_graph: bool = False):
    """``(func(inputs), H v)`` for a scalar ``func``; H is symmetric, so this is :func:`vhp`'s value.

    >>> hvp(lambda x: (x ** 3).sum(), Tensor([1.0, 2.0]), Tensor([1.0, 0.0]))[1].tolist()
    [6.0, 0.0]
    """
    return vhp(func, inputs, v, create_graph)
