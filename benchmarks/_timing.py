"""Timing helpers shared by the benchmarks: interleaved A/B blocks, medians, thread pinning."""

from __future__ import annotations

import os
import statistics
import time


def set_threads(n: int) -> None:
    """Use ``n`` threads in NumPy's BLAS (threadpoolctl, if installed) and in PyTorch (if installed)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return ", ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})" for i in infos)
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def interleaved(fns: dict, repeat: int = 20, number: int = 1, pause: float = 0.05, warmup: int = 3,
                clock=time.perf_counter) -> dict:
    """Median seconds per call of each function, timed in alternating blocks A, B, A, B, ...

    Alternation spreads the host's background load evenly over the contenders; the
    pause lets BLAS worker threads stop spinning before the other side runs. ``clock``:
    ``time.process_time`` counts only this process's CPU time (steadier on a crowded host).
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            time.sleep(pause)
            start = clock()
            for _ in range(number):
                fn()
            samples[name].append((clock() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def table(rows: list, headers: list) -> str:
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    line = lambda r: "  ".join(str(v).rjust(w) for v, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])
