"""Index samplers: sequential, shuffled, weighted and class-balanced (seed 004 §4.3.1 re-sampling)."""

from __future__ import annotations

import itertools

import numpy as np

from .. import _backend as B
from ..generator import numpy_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "ClassBalancedSampler", "BatchSampler", "DistributedSampler"]


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


def _mt19937(seed: int) -> np.random.MT19937:
    """Mersenne Twister seeded as C++'s ``std::mt19937(seed)`` (and torch's CPU generator): the
    seed's low 32 bits through the reference initialisation x_j = 1812433253·(x_{j-1} ⊕ (x_{j-1} >> 30)) + j."""
    key = [seed & 0xFFFFFFFF]
    for j in range(1, 624):
        key.append((1812433253 * (key[-1] ^ (key[-1] >> 30)) + j) & 0xFFFFFFFF)
    generator = np.random.MT19937()
    generator.state = {"bit_generator": "MT19937", "state": {"key": np.array(key, dtype=np.uint32), "pos": 624}}
    return generator


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` in NumPy, index for index.

    torch's CPU randperm is a Fisher-Yates shuffle: for i = 0 .. n-2 swap r_i with r_{i+z}, where
    z = u_i mod (n - i) and u_i are the generator's 32-bit draws (for n < 2^32/20; larger n
    would need torch's 64-bit draws, which this does not reproduce).

    >>> torch_randperm(5, seed=0).tolist()
    [4, 0, 1, 3, 2]
    """
    draws = _mt19937(seed).random_raw(max(n - 1, 0)).tolist()
    order = list(range(n))
    for i, u in enumerate(draws):
        z = i + u % (n - i)
        order[i], order[z] = order[z], order[i]
    return np.array(order, dtype=np.int64)


def _world(num_replicas, rank) -> tuple[int, int]:
    """(num_replicas, rank), each defaulting to the initialised process group's."""
    if num_replicas is None or rank is None:
        from .. import distributed as dist

        num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
        rank = dist.get_rank() if rank is None else rank
    num_replicas = _positive_int(num_replicas, "num_replicas")
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
        raise ValueError(f"rank must be an integer in [0, {num_replicas - 1}], got {rank!r}")
    return num_replicas, int(rank)


class DistributedSampler(Sampler):
    """This rank's share of the dataset, as PyTorch's ``DistributedSampler`` (DESIGN.md §10.2).

    The epoch's order (``torch.randperm`` under seed ``seed + epoch`` when ``shuffle``, else
    0..n-1) is padded by wrapping around to a multiple of ``num_replicas`` (or cut to one with
    ``drop_last``); rank r takes positions r, r + R, r + 2R, ... So every rank gets
    ``len(self)`` indices, and a run's data order is the same as under PyTorch. Call
    ``set_epoch(epoch)`` before each epoch for a new order. ``num_replicas`` and ``rank``
    default to the process group's.

    >>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))
    [1, 3, 0]
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.n = _length(dataset)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        if self.drop_last:
            self.num_samples = self.n // self.num_replicas
        else:
            self.num_samples = -(-self.n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from now on (the same on every rank)."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        order = torch_randperm(self.n, self.seed + self.epoch) if self.shuffle else np.arange(self.n, dtype=np.int64)
        if self.total_size > self.n:
            order = np.resize(order, self.total_size)  # wraps around, repeating as often as needed
        return order[self.rank:self.total_size:self.num_replicas]

    def __len__(self) -> int:
        return self.num_samples
