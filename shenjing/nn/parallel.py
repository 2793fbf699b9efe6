"""DistributedDataParallel: one model replica per process, gradients averaged across processes.

Data parallelism: seed 001 小批量 SGD 的更新过程 (steps 1-5: batch, forward, loss, gradient g,
W -= lr·g) with the batch split over N processes, the 并行计算框架 the notes name as a reason for
batches. Each rank computes the gradient of its own share, g_r = ∇ (1/b) Σ_{i in batch r} L_i, and
the update uses ḡ = (1/N) Σ_r g_r, which for equal shares is the gradient of the whole batch of N·b
samples. So N ranks take exactly the steps one process would take on the concatenated batch.

The averaging overlaps backward: parameters are grouped, in the reverse of their registration
order (roughly the order backward finishes them), into buckets of about ``bucket_cap_mb``; when
the last gradient of a bucket has been accumulated its gradients are copied into one flat array
and a non-blocking all-reduce starts, while backward goes on with the earlier layers. The end of
the backward pass waits for every bucket and hands each parameter its averaged gradient.
"""

from __future__ import annotations

from contextlib import contextmanager

from .. import _backend as B
from .. import distributed as dist
from ..tensor import Tensor, queue_callback
from .module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters whose gradients are reduced as one flat array."""

    def __init__(self, params: list):
        self.params = params
        self.ready = set()
        self.flat = None
        self.work = None

    def launch(self) -> None:
        """Copy the gradients out (backward may still read the arrays it gave) and start their average."""
        xp = B.xp_of(self.params[0].data)
        self.flat = xp.concatenate([(p.grad.data if p.grad is not None else xp.zeros_like(p.data)).reshape(-1)
                                    for p in self.params])
        self.work = dist.all_reduce(Tensor._wrap(self.flat), op=dist.ReduceOp.AVG, async_op=True)

    def finish(self) -> None:
        """Wait for the average and make it every parameter's gradient."""
        self.work.wait()
        offset = 0
        for p in self.params:
            averaged = self.flat[offset:offset + p.data.size].reshape(p.shape)
            offset += p.data.size
            if p.grad is None:
                p.grad = Tensor._wrap(averaged)
            else:
                p.grad.data = averaged
        self.ready.clear()
        self.flat = self.work = None


def _buckets(params: list, cap_bytes: float) -> list[_Bucket]:
    """Consecutive runs of ``params`` of one dtype and device, each of at most ``cap_bytes``
    (a parameter larger than that gets a bucket of its own)."""
    buckets, current, size = [], [], 0
    for p in params:
        fits = current and current[0].dtype == p.dtype and current[0].device == p.device \
            and size + p.data.nbytes <= cap_bytes
        if current and not fits:
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += p.data.nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the initialised process group.

    ``DistributedDataParallel(module, bucket_cap_mb=25, broadcast_buffers=True)``. At construction
    every rank takes rank 0's parameters and buffers. After ``loss.backward()`` every parameter's
    ``.grad`` holds the average over ranks of the ranks' gradients (a parameter no rank used gets a
    zero gradient). With ``broadcast_buffers`` each forward first copies rank 0's buffers (e.g.
    BatchNorm's running statistics) to every rank. ``no_sync()`` skips the averaging, so
    gradients accumulate locally until the first backward after it. The wrapped model is
    ``.module``; the state dict's keys carry a ``module.`` prefix, as in PyTorch.

    >>> import shenjing as sj, shenjing.distributed as dist
    >>> dist.init_process_group()
    >>> model = sj.nn.parallel.DistributedDataParallel(sj.nn.Linear(3, 1))
    >>> model(sj.ones(2, 3)).sum().backward()
    >>> model.module.weight.grad
    tensor([[2., 2., 2.]])
    >>> dist.destroy_process_group()
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25, broadcast_buffers: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a shenjing.nn.Module, "
                            f"got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        dist.get_world_size()  # raises unless the process group is initialised
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        self._buckets = _buckets(params[::-1], bucket_cap_mb * 2**20)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        for p in params:
            p.register_post_accumulate_grad_hook(self._gradient_ready)
        self._sync = True
        self._armed = False
        self._waiting = False

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers:
            for t in self.module.buffers():
                dist.broadcast(t, src=0)
        self._armed = self._sync
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self):
        """Within this block, forward/backward accumulate gradients locally without averaging them."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def _gradient_ready(self, param) -> None:
        if not self._armed:
            return
        if not self._waiting:
            self._waiting = True
            queue_callback(self._finish_backward)
        bucket = self._bucket_of[id(param)]
        bucket.ready.add(id(param))
        if len(bucket.ready) == len(bucket.params):
            bucket.launch()
        for other in self._buckets:   # lets MPI move the launched buckets along between backward's ops
            if other.work is not None:
                other.work.is_completed()

    def _finish_backward(self) -> None:
        for bucket in self._buckets:
            if bucket.work is None:
                bucket.launch()
        for bucket in self._buckets:
            bucket.finish()
        self._armed = self._waiting = False
