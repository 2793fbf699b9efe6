"""Regularisation and training utilities: norm penalties, gradient clipping, no-decay parameter
groups (seed 001 正则化, seed 004 §2.4.3) and the receptive field of conv stacks (seed 004 §2.2.3).
"""

from __future__ import annotations

import math

import numpy as np

from ...functional.elementwise import abs as tensor_abs
from ...functional.reduction import sum as reduce_sum
from ...tensor import Tensor, no_grad
from ..module import Module

from . import rnn
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "l1_penalty", "l2_penalty", "param_groups_no_decay", "clip_grad_norm_", "clip_grad_value_", "receptive_field",
    "parameters_to_vector", "vector_to_parameters", "rnn",
]


def _params(params) -> list:
    if isinstance(params, Module):
        return list(params.parameters())
    if isinstance(params, Tensor):
        return [params]
    params = list(params)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensors (or a Module), got a {type(p).__name__}")
    return params


def _total(terms: list) -> Tensor:
    if not terms:
        raise ValueError("no parameters given")
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def l1_penalty(params) -> Tensor:
    """Σ_i |w_i| over every parameter (seed 004 §2.4.3.1; add λ·penalty to the loss). Differentiable."""
    return _total([reduce_sum(tensor_abs(p)) for p in _params(params)])


def l2_penalty(params) -> Tensor:
    """½ Σ_i w_i² over every parameter: the notes' ½λ||w||² with λ factored out (seed 004 §2.4.3.2)."""
    return _total([reduce_sum(p * p) for p in _params(params)]) * 0.5


def param_groups_no_decay(model: Module, weight_decay: float = 0.01, no_decay=("bias", "norm")) -> list[dict]:
    """Two optimiser parameter groups, the BERT recipe of the notes (seed 004 §5.2.6.3): parameters
    whose name, or whose owning module's class name, contains one of ``no_decay`` (case-insensitive)
    get ``weight_decay=0``; all others get ``weight_decay``. Returns ``[decayed, exempt]`` (either may be empty).
    """
    keys = tuple(k.lower() for k in no_decay)
    decay, exempt, seen = [], [], set()
    for prefix, module in model.named_modules():
        kind = type(module).__name__.lower()
        for name, p in module._parameters.items():
            if p is None or id(p) in seen:
                continue
            seen.add(id(p))
            full = f"{prefix}.{name}" if prefix else name
            hit = any(k in full.lower() or k in kind for k in keys)
            (exempt if hit else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": exempt, "weight_decay": 0.0}]


def _grads(parameters) -> list:
    return [p.grad.data for p in _params(parameters) if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Rescale gradients in place so their joint ``norm_type``-norm is at most ``max_norm`` (PyTorch's rule):
    g ← g · min(1, max_norm / (‖g‖ + 1e-6)). Returns the norm before clipping.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = float(_sum_of_powers(grads, norm_type)) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} is non-finite ({total})")
    coef = min(1.0, float(max_norm) / (total + 1e-6))
    if coef < 1.0:
        with no_grad():
            for g in grads:
                g *= g.dtype.type(coef)
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def _sum_of_powers(grads, p: float) -> float:
    return math.fsum(float((np.abs(g.astype(np.float64)) ** p).sum()) for g in grads)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def _first(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def _layer_spec(layer):
    """(kernel_size, stride, dilation) of a tuple or of a conv/pool Module; None for other Modules."""
    if isinstance(layer, (tuple, list)):
        if len(layer) not in (1, 2, 3):
            raise ValueError(f"receptive_field: a layer tuple is (kernel_size, stride=1, dilation=1), got {layer!r}")
        k, s, d = (tuple(layer) + (1, 1))[:3]
        return int(k), int(s), int(d)
    kernel = getattr(layer, "kernel_size", None)
    if kernel is None:
        return None
    stride = getattr(layer, "stride", None)
    stride = kernel if stride is None else stride
    return int(_first(kernel)), int(_first(stride)), int(_first(getattr(layer, "dilation", 1) or 1))


def receptive_field(layers) -> int:
    """Receptive field of a stack of (dilated) convolutions and pools (seed 004 §2.2.3).

    ``layers``: a sequence of ``(kernel_size, stride, dilation)`` tuples, or Modules with those
    attributes (a container is walked; layers without ``kernel_size`` are skipped). With
    k_eff = d(k - 1) + 1 and jump J_l = Π strides before layer l: r = 1 + Σ_l (k_eff,l - 1) J_l.
    Three stacked 3×3 convolutions with dilation 1, 2, 4 give 3, 7, 15.
    """
    if isinstance(layers, Module):
        layers = [m for m in layers.modules() if not any(True for _ in m.children())]
    field, jump = 1, 1
    for layer in layers:
        spec = _layer_spec(layer)
        if spec is None:
            continue
        k, s, d = spec
        if min(k, s, d) < 1:
            raise ValueError(f"receptive_field: kernel_size, stride and dilation must be >= 1, got {spec}")
        field += d * (k - 1) * jump
        jump *= s
    return field
