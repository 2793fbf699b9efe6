"""DataLoader worker processes: each loads its share of the batches, seeded, and the main process
yields them in order (PyTorch's ``num_workers`` semantics)."""

from __future__ import annotations

import multiprocessing
import queue
import random
import traceback
from dataclasses import dataclass

import numpy as np

from .. import _backend as B

__all__ = ["WorkerInfo", "get_worker_info"]

_POLL_SECONDS = 5.0
_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself: ``id`` in [0, num_workers), ``num_workers``,
    ``seed`` (its shenjing and ``random`` seed) and ``dataset`` (its own copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` inside a DataLoader worker process, None in the main process.

    An :class:`IterableDataset` uses it to give each worker its own part of the stream.

    >>> get_worker_info() is None
    True
    """
    return _info


@dataclass
class _Failure:
    error: BaseException
    trace: str


class _Done:
    """Put by a worker after its last batch."""


def _start(info: WorkerInfo, worker_init_fn, transform_generators) -> None:
    global _info
    _info = info
    B.manual_seed(info.seed)
    random.seed(info.seed)
    for k, g in enumerate(transform_generators):  # a fresh augmentation stream per worker
        g.bit_generator.state = np.random.default_rng([info.seed, k]).bit_generator.state
    if worker_init_fn is not None:
        worker_init_fn(info.id)


def _work(info: WorkerInfo, setup: tuple, produce, results) -> None:
    """Worker process body: set up, put every batch of ``produce()`` on ``results``, then a done mark."""
    try:
        _start(info, *setup)
        for batch in produce():
            results.put(batch)
    except Exception as err:  # noqa: BLE001 - every failure goes back to the main process
        results.put(_Failure(err, traceback.format_exc()))
    results.put(_Done())


def _receive(results, process, worker_id: int, timeout: float):
    """The next item from a worker; a dead worker, or a wait past ``timeout`` seconds (when > 0), raises."""
    poll = min(_POLL_SECONDS, timeout) if timeout > 0 else _POLL_SECONDS
    waited = 0.0
    while True:
        try:
            item = results.get(timeout=poll)
            break
        except queue.Empty:
            waited += poll
            if not process.is_alive():
                raise RuntimeError(f"DataLoader worker {worker_id} exited unexpectedly "
                                   f"(exit code {process.exitcode})") from None
            if 0 < timeout <= waited:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting for worker {worker_id}") \
                    from None
    if isinstance(item, _Failure):  # the worker's exception, its traceback attached as the cause
        raise item.error from RuntimeError(f"raised in DataLoader worker process {worker_id}:\n{item.trace}")
    return item


def run_workers(loader, producers: list, base_seed: int):
    """Start one process per producer (``producers[w]()`` yields worker w's batches) and yield their
    batches round-robin, skipping workers that are done: batch k comes from worker k mod N while all
    run, which is the order of ``num_workers=0`` for map-style datasets."""
    context = multiprocessing.get_context(loader.multiprocessing_context)
    setup = (loader.worker_init_fn, loader.transform_generators())
    workers = []
    try:
        for w, produce in enumerate(producers):
            results = context.Queue(maxsize=loader.prefetch_factor)
            info = WorkerInfo(w, len(producers), base_seed + w, loader.dataset)
            process = context.Process(target=_work, args=(info, setup, produce, results), daemon=True)
            process.start()
            workers.append((w, process, results))
        active = list(workers)
        while active:
            for worker in list(active):
                w, process, results = worker
                batch = _receive(results, process, w, loader.timeout)
                if isinstance(batch, _Done):
                    active.remove(worker)
                else:
                    yield batch
    finally:
        for _, process, results in workers:
            if process.is_alive():
                process.terminate()
            process.join()
            results.close()
