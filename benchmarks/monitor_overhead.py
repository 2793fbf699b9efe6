"""Cost of leaving a diagnostics Monitor on: a full training step of each benchmark model with and
without ``Monitor(model, optimizer)`` attached (every pass recorded), interleaved blocks, medians.

    python benchmarks/monitor_overhead.py [--threads 1] [--repeat 20] [--models mlp,conv]
"""

from __future__ import annotations

import argparse

from _timing import blas_info, interleaved, set_threads, table
from models import SPECS, batch, build, train_step

import shenjing as sj
from shenjing.diagnostics import Monitor

MODELS = ("tiny_mlp", "mlp", "lenet5", "conv", "gru")


def twin_steps(spec: str):
    """Two identical models and optimisers; the second is watched by a Monitor."""
    kind, _, _, opt_name, opt_kw = SPECS[spec]
    x, y = (sj.tensor(a) for a in batch(spec))
    steps, monitors = {}, []
    for name in ("plain", "monitored"):
        sj.manual_seed(0)
        model = build(sj, kind)
        optimizer = getattr(sj.optim, opt_name)(model.parameters(), **opt_kw)
        if name == "monitored":
            monitors.append(Monitor(model, optimizer).attach())
        steps[name] = train_step(sj, model, optimizer, x, y)
    return steps, monitors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    set_threads(args.threads)
    rows = []
    for spec in args.models.split(","):
        steps, monitor = twin_steps(spec)
        times = interleaved(steps, repeat=args.repeat)
        monitor.clear()
        plain, watched = times["plain"], times["monitored"]
        rows.append([spec, f"{plain * 1e3:.2f}", f"{watched * 1e3:.2f}", f"{(watched / plain - 1) * 100:+.1f} %"])
    print(f"BLAS: {blas_info()}; {args.threads} thread(s); median of {args.repeat} interleaved blocks")
    print(table(rows, ["model", "step ms", "with Monitor ms", "overhead"]))


if __name__ == "__main__":
    main()
