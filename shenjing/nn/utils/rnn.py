"""Variable-length sequences for the recurrent layers (PyTorch's ``nn.utils.rnn``): padding, and packed
sequences, which store only the real time steps so that padding never enters a recurrence.

A :class:`PackedSequence` lists the batch time step by time step, longest sequence first:
``data`` (Σ lengths, *) holds step 0 of every sequence, then step 1 of those longer than 1, ...;
``batch_sizes[t]`` says how many sequences have a step t. ``sorted_indices`` maps that order to the
original batch (None when the batch was given sorted), ``unsorted_indices`` is its inverse.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import _backend as B
from ...functional.shape import cat, pad, stack
from ...tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence", "forward_packed"]


class PackedSequence(NamedTuple):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch's ``PackedSequence``."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data`` moved or cast (``batch_sizes`` stays on the CPU)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def order(self) -> np.ndarray:
        """The original batch index of each sequence, longest first."""
        n = int(self.batch_sizes.data[0])
        return np.arange(n) if self.sorted_indices is None else B.to_numpy(self.sorted_indices.data)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(time step, original batch index) of every row of ``data``."""
        sizes, order = B.to_numpy(self.batch_sizes.data), self.order()
        steps = np.repeat(np.arange(sizes.size), sizes)
        return steps, np.concatenate([order[:k] for k in sizes])

    def lengths(self) -> np.ndarray:
        """Each sequence's length, in the original batch order."""
        sizes = B.to_numpy(self.batch_sizes.data)
        lengths = np.zeros(int(sizes[0]), dtype=np.int64)
        lengths[self.order()] = (np.arange(int(sizes[0]))[:, None] < sizes[None, :]).sum(1)
        return lengths


def _index_tensor(values) -> Tensor:
    return Tensor._wrap(np.asarray(values, dtype=np.int64))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors (L_i, *) of different lengths into (L_max, B, *) (or (B, L_max, *) with ``batch_first``),
    filling with ``padding_value`` after (``padding_side='right'``) or before each sequence. Differentiable.

    >>> import shenjing as sj
    >>> pad_sequence([sj.ones(3), sj.ones(1)], batch_first=True).tolist()
    [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    """
    sequences = list(sequences)
    if not sequences or not all(isinstance(s, Tensor) and s.ndim >= 1 for s in sequences):
        raise TypeError("pad_sequence: sequences must be a non-empty list of Tensors of at least 1 dimension")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    longest = max(s.shape[0] for s in sequences)

    def padded(s: Tensor) -> Tensor:
        gap = longest - s.shape[0]
        return pad(s, [0, 0] * (s.ndim - 1) + ([0, gap] if padding_side == "right" else [gap, 0]),
                   value=padding_value)

    return stack([padded(s) for s in sequences], 0 if batch_first else 1)


def _lengths(lengths) -> np.ndarray:
    lengths = B.to_numpy(lengths.data) if isinstance(lengths, Tensor) else np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise TypeError(f"lengths must be a 1-d sequence of ints, got {lengths!r}")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    return lengths.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence b has
    ``lengths[b]`` real steps. ``enforce_sorted=True`` needs the lengths in decreasing order;
    otherwise the batch is sorted here and ``sorted_indices`` remembers the order. Differentiable.

    >>> import shenjing as sj
    >>> packed = pack_padded_sequence(sj.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]]), [3, 2], batch_first=True)
    >>> packed.data.tolist(), packed.batch_sizes.tolist()
    ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """
    lengths = _lengths(lengths)
    steps_axis = 1 if batch_first else 0
    if lengths.size != input.shape[1 - steps_axis] or lengths.max() > input.shape[steps_axis]:
        raise ValueError(f"pack_padded_sequence: lengths {lengths.tolist()} do not fit an input of shape "
                         f"{tuple(input.shape)} (batch_first={batch_first})")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True; "
                               "pass enforce_sorted=False to sort the batch here")
        sorted_indices = unsorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, unsorted_indices = _index_tensor(order), _index_tensor(np.argsort(order))
    batch_sizes = (np.arange(lengths.max())[:, None] < np.sort(lengths)[::-1][None, :]).sum(1)
    packed = PackedSequence(None, _index_tensor(batch_sizes), sorted_indices, unsorted_indices)
    steps, batch = packed.positions()
    data = input[batch, steps] if batch_first else input[steps, batch]
    return packed._replace(data=data)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the
    original batch order; T = ``total_length`` or the longest length. Differentiable.

    >>> import shenjing as sj
    >>> padded, lengths = pad_packed_sequence(pack_sequence([sj.ones(2), sj.ones(3)], enforce_sorted=False))
    >>> padded.shape, lengths.tolist()
    ((3, 2), [2, 3])
    """
    data = sequence.data
    steps, batch = sequence.positions()
    longest = int(B.to_numpy(sequence.batch_sizes.data).size)
    total = longest if total_length is None else int(total_length)
    if total < longest:
        raise ValueError(f"pad_packed_sequence: total_length {total_length} is shorter than the longest sequence "
                         f"({longest} steps)")
    width = int(sequence.batch_sizes.data[0])
    source = np.full((total, width), data.shape[0], dtype=np.int64)  # the padding row by default
    source[steps, batch] = np.arange(data.shape[0])
    filler = Tensor._wrap(B.xp_of(data.data).full((1, *data.shape[1:]), padding_value, dtype=data.dtype))
    padded = cat([data, filler])[source]
    return (padded.transpose(0, 1) if batch_first else padded), _index_tensor(sequence.lengths())


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) directly: ``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """Undo :func:`pad_sequence`: the list of sequences (lengths[b], *), each cut from the padded batch.

    >>> import shenjing as sj
    >>> [s.tolist() for s in unpad_sequence(sj.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], batch_first=True)]
    [[1.0, 2.0], [3.0]]
    """
    rows = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [rows[b, :n] for b, n in enumerate(_lengths(lengths).tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo :func:`pack_sequence`: the list of sequences in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _state_rows(state, index):
    """The batch rows ``index`` of a hidden state (layers·directions, B, H), or of LSTM's (h, c) pair."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_state_rows(s, index) for s in state)
    return state[:, index]


def _join_states(states: list, order: np.ndarray):
    if isinstance(states[0], tuple):
        return tuple(_join_states([s[k] for s in states], order) for k in range(len(states[0])))
    return cat(states, 1)[:, order]


def forward_packed(run, sequence: PackedSequence, hx=None):
    """Run a recurrent stack over a packed batch: ``run(x (T, n, in), hx) -> (output, state)`` is applied to
    the sequences of each length together, so each sees exactly its own steps; returns
    (PackedSequence of the outputs, the final states in the original batch order), as PyTorch does."""
    padded, _ = pad_packed_sequence(sequence)
    lengths = sequence.lengths()
    groups = [np.flatnonzero(lengths == n) for n in np.unique(lengths)]
    outputs, states = [], []
    for rows in groups:
        n = int(lengths[rows[0]])
        out, state = run(padded[:n, rows], _state_rows(hx, rows))
        outputs.append(pad(out, [0, 0, 0, 0, 0, padded.shape[0] - n]))
        states.append(state)
    order = np.argsort(np.concatenate(groups))
    steps, batch = sequence.positions()
    data = cat(outputs, 1)[:, order][steps, batch]
    return sequence._replace(data=data), _join_states(states, order)
