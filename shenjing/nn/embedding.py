"""Embedding: a lookup table of learned vectors."""

from __future__ import annotations

from .. import _backend as B
from ..functional.embedding import embedding
from ..tensor import Tensor, no_grad
from . import init
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """``weight`` (num_embeddings, embedding_dim) drawn from N(0, 1) (PyTorch's default); row ``padding_idx``
    is zero and gets no gradient. Input: integer indices ``(*) -> (*, embedding_dim)``.

    >>> import shenjing as sj
    >>> emb = sj.nn.Embedding(10, 4, padding_idx=0)
    >>> emb(sj.tensor([[1, 2, 0]])).shape
    (1, 3, 4)
    >>> pretrained = sj.nn.Embedding.from_pretrained(sj.eye(3))
    >>> pretrained(sj.tensor([2]))
    tensor([[0., 0., 1.]])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight=None, dtype=None, device=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}), "
                             f"got {padding_idx}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        if _weight is None:
            xp = B.xp_for(device)
            self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype=B.as_dtype(dtype)))
            init.normal_(self.weight)
            if self.padding_idx is not None:
                with no_grad():
                    self.weight.data[self.padding_idx] = 0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), "
                                 f"got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, embedding_dim);
        ``freeze=True`` leaves the weight out of training (``requires_grad=False``).
        """
        data = embeddings.data if isinstance(embeddings, Tensor) else B.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape {tuple(data.shape)}")
        module = cls(data.shape[0], data.shape[1], padding_idx=padding_idx, _weight=data.copy())
        module.weight.requires_grad = not freeze
        return module

    def forward(self, x) -> Tensor:
        return embedding(x, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
