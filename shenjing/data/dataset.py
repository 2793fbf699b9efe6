"""Datasets and input validation (seed 002 神经网络调参, first step: no NaN in the inputs)."""

from __future__ import annotations

import numpy as np

from .. import _backend as B
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "check_finite"]


def _raw(x):
    """The array behind a Tensor, or ``x`` itself."""
    return x.data if isinstance(x, Tensor) else x


def check_finite(X, name: str = "X"):
    """Raise ``ValueError`` naming the first NaN/Inf entry of ``X``; return ``X`` unchanged otherwise.

    The notes' first tuning step (seed 002 神经网络调参, 第一步) is to make sure the inputs hold
    no NaN or other invalid values, since one of them makes every output NaN. ``X`` is an array
    or Tensor of any shape; integer and boolean data are always finite. The index is reported
    as a tuple whose first entry is the sample (row) number.

    >>> import numpy as np
    >>> from shenjing.data import check_finite
    >>> X = np.ones((4, 2))
    >>> X[2, 1] = np.inf
    >>> try:
    ...     check_finite(X)
    ... except ValueError as error:
    ...     print(error)
    ...
    X has a non-finite value (inf) at index (2, 1) (sample 2); clean or impute it first
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

    >>> from shenjing.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i, i * i
    ...
    >>> data = Squares()
    >>> len(data), data[3]
    (4, (3, 9))
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays: ``TensorDataset(X, y)[i] == (X[i], y[i])``.

    ``transform`` (optional) is applied to the first array's rows, one sample ``(C, H, W)``
    through ``__getitem__`` or a whole batch ``(N, C, H, W)`` through ``__getitems__`` (the
    transforms of :mod:`shenjing.data.transforms` accept both). Arrays stay on their device
    and keep their dtype.

    >>> import numpy as np
    >>> from shenjing.data import TensorDataset
    >>> data = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
    >>> x, y = data[1]
    >>> len(data), x.tolist(), int(y)
    (3, [2.0, 3.0], 1)
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
        return self._apply(tuple(a[index] for a in self.arrays))

    def __getitems__(self, indices):
        """A whole batch by fancy indexing (or slicing): no Python loop over samples."""
        return self._apply(tuple(a[indices] for a in self.arrays))

    def _apply(self, items: tuple) -> tuple:
        if self.transform is None:
            return items
        return (self.transform(items[0]),) + items[1:]


def _as_array(a, position: int):
    a = _raw(a)
    if not hasattr(a, "shape"):
        a = B.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"TensorDataset: array {position} is a scalar; expected one row per sample")
    return a
