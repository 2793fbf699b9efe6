"""Data-parallel benchmarks: shenjing.distributed's all-reduce against raw mpi4py on the same buffers,
training throughput of the MLP and the wide CNN on 1 and N processes, and the share of all-reduce time
that DistributedDataParallel's buckets hide behind backward.

    python benchmarks/distributed.py [--nproc 2] [--repeat 15] [--rounds 3] [--json out.json]

It starts each measurement through mpiexec (``pip install "shenjing[distributed]"``), one BLAS
thread per process; rank 0 reports medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _timing import set_threads, table  # noqa: E402
from models import SPECS, batch, build, train_step  # noqa: E402

SIZES = [2**k for k in range(10, 27, 2)]   # bytes: 1 KiB .. 64 MiB
MODELS = ("mlp", "conv")


# ----- measurements, run on every rank ----------------------------------------------------------
def measure_allreduce(repeat: int) -> list:
    """Seconds per all-reduce of a float32 buffer, shenjing's call vs mpi4py's on the same buffer, for
    each size: the two calls alternate one by one (who goes first alternating too), so both meet the
    same load; the median and the fastest of each."""
    import shenjing as sj
    import shenjing.distributed as dist
    from mpi4py import MPI

    comm = dist.process_group.current_group().comm
    rows = []
    for nbytes in SIZES:
        t = sj.zeros(nbytes // 4)   # zeros: repeated sums stay finite
        calls = {"shenjing": lambda t=t: dist.all_reduce(t),
                 "mpi4py": lambda t=t: comm.Allreduce(MPI.IN_PLACE, t.data)}
        seconds = {name: [] for name in calls}
        for i in range(max(20 * repeat, 2**24 // nbytes) + 1):
            for name, call in sorted(calls.items(), reverse=i % 2 == 1):
                start = time.perf_counter()
                call()
                seconds[name].append(time.perf_counter() - start)
        row = {"bytes": nbytes}
        for name, values in seconds.items():
            row[name], row[name + "_min"] = statistics.median(values[1:]), min(values[1:])
        rows.append(row)
    return rows


def _replica(spec: str, bucket_cap_mb: float = 25):
    import shenjing as sj
    import shenjing.distributed as dist
    from shenjing.nn.parallel import DistributedDataParallel

    sj.manual_seed(0)
    model = build(sj, SPECS[spec][0])
    replica = DistributedDataParallel(model, bucket_cap_mb) if dist.get_world_size() > 1 else model
    x, y = batch(spec, seed=dist.get_rank())
    return replica, sj.tensor(x), sj.tensor(y)


def measure_throughput(spec: str, repeat: int) -> dict:
    """Samples per second over all ranks (a batch of SPECS' size on each) for full training steps."""
    import shenjing as sj
    import shenjing.distributed as dist

    replica, x, y = _replica(spec)
    _, _, n, opt_name, opt_kw = SPECS[spec]
    step = train_step(sj, replica, getattr(sj.optim, opt_name)(replica.parameters(), **opt_kw), x, y)
    seconds = []
    for i in range(repeat + 3):
        dist.barrier()
        start = time.perf_counter()
        step()
        if i >= 3:
            seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return {"model": spec, "nproc": dist.get_world_size(), "step_s": median,
            "samples_per_s": n * dist.get_world_size() / median}


def measure_overlap(spec_and_cap: str, repeat: int) -> dict:
    """How much of the all-reduce the buckets hide behind backward: the time backward's end still waits
    for the buckets (T_exposed) against the same buckets reduced alone after backward (T_comm);
    hidden share = 1 - T_exposed / T_comm. Also backward with and without the averaging."""
    import shenjing.distributed as dist
    import shenjing.nn.functional as F

    spec, cap = spec_and_cap.split(":")
    replica, x, y = _replica(spec, float(cap))
    exposed = []
    finish_backward = replica._finish_backward

    def timed_finish():
        start = time.perf_counter()
        finish_backward()
        exposed.append(time.perf_counter() - start)

    replica._finish_backward = timed_finish

    def backward(sync: bool) -> float:
        replica.zero_grad()
        if sync:
            loss = F.cross_entropy(replica(x), y)
        else:
            with replica.no_sync():
                loss = F.cross_entropy(replica(x), y)
        dist.barrier()
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    def reduce_after() -> float:
        start = time.perf_counter()
        finish_backward()   # with no bucket launched yet: launches each, then waits for each
        return time.perf_counter() - start

    samples = {"ddp": [], "local": [], "comm": []}
    for _ in range(repeat + 2):
        samples["ddp"].append(backward(True))
        samples["local"].append(backward(False))
        samples["comm"].append(reduce_after())
    t = {key: statistics.median(v[2:]) for key, v in samples.items()}
    t["exposed"] = statistics.median(exposed[2:])
    return {"model": spec, "bucket_cap_mb": float(cap), "buckets": len(replica._buckets),
            **{f"{k}_s": v for k, v in t.items()}, "hidden_share": 1 - t["exposed"] / t["comm"]}


def worker(part: str, arg: str, repeat: int) -> None:
    import shenjing.distributed as dist

    set_threads(1)
    dist.init_process_group()
    result = {"allreduce": lambda: measure_allreduce(repeat),
              "throughput": lambda: measure_throughput(arg, repeat),
              "overlap": lambda: measure_overlap(arg, repeat)}[part]()
    if dist.get_rank() == 0:
        print(json.dumps(result))


# ----- the driver --------------------------------------------------------------------------------
def run(nproc: int, part: str, arg: str, repeat: int):
    mpiexec = Path(sys.executable).parent / "mpiexec"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])))
    command = [str(mpiexec) if mpiexec.exists() else "mpiexec", "-n", str(nproc), sys.executable, __file__,
               "--worker", part, arg, "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def throughputs(nproc: int, repeat: int, rounds: int) -> list:
    """Each model on 1 and ``nproc`` processes, ``rounds`` fresh runs each, interleaved; the median run of
    each (a process's placement on a busy host moves its speed)."""
    runs = {(spec, k): [] for spec in MODELS for k in (1, nproc)}
    for _ in range(rounds):
        for (spec, k), found in runs.items():
            found.append(run(k, "throughput", spec, repeat))
    return [sorted(found, key=lambda r: r["step_s"])[len(found) // 2] for found in runs.values()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3, help="throughput: fresh runs per model and process count")
    parser.add_argument("--parts", default="allreduce,throughput,overlap", help="which measurements")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("PART", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker, args.repeat)
        return
    n = args.nproc
    parts = args.parts.split(",")
    results = {"allreduce": run(n, "allreduce", "-", args.repeat) if "allreduce" in parts else [],
               "throughput": throughputs(n, args.repeat, args.rounds) if "throughput" in parts else [],
               "overlap": [run(n, "overlap", f"{spec}:{cap}", args.repeat) for spec in MODELS for cap in (25, 1)
                           if "overlap" in parts]}
    print(f"all-reduce of float32 buffers on {n} processes (overhead = shenjing / mpi4py - 1)")
    print(table([[f"{r['bytes'] / 1024:g} KiB", f"{r['shenjing'] * 1e6:.1f}", f"{r['mpi4py'] * 1e6:.1f}",
                  f"{(r['shenjing'] / r['mpi4py'] - 1) * 100:+.1f}%", f"{r['shenjing_min'] * 1e6:.1f}",
                  f"{r['mpi4py_min'] * 1e6:.1f}", f"{(r['shenjing_min'] / r['mpi4py_min'] - 1) * 100:+.1f}%",
                  f"{r['bytes'] / r['shenjing_min'] / 1e9:.2f}"] for r in results["allreduce"]],
                ["size", "median us", "mpi4py", "overhead", "fastest us", "mpi4py", "overhead", "GB/s"]))
    print("\ntraining throughput, one BLAS thread per process (batch per process as in benchmarks/models.py)")
    print(table([[r["model"], r["nproc"], f"{r['step_s'] * 1e3:.1f}", f"{r['samples_per_s']:.0f}"]
                 for r in results["throughput"]], ["model", "processes", "step ms", "samples/s"]))
    print(f"\nall-reduce hidden behind backward on {n} processes")
    print(table([[r["model"], f"{r['bucket_cap_mb']:g}", r["buckets"], f"{r['local_s'] * 1e3:.1f}",
                  f"{r['ddp_s'] * 1e3:.1f}", f"{r['comm_s'] * 1e3:.1f}", f"{r['exposed_s'] * 1e3:.1f}",
                  f"{r['hidden_share']:.0%}"] for r in results["overlap"]],
                ["model", "bucket MB", "buckets", "backward ms", "with DDP ms", "all-reduce ms", "exposed ms",
                 "hidden"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
