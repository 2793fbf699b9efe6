"""DataLoader: batches of Tensors from a dataset (seed 001 梯度下降, mini-batch SGD steps 1-2)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping

import numpy as np

from .. import _backend as B
from ..tensor import Tensor
from ._worker import run_workers
from .dataset import IterableDataset
from .sampler import RandomSampler, Sampler, SequentialSampler, make_generator

__all__ = ["DataLoader", "default_collate", "default_convert"]


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


def _numeric(x) -> bool:
    if isinstance(x, Tensor):
        return True
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return x.dtype.kind in "biuf"
    return isinstance(x, (bool, int, float))


def default_collate(samples: list):
    """Stack a list of samples into a batch: tuples field by field, dicts key by key, numbers and
    arrays into Tensors, anything else (strings, paths, ...) kept as a list (PyTorch's rule).

    Float fields keep the dtype of the samples' arrays (Python floats become the default
    float32), integer fields become int64.

    >>> x, names = default_collate([(1.5, "a"), (2.5, "b")])
    >>> x.tolist(), names
    ([1.5, 2.5], ['a', 'b'])
    """
    if not samples:
        raise ValueError("default_collate: empty batch")
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(field)) for field in zip(*samples))
    if _numeric(first):
        return _to_tensor(_stack(samples))
    return list(samples)


def default_convert(sample):
    """One sample as a batch-less loader yields it: arrays become Tensors (their dtype kept), tuples,
    lists and dicts are converted item by item, anything else is returned as it is."""
    if isinstance(sample, Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(value) for value in sample)
    if hasattr(sample, "dtype") and hasattr(sample, "shape") and not isinstance(sample, Tensor):
        return Tensor._wrap(B.xp_of(sample).asarray(sample)) if sample.dtype.kind in "biuf" else sample
    return sample


class DataLoader:
    """Iterates over a dataset in batches of Tensors.

    ``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, multiprocessing_context=None, generator=None, *, prefetch_factor=2,
    persistent_workers=False, seed=None)``, PyTorch's arguments in PyTorch's order. Each epoch
    (each ``iter``) draws one order of the indices from the sampler (a fresh shuffle when
    ``shuffle=True``, seed 002: shuffle the input stream) and cuts it into batches of
    ``batch_size`` (seed 001: mini-batch SGD; powers of two suit the matrix kernels), or takes its
    batches of indices from ``batch_sampler``. ``batch_size=1`` is the standard BP;
    ``batch_size=None`` yields single samples, uncollated (PyTorch's meaning;
    ``Trainer.fit(batch_size=None)`` is the full-batch BP).

    Datasets with ``__getitems__`` (``TensorDataset``) are batched by fancy indexing, with
    no Python loop over samples; others go through ``collate_fn`` (default
    :func:`default_collate`) on a list of samples. Batches are tuples of Tensors (or one
    Tensor): features keep their float dtype, integer labels become int64.

    ``num_workers=N`` loads batches in N worker processes (``multiprocessing_context``, default
    ``'fork'`` where the platform has it); batch k is loaded by worker k mod N and the batches come
    out in the order of ``num_workers=0``. Worker w is seeded with base + w (shenjing's streams,
    ``random``, and the dataset's random transforms), the base drawn each epoch from the global
    stream; ``worker_init_fn(w)`` then runs in the worker, where :func:`get_worker_info` describes
    it. An :class:`IterableDataset` is iterated by every worker (PyTorch's semantics): the batches
    of the workers alternate, and the dataset splits its stream through ``get_worker_info()``.
    A worker that sends nothing for ``timeout`` seconds (when > 0) raises RuntimeError.
    ``pin_memory`` and ``persistent_workers`` are accepted for ported code (workers start each epoch).

    The shuffling generator is ``generator`` (a :class:`shenjing.Generator`), or one seeded by
    ``seed`` (or from shenjing's global generator); ``state_dict()`` / ``load_state_dict()`` save
    and restore its state, so a resumed run continues the same sequence of shuffles. Taken in the
    middle of an epoch, the state also holds the batches already yielded: the next ``iter`` redraws
    that epoch's order and goes on with the batch after them.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler: Sampler | None = None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 seed: int | None = None):
        self.iterable = isinstance(dataset, IterableDataset)
        _check_dataset(dataset, self.iterable, shuffle, sampler or batch_sampler)
        _check_batching(batch_size, shuffle, sampler, batch_sampler, drop_last)
        for name, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be callable, got {type(fn).__name__}")
        if not timeout >= 0:
            raise ValueError(f"DataLoader: timeout must be a non-negative number of seconds, got {timeout!r}")
        self.num_workers = _workers(num_workers, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.batch_sampler = batch_sampler
        self.batch_size = None if batch_size is None or batch_sampler is not None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.pin_memory, self.persistent_workers = bool(pin_memory), bool(persistent_workers)
        self.timeout, self.worker_init_fn = float(timeout), worker_init_fn
        self.prefetch_factor = 2 if prefetch_factor is None else int(prefetch_factor)
        self.multiprocessing_context = multiprocessing_context or _default_start_method()
        if sampler is None and not self.iterable:
            sampler = getattr(batch_sampler, "sampler", None) or (
                RandomSampler(dataset, generator=make_generator(seed, generator)) if shuffle
                else SequentialSampler(dataset))
        self.sampler = sampler
        self._epoch_start = None  # the generator's state before the current epoch drew its order
        self._batches_yielded = 0  # in the current epoch
        self._resume_at = 0  # batches to pass over at the next iter (a restored mid-epoch state)

    @property
    def generator(self) -> np.random.Generator | None:
        """The sampler's random generator (None for a sequential order)."""
        return getattr(self.sampler, "generator", None)

    def transform_generators(self) -> list:
        """The random generators of the dataset's transforms (reseeded in each worker process)."""
        return _transform_generators(self.dataset)

    def _epoch_indices(self) -> np.ndarray:
        if isinstance(self.sampler, Sampler):
            return self.sampler.indices()
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def _size(self) -> int:
        return len(self.dataset) if self.iterable else len(self.sampler)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if self.iterable and not hasattr(self.dataset, "__len__"):
            raise TypeError(f"DataLoader: the IterableDataset {type(self.dataset).__name__} has no __len__")
        n = self._size()
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        skip, self._resume_at = self._resume_at, 0
        gen = self.generator
        self._epoch_start = None if gen is None else gen.bit_generator.state
        self._batches_yielded = skip
        batches = self._batches(skip)
        try:
            for batch in batches:
                self._batches_yielded += 1
                yield batch
        finally:  # the epoch is over, or was left (break): the next iter starts a fresh one
            batches.close()  # ends the worker processes at once
            self._epoch_start, self._batches_yielded = None, 0

    def _batches(self, skip: int):
        """This epoch's batches after the first ``skip``, loaded here or by the worker processes."""
        workers = max(self.num_workers, 1)
        if self.iterable:  # a stream can only be read past
            producers, passed_over = [self._stream] * workers, skip
        else:
            plan, passed_over = self._plan()[skip:], 0
            producers = [functools.partial(self._fetch_each, plan[w::workers]) for w in range(workers)]
        if self.num_workers == 0:
            batches = producers[0]()
        else:
            batches = run_workers(self, producers, int(B.rng().integers(2**62)))
        for _ in range(passed_over):
            next(batches, None)
        return batches

    def _plan(self) -> list:
        """This epoch's work, one item per batch: a slice or an index array (or one index without batching)."""
        if self.batch_sampler is not None:
            return [np.asarray(list(batch), dtype=np.int64) for batch in self.batch_sampler]
        indices = self._epoch_indices()
        if self.batch_size is None:
            return indices.tolist()
        sliceable = isinstance(self.sampler, SequentialSampler) and self._fast()
        step, n = self.batch_size, indices.size
        stop_at = n - n % step if self.drop_last else n
        return [slice(start, min(start + step, n)) if sliceable else indices[start:start + step]
                for start in range(0, stop_at, step)]

    def _fast(self) -> bool:
        return self.collate_fn is None and hasattr(self.dataset, "__getitems__")

    def _fetch_each(self, plan: list):
        for item in plan:
            yield self._fetch(item)

    def _fetch(self, item):
        if self.batch_size is None and self.batch_sampler is None:
            return (self.collate_fn or default_convert)(self.dataset[item])
        if self._fast():
            return _as_tensors(self.dataset.__getitems__(item))
        return (self.collate_fn or default_collate)([self.dataset[int(i)] for i in item])

    def _stream(self):
        """The batches of an iterable dataset (of this process's copy of it)."""
        samples = iter(self.dataset)
        if self.batch_size is None:
            yield from map(self.collate_fn or default_convert, samples)
            return
        while chunk := list(itertools.islice(samples, self.batch_size)):
            if len(chunk) < self.batch_size and self.drop_last:
                return
            yield (self.collate_fn or default_collate)(chunk)

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


def _check_dataset(dataset, iterable: bool, shuffle: bool, sampler) -> None:
    if iterable:
        if shuffle or sampler is not None:
            raise ValueError("DataLoader: an IterableDataset takes neither shuffle=True nor a sampler; "
                             "it decides its own order")
        return
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__ (or be an IterableDataset), "
                        f"got {type(dataset).__name__}")
    if len(dataset) == 0:
        raise ValueError("DataLoader: the dataset is empty")


def _check_batching(batch_size, shuffle: bool, sampler, batch_sampler, drop_last: bool) -> None:
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                                   or batch_size <= 0):
        raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: give either shuffle=True or a sampler, not both")
    if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
        raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                         "and drop_last")
    for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
        if value is not None and not hasattr(value, "__iter__"):
            raise TypeError(f"DataLoader: {name} must be iterable, got {type(value).__name__}")


def _workers(num_workers, prefetch_factor, persistent_workers) -> int:
    if not isinstance(num_workers, (int, np.integer)) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
    if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
        raise ValueError("DataLoader: prefetch_factor and persistent_workers need num_workers > 0")
    if prefetch_factor is not None and (not isinstance(prefetch_factor, (int, np.integer)) or prefetch_factor < 1):
        raise ValueError(f"DataLoader: prefetch_factor must be a positive integer, got {prefetch_factor!r}")
    return int(num_workers)


def _default_start_method() -> str:
    import multiprocessing

    return "fork" if "fork" in multiprocessing.get_all_start_methods() else multiprocessing.get_start_method()


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
