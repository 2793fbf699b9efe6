"""Tensor and the reverse-mode autograd engine.

A Tensor holds an array (``.data``) and, when it was produced by a differentiable
op while gradients are enabled, the node that produced it (``.grad_fn``). A node is
an ``autograd.Function`` instance: it knows its input tensors (``parents``) and how
to turn the gradient of its output into gradients of its inputs (``backward``).

``backward()`` is the chain rule of seed 000 §2 / 004 §2.1.3-2.1.4 applied to that
graph: visit nodes in reverse topological order, hand each node the sum of the
gradients flowing into its output (the δ of the notes), accumulate into leaves.
The engine knows no particular op; the ops live in ``shenjing.functional`` and are
bound to Tensor's operators when the package initialises.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from . import _backend as B


class _GradMode:
    __slots__ = ("enabled", "anomaly", "record_backward")

    def __init__(self):
        self.enabled = True
        self.anomaly = False
        self.record_backward = False  # every backward() runs with create_graph=True (see record_backward)


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    return grad_mode.enabled


def _run_inside(make_context, fn):
    """``fn`` wrapped so that each call runs inside a fresh ``make_context()`` (the decorator forms)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
            return fn(*args, **kwargs)

    return wrapper


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = grad_mode.enabled

    def __enter__(self):
        self.prev = grad_mode.enabled
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        grad_mode.enabled = self.prev
        return False

    def __call__(self, fn):
        return _run_inside(lambda: set_grad_enabled(self.mode), fn)


class no_grad(set_grad_enabled):
    """``with shenjing.no_grad():``, ``@shenjing.no_grad()`` or ``@shenjing.no_grad``: record no graph."""

    def __new__(cls, func=None):
        if callable(func):  # used as a bare decorator
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


class record_backward:
    """Inside this context every ``backward()`` is recorded (``create_graph=True``), so the ``.grad``
    left by code that calls ``backward()`` itself (an optimiser's closure) can be differentiated again."""

    def __enter__(self):
        self.prev = grad_mode.record_backward
        grad_mode.record_backward = True
        return self

    def __exit__(self, *exc):
        grad_mode.record_backward = self.prev
        return False


