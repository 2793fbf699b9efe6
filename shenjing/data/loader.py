"""DataLoader: batches of Tensors from a dataset (seed 001 梯度下降, mini-batch SGD steps 1-2)."""

from __future__ import annotations

import math

import numpy as np

from .. import _backend as B
from ..tensor import Tensor
from .sampler import RandomSampler, Sampler, SequentialSampler, make_generator

__all__ = ["DataLoader", "default_collate"]


def _to_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    arr = x if hasattr(x, "dtype") and hasattr(x, "shape") else B.asarray(x)
    if arr.dtype.kind in "iu" and arr.dtype != B.int64:
        arr = arr.astype(B.int64)
    return Tensor._wrap(arr)


def _as_tensors(batch):
    if isinstance(batch, (tuple, list)):
        return tuple(_to_tensor(b) for b in batch)
    return _to_tensor(batch)


def _stack(items: list):
    first = items[0]
    if isinstance(first, Tensor):
        items = [t.data for t in items]
        first = items[0]
    if hasattr(first, "shape"):
        return B.xp_of(first).stack(items)
    return B.asarray(items)


def default_collate(samples: list):
    """Stack a list of samples into a batch: tuples field by field, then Tensors.

    Float fields keep the dtype of the samples' arrays (Python floats become the default
    float32), integer fields become int64.
    """
    if not samples:
        raise ValueError("default_collate: empty batch")
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(_to_tensor(_stack([s[i] for s in samples])) for i in range(len(first)))
    return _to_tensor(_stack(samples))


class DataLoader:
    """Iterates over a dataset in batches of Tensors.

    ``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, drop_last=False,
    collate_fn=None, seed=None)``. Each epoch (each ``iter``) draws one order of the indices
    from the sampler (a fresh shuffle when ``shuffle=True``, seed 002: shuffle the input
    stream) and cuts it into batches of ``batch_size`` (seed 001: mini-batch SGD; powers of
    two suit the matrix kernels). ``batch_size=None`` yields the whole dataset as one batch
    (the accumulated BP of seed 000 §2.7). ``batch_size=1`` is the standard BP.

    Datasets with ``__getitems__`` (``TensorDataset``) are batched by fancy indexing, with
    no Python loop over samples; others go through ``collate_fn`` (default
    :func:`default_collate`) on a list of samples. Batches are tuples of Tensors (or one
    Tensor): features keep their float dtype, integer labels become int64.

    The shuffling generator is seeded by ``seed`` (or from shenjing's global generator);
    ``state_dict()`` / ``load_state_dict()`` save and restore its state, so a resumed run
    continues the same sequence of shuffles. Taken in the middle of an epoch, the state also
    holds the batches already yielded: the next ``iter`` redraws that epoch's order and goes on
    with the batch after them.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler: Sampler | None = None,
                 drop_last: bool = False, collate_fn=None, seed: int | None = None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give either shuffle=True or a sampler, not both")
        if sampler is not None and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be iterable, got {type(sampler).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        if sampler is None:
            sampler = RandomSampler(dataset, generator=make_generator(seed)) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        self._epoch_start = None  # the generator's state before the current epoch drew its order
        self._batches_yielded = 0  # in the current epoch
        self._resume_at = 0  # batches to pass over at the next iter (a restored mid-epoch state)

    @property
    def generator(self) -> np.random.Generator | None:
        """The sampler's random generator (None for a sequential order)."""
        return getattr(self.sampler, "generator", None)

    def _epoch_indices(self) -> np.ndarray:
        if isinstance(self.sampler, Sampler):
            return self.sampler.indices()
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def _size(self) -> int:
        return len(self.sampler)

    def _step(self) -> int:
        return self._size() if self.batch_size is None else self.batch_size

    def __len__(self) -> int:
        step, n = self._step(), self._size()
        return n // step if self.drop_last else math.ceil(n / step)

    def __iter__(self):
        skip, self._resume_at = self._resume_at, 0
        gen = self.generator
        self._epoch_start = None if gen is None else gen.bit_generator.state
        indices = self._epoch_indices()
        sequential = isinstance(self.sampler, SequentialSampler)
        fast = self.collate_fn is None and hasattr(self.dataset, "__getitems__")
        step, n = self._step(), indices.size
        stop_at = n - n % step if self.drop_last else n
        self._batches_yielded = skip
        try:
            for start in range(skip * step, stop_at, step):
                stop = min(start + step, n)
                self._batches_yielded += 1
                if fast:
                    batch = self.dataset.__getitems__(slice(start, stop) if sequential else indices[start:stop])
                    yield _as_tensors(batch)
                else:
                    samples = [self.dataset[int(i)] for i in indices[start:stop]]
                    yield (self.collate_fn or default_collate)(samples)
        finally:  # the epoch is over, or was left (break): the next iter starts a fresh one
            self._epoch_start, self._batches_yielded = None, 0

    def state_dict(self) -> dict:
        """Where this loader stands (JSON-friendly): the shuffling generator's state (at the start
        of the current epoch while one is under way), the batches of that epoch yielded so far, and
        the generators of the dataset's random transforms (augmentation)."""
        gen = self.generator
        if self._batches_yielded:  # an epoch under way
            generator, batches = self._epoch_start, self._batches_yielded
        else:  # between epochs, or restored to go on from batch ``_resume_at`` at the next iter
            generator, batches = None if gen is None else gen.bit_generator.state, self._resume_at
        return {"generator": generator, "batches_yielded": batches,
                "transforms": [g.bit_generator.state for g in _transform_generators(self.dataset)]}

    def load_state_dict(self, state: dict) -> None:
        gen, transforms = self.generator, _transform_generators(self.dataset)
        batches = state.get("batches_yielded", 0)
        if not isinstance(batches, (int, np.integer)) or not 0 <= batches <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_yielded must be an int in [0, {len(self)}], "
                             f"got {batches!r}")
        if state.get("generator") is not None:
            if gen is None:
                raise ValueError("DataLoader.load_state_dict: this loader has no random generator to restore")
            gen.bit_generator.state = state["generator"]
        self._epoch_start, self._batches_yielded, self._resume_at = None, 0, int(batches)
        saved = state.get("transforms", [])
        if len(saved) != len(transforms):
            raise ValueError(f"DataLoader.load_state_dict: the state holds {len(saved)} transform generators, "
                             f"the dataset has {len(transforms)}")
        for g, s in zip(transforms, saved):
            g.bit_generator.state = s


def _transform_generators(dataset) -> list:
    """The random generators of ``dataset.transform`` (through ``Compose``), in order."""
    found, stack = [], [getattr(dataset, "transform", None)]
    while stack:
        t = stack.pop(0)
        if t is None:
            continue
        if isinstance(getattr(t, "generator", None), np.random.Generator):
            found.append(t.generator)
        stack[:0] = list(getattr(t, "transforms", ()))
    return found
