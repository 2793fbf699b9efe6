"""``Generator``: a random stream of its own, as ``torch.Generator``, for draws that must not
touch (or depend on) the global stream that ``shenjing.manual_seed`` seeds."""

from __future__ import annotations

import numpy as np

from . import _backend as B

__all__ = ["Generator", "numpy_generator"]

DEFAULT_SEED = 67280421310721  # torch.Generator's, so a fresh Generator() is reproducible too


class Generator:
    """An independent random stream: ``manual_seed(s)``, ``seed()``, ``initial_seed()``,
    ``get_state()`` / ``set_state(state)``.

    Pass it as ``generator=`` to ``rand``, ``randn``, ``randint``, ``randperm``, the samplers,
    ``DataLoader`` and ``random_split``. The draws come from a NumPy PCG64 generator, so the same
    seed gives the same numbers here on every run, though not PyTorch's numbers. The state is a
    plain dict (checkpoints need no pickle).

    >>> import shenjing as sj
    >>> g = sj.Generator().manual_seed(0)
    >>> a = sj.randn(3, generator=g)
    >>> bool((sj.randn(3, generator=g.manual_seed(0)) == a).all())
    True
    """

    def __init__(self, device="cpu"):
        self.device = B.device(device)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``, an integer taken modulo 2⁶⁴ as PyTorch does; returns the generator."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise RuntimeError(f"Generator.manual_seed: seed must be an integer, got {seed!r}")
        self._initial_seed = int(seed) % 2**64
        self.numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> dict:
        """The stream's position (a dict of ints and strings) for :meth:`set_state`."""
        return {"initial_seed": self._initial_seed, "bit_generator": self.numpy.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise TypeError(f"Generator.set_state: state must be a dict from get_state(), got {type(state).__name__}")
        self._initial_seed = int(state.get("initial_seed", self._initial_seed))
        self.numpy.bit_generator.state = state["bit_generator"]
        return self

    def __repr__(self) -> str:
        return f"Generator(device='{self.device}', initial_seed={self._initial_seed})"


def numpy_generator(generator: Generator | np.random.Generator | None, device: str = "cpu"):
    """The array module's generator to draw from: ``generator``'s stream, or the global one for ``device``."""
    if generator is None:
        return B.rng(device)
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a shenjing.Generator, got {type(generator).__name__}")
