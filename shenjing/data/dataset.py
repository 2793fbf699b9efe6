"""Datasets and input validation (seed 002 神经网络调参, first step: no NaN in the inputs)."""

from __future__ import annotations

import bisect
import math

import numpy as np

from .. import _backend as B
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "check_finite"]


def _raw(x):
    """The array behind a Tensor, or ``x`` itself."""
    return x.data if isinstance(x, Tensor) else x


def check_finite(X, name: str = "X"):
    """Raise ``ValueError`` naming the first NaN/Inf entry of ``X``; return ``X`` unchanged otherwise.

    The notes' first tuning step (seed 002 神经网络调参, 第一步) is to make sure the inputs hold
    no NaN or other invalid values, since one of them makes every output NaN. ``X`` is an array
    or Tensor of any shape; integer and boolean data are always finite. The index is reported
    as a tuple whose first entry is the sample (row) number.
    """
    data = _raw(X)
    if not hasattr(data, "dtype"):
        data = np.asarray(data)
    if data.dtype.kind not in "fc":
        return X
    xp = B.xp_of(data)
    bad = ~xp.isfinite(data)
    if not bool(bad.any()):
        return X
    flat = int(xp.argmax(bad.reshape(-1)))
    index = tuple(int(i) for i in np.unravel_index(flat, data.shape))
    value = float(data.reshape(-1)[flat])
    sample = f" (sample {index[0]})" if data.ndim > 1 else ""
    raise ValueError(f"{name} has a non-finite value ({value}) at index {index}{sample}; clean or impute it first")


class Dataset:
    """Base class of map-style datasets: subclasses define ``__len__`` and ``__getitem__(i)``.

    ``__getitem__`` returns one sample, usually a tuple ``(features, label)`` of arrays or
    numbers. A dataset may also define ``__getitems__(indices)`` returning a whole batch at
    once; ``DataLoader`` then skips the per-sample loop.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


class IterableDataset:
    """Base class of stream-style datasets: subclasses define ``__iter__`` yielding samples.

    With ``DataLoader(num_workers=N)`` every worker iterates its own copy of the dataset, so a
    dataset that should not repeat its samples N times splits the stream using
    :func:`shenjing.data.get_worker_info` (PyTorch's semantics).
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays: ``TensorDataset(X, y)[i] == (X[i], y[i])``,
    as Tensors (PyTorch's), which keep the arrays' dtype and device.

    ``transform`` (optional) is applied to the first array's rows, one sample ``(C, H, W)``
    through ``__getitem__`` or a whole batch ``(N, C, H, W)`` through ``__getitems__`` (the
    transforms of :mod:`shenjing.data.transforms` accept both). Arrays stay on their device
    and keep their dtype.
    """

    def __init__(self, *arrays, transform=None):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(_as_array(a, i) for i, a in enumerate(arrays))
        n = arrays[0].shape[0]
        for i, a in enumerate(arrays):
            if a.shape[0] != n:
                shapes = ", ".join(str(tuple(x.shape)) for x in arrays)
                raise ValueError(f"TensorDataset: array {i} has {a.shape[0]} rows, expected {n} (shapes {shapes})")
        if transform is not None and not callable(transform):
            raise TypeError(f"TensorDataset: transform must be callable, got {type(transform).__name__}")
        self.arrays = arrays
        self.transform = transform

    @property
    def tensors(self) -> tuple:
        """The stored arrays (PyTorch's attribute name)."""
        return self.arrays

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        index = _raw(index)
        key = index + (Ellipsis,) if isinstance(index, tuple) else (index, Ellipsis)  # rows stay arrays, 0-d too
        return tuple(Tensor._wrap(a) for a in self._apply(tuple(a[key] for a in self.arrays)))

    def __getitems__(self, indices):
        """A whole batch by fancy indexing (or slicing): no Python loop over samples."""
        return self._apply(tuple(a[indices] for a in self.arrays))

    def _apply(self, items: tuple) -> tuple:
        if self.transform is None:
            return items
        return (self.transform(items[0]),) + items[1:]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(d, idx)[i] == d[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        indices = _raw(indices)
        self.indices = [int(i) for i in (B.to_numpy(indices).reshape(-1) if hasattr(indices, "shape") else indices)]

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other: index ``i`` runs through the first, then the next."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
            index += len(self)
        part = bisect.bisect_right(self.cumulative_sizes, index)
        if part == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][index - start]


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given ``lengths``.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1: then each part
    gets ⌊f·n⌋ and the remainder is dealt one by one to the parts in order (PyTorch's rule).
    ``generator`` (a :class:`shenjing.Generator`) draws the permutation; by default the global stream.

    >>> a, b = random_split(range(10), [0.7, 0.3])
    >>> len(a), len(b), sorted(a.indices + b.indices) == list(range(10))
    (7, 3, True)
    """
    from ..generator import numpy_generator

    n, lengths = len(dataset), list(lengths)
    if lengths and math.isclose(math.fsum(lengths), 1) and math.fsum(lengths) <= 1:
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(k, (int, np.integer)) or k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths must be non-negative counts summing to the dataset's length {n} "
                         f"or fractions summing to 1, got {lengths}")
    order = numpy_generator(generator).permutation(n).tolist()
    stops = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[stop - k:stop]) for k, stop in zip(lengths, stops)]


def _as_array(a, position: int):
    a = _raw(a)
    if not hasattr(a, "shape"):
        a = B.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"TensorDataset: array {position} is a scalar; expected one row per sample")
    return a
