"""Differentiable functions, ``autograd.grad`` and ``gradcheck``.

A new op is a subclass of :class:`Function` with two static methods that work on
raw arrays, side by side, like ``torch.autograd.Function``::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return 2 * ctx.x * grad

    y = Square.apply(t)

``backward`` returns one gradient per positional input of ``forward`` (None for
inputs that are not tensors or need no gradient). It must not modify ``grad`` in place.

Higher-order derivatives (``grad(..., create_graph=True)``): this ``Square`` is
first-order (differentiating its gradient raises ``RuntimeError`` naming it). Its
backward uses only operators, so ``differentiable_backward = True`` would make it
differentiable to any order: ``ctx.x`` then arrives as the graph's Tensor. See
:class:`Function` and :mod:`shenjing.autograd.functional`.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _backend as B
from ..tensor import Tensor, check_finite, detect_anomaly, enable_grad, grad_mode, no_grad, run_backward

__all__ = ["Function", "grad", "gradcheck", "gradgradcheck", "detect_anomaly", "GradcheckError"]

_ARRAY_ERRORS = (ValueError, IndexError, TypeError)

# Observers of every op call, Chainer's function hooks: ``hook(fn_class, args, kwargs, output)``
# runs after each ``Function.apply``, with or without gradients (the ONNX tracer is one).
apply_hooks: list = []


class Function:
    """Base class of every differentiable op; an instance is a node of the graph (``grad_fn``).

    ``forward`` may return a tuple of arrays: the op then has several outputs and
    ``backward(ctx, *grads)`` receives one gradient per output (zeros for an unused one).

    Higher-order derivatives: with ``differentiable_backward = True`` the op declares that its
    ``backward`` is written with operators and shenjing ops (``functional._dispatch``) that work on
    raw arrays and on Tensors alike. Under ``create_graph=True`` the engine then calls it with the
    gradient as a Tensor and the saved inputs and output as the graph's Tensors (Chainer's
    ``retain_inputs``, PyTorch's ``save_for_backward``), so the backward is itself recorded. Any
    other ``backward`` works on raw arrays and stays first-order: its gradients can be used, but
    differentiating them raises ``RuntimeError`` naming the class.

    A fused op whose backward reads intermediates derived in its forward (a convolution's
    lowered taps, a norm's x̂) keeps that fast backward and instead names a ``composite``: the
    same function written with differentiable ops, taking forward's arguments (graph Tensors for
    the inputs that require grad). Under ``create_graph=True`` the engine re-runs it on the
    inputs and back-propagates through it with the graph recorded.
    """

    parents: tuple | None = ()
    parent_fns: tuple | None = ()
    needs_input_grad: tuple = ()
    retained_output = None
    differentiable_backward = False
    composite = None
    input_ids: tuple = ()
    output_id = None
    _hooks = None

    @staticmethod
    def forward(ctx, *arrays, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        if apply_hooks:
            return _observed_apply(cls, args, kwargs)
        ctx = cls()
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        record = grad_mode.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except _ARRAY_ERRORS as err:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
            raise type(err)(f"{cls.__name__}: {err} (input shapes {shapes})") from None
        if type(out) is tuple:
            return ctx._wrap_outputs(out, args, arrays, record)
        if grad_mode.anomaly:
            check_finite(out, cls.__name__, "forward")
        if not record:
            return Tensor._wrap(out)
        ctx._record(args, arrays, kwargs)
        ctx.output_id = id(out)
        return Tensor._wrap(out, ctx)

    def _record(self, args, arrays, kwargs) -> None:
        parents = tuple(a if isinstance(a, Tensor) and a.requires_grad else None for a in args)
        self.parents = parents
        # the inputs' nodes as they are now: a later in-place update of an input rebinds its node
        self.parent_fns = tuple(None if a is None else a.grad_fn for a in parents)
        # which arrays were inputs, so a graph view can give saved inputs back as Tensors
        self.input_ids = tuple(map(id, arrays))
        if self.composite is not None:
            self.call = (tuple(arrays), kwargs)

    def _wrap_outputs(self, outs: tuple, args, arrays, record: bool) -> tuple:
        """A multi-output op: one Tensor per output, each behind its own :class:`_Output` node."""
        if grad_mode.anomaly:
            for out in outs:
                check_finite(out, type(self).__name__, "forward")
        if not record:
            return tuple(Tensor._wrap(out) for out in outs)
        self._record(args, arrays, {})
        self.output_specs = [(B.xp_of(out), out.shape, out.dtype) for out in outs]
        self.backward = _backward_per_output  # an instance attribute: the engine calls node.backward(node, grads)
        return tuple(Tensor._wrap(out, _Output(self, i, len(outs))) for i, out in enumerate(outs))

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for ``backward`` as ``ctx.saved_tensors`` (PyTorch's spelling; ``ctx.x = ...`` works too)."""
        self.saved_tensors = arrays

    def release(self) -> None:
        """Drop the inputs and saved arrays once backward has used them (frees the graph)."""
        self.__dict__.clear()
        self.parents = self.parent_fns = None

    def graph_backward(self, grad: Tensor) -> tuple:
        """This node's backward under ``create_graph=True``: recorded, on graph values."""
        cls = type(self)
        if _declared(cls, "forward", "composite"):
            return self._composite_backward(grad)
        view = self._graph_view() if _declared(cls, "backward", "differentiable_backward") else None
        grads = self.backward(self, _raw(grad)) if view is None else self.backward(view, grad)
        grads = grads if type(grads) is tuple else (grads,)
        return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g, _FirstOrderOnly(cls)) for g in grads)

    def _composite_backward(self, grad: Tensor) -> tuple:
        """Back-propagate ``grad`` through ``composite`` re-run on the inputs, recording the pass."""
        arrays, kwargs = self.call
        args = [
            a if parent is None else parent if fn is None else Tensor._wrap(a, fn)
            for a, parent, fn in zip(arrays, self.parents, self.parent_fns)
        ]
        targets = [a for a, parent in zip(args, self.parents) if parent is not None]
        out = type(self).composite(*args, **kwargs)
        grads = iter(run_backward([out], [grad], inputs=targets, create_graph=True))
        return tuple(None if parent is None else next(grads) for parent in self.parents)

    def _graph_view(self):
        """A copy of this node whose saved inputs and output are the graph's Tensors, or None when
        one array was two different inputs (``x * x.detach()``): then which is saved is unknowable."""
        inputs = {}
        for parent, fn, key in zip(self.parents, self.parent_fns, self.input_ids):
            seen = inputs.setdefault(key, (parent, fn))
            if seen[0] is not parent or seen[1] is not fn:
                return None
        inputs = {key: entry for key, entry in inputs.items() if entry[0] is not None}

        def as_graph(value):
            key = id(value)
            if key == self.output_id:
                return Tensor._wrap(value, self)
            if key in inputs:
                parent, fn = inputs[key]
                return parent if fn is None else Tensor._wrap(value, fn)
            if type(value) in (tuple, list):
                return type(value)(map(as_graph, value))
            return value

        view = object.__new__(type(self))
        view.__dict__ = {k: v if k in _ENGINE_FIELDS else as_graph(v) for k, v in self.__dict__.items()}
        return view

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _observed_apply(cls, args, kwargs):
    """``cls.apply`` with the hooks set aside (an op called inside another is not seen), then shown to them."""
    hooks = apply_hooks.copy()
    apply_hooks.clear()
    try:
        out = cls.apply(*args, **kwargs)
    finally:
        apply_hooks[:] = hooks
    for hook in hooks:
        hook(cls, args, kwargs, out)
    return out


