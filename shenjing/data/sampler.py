"""Index samplers: sequential, shuffled, weighted and class-balanced (seed 004 §4.3.1 re-sampling)."""

from __future__ import annotations

import itertools

import numpy as np

from .. import _backend as B
from ..generator import numpy_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "ClassBalancedSampler", "BatchSampler"]


def make_generator(seed=None, generator=None) -> np.random.Generator:
    """A NumPy generator: ``generator``'s stream (a :class:`shenjing.Generator` or a NumPy one), a
    fresh one from ``seed``, or one seeded from shenjing's global generator (so
    ``shenjing.manual_seed`` makes it reproducible)."""
    if generator is not None:
        return numpy_generator(generator)
    if seed is None:
        seed = int(B.rng().integers(2**63))
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return np.random.default_rng(int(seed))


def _positive_int(value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _length(data_source) -> int:
    if isinstance(data_source, (int, np.integer)):
        return int(data_source)
    return len(data_source)


class Sampler:
    """Base class: an iterable of dataset indices. ``indices()`` gives one epoch's as an int64 array."""

    generator: np.random.Generator | None = None

    def indices(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., n-1 in order (``data_source`` is a dataset or its length)."""

    def __init__(self, data_source):
        self.n = _length(data_source)

    def indices(self) -> np.ndarray:
        return np.arange(self.n, dtype=np.int64)

    def __len__(self) -> int:
        return self.n


class RandomSampler(Sampler):
    """A fresh random permutation each epoch (seed 002: shuffle the input stream).

    With ``replacement=True`` draws ``num_samples`` indices uniformly with replacement.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 seed: int | None = None, generator: np.random.Generator | None = None):
        self.n = _length(data_source)
        self.replacement = bool(replacement)
        if num_samples is not None and not self.replacement and num_samples != self.n:
            raise ValueError("RandomSampler: num_samples needs replacement=True unless it equals the dataset size")
        self.num_samples = self.n if num_samples is None else _positive_int(num_samples, "num_samples")
        self.generator = make_generator(seed, generator)

    def indices(self) -> np.ndarray:
        if self.replacement:
            return self.generator.integers(0, self.n, size=self.num_samples, dtype=np.int64)
        return self.generator.permutation(self.n).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order each epoch (PyTorch's ``SubsetRandomSampler``).

    >>> sorted(SubsetRandomSampler([4, 7, 9], seed=0))
    [4, 7, 9]
    """

    def __init__(self, indices, seed: int | None = None, generator=None):
        self.subset = np.asarray(B.to_numpy(getattr(indices, "data", indices)), dtype=np.int64).reshape(-1)
        self.generator = make_generator(seed, generator)

    def indices(self) -> np.ndarray:
        return self.subset[self.generator.permutation(self.subset.size)]

    def __len__(self) -> int:
        return self.subset.size


class WeightedRandomSampler(Sampler):
    """Draws index i with probability w_i / Σ_j w_j (PyTorch's ``WeightedRandomSampler``).

    ``weights`` (n,) non-negative, not all zero; ``num_samples`` draws per epoch,
    with replacement by default.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 seed: int | None = None, generator: np.random.Generator | None = None):
        weights = np.asarray(B.to_numpy(getattr(weights, "data", weights)), dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(f"weights must be a non-empty 1-d sequence, got shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        self.num_samples = _positive_int(num_samples, "num_samples")
        self.replacement = bool(replacement)
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise ValueError("num_samples exceeds the number of non-zero weights while replacement=False")
        self.p = weights / weights.sum()
        self.generator = make_generator(seed, generator)

    def indices(self) -> np.ndarray:
        return self.generator.choice(self.p.size, size=self.num_samples, replace=self.replacement, p=self.p)

    def __len__(self) -> int:
        return self.num_samples


class ClassBalancedSampler(WeightedRandomSampler):
    """Re-sampling of seed 004 §4.3.1: class c is drawn with p_c = n_c^q / Σ_j n_j^q.

    Draws with replacement, uniformly within a class, so sample i of class c has
    probability p_c / n_c. ``q=0`` gives every class the same share (class weights);
    ``q=1`` is plain uniform sampling of instances. ``labels`` (n,) integer class labels;
    ``num_samples`` draws per epoch (default n).
    """

    def __init__(self, labels, q: float = 0.0, num_samples: int | None = None,
                 seed: int | None = None, generator: np.random.Generator | None = None):
        labels = np.asarray(B.to_numpy(getattr(labels, "data", labels)))
        if labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "iub":
            raise ValueError(f"labels must be a non-empty 1-d integer array, got dtype {labels.dtype}, "
                             f"shape {labels.shape}")
        if not np.isfinite(q) or q < 0:
            raise ValueError(f"q must be a finite number >= 0, got {q!r}")
        _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        class_p = counts.astype(np.float64) ** q
        class_p /= class_p.sum()
        self.q = float(q)
        self.class_probabilities = class_p
        weights = (class_p / counts)[inverse]
        super().__init__(weights, labels.size if num_samples is None else num_samples, True, seed, generator)


class BatchSampler:
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``), PyTorch's ``BatchSampler``; pass it to ``DataLoader(batch_sampler=...)``.

    >>> list(BatchSampler(SequentialSampler(5), 2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.drop_last = bool(drop_last)

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := [int(i) for i in itertools.islice(indices, self.batch_size)]:
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
