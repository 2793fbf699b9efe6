"""Recurrent layers: ``RNN LSTM GRU`` and ``RNNCell LSTMCell GRUCell`` (seed 002 循环神经网络).

Thin modules around ``shenjing.nn.functional`` (``recurrent_layers``, ``rnn_cell``,
``lstm_cell``, ``gru_cell``). Parameter names, shapes, gate order and the default
initialisation U(-1/√H, 1/√H) are PyTorch's, so ``state_dict()`` moves between the
two frameworks unchanged. Sequences are (L, N, features) by default, as in PyTorch; seed 000 §1.1's
(samples, timesteps, features) layout is ``batch_first=True``.
"""

from __future__ import annotations

import functools
import math

from ..functional.recurrent import GATES, gru_cell, lstm_cell, recurrent_layers, rnn_cell
from ..functional.shape import squeeze, unsqueeze
from ..tensor import Tensor
from .init import uniform_parameter
from .module import Module
from .utils.rnn import PackedSequence, forward_packed

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]


def _check_size(where: str, name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")


class RNNBase(Module):
    """A stack of recurrent layers; ``mode`` is ``'rnn_tanh' 'rnn_relu' 'lstm' 'gru'``.

    Parameters per layer k and direction (suffix ``''`` or ``'_reverse'``):
    ``weight_ih_l{k}`` (G·H, in), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (G·H,), with G = 1 (RNN), 4 (LSTM, rows [i, f, g, o]), 3 (GRU, rows [r, z, n]);
    in = input_size for layer 0 and D·H above it. All drawn from U(-1/√H, 1/√H).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 device=None):
        super().__init__()
        where = type(self).__name__
        if mode not in GATES:
            raise ValueError(f"{where}: mode must be one of {sorted(GATES)}, got {mode!r}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            _check_size(where, name, value)
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{where}: dropout must be a number in [0, 1], got {dropout!r}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        directions = 2 if bidirectional else 1
        gate_rows = GATES[mode] * hidden_size
        bound = 1 / math.sqrt(hidden_size)
        self._weight_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else directions * hidden_size
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (gate_rows, layer_input), "weight_hh": (gate_rows, hidden_size),
                          "bias_ih": (gate_rows,), "bias_hh": (gate_rows,)}
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    self._weight_names.append(name)
                    if kind.startswith("bias") and not bias:
                        self.register_parameter(name, None)
                    else:
                        setattr(self, name, uniform_parameter(shape, bound, dtype, device))

    @property
    def all_weights(self) -> list:
        """The parameters in PyTorch's flat order (None for absent biases)."""
        return [getattr(self, name) for name in self._weight_names]

    def forward(self, input: Tensor, hx=None):
        """input (L, N, in) (or (N, L, in) with ``batch_first=True``, or unbatched (L, in), or a
        :class:`~shenjing.nn.utils.rnn.PackedSequence`); hx as in ``recurrent_layers``. Returns
        ``(output, h_n)`` or, for the LSTM, ``(output, (h_n, c_n))``; a packed input gives a packed output."""
        if isinstance(input, PackedSequence):
            return forward_packed(functools.partial(self._run, batch_first=False), input, hx)
        if isinstance(input, Tensor) and input.ndim in (2, 3) and input.shape[-1] != self.input_size:
            layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
            raise ValueError(f"{type(self).__name__}: expected input {layout} with input_size={self.input_size}, "
                             f"got shape {input.shape}")
        unbatched = isinstance(input, Tensor) and input.ndim == 2
        if unbatched:
            input = unsqueeze(input, 0 if self.batch_first else 1)
            hx = _map_state(hx, lambda h: unsqueeze(h, 1))
        output, state = self._run(input, hx, self.batch_first)
        if unbatched:
            output = squeeze(output, 0 if self.batch_first else 1)
            state = _map_state(state, lambda h: squeeze(h, 1))
        return output, state

    def _run(self, input: Tensor, hx, batch_first: bool):
        return recurrent_layers(input, hx, self.all_weights, mode=self.mode, num_layers=self.num_layers,
                                bidirectional=self.bidirectional, dropout=self.dropout, training=self.training,
                                batch_first=batch_first)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


def _map_state(state, fn):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(fn(s) for s in state)
    return fn(state)


class RNN(RNNBase):
    """Elman RNN (seed 002): h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(f"rnn_{nonlinearity}", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, device)
        self.nonlinearity = nonlinearity


class _GatedRNN(RNNBase):
    """A stack of recurrent layers whose mode the subclass fixes (``_mode``)."""

    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 device=None):
        super().__init__(self._mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, device)


class LSTM(_GatedRNN):
    """LSTM (seed 002: forget, input and output gates around a cell state), PyTorch's equations.

    [i, f, g, o] = [σ, σ, tanh, σ](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),
    c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t). Returns (output, (h_n, c_n)).
    """

    _mode = "lstm"


class GRU(_GatedRNN):
    """GRU, PyTorch's equations: r, z = σ(...), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}."""

    _mode = "gru"


class _CellBase(Module):
    """One time step: ``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), ``bias_ih``/``bias_hh`` (G·H,)."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, device=None):
        super().__init__()
        where = type(self).__name__
        _check_size(where, "input_size", input_size)
        _check_size(where, "hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        rows, bound = self.gates * hidden_size, 1 / math.sqrt(hidden_size)
        self.weight_ih = uniform_parameter((rows, input_size), bound, dtype, device)
        self.weight_hh = uniform_parameter((rows, hidden_size), bound, dtype, device)
        for name in ("bias_ih", "bias_hh"):
            if bias:
                setattr(self, name, uniform_parameter((rows,), bound, dtype, device))
            else:
                self.register_parameter(name, None)

    @property
    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (seed 002); input (N, in) or (in,), hx like h' or None."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype, device)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return rnn_cell(input, hx, *self._weights, nonlinearity=self.nonlinearity)


class LSTMCell(_CellBase):
    """One LSTM step (gate rows [i, f, g, o]); ``forward(input, (h, c) | None) -> (h', c')``."""

    gates = 4

    def forward(self, input: Tensor, hx=None) -> tuple:
        return lstm_cell(input, hx, *self._weights)


class GRUCell(_CellBase):
    """One GRU step (gate rows [r, z, n]); ``forward(input, h | None) -> h'``."""

    gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return gru_cell(input, hx, *self._weights)
