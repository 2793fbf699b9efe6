"""Module backward hooks: ``hook(module, grad_input, grad_output)`` as ``torch.nn.Module.register_full_backward_hook``.

One forward call is bracketed by two identity nodes. The output gate records ∂L/∂output as the
gradient passes; the input gate sees ∂L/∂input for every positional input that requires grad, calls
the hooks and sends their replacement (if any) on. Several inputs are packed into one flat vector
before the gate, so its single backward sees all of their gradients at once.
"""

from __future__ import annotations

import math

from .. import _backend as B
from ..autograd import Function
from ..functional.shape import cat
from ..tensor import Tensor, grad_mode

__all__ = ["BackwardHookCall"]


class _InputGate(Function):
    @staticmethod
    def forward(ctx, packed, call):
        ctx.call = call
        return packed

    @staticmethod
    def backward(ctx, grad):
        return ctx.call.fire_from_inputs(grad), None


class _OutputGate(Function):
    @staticmethod
    def forward(ctx, out, call, index):
        ctx.call, ctx.index = call, index
        return out

    @staticmethod
    def backward(ctx, grad):
        ctx.call.record_output(ctx.index, grad)
        return grad, None, None


class BackwardHookCall:
    """The backward hooks of one forward call of ``module``: gates its inputs and outputs, then runs the hooks."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.positions: list[int] = []  # positional inputs that require grad
        self.shapes: list[tuple] = []
        self.grad_output: list = []
        self.outputs_gated = self.outputs_waiting = 0  # outputs routed through a gate / not reached in this pass

    def gate_inputs(self, args: tuple) -> tuple:
        """The arguments with every Tensor that requires grad routed through the input gate."""
        self.n_inputs = len(args)
        if not grad_mode.enabled:
            return args
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not self.positions:
            return args
        tensors = [args[i] for i in self.positions]
        if len({t.dtype for t in tensors}) > 1:
            raise TypeError(f"{type(self.module).__name__}: a full backward hook needs the inputs that require grad "
                            f"to share one dtype, got {sorted(str(t.dtype) for t in tensors)}")
        self.shapes = [t.shape for t in tensors]
        if len(tensors) == 1:
            gated = [_InputGate.apply(tensors[0], self)]
        else:
            packed = _InputGate.apply(cat([t.reshape(-1) for t in tensors]), self)
            gated = [packed[a:b].reshape(shape) for (a, b), shape in zip(self._spans(), self.shapes)]
        args = list(args)
        for i, tensor in zip(self.positions, gated):
            args[i] = tensor
        return tuple(args)

    def gate_outputs(self, out):
        """``out`` (a Tensor or a tuple of them) with each Tensor that requires grad routed through the output gate."""
        outputs = out if isinstance(out, tuple) else (out,)
        self.grad_output = [None] * len(outputs)
        gated = []
        for index, value in enumerate(outputs):
            if isinstance(value, Tensor) and value.requires_grad:
                value = _OutputGate.apply(value, self, index)
                self.outputs_gated += 1
            gated.append(value)
        self.outputs_waiting = self.outputs_gated
        return tuple(gated) if isinstance(out, tuple) else gated[0]

    def record_output(self, index: int, grad) -> None:
        self.grad_output[index] = Tensor._wrap(grad)
        self.outputs_waiting -= 1
        if not self.positions and self.outputs_waiting == 0 and self._run_hooks((None,) * self.n_inputs) is not None:
            raise RuntimeError(f"{type(self.module).__name__}: a full backward hook cannot replace grad_input when "
                               "no input requires grad")

    def fire_from_inputs(self, grad):
        """The gradient the input gate passes on: its own, or the hooks' replacement, packed as it came."""
        grads = [grad] if len(self.positions) == 1 else [grad[a:b].reshape(s)
                                                          for (a, b), s in zip(self._spans(), self.shapes)]
        grad_input = [None] * self.n_inputs
        for i, g in zip(self.positions, grads):
            grad_input[i] = Tensor._wrap(g)
        replaced = self._run_hooks(tuple(grad_input))
        if replaced is None:
            return grad
        new = [_array_like(replaced[i], g) for i, g in zip(self.positions, grads)]
        return new[0] if len(new) == 1 else B.xp_of(grad).concatenate([g.reshape(-1) for g in new])

    def _run_hooks(self, grad_input: tuple):
        """Call the hooks in order, each seeing the previous one's replacement; the last replacement, or None."""
        grad_output, replaced = tuple(self.grad_output), None
        # ready for another backward pass through the same graph (retain_graph=True)
        self.grad_output, self.outputs_waiting = [None] * len(grad_output), self.outputs_gated
        for hook in self.module._backward_hooks.values():
            result = hook(self.module, grad_input if replaced is None else replaced, grad_output)
            if result is None:
                continue
            if not isinstance(result, (tuple, list)) or len(result) != len(grad_input):
                raise ValueError(f"{type(self.module).__name__}: a full backward hook must return None or a tuple of "
                                 f"{len(grad_input)} gradients (one per positional input), got {result!r}")
            replaced = tuple(result)
        return replaced

    def _spans(self) -> list[tuple[int, int]]:
        ends = [0]
        for shape in self.shapes:
            ends.append(ends[-1] + math.prod(shape))
        return list(zip(ends[:-1], ends[1:]))


def _array_like(value, like):
    """A hook's gradient as an array shaped like ``like`` (None: no gradient, i.e. zeros)."""
    if value is None:
        return B.xp_of(like).zeros_like(like)
    array = value.data if isinstance(value, Tensor) else B.xp_of(like).asarray(value)
    if array.shape != like.shape:
        raise ValueError(f"full backward hook: a replacement gradient has shape {array.shape}, expected {like.shape}")
    return array.astype(like.dtype, copy=False)
