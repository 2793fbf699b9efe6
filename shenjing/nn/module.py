"""Module and Parameter: the containers every layer is built from (PyTorch's semantics)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator

import numpy as np

from .. import _backend as B
from ..tensor import Tensor, no_grad
from ._backward_hooks import BackwardHookCall

__all__ = ["Parameter", "Module"]


class Parameter(Tensor):
    """A Tensor a Module registers as a learnable weight (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=B.get_default_dtype())
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models.

    Assigning a Parameter, a Module or (via ``register_buffer``) a Tensor as an
    attribute registers it; ``parameters()``, ``state_dict()``, ``to()`` and
    ``train()``/``eval()`` then walk the tree.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration -------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name}")
        target = self._store_for(name, value)
        for store in (self._parameters, self._buffers, self._modules):
            if store is not target:
                store.pop(name, None)
        if target is None:
            object.__setattr__(self, name, value)
            return
        target[name] = value  # a name already registered keeps its place (parameters(), state-dict keys)
        self.__dict__.pop(name, None)

    def _store_for(self, name: str, value):
        """Where an assignment is registered: parameters, modules or buffers (None: a plain attribute).
        None assigned to a registered parameter or submodule keeps the slot, as in PyTorch."""
        if isinstance(value, Parameter):
            return self._parameters
        if isinstance(value, Module):
            return self._modules
        if name in self._buffers_names():
            return self._buffers
        if value is None:
            return next((store for store in (self._parameters, self._modules) if name in store), None)
        return None

    def _buffers_names(self):
        return self.__dict__.get("_buffer_names", ())

    def __getattr__(self, name: str):
        for store in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(store)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
            self.__dict__.pop(name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (e.g. BatchNorm's running mean)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got {type(tensor).__name__}")
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    # ----- traversal ------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` ('' is this module)."""
        module = self
        for name in filter(None, target.split(".")):
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{name}' (looking up '{target}')")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``, e.g. ``'0.weight'``."""
        prefix, _, name = target.rpartition(".")
        module = self.get_submodule(prefix)
        if module._parameters.get(name) is None:
            raise AttributeError(f"{type(module).__name__} has no parameter '{name}' (looking up '{target}')")
        return module._parameters[name]

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, attr: str, recurse: bool):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, attr).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        for name, p in self._named_members("_parameters", recurse):
            yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        for name, b in self._named_members("_buffers", recurse):
            yield (f"{prefix}.{name}" if prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----- modes and helpers ------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every submodule (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """Move/cast every parameter and floating buffer in place (``model.to('cuda')``, ``.to(float64)``)."""
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda"):
                device = arg
            else:
                dtype = arg
        dtype = None if dtype is None else B.as_dtype(dtype)
        device = None if device is None else B.parse_device(device)

        def convert(t: Tensor) -> None:
            data = t.data
            if device is not None:
                data = B.to_device(data, device)
            if dtype is not None and data.dtype.kind == "f":
                data = data.astype(dtype)
            t.data = data
            if t.grad is not None:
                t.grad = None

        for t in list(self.parameters()) + list(self.buffers()):
            convert(t)
        return self

    def double(self) -> Module:
        return self.to(B.float64)

    def float(self) -> Module:
        return self.to(B.float32)

    # ----- forward and hooks --------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks.values():
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hooks = BackwardHookCall(self) if self._backward_hooks else None
        if backward_hooks is not None:
            args = backward_hooks.gate_inputs(args)
        out = self.forward(*args, **kwargs)
        if backward_hooks is not None:
            out = backward_hooks.gate_outputs(out)
        for hook in self._forward_hooks.values():
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_pre_hook(self, hook) -> _RemovableHandle:
        """``hook(module, inputs)`` runs before forward; a non-None return replaces the inputs."""
        return _RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> _RemovableHandle:
        """``hook(module, inputs, output)`` runs after forward; a non-None return replaces the output."""
        return _RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook) -> _RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs once the gradients of the module's inputs are computed.

        ``grad_input`` holds ∂L/∂x for each positional argument (None where it is not a Tensor that
        requires grad), ``grad_output`` ∂L/∂y for each output (None where none reached it). A non-None
        return (a tuple as long as ``grad_input``) replaces the inputs' gradients flowing on. When no
        input requires grad the hook runs once the outputs' gradients are known, with ``grad_input``
        all None, as in PyTorch.
        """
        return _RemovableHandle(self._backward_hooks, hook)

    # ----- state -------------------------------------------------------------
    def _state_tensors(self) -> OrderedDict:
        """The live parameters and persistent buffers by dotted name."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            skip = module.__dict__.get("_non_persistent", set())
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    if t is not None and name not in skip:
                        state[f"{prefix}.{name}" if prefix else name] = t
        return state

    def state_dict(self, keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name, as detached tensors sharing their data
        (PyTorch's semantics; ``keep_vars=True`` gives the Parameters themselves)."""
        state = self._state_tensors()
        if keep_vars:
            return state
        return OrderedDict((k, Tensor._wrap(t.data)) for k, t in state.items())

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays (or Tensors) into this module's parameters and buffers.

        With ``strict=True`` a missing or unexpected key raises :class:`StateDictError` (a
        RuntimeError, as in PyTorch, and a KeyError) listing them; a shape mismatch raises
        ``ValueError`` naming the key. Nothing is written unless every entry checks out.
        Returns ``(missing_keys, unexpected_keys)`` as a named tuple.
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise StateDictError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        staged = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                value = value.data
            elif hasattr(value, "detach"):  # a PyTorch tensor, possibly requiring grad
                value = value.detach().cpu().numpy()
            elif not hasattr(value, "shape"):
                value = np.asarray(value)
            if tuple(value.shape) != target.shape:
                raise ValueError(
                    f"load_state_dict: '{key}' has shape {tuple(value.shape)} but the model expects {target.shape}"
                )
            staged.append((target, value))
        with no_grad():
            for target, value in staged:
                target.data = B.to_device(B.asarray(value).astype(target.dtype, copy=True), target.device)
        return IncompatibleKeys(missing, unexpected)

    # ----- printing ------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def num_parameters(self) -> int:
        """The number of learnable values (shared parameters counted once)."""
        return count_parameters(self)

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        count = count_parameters(self)
        suffix = f"  # {count:,} parameters" if count else ""
        if not lines:
            return head + ")" + suffix
        return head + suffix + "\n  " + "\n  ".join(lines) + "\n)"


def count_parameters(module: Module) -> int:
    """The number of learnable values in ``module`` (each shared parameter counted once)."""
    return sum(p.numel() for p in module.parameters())


class StateDictError(RuntimeError, KeyError):
    """Missing or unexpected keys in ``load_state_dict(strict=True)``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _RemovableHandle:
    _next_id = 0

    def __init__(self, store: OrderedDict, hook):
        self.store, self.id = store, _RemovableHandle._next_id
        _RemovableHandle._next_id += 1
        store[self.id] = hook

    def remove(self) -> None:
        self.store.pop(self.id, None)
