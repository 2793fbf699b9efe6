"""NCCL for CuPy arrays (``init_process_group(backend='nccl')``): one GPU per rank.

Rank 0 makes NCCL's unique id, MPI broadcasts it, every rank builds its communicator from it.
Collectives run on a stream of their own so that they overlap the computation; each first waits
for the work already queued on the current stream (which produced its input).
"""

from __future__ import annotations

import numpy as np

from .. import _backend as B

UNIQUE_ID_BYTES = 128  # NCCL_UNIQUE_ID_BYTES of nccl.h
NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64", "int8": "NCCL_INT8",
              "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "int64": "NCCL_INT64"}


class _Done:
    """A launched NCCL call, with MPI's request interface: waiting synchronises its stream."""

    def __init__(self, stream):
        self.stream = stream

    def Wait(self) -> None:
        self.stream.synchronize()

    def Test(self) -> bool:
        return self.stream.done


class NcclCommunicator:
    """The NCCL communicator of the ranks of the MPI communicator ``comm``, rank r on GPU r mod #GPUs."""

    def __init__(self, comm):
        cp = B.cupy()
        if cp is None:
            raise RuntimeError("init_process_group(backend='nccl') needs CuPy and an NVIDIA GPU")
        from cupy.cuda import nccl

        rank, size = comm.Get_rank(), comm.Get_size()
        cp.cuda.Device(rank % cp.cuda.runtime.getDeviceCount()).use()
        uid = np.array(nccl.get_unique_id() if rank == 0 else [0] * UNIQUE_ID_BYTES, dtype=np.int64)
        comm.Bcast(uid, root=0)
        self.cp, self.nccl = cp, nccl
        self.size = size
        self.comm = nccl.NcclCommunicator(size, tuple(int(c) for c in uid), rank)
        self.stream = cp.cuda.Stream(non_blocking=True)

    def _dtype(self, dtype) -> int:
        if dtype.name not in NCCL_TYPES:
            raise TypeError(f"NCCL collectives do not take dtype {dtype}; use one of {sorted(NCCL_TYPES)}")
        return getattr(self.nccl, NCCL_TYPES[dtype.name])

    def _launch(self, call):
        """Run ``call(stream)`` after the current stream's queued work, on the collective stream."""
        self.stream.wait_event(self.cp.cuda.get_current_stream().record())
        call(self.stream.ptr)
        return _Done(self.stream)

    def all_reduce(self, buffer, op_name: str) -> _Done:
        """Start an in-place sum, max or min (``op_name`` 'SUM', 'MAX', 'MIN') of the contiguous ``buffer``."""
        op = getattr(self.nccl, "NCCL_" + op_name)
        return self._launch(lambda stream: self.comm.allReduce(
            buffer.data.ptr, buffer.data.ptr, buffer.size, self._dtype(buffer.dtype), op, stream))

    def broadcast(self, array, src: int) -> None:
        buffer = array if array.flags.c_contiguous else self.cp.ascontiguousarray(array)
        self._launch(lambda stream: self.comm.bcast(
            buffer.data.ptr, buffer.size, self._dtype(buffer.dtype), src, stream)).Wait()
        if buffer is not array:
            array[...] = buffer

    def all_gather(self, array):
        send = self.cp.ascontiguousarray(array)
        gathered = self.cp.empty((self.size,) + array.shape, array.dtype)
        self._launch(lambda stream: self.comm.allGather(
            send.data.ptr, gathered.data.ptr, send.size, self._dtype(send.dtype), stream)).Wait()
        return gathered
