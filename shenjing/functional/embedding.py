"""Embedding lookup: rows of a weight matrix selected by integer indices."""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from ._util import NonDifferentiable
from .shape import scatter_index

__all__ = ["embedding", "one_hot"]


class Embedding(Function):
    """out[...] = W[idx[...]]; the backward scatter-adds the gradient rows into dW (repeats accumulate)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.shape, ctx.indices, ctx.padding_idx = weight.shape, indices, padding_idx
        return weight[indices]

    differentiable_backward = True

    @staticmethod
    def backward(ctx, grad):
        gw = scatter_index(grad.reshape(-1, ctx.shape[1]), ctx.shape, ctx.indices.reshape(-1))
        if ctx.padding_idx is not None:
            kept = B.xp_of(ctx.indices).ones((ctx.shape[0], 1), dtype=bool)
            kept[ctx.padding_idx] = False
            gw = gw * kept
        return gw, None, None


class OneHot(NonDifferentiable):
    """out[..., c] = 1 where c is the index, else 0 (int64)."""

    @staticmethod
    def forward(ctx, indices, num_classes):
        return (indices[..., None] == B.xp_of(indices).arange(num_classes)).astype(B.int64)


def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows: ``input`` integer indices of any shape ``(*) -> (*, embedding_dim)``.

    ``weight`` is (num_embeddings, embedding_dim); the row ``padding_idx`` receives no gradient.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> weight = sj.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> F.embedding(sj.tensor([[2, 0]]), weight)
    tensor([[[2., 2.],
             [0., 0.]]])
    """
    indices = input.data if isinstance(input, Tensor) else B.asarray(input, device=weight.device)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, got dtype {indices.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape {weight.shape}")
    n = weight.shape[0]
    if indices.size and (int(indices.min()) < -n or int(indices.max()) >= n):
        raise ValueError(f"embedding: indices must lie in [0, {n}), got range "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    if padding_idx is not None:
        padding_idx = int(np.int64(padding_idx)) % n
    return Embedding.apply(weight, input if isinstance(input, Tensor) else indices, padding_idx)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices (any shape) -> int64 one-hot vectors with a trailing dim of ``num_classes``
    (default: the largest index + 1), as PyTorch's ``F.one_hot``. Not differentiable.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.one_hot(sj.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]], dtype=int64)
    """
    idx = tensor.data if isinstance(tensor, Tensor) else B.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {idx.dtype}")
    n = int(idx.max()) + 1 if num_classes == -1 else int(num_classes)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"one_hot: class indices must lie in [0, {n}), got range [{int(idx.min())}, {int(idx.max())}]")
    return OneHot.apply(tensor if isinstance(tensor, Tensor) else idx, n)
