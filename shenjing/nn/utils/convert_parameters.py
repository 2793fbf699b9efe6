"""All parameters as one flat vector and back (PyTorch's ``parameters_to_vector``), the form that
whole-vector methods (second-order updates, line searches, weight averaging) work on."""

from __future__ import annotations

from ...functional.shape import cat
from ...tensor import Tensor, no_grad

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _listed(parameters, who: str) -> list:
    if isinstance(parameters, Tensor):
        raise TypeError(f"{who}: parameters must be an iterable of Tensors, got a single Tensor")
    parameters = list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameters must be Tensors, got a {type(p).__name__}")
    if len({p.device for p in parameters}) > 1:
        raise TypeError(f"{who}: the parameters lie on different devices")
    return parameters


def parameters_to_vector(parameters) -> Tensor:
    """θ = concat(vec(W₁), vec(W₂), ...): the parameters flattened and joined, in order; shape (Σ numel,).

    Differentiable (the gradient flows back to each parameter).

    >>> import shenjing as sj
    >>> parameters_to_vector(sj.nn.Linear(3, 2).parameters()).shape
    (8,)
    """
    return cat([p.reshape(-1) for p in _listed(parameters, "parameters_to_vector")])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` (Σ numel,) into the parameters, in order (no gradient).

    >>> import shenjing as sj
    >>> layer = sj.nn.Linear(3, 2)
    >>> vector_to_parameters(sj.zeros(8), layer.parameters()); float(layer.weight.abs().sum())
    0.0
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: vec must be a Tensor, got {type(vec).__name__}")
    parameters = _listed(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec must have shape ({total},) to fill the parameters, "
                         f"got {tuple(vec.shape)}")
    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.data = vec.data[start:start + n].reshape(p.shape).astype(p.dtype, copy=True)
            start += n