class detect_anomaly:
    """Check every forward output and backward gradient for NaN/Inf (a context manager or decorator).

    The error names the op (the ``Function`` class) that produced the bad value,
    and whether it happened in the forward or the backward pass.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)

    def __enter__(self):
        self.prev = grad_mode.anomaly
        grad_mode.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        grad_mode.anomaly = self.prev
        return False

    def __call__(self, fn):
        return _run_inside(lambda: detect_anomaly(self.check_nan), fn)


class AnomalyError(FloatingPointError, RuntimeError):
    """NaN or Inf found by :class:`detect_anomaly` (a RuntimeError too, as PyTorch raises)."""


def check_finite(array, op_name: str, phase: str) -> None:
    if isinstance(array, Tensor):
        array = array.data
    if not hasattr(array, "dtype"):  # the per-output gradients of a multi-output op
        return
    xp = B.xp_of(array)
    if array.dtype.kind == "f" and not bool(xp.isfinite(array).all()):
        raise AnomalyError(f"{op_name} produced NaN or Inf in its {phase} pass")


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)``. Python floats
    become float32 (the default dtype); NumPy arrays keep their dtype.

    >>> import shenjing as sj
    >>> x = sj.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    >>> x.shape, x.dtype, str(x.device), y.grad_fn is not None
    ((2, 2), dtype('float32'), 'cpu', True)
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_hooks", "_post_accumulate_grad_hooks", "__weakref__")
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor

    def __init__(self, data, requires_grad: bool = False, dtype=None, device=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = B.asarray(data, dtype, device, copy=True)  # like torch.tensor: never aliases the input
        self.grad = None
        self.grad_fn = None
        self._hooks = None
        self._post_accumulate_grad_hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, grad_fn=None):
        """Fast constructor for op outputs: no conversion, no checks."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else B.ensure_array(data)
        t.grad = None
        t.grad_fn = grad_fn
        t._hooks = None
        t._post_accumulate_grad_hooks = None
        t.requires_grad = grad_fn is not None
        return t

    # ----- attributes -------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """The shape, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self):
        """The NumPy dtype of the data."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """Where the data lives: a ``device`` equal to ``'cpu'`` or ``'cuda:N'`` (PyTorch's ``torch.device``)."""
        return B.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors no recorded op produced (inputs and parameters): ``backward()`` fills their ``.grad``."""
        return self.grad_fn is None

    def size(self, dim: int | None = None):
        """The shape as a tuple, or the size of dimension ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this tensor for ``backward()``, in place; only floating dtypes can."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise ValueError("requires_grad can only be cleared on leaf tensors; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after ``backward()``."""
        if self.grad_fn is not None:
            self.grad_fn.retained_output = weakref.ref(self)  # weak: no node <-> tensor cycle

    # ----- conversion -------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied from the GPU for a CuPy tensor; shared with the tensor on the CPU)."""
        return B.to_numpy(self.data)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """NumPy 2's conversion protocol: ``np.asarray(t)`` shares memory with ``t.data``,
        ``copy=True`` always copies, ``copy=False`` raises where a copy would be needed."""
        if type(self.data) is not np.ndarray:
            raise TypeError(
                f"can't convert a tensor on device '{self.device}' to a NumPy array implicitly; "
                "call .cpu() (or .numpy(), which copies to the host) first"
            )
        if copy is False and dtype is not None and np.dtype(dtype) != self.data.dtype:
            raise ValueError(f"converting dtype {self.data.dtype} to {np.dtype(dtype)} needs a copy, but copy=False")
        arr = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return arr.copy() if copy and arr is self.data else arr

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The data as (nested) Python lists of Python numbers."""
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __format__(self, format_spec: str) -> str:
        """``f"{loss:.3f}"`` formats a 0-d tensor's value; other tensors take only ``{}`` (as PyTorch)."""
        if self.data.ndim == 0:
            return format(self.item(), format_spec)
        return object.__format__(self, format_spec)

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors with one element can be used as an index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph: gradients flow back to this tensor."""
        from .functional.shape import clone

        return clone(self)

    def to(self, *args, dtype=None, device=None) -> Tensor:
        """``t.to('cuda')``, ``t.to(shenjing.float64)`` or ``t.to(device, dtype)``.

        The result stays in the graph (a differentiable cast) when the tensor requires grad.
        """
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda"):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None and B.as_dtype(dtype) != self.dtype:
            from .functional.elementwise import CastIndex, cast

            dtype = B.as_dtype(dtype)
            # casting to an integer or boolean type is not differentiable
            out = cast(out, dtype) if dtype.kind == "f" else CastIndex.apply(out, dtype)
        if device is not None and B.parse_device(device) != self.device:
            from .functional.elementwise import move

            out = move(out, B.parse_device(device))
        return out

    def double(self) -> Tensor:
        """This tensor as float64 (itself when it already is)."""
        return self.to(B.float64)

    def type(self, dtype=None):
        """``t.type(shenjing.float)`` casts as ``t.to(dtype)`` does; ``t.type()`` names the dtype."""
        return str(self.dtype) if dtype is None else self.to(dtype)

    def float(self) -> Tensor:
        """This tensor as float32 (itself when it already is)."""
        return self.to(B.float32)

    def cpu(self) -> Tensor:
        """This tensor on the CPU."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """This tensor on the GPU (CuPy)."""
        return self.to("cuda")

    # ----- in-place updates (x[i] = v, x += y, add_, ...: bound in functional/_bind.py) ------
    def _records_write(self, other=None) -> bool:
        """Whether an in-place update must be recorded in the graph (gradients are on and
        this tensor or ``other`` requires grad). A leaf that requires grad refuses it, as in PyTorch."""
        involved = self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        if not (involved and grad_mode.enabled):
            return False
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf tensor that requires grad cannot be modified in place; use `with shenjing.no_grad():`"
            )
        return True

    def _previous(self) -> Tensor:
        """This tensor's current value and node, as the input of a recorded in-place update."""
        return Tensor._wrap(self.data, self.grad_fn)

    def _rebind(self, result: Tensor) -> Tensor:
        """Become ``result`` (its data and node) while staying the same object, so every name
        bound to this tensor sees the update; ops recorded earlier keep the node they saw."""
        self.data, self.grad_fn, self.requires_grad = result.data, result.grad_fn, result.requires_grad
        return self

    # ----- autograd ----------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` (PyTorch's name) defaults to 1 for a one-element tensor; otherwise it must
        be given. The graph is freed afterwards unless ``retain_graph`` (default: ``create_graph``).
        With ``create_graph=True`` the backward pass is recorded too: the gradients are Tensors with
        a graph that can be differentiated again. ``inputs`` (tensors) limits the accumulation to them.
        """
        create_graph = create_graph or grad_mode.record_backward
        if inputs is None:
            run_backward((self,), (gradient,), retain_graph, create_graph=create_graph)
            return
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = run_backward((self,), (gradient,), retain_graph, inputs=inputs, create_graph=create_graph)
        fresh = {}
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g, fresh, create_graph)
        _own_fresh_grads(fresh)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during backward; a Tensor it returns replaces
        the gradient. Returns a handle whose ``remove()`` unregisters the hook (PyTorch's semantics)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        owner = self if self.grad_fn is None else self.grad_fn
        hooks = owner._hooks
        if hooks is None:
            hooks = owner._hooks = []
        hooks.append(hook)
        return _RemovableHook(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook) -> _RemovableHook:
        """Call ``hook(self)`` once per backward pass, after the last gradient of that pass has been
        accumulated into this leaf's ``.grad`` (PyTorch's name). Returns a handle with ``remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors accumulate into .grad")
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = []
        self._post_accumulate_grad_hooks.append(hook)
        return _RemovableHook(self._post_accumulate_grad_hooks, hook)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = []
        if self.dtype != B.float32 and self.dtype.kind == "f" or self.dtype.kind != "f":
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


