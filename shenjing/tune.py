"""Hyper-parameter sweeps (seed 002 神经网络调参): grid or random search run through joblib.

``sweep(train_fn, grid)`` calls ``train_fn(**params)`` once per point and returns one dict per
point (its params, then the metrics ``train_fn`` returned), in grid order. The points run
through ``joblib.Parallel``: ``backend='loky'`` (processes, the default) or ``'multiprocessing'``
on this machine; ``'threading'`` only for a ``train_fn`` that trains no shenjing model (autograd
mode and random generator are per process, not per thread). With
``ray.util.joblib.register_ray()`` and ``backend='ray'``, or a ``dask.distributed.Client`` and
``backend='dask'``, the same call fans the sweep over a cluster. Each loky worker keeps one
BLAS thread, so ``n_jobs`` processes use ``n_jobs`` cores. Results do not depend on ``n_jobs``
as long as ``train_fn`` seeds itself (e.g. ``manual_seed`` from one of its params).
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["sweep", "grid_points", "random_points", "parallel_map"]


def _check_values(name, values) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"sweep: grid keys must be parameter names (identifiers), got {name!r}")
    if hasattr(values, "rvs"):
        return
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"sweep: grid[{name!r}] must be a list of values (or a distribution with .rvs), "
                        f"got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"sweep: grid[{name!r}] is empty; give at least one value")


def _check_grid(grid) -> list[dict]:
    """A grid as a list of dicts name -> values (a dict, or a list of dicts swept one after another)."""
    grids = [grid] if isinstance(grid, Mapping) else grid
    if not isinstance(grids, Sequence) or isinstance(grids, (str, bytes)) or len(grids) == 0 \
            or not all(isinstance(g, Mapping) for g in grids):
        raise TypeError("sweep: grid must be a dict {name: [values]} or a non-empty list of such dicts, "
                        f"got {type(grid).__name__}")
    for g in grids:
        for name, values in g.items():
            _check_values(name, values)
    return [dict(g) for g in grids]


def grid_points(grid) -> list[dict]:
    """Every combination of the grid's values, the last key varying fastest (a list of dicts is
    swept one dict after another).

    >>> grid_points({"lr": [0.1, 0.01], "batch_size": [32, 64]})[1]
    {'lr': 0.1, 'batch_size': 64}
    """
    points = []
    for g in _check_grid(grid):
        if any(hasattr(v, "rvs") for v in g.values()):
            raise ValueError("sweep: a distribution (.rvs) in the grid needs random search; pass n_iter")
        points += [dict(zip(g, combo)) for combo in itertools.product(*g.values())]
    return points


def random_points(grid, n_iter: int, seed: int = 0) -> list[dict]:
    """``n_iter`` points drawn at random: a value list is sampled uniformly, a distribution by
    ``.rvs(random_state=...)``; a list of dicts picks one dict per point uniformly.

    >>> len(random_points({"lr": [0.1, 0.01, 0.001]}, n_iter=5))
    5
    """
    grids = _check_grid(grid)
    if not isinstance(n_iter, numbers.Integral) or n_iter < 1:
        raise ValueError(f"sweep: n_iter must be a positive integer, got {n_iter!r}")
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(n_iter):
        g = grids[rng.integers(len(grids))]
        points.append({name: _draw(values, rng) for name, values in g.items()})
    return points


def _draw(values, rng: np.random.Generator):
    if hasattr(values, "rvs"):
        value = values.rvs(random_state=rng)
        return value.item() if isinstance(value, np.generic) else value
    return values[rng.integers(len(values))]


def _run_point(train_fn: Callable, params: dict) -> dict:
    metrics = train_fn(**params)
    if not isinstance(metrics, Mapping):
        raise TypeError(f"sweep: train_fn must return a dict of metrics, got {type(metrics).__name__} "
                        f"for params {params}")
    clash = set(metrics) & set(params)
    if clash:
        raise ValueError(f"sweep: train_fn's metrics {sorted(clash)} have the names of swept params; rename them")
    return {**params, **metrics}


def sweep(train_fn: Callable[..., Mapping], grid, n_jobs: int = 1, backend: str = "loky",
          n_iter: int | None = None, seed: int = 0) -> list[dict]:
    """Run ``train_fn(**params)`` for each point of ``grid``; one dict (params + metrics) per point.

    ``grid`` is ``{name: [values]}`` (or a list of such dicts); without ``n_iter`` every
    combination runs (grid search, :func:`grid_points`), with ``n_iter`` that many random points
    (:func:`random_points`, seeded by ``seed``; values may be scipy distributions).
    ``n_jobs`` workers (``-1``: all cores) of joblib ``backend``; results come back in grid order
    whatever ``n_jobs``.

    >>> sweep(lambda lr, wd: {"score": lr + wd}, {"lr": [1, 2], "wd": [0, 10]})[-1]
    {'lr': 2, 'wd': 10, 'score': 12}
    """
    if not callable(train_fn):
        raise TypeError(f"sweep: train_fn must be callable, got {type(train_fn).__name__}")
    if not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"sweep: n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    points = grid_points(grid) if n_iter is None else random_points(grid, n_iter, seed)
    return parallel_map(_run_point, [(train_fn, p) for p in points], n_jobs, backend)


def parallel_map(fn: Callable, calls: list, n_jobs: int = 1, backend: str = "loky") -> list:
    """``[fn(*args) for args in calls]``, in order: in this process when ``n_jobs`` is 1, else
    through ``joblib.Parallel(n_jobs, backend)`` (loky workers with one BLAS thread each)."""
    if n_jobs == 1:
        return [fn(*args) for args in calls]
    try:
        import joblib
    except ImportError:
        raise ImportError("n_jobs other than 1 needs joblib: pip install 'shenjing[tune]'") from None
    one_thread = {"inner_max_num_threads": 1} if backend == "loky" else {}
    parallel = joblib.Parallel(n_jobs=n_jobs, backend=backend, **one_thread)
    return list(parallel(joblib.delayed(fn)(*args) for args in calls))
