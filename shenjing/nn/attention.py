"""Attention layers: ``MultiheadAttention``, ``TransformerEncoderLayer``, ``PositionalEncoding``.

Seed 003 §4.1 (self-attention & Transformer), seed 004 §2.3.4 (self-attention pooling) and
§2.4.2 (LayerNorm in NLP). Parameter names follow PyTorch (``in_proj_weight``,
``in_proj_bias``, ``out_proj``, ``linear1``, ``norm1``, ...) so state dicts are interchangeable.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .. import _backend as B
from ..functional.activation import gelu
from ..functional.attention import additive_mask, attention_weights
from ..functional.dropout import dropout
from ..functional.elementwise import relu
from ..functional.linalg import linear, matmul
from ..functional.reduction import mean
from ..functional.shape import reshape, split, squeeze, transpose, unsqueeze
from ..tensor import Tensor
from . import init
from .dropout import Dropout
from .containers import ModuleList
from .linear import Linear
from .module import Module, Parameter
from .norm import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "PositionalEncoding"]


def _empty_parameter(shape: tuple, dtype, device) -> Parameter:
    return Parameter(B.xp_for(device).zeros(shape, B.as_dtype(dtype)))


class MultiheadAttention(Module):
    """Multi-head attention (seed 003 §4.1), PyTorch's ``nn.MultiheadAttention``.

    head_i = Attention(Q W_qiᵀ + b_qi, K W_kiᵀ + b_ki, V W_viᵀ + b_vi) for h heads of size
    E/h; output = Concat(head_1..h) W_oᵀ + b_o. Parameters: ``in_proj_weight`` (3E, E)
    (or ``q_proj_weight``, ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when
    kdim/vdim differ from E), ``in_proj_bias`` (3E,), ``out_proj`` (Linear E -> E).
    Initialisation as PyTorch's: Xavier-uniform projections, zero biases.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False, dtype=None,
                 device=None):
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got {value!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = float(dropout), batch_first
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty_parameter((3 * E, E), dtype, device)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = _empty_parameter((E, E), dtype, device)
            self.k_proj_weight = _empty_parameter((E, self.kdim), dtype, device)
            self.v_proj_weight = _empty_parameter((E, self.vdim), dtype, device)
        if bias:
            self.in_proj_bias = _empty_parameter((3 * E,), dtype, device)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, device=device)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if getattr(self, name) is not None:
                init.xavier_uniform_(getattr(self, name))
        for p in (self.in_proj_bias, self.out_proj.bias):
            if p is not None:
                init.zeros_(p)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        E, b = self.embed_dim, self.in_proj_bias
        biases = (None, None, None) if b is None else split(b, E)
        if self._qkv_same_embed_dim:
            if query is key and key is value:
                return split(linear(query, self.in_proj_weight, b), E, dim=-1)
            weights = split(self.in_proj_weight, E)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(linear(x, w, bb) for x, w, bb in zip((query, key, value), weights, biases))

    def _heads(self, x: Tensor) -> Tensor:
        """(N, L, E) -> (N, h, L, E/h)."""
        N, L = x.shape[:2]
        return transpose(reshape(x, (N, L, self.num_heads, self.head_dim)), 1, 2)

    def _mask(self, attn_mask, key_padding_mask, N: int, L: int, S: int, dtype):
        """One additive mask broadcastable to (N, h, L, S); bool entries True = may NOT attend (PyTorch's MHA)."""
        mask = None
        if attn_mask is not None:
            m = additive_mask(attn_mask, dtype, allow_value=False)
            if m.ndim == 3:
                if m.shape != (N * self.num_heads, L, S):
                    raise ValueError(f"MultiheadAttention: attn_mask of shape {m.shape} should be "
                                     f"{(L, S)} or {(N * self.num_heads, L, S)}")
                m = m.reshape(N, self.num_heads, L, S)
            elif m.shape != (L, S):
                raise ValueError(f"MultiheadAttention: attn_mask of shape {m.shape} should be {(L, S)} or "
                                 f"{(N * self.num_heads, L, S)}")
            mask = m
        if key_padding_mask is not None:
            m = additive_mask(key_padding_mask, dtype, allow_value=False)
            if m.shape != (N, S):
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {m.shape} should be {(N, S)}")
            m = m.reshape(N, 1, 1, S)
            mask = m if mask is None else mask + m
        return mask

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """query (N, L, E), key (N, S, kdim), value (N, S, vdim) (batch_first; unbatched (L, E) also works).

        ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N·h, L, S): bool True marks a
        position that may NOT be attended to, float masks are added to the scores.
        ``is_causal`` with no ``attn_mask`` hides future keys. Returns ``(output (N, L, E),
        weights)``: the attention weights averaged over heads (N, L, S) (per head (N, h, L, S)
        when ``average_attn_weights=False``), or None when ``need_weights=False``.
        """
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = (unsqueeze(t, 0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask[None]
        elif not self.batch_first:
            query, key, value = (transpose(t, 0, 1) for t in (query, key, value))
        if query.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: query must be (N, L, {self.embed_dim}), got {query.shape}")
        N, L, S = query.shape[0], query.shape[1], key.shape[1]
        if is_causal and attn_mask is None:
            xp = B.xp_for(query.device)
            attn_mask = ~xp.tril(xp.ones((L, S), dtype=bool))
        q, k, v = (self._heads(t) for t in self._projections(query, key, value))
        weights = attention_weights(q, k, self._mask(attn_mask, key_padding_mask, N, L, S, query.dtype))
        if self.dropout > 0 and self.training:
            weights = dropout(weights, self.dropout, training=True)
        out = reshape(transpose(matmul(weights, v), 1, 2), (N, L, self.embed_dim))
        out = self.out_proj(out)
        if need_weights and average_attn_weights:
            weights = mean(weights, dim=1)
        if unbatched:
            out = squeeze(out, 0)
            weights = squeeze(weights, 0)
        elif not self.batch_first:
            out = transpose(out, 0, 1)
        return out, (weights if need_weights else None)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


_ACTIVATIONS = {"relu": relu, "gelu": gelu}


class TransformerEncoderLayer(Module):
    """A Transformer encoder block (seed 003 §4.1; LayerNorm as in seed 004 §2.4.2), PyTorch's layer.

    Post-norm (``norm_first=False``): x = LN1(x + SA(x)); x = LN2(x + FF(x)).
    Pre-norm (``norm_first=True``):  x = x + SA(LN1(x)); x = x + FF(LN2(x)).
    SA = dropout1(self_attn(x, x, x)), FF = dropout2(linear2(dropout(act(linear1(x))))).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, dtype=None, device=None):
        super().__init__()
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, "
                                 f"got {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"TransformerEncoderLayer: activation must be a string or a callable, got {activation!r}")
        kw = dict(dtype=dtype, device=device)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation, self.norm_first, self.batch_first = activation, bool(norm_first), batch_first

    def _sa_block(self, x: Tensor, attn_mask, key_padding_mask, is_causal: bool) -> Tensor:
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                             is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        """src (N, L, d_model) (batch_first); masks as in ``MultiheadAttention``. Returns the same shape."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (seed 003 §4.1: the encoder is N identical
    blocks), then ``norm`` if given, PyTorch's ``TransformerEncoder``. The copies are independent
    (deep copies, so they start from the same weights); parameters are named ``layers.i.*``.

    >>> import shenjing as sj
    >>> layer = TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    >>> TransformerEncoder(layer, num_layers=2)(sj.randn(3, 5, 8)).shape
    (3, 5, 8)
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()  # the last two are accepted for PyTorch code; they only choose PyTorch's fast paths
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be a positive int, got {num_layers!r}")
        self.layers = ModuleList(copy.deepcopy(encoder_layer) for _ in range(num_layers))
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None, is_causal: bool | None = None) -> Tensor:
        """src (L, N, d_model), or (N, L, d_model) when the layer is ``batch_first``; the same shape out."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


class PositionalEncoding(Module):
    """Adds the Transformer's sinusoidal position code (seed 003 §4.1) to (L, N, d_model) inputs
    ((N, L, d_model) with ``batch_first=True``), the layout of the attention layers it feeds.

    PE[pos, 2i] = sin(pos / 10000^{2i/d}), PE[pos, 2i+1] = cos(pos / 10000^{2i/d});
    y = dropout(x + PE[:L]). The table ``pe`` (max_len, d_model) is a non-persistent buffer.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = False,
                 dtype=None, device=None):
        super().__init__()
        for name, value in (("d_model", d_model), ("max_len", max_len)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"PositionalEncoding: {name} must be a positive int, got {value!r}")
        position = np.arange(max_len, dtype=np.float64)[:, None]
        div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(position * div)
        pe[:, 1::2] = np.cos(position * div[: d_model // 2])
        self.register_buffer("pe", Tensor(pe, dtype=B.as_dtype(dtype), device=device), persistent=False)
        self.dropout, self.batch_first, self.d_model = Dropout(dropout), batch_first, d_model

    def forward(self, x: Tensor) -> Tensor:
        L = x.shape[1] if self.batch_first else x.shape[0]
        if L > self.pe.shape[0] or x.shape[-1] != self.d_model:
            raise ValueError(f"PositionalEncoding: input {x.shape} needs length <= {self.pe.shape[0]} and "
                             f"last dim {self.d_model}")
        pe = self.pe[:L] if self.batch_first else unsqueeze(self.pe[:L], 1)
        return self.dropout(x + pe)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.pe.shape[0]}"