class _RemovableHook:
    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _run_hooks(hooks, grad, create_graph: bool):
    """Pass ``grad`` through the tensor hooks; each sees (and may replace) the gradient as a Tensor."""
    value = grad if create_graph else Tensor._wrap(grad)
    for hook in hooks:
        result = hook(value)
        if result is not None:
            value = result if isinstance(result, Tensor) else Tensor._wrap(B.asarray(result))
    return value if create_graph else value.data


_final_callbacks = []


def queue_callback(callback) -> None:
    """Run ``callback()`` once the backward pass now running has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``)."""
    _final_callbacks.append(callback)


def _hooked_leaves_by_last_node(order: list) -> dict:
    """node -> the hooked leaves to which it is the last node of ``order`` to deliver a gradient."""
    last = {}
    for node in order:
        for parent, fn in zip(node.parents or (), node.parent_fns or ()):
            if fn is None and parent is not None and parent._post_accumulate_grad_hooks:
                last[id(parent)] = (node, parent)
    by_node = {}
    for node, leaf in last.values():
        by_node.setdefault(node, []).append(leaf)
    return by_node


def _run_post_accumulate_hooks(leaves) -> None:
    for leaf in leaves:
        for hook in list(leaf._post_accumulate_grad_hooks):
            hook(leaf)


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots`` so that each comes after every node that uses its output."""
    order, visited = [], set()
    for root in roots:
        if root is None or id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.parent_fns or ()))]
        while stack:
            node, parent_fns = stack[-1]
            for fn in parent_fns:
                if fn is not None and id(fn) not in visited:
                    visited.add(id(fn))
                    stack.append((fn, iter(fn.parent_fns or ())))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _initial_grad(tensor: Tensor, grad, create_graph: bool = False):
    if grad is None:
        if tensor.data.size != 1:
            raise ValueError(
                f"backward() on a tensor of shape {tensor.shape} needs an explicit grad of the same shape"
            )
        ones = B.xp_of(tensor.data).ones_like(tensor.data)
        return Tensor._wrap(ones) if create_graph else ones
    if create_graph and isinstance(grad, Tensor):
        if grad.shape != tensor.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the tensor has shape {tensor.shape}")
        # stays in the graph: the result is differentiable with respect to it too
        return grad if grad.dtype == tensor.dtype else grad.to(tensor.dtype)
    grad = grad.data if isinstance(grad, Tensor) else B.asarray(grad, tensor.dtype, tensor.device)
    if grad.shape != tensor.shape:
        raise ValueError(f"backward: grad has shape {grad.shape} but the tensor has shape {tensor.shape}")
    grad = grad.astype(tensor.dtype, copy=True)
    return Tensor._wrap(grad) if create_graph else grad


def run_backward(roots, grads, retain_graph=None, inputs=None, create_graph: bool = False):
    """Propagate ``grads`` from ``roots`` through the graph.

    Leaves get their gradients accumulated into ``.grad``. When ``inputs`` (a list
    of tensors) is given, no ``.grad`` is touched: the gradients of exactly those
    tensors are returned (None where no gradient reached them); this is ``autograd.grad``.
    Gradients are raw arrays, or, with ``create_graph=True``, Tensors whose computation
    is itself recorded (each node's backward then runs on graph values, see
    ``autograd.Function``). ``retain_graph`` defaults to ``create_graph``.
    """
    if retain_graph is None:
        retain_graph = create_graph
    pending = {}
    captured = None if inputs is None else {id(t): None for t in inputs}
    watched = {} if inputs is None else {id(t.grad_fn): id(t) for t in inputs if t.grad_fn is not None}
    fresh = {}  # id(leaf) -> leaf whose .grad was set in this pass

    def deliver(tensor, grad):
        hooks = tensor._hooks
        if hooks:
            grad = _run_hooks(hooks, grad, create_graph)
        if captured is not None:
            key = id(tensor)
            if key in captured:
                captured[key] = grad if captured[key] is None else captured[key] + grad
        elif tensor.requires_grad:
            _accumulate(tensor, grad, fresh, create_graph)

    for tensor, grad in zip(roots, grads):
        if not tensor.requires_grad:
            raise RuntimeError("backward: the tensor does not require grad and has no grad_fn")
        grad = _initial_grad(tensor, grad, create_graph)
        node = tensor.grad_fn
        if node is None:
            deliver(tensor, grad)
        else:
            pending[node] = pending[node] + grad if node in pending else grad

    anomaly = grad_mode.anomaly
    order = _topological_order(list(pending))
    finished_by = _hooked_leaves_by_last_node(order) if captured is None else {}
    with set_grad_enabled(create_graph):
        for node in order:
            grad = pending.pop(node, None)
            if grad is None:
                continue
            if node._hooks:
                grad = _run_hooks(node._hooks, grad, create_graph)
            if id(node) in watched:
                captured[watched[id(node)]] = grad
            out = node.retained_output and node.retained_output()
            if out is not None and captured is None:
                _retain(out, grad, create_graph)
            if node.parents is None:
                raise RuntimeError(
                    f"backward through {type(node).__name__} a second time: its graph was freed; "
                    "pass retain_graph=True to the first backward()"
                )
            input_grads = node.graph_backward(grad) if create_graph else node.backward(node, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for parent, fn, g in zip(node.parents, node.parent_fns, input_grads):
                if parent is None or g is None:
                    continue
                if anomaly:
                    check_finite(g, type(node).__name__, "backward")
                if fn is None:
                    deliver(parent, g)
                else:
                    pending[fn] = pending[fn] + g if fn in pending else g
            if not retain_graph:
                node.release()
            _run_post_accumulate_hooks(finished_by.pop(node, ()))
    # what is left: leaves whose last node received no gradient
    _run_post_accumulate_hooks([leaf for leaves in finished_by.values() for leaf in leaves])
    _own_fresh_grads(fresh)
    while _final_callbacks:
        _final_callbacks.pop(0)()
    if captured is not None:
        return [captured[id(t)] for t in inputs]
    return None


def _retain(out: Tensor, grad, create_graph: bool) -> None:
    """``out.grad`` of a tensor that asked for ``retain_grad()``."""
    if create_graph:
        out.grad = grad if out.grad is None else out.grad + grad
    else:
        out.grad = Tensor._wrap(grad.copy() if out.grad is None else out.grad.data + grad)


def _accumulate(leaf: Tensor, grad, fresh: dict, create_graph: bool = False) -> None:
    if create_graph:  # a graph value: never written into, summed out of place as in PyTorch
        grad = grad if grad.dtype == leaf.data.dtype else grad.to(leaf.data.dtype)
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        return
    if isinstance(grad, Tensor):
        grad = grad.data
    if grad.dtype != leaf.data.dtype:
        grad = grad.astype(leaf.data.dtype)
    if leaf.grad is None:
        leaf.grad = Tensor._wrap(grad)
        fresh[id(leaf)] = leaf
    elif leaf.grad.requires_grad:  # a recorded gradient (create_graph): its array belongs to a graph
        leaf.grad = Tensor._wrap(leaf.grad.data + grad)
    elif id(leaf) in fresh:
        # this pass's arrays may still be read by nodes not yet visited: never write into them
        leaf.grad.data = B.ensure_array(leaf.grad.data + grad)
    else:
        leaf.grad.data += grad


def _own_fresh_grads(fresh: dict) -> None:
    """Give each leaf set in this pass a private, writable gradient array.

    An op's backward may hand the same array to two inputs (``a + b``) or return a
    read-only broadcast view; optimisers later update ``.grad`` in place.
    """
    seen = set()
    for leaf in fresh.values():
        data = leaf.grad.data
        if id(data) in seen or not data.flags.owndata or not getattr(data.flags, "writeable", True):
            leaf.grad.data = data.copy()
        seen.add(id(leaf.grad.data))
