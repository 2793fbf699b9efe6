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
"""

from __future__ import annotations

import numpy as np

from . import _backend as B
from .tensor import Tensor, check_finite, detect_anomaly, grad_mode, no_grad, run_backward

__all__ = ["Function", "grad", "gradcheck", "detect_anomaly", "GradcheckError"]

_ARRAY_ERRORS = (ValueError, IndexError, TypeError)

# Observers of every op call, Chainer's function hooks: ``hook(fn_class, args, kwargs, output)``
# runs after each ``Function.apply``, with or without gradients (the ONNX tracer is one).
apply_hooks: list = []


class Function:
    """Base class of every differentiable op; an instance is a node of the graph (``grad_fn``)."""

    parents: tuple | None = ()
    parent_fns: tuple | None = ()
    needs_input_grad: tuple = ()
    retained_output = None

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
        if grad_mode.anomaly:
            check_finite(out, cls.__name__, "forward")
        if not record:
            return Tensor._wrap(out)
        parents = tuple(a if isinstance(a, Tensor) and a.requires_grad else None for a in args)
        ctx.parents = parents
        # the inputs' nodes as they are now: a later in-place update of an input rebinds its node
        ctx.parent_fns = tuple(None if a is None else a.grad_fn for a in parents)
        return Tensor._wrap(out, ctx)

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for ``backward`` as ``ctx.saved_tensors`` (PyTorch's spelling; ``ctx.x = ...`` works too)."""
        self.saved_tensors = arrays

    def release(self) -> None:
        """Drop the inputs and saved arrays once backward has used them (frees the graph)."""
        self.__dict__.clear()
        self.parents = self.parent_fns = None

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


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool = False, allow_unused: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    ``outputs`` is a Tensor or a sequence of them; ``grad_outputs`` the matching
    upstream gradients (default: ones for one-element outputs). Returns a tuple of
    Tensors, one per input (None for an unused input when ``allow_unused=True``).
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
    grads = run_backward(outputs, list(grad_outputs), retain_graph, inputs=inputs)
    for t, g in zip(inputs, grads):
        if g is None and not allow_unused:
            raise ValueError(
                f"grad: an input of shape {t.shape} was not used to compute the outputs; pass allow_unused=True"
            )
    return tuple(None if g is None else Tensor._wrap(g) for g in grads)


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients differ."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Compare back-propagated gradients with central differences, in float64.

    For a random projection ``v`` of the output, the analytic gradient of
    ``sum(v * fn(*inputs))`` with respect to every floating input tensor is
    compared with ``(f(x + eps) - f(x - eps)) / (2 eps)`` element by element.
    Passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` everywhere;
    otherwise raises :class:`GradcheckError` naming the input and the worst element.
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
