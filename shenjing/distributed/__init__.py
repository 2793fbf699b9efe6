"""Data-parallel training across processes (DESIGN.md §10.2): ``import shenjing.distributed as dist``.

Start N processes with ``mpiexec -n N python train.py`` (or ``shenjing train --nproc N``); each
calls :func:`init_process_group`, wraps its model in
:class:`shenjing.nn.parallel.DistributedDataParallel` and reads its share of the data through
:class:`shenjing.data.DistributedSampler`. MPI (mpi4py) carries the messages, NCCL the GPU arrays
with ``backend='nccl'``. Extra: ``pip install "shenjing[distributed]"``.
"""

from .collectives import ReduceOp, Work, all_gather, all_reduce, broadcast
from .process_group import (
    barrier, destroy_process_group, get_rank, get_world_size, init_process_group, is_available, is_initialized,
    is_main_process,
)

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "broadcast", "barrier", "destroy_process_group",
           "get_rank", "get_world_size", "init_process_group", "is_available", "is_initialized", "is_main_process"]
