"""``shenjing.cuda``: PyTorch's everyday GPU queries (``is_available``, ``device_count``) and seeding.

A GPU is used through CuPy; without CuPy (or without a GPU) ``is_available()`` is False, and a
script written as ``device = 'cuda' if shenjing.cuda.is_available() else 'cpu'`` runs on the CPU.
"""

from __future__ import annotations

from . import _backend as B

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU.

    >>> isinstance(is_available(), bool)
    True
    """
    return B.cuda_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy)."""
    return B.device_count()


def manual_seed(seed: int) -> None:
    """Seed the random streams (shenjing keeps one seed for the CPU and the GPU streams)."""
    B.manual_seed(seed)


manual_seed_all = manual_seed
