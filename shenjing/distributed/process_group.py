"""The process group: which process this is among how many, and how they talk.

``mpiexec -n N python train.py`` starts N copies of one program; ``init_process_group`` joins
them through MPI (mpi4py) and, with ``backend='nccl'``, adds an NCCL communicator for arrays on
NVIDIA GPUs. A rank that raises aborts the communicator, so the whole job ends with that error
instead of the other ranks waiting forever in their next collective. Join first thing: a process
that fails before it has joined cannot end the others (``shenjing train`` joins before it loads data).
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["is_available", "init_process_group", "is_initialized", "get_rank", "get_world_size", "barrier",
           "destroy_process_group"]

BACKENDS = ("mpi", "nccl")


class _Group:
    """The initialised group: the MPI communicator, and an NCCL one for GPU arrays when asked for."""

    def __init__(self, comm, backend: str):
        self.comm = comm
        self.backend = backend
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.nccl = None
        if backend == "nccl":
            from .nccl import NcclCommunicator

            self.nccl = NcclCommunicator(comm)


_group: _Group | None = None
_previous_excepthook = None


def is_available() -> bool:
    """True when mpi4py is installed (``pip install "shenjing[distributed]"``)."""
    return importlib.util.find_spec("mpi4py") is not None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError('shenjing.distributed needs mpi4py: pip install "shenjing[distributed]"') from e
    return MPI


def init_process_group(backend: str = "mpi") -> None:
    """Join every process started by ``mpiexec`` into one group.

    ``backend``: ``'mpi'`` (any device; GPU arrays travel through host memory) or ``'nccl'``
    (CuPy arrays reduced by NCCL on the GPUs, its unique id broadcast over MPI; host arrays still
    over MPI). Run without mpiexec, the group has one rank.

    >>> import shenjing.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_rank(), dist.get_world_size()
    (0, 1)
    >>> dist.destroy_process_group()
    """
    global _group
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: backend must be one of {BACKENDS}, got {backend!r}")
    if _group is not None:
        raise RuntimeError("init_process_group: the process group is already initialised; "
                           "call destroy_process_group() first")
    _group = _Group(_mpi().COMM_WORLD.Dup(), backend)
    _install_excepthook()


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _group is not None


def current_group() -> _Group:
    """The initialised group; RuntimeError naming the missing call otherwise."""
    if _group is None:
        raise RuntimeError("the process group is not initialised: call shenjing.distributed.init_process_group()")
    return _group


def get_rank() -> int:
    """This process's index in the group, 0 .. world_size-1."""
    return current_group().rank


def get_world_size() -> int:
    """The number of processes in the group."""
    return current_group().size


def barrier() -> None:
    """Wait until every rank has reached this call."""
    current_group().comm.Barrier()


def destroy_process_group() -> None:
    """Leave the group (MPI itself stays up until the interpreter exits, as mpi4py arranges)."""
    global _group
    current = current_group()
    if current.nccl is not None:
        current.nccl.comm.destroy()
    current.comm.Free()
    _group = None
    _restore_excepthook()


def is_main_process() -> bool:
    """True on rank 0, or when no process group is initialised: the process that prints and writes files."""
    return _group is None or _group.rank == 0


def _abort_on_exception(kind, value, traceback) -> None:
    _previous_excepthook(kind, value, traceback)
    if _group is not None and _group.size > 1:
        sys.stderr.flush()
        _group.comm.Abort(1)


def _install_excepthook() -> None:
    global _previous_excepthook
    _previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_exception


def _restore_excepthook() -> None:
    if sys.excepthook is _abort_on_exception:
        sys.excepthook = _previous_excepthook
