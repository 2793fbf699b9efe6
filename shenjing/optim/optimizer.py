"""The ``Optimizer`` base class: parameter groups, per-group hyper-parameters, state.

Every optimiser of ``shenjing.optim`` updates parameters in place (``p.data``), one
parameter group at a time, with the group's own hyper-parameters (seed 004 §5.2.6.3:
BERT's no-decay groups are just two groups with different ``weight_decay``).
Its state (momentum buffers, running averages, step counts) is kept per parameter in
``optimizer.state[p]`` as plain arrays and numbers, so ``state_dict()`` can be saved by
``shenjing.io`` without pickle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from .. import _backend as B
from ..tensor import Tensor, enable_grad, no_grad

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of every optimiser (PyTorch's semantics).

    ``params`` is an iterable of Tensors, or of dicts each holding ``'params'`` and any
    hyper-parameters that override ``defaults`` for that group. Subclasses implement
    ``_update(param, grad, state, group)`` on raw arrays (or override ``step``) and
    ``_validate(group)``, which raises ``ValueError`` naming the bad argument.

    >>> import shenjing as sj
    >>> class SignDescent(sj.optim.Optimizer):
    ...     def __init__(self, params, lr=0.1):
    ...         super().__init__(params, dict(lr=lr))
    ...     def _update(self, param, grad, state, group):
    ...         param -= group["lr"] * (grad > 0) - group["lr"] * (grad < 0)
    ...
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SignDescent([w])
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.detach()
    tensor([ 0.9, -1.9])
    """

    def __init__(self, params: Iterable, defaults: dict):
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: params is an empty list; give at least one parameter")
        if all(isinstance(g, tuple) and len(g) == 2 and isinstance(g[1], Tensor) for g in groups):
            groups = [p for _, p in groups]  # model.named_parameters()
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- groups ------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones come from ``defaults``)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)) or params is None:
            raise TypeError(f"{name}: a group's 'params' must be a Tensor or an ordered sequence of Tensors")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: params must contain Tensors, got {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: cannot optimise a non-leaf Tensor (produced by {type(p.grad_fn).__name__})")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            raise ValueError(f"{name}: some parameters appear more than once (in this group or in another group)")
        group = {**self.defaults, **param_group, "params": params}
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Raise ValueError naming the first invalid hyper-parameter of ``group``."""

    def _check(self, ok: bool, argument: str, expected: str, value) -> None:
        if not ok:
            raise ValueError(f"{type(self).__name__}: {argument} must be {expected}, got {value!r}")

    def _check_nonnegative(self, group: dict, *names: str) -> None:
        for name in names:
            self._check(group[name] >= 0, name, ">= 0", group[name])

    def _check_betas(self, group: dict) -> None:
        betas = group["betas"]
        self._check(isinstance(betas, (tuple, list)) and len(betas) == 2, "betas", "a pair (beta1, beta2)", betas)
        for i, beta in enumerate(betas):
            self._check(0.0 <= beta < 1.0, f"betas[{i}]", "in [0, 1)", beta)

    # ----- stepping ------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``p.grad`` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    @staticmethod
    def _evaluate(closure: Callable | None):
        """Run ``closure`` (which recomputes the loss and calls ``backward()``) with gradients enabled."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient; returns the closure's loss (or None)."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.data
                    if group.get("maximize", False):
                        grad = -grad
                    self._update(p.data, grad, self.state[p], group)
        return loss

    def _update(self, param, grad, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update() or step()")

    # ----- state ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {name: array or number}}, 'param_groups': [{..., 'params': [index, ...]}]}``.

        Parameters are numbered in group order, as in PyTorch; the arrays are the live state
        (not copies). Hyper-parameters that are None are left out (loading keeps the
        optimizer's own value), so ``shenjing.io.save`` can store the result.
        """
        index, groups, counter = {}, [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params" and v is not None}
            packed["params"] = list(range(counter, counter + len(group["params"])))
            for i, p in zip(packed["params"], group["params"]):
                index[id(p)] = i
            counter += len(group["params"])
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by ``state_dict()`` (arrays are copied).

        Also takes what ``shenjing.io.load`` gives back: flat '.'-joined keys, lists for
        index-keyed dicts and 0-d arrays for numbers. Floating state is cast to each parameter's
        dtype and device.
        """
        state_dict = nested_state(state_dict)
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: state_dict has {len(saved_groups)} param groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        params = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: param group {i} has {len(saved['params'])} parameters in "
                    f"state_dict but {len(group['params'])} in the optimizer"
                )
            params.update({int(k): p for k, p in zip(saved["params"], group["params"])})
        saved_state = state_dict.get("state", {})
        if isinstance(saved_state, list):
            saved_state = dict(enumerate(saved_state))
        self.state = defaultdict(dict)
        for key, values in saved_state.items():
            p = params[int(key)]
            self.state[p] = {k: _restore_value(v, p) for k, v in values.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: plain(v) for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"


def nested_state(state_dict: dict) -> dict:
    """A state dict as ``state_dict()`` nests it, also when given flat ('.'-joined keys, as io.load reads it)."""
    if not any(isinstance(key, str) and "." in key for key in state_dict):
        return state_dict
    from ..io import unflatten_state

    return unflatten_state(state_dict)


def plain(value):
    """0-d arrays (and Tensors) as Python numbers, lists as tuples, recursively; anything else unchanged."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if hasattr(value, "ndim") and value.ndim == 0:
        return value.item()
    return value


def _restore_value(value, param: Tensor):
    """A state entry copied to the parameter's device (floating arrays in its dtype)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_restore_value(v, param) for v in value)
    value = plain(value)
    if not hasattr(value, "shape"):
        return value
    array = B.to_device(B.asarray(value), param.device)
    dtype = param.dtype if array.dtype.kind == "f" else array.dtype
    return array.astype(dtype, copy=True)


def with_weight_decay(grad, param, weight_decay: float):
    """The L2-regularised gradient g + λw (seed 003 §4.3.2, 004 §5.2.6.2 "AdamL"), a new array."""
    if weight_decay == 0:
        return grad
    return grad + weight_decay * param


def flat_params(params: list) -> np.ndarray:
    """The parameters concatenated into one vector (for closure-based full-batch methods)."""
    return np.concatenate([p.data.reshape(-1) for p in params])


def flat_grad(params: list):
    """The gradients concatenated into one vector, zeros where a parameter has none."""
    return np.concatenate([(p.grad.data if p.grad is not None else np.zeros_like(p.data)).reshape(-1) for p in params])


def add_to_params(params: list, step: float, direction) -> None:
    """w ← w + step·d, with d a flat vector laid out like ``flat_params``."""
    offset = 0
    for p in params:
        n = p.data.size
        p.data += (step * direction[offset:offset + n]).reshape(p.shape).astype(p.dtype, copy=False)
        offset += n


def set_params(params: list, values) -> None:
    """Copy a flat vector into the parameters."""
    offset = 0
    for p in params:
        n = p.data.size
        p.data[...] = values[offset:offset + n].reshape(p.shape)
        offset += n


#: Elements per chunk of an in-place update that makes many passes over its arrays: a chunk of the parameter,
#: its gradient, its state and a scratch buffer stay in the L2 cache across the passes (Adam's update over
#: whole arrays streams about a dozen times through memory; chunked, it runs ~20 % faster).
CHUNK = 1 << 16


def in_chunks(param, *arrays):
    """Matching flat chunks of ``param`` and same-shaped ``arrays`` (views: in-place updates reach the arrays),
    each tuple ending with a scratch array shaped like the chunk.

    The arrays whole, in one chunk, when one of them is not contiguous or they are on a GPU (where a
    kernel launch per chunk would cost more than the cache saves).
    """
    xp, arrays = B.xp_of(param), (param, *arrays)
    if xp is not np or not all(a.flags.c_contiguous for a in arrays):
        yield (*arrays, xp.empty_like(param))
        return
    flats = [a.reshape(-1) for a in arrays]
    scratch = xp.empty(min(param.size, CHUNK), param.dtype)
    for start in range(0, param.size, CHUNK):
        chunk = tuple(f[start:start + CHUNK] for f in flats)
        yield (*chunk, scratch[: chunk[0].size])


def count_step(state: dict, param, *buffers: str, **initial) -> int:
    """Count one more step in a parameter's ``state`` and return its number.

    On the first step the state is created: ``step`` = 0, a zero array shaped like ``param`` for each
    name in ``buffers``, and the ``initial`` values.
    """
    if not state:
        state["step"] = 0
        state.update((name, np.zeros_like(param)) for name in buffers)
        state.update(initial)
    state["step"] += 1
    return state["step"]
