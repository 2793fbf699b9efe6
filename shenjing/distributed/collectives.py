"""Collectives in place on Tensors: all_reduce, broadcast, all_gather (PyTorch's ``torch.distributed`` names).

Host (NumPy) arrays go through MPI. CuPy arrays go through NCCL under ``backend='nccl'``, else
through host memory and MPI. Every rank must call the same collectives in the same order with
tensors of the same shape and dtype.
"""

from __future__ import annotations

import functools
from enum import Enum

import numpy as np

from .. import _backend as B
from ..tensor import Tensor
from .process_group import current_group

__all__ = ["ReduceOp", "Work", "all_reduce", "broadcast", "all_gather"]


class ReduceOp(Enum):
    """How ``all_reduce`` combines the ranks' values: ``SUM``, ``AVG`` (the sum over world size), ``MAX``, ``MIN``."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until the tensor holds the result.

    ``request`` has MPI's request interface (``Wait()``, ``Test()``); ``finish()`` runs once it is done.
    """

    def __init__(self, request, finish):
        self._request, self._finish = request, finish

    def wait(self) -> bool:
        if self._request is not None:
            self._request.Wait()
            self._done()
        return True

    def is_completed(self) -> bool:
        """Whether the result is in; asking also lets MPI advance the transfer (it has no thread of its own)."""
        if self._request is not None and self._request.Test():
            self._done()
        return self._request is None

    def _done(self) -> None:
        self._request = None
        self._finish()


def _tensor(tensor, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: tensor must be a shenjing Tensor, got {type(tensor).__name__}")
    return tensor


def _over_nccl(array) -> bool:
    return current_group().nccl is not None and type(array) is not np.ndarray


def _buffer(array) -> np.ndarray:
    """A contiguous host array to hand MPI: ``array`` itself when possible, else a copy."""
    if type(array) is np.ndarray and array.flags.c_contiguous:
        return array
    return np.ascontiguousarray(B.to_numpy(array))


def _write_back(array, buffer) -> None:
    if buffer is not array:
        array[...] = B.to_device(buffer, B.device_of(array))


def _check_op(op: ReduceOp, array) -> None:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a shenjing.distributed.ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and array.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got dtype {array.dtype}")


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, async_op: bool = False) -> Work | None:
    """Replace ``tensor`` on every rank by the reduction over ranks: Σ_r x_r (SUM), Σ_r x_r / N
    (AVG), max_r or min_r. With ``async_op=True`` returns a :class:`Work` at once (a
    non-blocking MPI ``Iallreduce``, or an NCCL call on its own stream); call ``wait()`` before
    reading the tensor.

    >>> import shenjing as sj, shenjing.distributed as dist
    >>> dist.init_process_group()
    >>> t = sj.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)   # one rank: unchanged
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()
    """
    array = _tensor(tensor, "all_reduce").data
    _check_op(op, array)
    g = current_group()
    name = "SUM" if op is ReduceOp.AVG else op.name   # AVG is a sum, divided when it arrives
    if _over_nccl(array):
        buffer = array if array.flags.c_contiguous else B.xp_of(array).ascontiguousarray(array)
        request = g.nccl.all_reduce(buffer, name)
    else:
        buffer, mpi = _buffer(array), _mpi()
        if not async_op:
            g.comm.Allreduce(mpi.IN_PLACE, buffer, op=getattr(mpi, name))
            _finish_reduce(array, buffer, op, g.size)
            return None
        request = g.comm.Iallreduce(mpi.IN_PLACE, buffer, op=getattr(mpi, name))
    work = Work(request, lambda: _finish_reduce(array, buffer, op, g.size))
    if async_op:
        return work
    work.wait()
    return None


def _finish_reduce(array, buffer, op: ReduceOp, size: int) -> None:
    if op is ReduceOp.AVG:
        buffer /= size
    _write_back(array, buffer)


def broadcast(tensor: Tensor, src: int = 0) -> None:
    """Overwrite ``tensor`` on every rank with rank ``src``'s values."""
    array = _tensor(tensor, "broadcast").data
    g = current_group()
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src must be a rank in [0, {g.size}), got {src!r}")
    if _over_nccl(array):
        g.nccl.broadcast(array, src)
        return
    buffer = _buffer(array)
    g.comm.Bcast(buffer, root=src)
    _write_back(array, buffer)


def all_gather(tensor_list: list, tensor: Tensor) -> None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank (one tensor per rank, each of
    ``tensor``'s shape and dtype)."""
    array = _tensor(tensor, "all_gather").data
    g = current_group()
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list must hold world_size = {g.size} tensors, got {len(tensor_list)}")
    for i, t in enumerate(tensor_list):
        if _tensor(t, "all_gather").shape != array.shape or t.dtype != array.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {t.shape} and dtype {t.dtype}; "
                             f"expected {array.shape} and {array.dtype} like tensor")
    if _over_nccl(array):
        gathered = g.nccl.all_gather(array)
    else:
        gathered = np.empty((g.size,) + array.shape, array.dtype)
        g.comm.Allgather(_buffer(array), gathered)
    for t, part in zip(tensor_list, gathered):
        t.data[...] = B.to_device(part, t.device)


@functools.cache
def _mpi():
    from mpi4py import MPI

    return MPI
