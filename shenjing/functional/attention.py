"""Scaled dot-product attention (seed 003 §4.1: self-attention & Transformer; seed 004 §2.3.4).

Attention(Q, K, V) = softmax(Q Kᵀ · scale + M) V with scale = 1/√d_k by default and M an
additive mask (0 where a query may look at a key, -inf where it may not). Built from
``matmul``, ``softmax`` and ``dropout``, so its gradient comes from theirs.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend as B
from ..tensor import Tensor
from ._util import NonDifferentiable, as_tensor
from .activation import softmax
from .dropout import dropout
from .elementwise import add, mul
from .linalg import matmul
from .shape import transpose

__all__ = ["scaled_dot_product_attention", "attention_weights"]


class AdditiveMask(NonDifferentiable):
    """A bool mask as 0 where it equals ``allow_value`` and -inf elsewhere; a float mask cast to ``dtype``."""

    @staticmethod
    def forward(ctx, mask, dtype, allow_value):
        if mask.dtype != bool:
            return mask.astype(dtype, copy=False)
        allowed = mask if allow_value else ~mask
        return B.xp_of(mask).where(allowed, dtype.type(0), dtype.type(-np.inf))


def additive_mask(mask, dtype, allow_value: bool = True) -> Tensor:
    """An additive float mask (a Tensor outside the graph) from a bool or float mask.

    A bool mask marks with ``allow_value`` the positions that take part (they get 0; the
    others get -inf). A float mask is returned as it is, cast to ``dtype``.
    """
    if not isinstance(mask, Tensor):
        mask = Tensor._wrap(mask if hasattr(mask, "dtype") else np.asarray(mask))
    if mask.dtype != bool and mask.dtype.kind != "f":
        raise TypeError(f"attention mask must be bool or floating point, got dtype {mask.dtype}")
    return AdditiveMask.apply(mask, dtype, allow_value)


def _causal_mask(L: int, S: int, dtype, device: str):
    xp = B.xp_for(device)
    return xp.where(xp.tril(xp.ones((L, S), dtype=bool)), dtype.type(0), dtype.type(-np.inf))


def attention_weights(query: Tensor, key: Tensor, mask=None, scale: float | None = None) -> Tensor:
    """softmax(Q Kᵀ · scale + M) over the keys: (..., L, E) and (..., S, E) -> (..., L, S).

    ``mask`` is None or an additive float Tensor (or array) broadcastable to (..., L, S) (see ``additive_mask``).
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = mul(matmul(query, transpose(key, -2, -1)), scale)
    if mask is not None:
        scores = add(scores, as_tensor(mask))
    return softmax(scores, dim=-1)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(Q Kᵀ / √E + M) V, PyTorch's ``F.scaled_dot_product_attention`` (seed 003 §4.1).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask``:
    bool (True = the query may attend to that key) or float (added to the scores),
    broadcastable to (..., L, S). ``is_causal`` lets query i see keys j <= i only.
    ``dropout_p`` drops attention weights (always applied when > 0, as in PyTorch).
    ``scale`` defaults to 1/√E.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be a Tensor with at least 2 dims, "
                             f"got {getattr(t, 'shape', type(t).__name__)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape} and key {key.shape} "
                         "must share the last dimension")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key {key.shape} and value {value.shape} "
                         "must have the same number of positions")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    L, S = query.shape[-2], key.shape[-2]
    if is_causal:
        mask = _causal_mask(L, S, query.dtype, query.device)
    else:
        mask = None if attn_mask is None else additive_mask(attn_mask, query.dtype)
    weights = attention_weights(query, key, mask, scale)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)