_ENGINE_FIELDS = frozenset((
    "parents", "parent_fns", "input_ids", "output_id", "needs_input_grad", "retained_output", "_hooks",
    "backward", "output_specs", "call",
))


@functools.cache
def _declared(cls: type, method: str, attribute: str):
    """``cls.attribute`` as declared by the class that defines the ``method`` in use or by one of its
    subclasses: a class that overrides ``backward`` (or ``forward``) does not inherit its parent's
    higher-order declaration."""
    for k in cls.__mro__:
        if attribute in k.__dict__ or method in k.__dict__:
            return k.__dict__.get(attribute) or None
    return None


def _raw(grad):
    if isinstance(grad, Tensor):
        return grad.data
    if isinstance(grad, _PerOutput):
        return _PerOutput([None if g is None else _raw(g) for g in grad.grads])
    return grad


class _PerOutput:
    """The gradients of a multi-output op, one slot per output (None until one arrives)."""

    __slots__ = ("grads",)

    def __init__(self, grads: list):
        self.grads = grads

    def __add__(self, other: _PerOutput) -> _PerOutput:
        return _PerOutput([a if b is None else b if a is None else a + b for a, b in zip(self.grads, other.grads)])


def _backward_per_output(ctx, per_output: _PerOutput):
    """Call a multi-output op's ``backward(ctx, *grads)``, zeros standing in for unused outputs."""
    as_tensor = any(isinstance(g, Tensor) for g in per_output.grads)
    grads = []
    for g, (xp, shape, dtype) in zip(per_output.grads, ctx.output_specs):
        if g is None:
            g = xp.zeros(shape, dtype)
            g = Tensor._wrap(g) if as_tensor else g
        grads.append(g)
    return type(ctx).backward(ctx, *grads)


