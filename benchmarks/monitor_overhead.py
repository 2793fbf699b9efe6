"""Cost of leaving a diagnostics Monitor on: a full training step of each benchmark model with and
without ``Monitor(model, optimizer)`` attached (every pass recorded), interleaved blocks, medians of
this process's CPU time (one BLAS thread, so CPU time is compute time even on a crowded host).

    python benchmarks/monitor_overhead.py [--threads 1] [--repeat 10] [--models mlp,conv]
"""

from __future__ import annotations

import argparse
import time

from _timing import blas_info, interleaved, set_threads, table
from models import SPECS, batch, build, train_step

import shenjing as sj
from shenjing.diagnostics import Monitor

MODELS = ("tiny_mlp", "mlp", "lenet5", "conv", "gru")


VARIANTS = {"plain": None, "every pass": 1, "every 10th": 10}


def variant_steps(spec: str):
    """Identical models and optimisers: one plain, the others watched by a Monitor recording every
    pass or every 10th."""
    kind, _, _, opt_name, opt_kw = SPECS[spec]
    x, y = (sj.tensor(a) for a in batch(spec))
    steps, monitors = {}, []
    for name, every in VARIANTS.items():
        sj.manual_seed(0)
        model = build(sj, kind)
        optimizer = getattr(sj.optim, opt_name)(model.parameters(), **opt_kw)
        if every is not None:
            monitors.append(Monitor(model, optimizer, every=every).attach())
        steps[name] = train_step(sj, model, optimizer, x, y)
    return steps, monitors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    set_threads(args.threads)
    rows = []
    for spec in args.models.split(","):
        steps, monitors = variant_steps(spec)
        times = interleaved(steps, repeat=args.repeat, number=10, clock=time.process_time)
        for monitor in monitors:
            monitor.detach()
        plain = times["plain"]
        rows.append([spec, f"{plain * 1e3:.2f}"] + [f"{(times[v] / plain - 1) * 100:+.1f} %" for v in VARIANTS
                                                    if VARIANTS[v] is not None])
    print(f"BLAS: {blas_info()}; {args.threads} thread(s); CPU time per step, median of {args.repeat} interleaved "
          "blocks of 10 steps")
    print(table(rows, ["model", "step ms"] + [f"Monitor, {v}" for v in VARIANTS if VARIANTS[v] is not None]))


if __name__ == "__main__":
    main()