_SLOT = object()  # the stand-in "input" of an _Output node: its gradient always goes on to the op


class _Output(Function):
    """Output ``index`` of a multi-output op: passes its gradient on to the op, in its slot."""

    def __init__(self, node: Function, index: int, count: int):
        self.parents, self.parent_fns = (_SLOT,), (node,)
        self.index, self.count = index, count

    @staticmethod
    def backward(ctx, grad):
        grads = [None] * ctx.count
        grads[ctx.index] = grad
        return _PerOutput(grads)

    def graph_backward(self, grad):
        return (self.backward(self, grad),)


class _FirstOrderOnly(Function):
    """The node behind a gradient computed by a raw-array ``backward`` under ``create_graph=True``."""

    def __init__(self, source: type):
        self.source = source

    @staticmethod
    def backward(ctx, grad):
        name = ctx.source.__name__
        raise RuntimeError(
            f"{name}.backward works on raw arrays, so its gradient cannot be differentiated again; "
            f"write it with shenjing ops and set {name}.differentiable_backward = True"
        )


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    ``outputs`` is a Tensor or a sequence of them; ``grad_outputs`` the matching
    upstream gradients (default: ones for one-element outputs). Returns a tuple of
    Tensors, one per input (None for an unused input when ``allow_unused=True``).
    With ``create_graph=True`` the gradients carry a graph and can be differentiated
    again (``retain_graph`` defaults to ``create_graph``), as in PyTorch.

    >>> x = Tensor([2.0], requires_grad=True)
    >>> (g,) = grad(x ** 3, x, create_graph=True)   # 3 x^2
    >>> float(grad(g, x)[0][0])                       # 6 x
    12.0
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError("grad: every input must be a Tensor that requires grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    grads = run_backward(outputs, list(grad_outputs), retain_graph, inputs=inputs, create_graph=create_graph)
    for t, g in zip(inputs, grads):
        if g is None and not allow_unused:
            raise ValueError(
                f"grad: an input of shape {t.shape} was not used to compute the outputs; pass allow_unused=True"
            )
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in grads)


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients differ.

    >>> import shenjing as sj
    >>> class WrongSquare(sj.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.x = x
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return ctx.x * grad
    ...
    >>> x = sj.ones(2, dtype=sj.float64, requires_grad=True)
    >>> try:
    ...     sj.autograd.gradcheck(WrongSquare.apply, [x])
    ... except sj.autograd.GradcheckError:
    ...     print("the analytic gradient is wrong")
    ...
    the analytic gradient is wrong
    """


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Compare back-propagated gradients with central differences, in float64.

    For a random projection ``v`` of the output, the analytic gradient of
    ``sum(v * fn(*inputs))`` with respect to every floating input tensor is
    compared with ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element.
    Passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` everywhere;
    otherwise raises :class:`GradcheckError` naming the input and the worst element.

    >>> import shenjing as sj
    >>> x = sj.randn(3, dtype=sj.float64, requires_grad=True)
    >>> sj.autograd.gradcheck(lambda t: (t.sin() * t).sum(), [x])
    True
    """
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    leaves = [
        Tensor(x.data.astype(np.float64), requires_grad=True) if isinstance(x, Tensor) and x.dtype.kind == "f" else x
        for x in inputs
    ]
    targets = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
    if not targets:
        raise ValueError("gradcheck: inputs must contain at least one floating-point Tensor")

    def as_tuple(out):
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)

    outs = [o for o in as_tuple(fn(*leaves)) if isinstance(o, Tensor) and o.dtype.kind == "f"]
    rng = np.random.default_rng(seed)
    weights = [B.to_device(rng.standard_normal(o.shape), o.device) for o in outs]

    def projected(*args) -> float:
        with no_grad():
            results = [o for o in as_tuple(fn(*args)) if isinstance(o, Tensor) and o.dtype.kind == "f"]
        return float(sum((o.data * w).sum() for o, w in zip(results, weights)))

    differentiable = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
    analytic = [None] * len(leaves)
    if differentiable:
        grads = run_backward(
            [o for o, _ in differentiable], [w for _, w in differentiable], inputs=[leaves[i] for i in targets]
        )
        for i, g in zip(targets, grads):
            analytic[i] = np.zeros(leaves[i].shape) if g is None else B.to_numpy(g)
    for i in targets:
        x = leaves[i]
        expected = analytic[i] if analytic[i] is not None else np.zeros(x.shape)
        numeric = np.zeros(x.shape)
        flat = x.data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            plus = projected(*leaves)
            flat[j] = orig - eps
            minus = projected(*leaves)
            flat[j] = orig
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        err = np.abs(expected - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            k = np.unravel_index(np.argmax(err - rtol * np.abs(numeric)), x.shape)
            raise GradcheckError(
                f"gradcheck failed for input {i} (shape {x.shape}) at index {tuple(int(v) for v in k)}: "
                f"analytic {expected[k]:.10g} vs numerical {numeric[k]:.10g}"
            )
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  seed: int = 0) -> bool:
    """Compare second derivatives with central differences of the first, in float64.

    The first derivatives ``g(x) = ∂ sum(v * fn(x)) / ∂x`` (``v``: ``grad_outputs``, one per
    output, or random) are computed with ``create_graph=True``, then :func:`gradcheck` checks the
    back-propagated derivatives of ``g`` against ``(g(x + eps) - g(x - eps)) / (2 eps)``.

    >>> gradgradcheck(lambda x: x.tanh() * x, [Tensor([0.3, -1.2], requires_grad=True)])
    True
    """
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    rng = np.random.default_rng(seed)
    given = [] if grad_outputs is None else _as_tuple(grad_outputs)
    weights = {i: v if isinstance(v, Tensor) else Tensor(v) for i, v in enumerate(given)}

    def first_derivatives(*args):
        with enable_grad():
            outs = [o for o in _as_tuple(fn(*args)) if isinstance(o, Tensor) and o.requires_grad]
            targets = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
            for i, o in enumerate(outs):
                if i not in weights:
                    weights[i] = Tensor._wrap(B.to_device(rng.standard_normal(o.shape).astype(o.dtype), o.device))
            grads = grad(outs, targets, [weights[i] for i in range(len(outs))], create_graph=True, allow_unused=True)
        return tuple(Tensor._wrap(B.xp_of(t.data).zeros_like(t.data)) if g is None else g
                     for t, g in zip(targets, grads))

    return gradcheck(first_derivatives, inputs, eps, atol, rtol, seed + 1)


def _as_tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)
