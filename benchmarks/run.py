"""The benchmark suite: a full training step (forward, backward, optimiser step, zero_grad)
of each model in shenjing and in PyTorch CPU, in one process, same threads, same float32
data and initial weights, timed in interleaved blocks; medians, ratios, peak memory (each
side in its own subprocess), achieved GFLOP/s against a measured GEMM peak; JSON output.

    python benchmarks/run.py [--models mlp,gru] [--threads 2] [--repeat 20] [--rounds 3] [--json out.json]
    python benchmarks/run.py --device cuda      # CuPy vs PyTorch CUDA

PyTorch and HIPS autograd are optional: their columns are skipped when not installed.
With ``--rounds N`` each model is measured in N fresh processes and every figure is the median over
the rounds: on a busy host a process's placement shifts both libraries' times by 10-20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import blas_info, interleaved, set_threads, table  # noqa: E402
from models import SPECS, batch, setup  # noqa: E402
from numpy_peers import autograd_step, numpy_step  # noqa: E402

import shenjing as sj  # noqa: E402

MLP_FLOPS_PER_SAMPLE = 2 * 3 * (784 * 512 + 512 * 256 + 256 * 10) - 2 * 784 * 512  # no input gradient


def optional(name):
    try:
        return __import__(name)
    except ImportError:
        return None


def synchronizer(device: str):
    if device != "cuda":
        return lambda: None
    import cupy
    import torch

    def sync():
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()

    return sync


def contenders(spec: str, torch, device: str) -> dict:
    """Step functions for every library available, all from the same initial weights and data."""
    fns = {}
    torch_model = None
    if torch is not None:
        torch.manual_seed(0)
        torch_step, torch_model = setup(torch, spec)
        if device == "cuda":
            torch_step, torch_model = _torch_on_cuda(torch, spec, torch_model)
        fns["torch"] = torch_step
    ours, model = setup(sj, spec, torch_model)
    if device == "cuda":
        ours = _shenjing_on_cuda(spec, model)
    fns["shenjing"] = ours
    if spec.startswith("mlp") and device == "cpu":
        x, y = batch(spec)
        fns["numpy"] = numpy_step(x, y)
        if optional("autograd") is not None:
            fns["autograd"] = autograd_step(x, y)
    return fns


def _torch_on_cuda(torch, spec, model):
    from models import train_step

    model = model.to("cuda")
    x, y = batch(spec)
    _, _, _, opt_name, opt_kw = SPECS[spec]
    opt = getattr(torch.optim, opt_name)(model.parameters(), **opt_kw)
    return train_step(torch, model, opt, torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")), model


def _shenjing_on_cuda(spec, model):
    from models import train_step

    model.to("cuda")
    x, y = batch(spec)
    _, _, _, opt_name, opt_kw = SPECS[spec]
    opt = getattr(sj.optim, opt_name)(model.parameters(), **opt_kw)
    return train_step(sj, model, opt, sj.tensor(x, device="cuda"), sj.tensor(y, device="cuda"))


def gemm_peak_gflops(n: int = 2048) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


def memory_probe(spec: str, lib_name: str, steps: int = 5) -> int:
    """Peak resident memory that ``steps`` training steps add on top of the built model and data
    (run in a fresh subprocess; the kernel's high-water mark is reset just before the steps)."""
    if lib_name == "torch":
        import torch

        torch.manual_seed(0)
        step, _ = setup(torch, spec)
    else:
        step, _ = setup(sj, spec)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident set
    before = _status_kib("VmRSS")
    for _ in range(steps):
        step()
    return (_status_kib("VmHWM") - before) * 1024


def peak_memory(spec: str, lib_name: str, threads: int) -> float | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-probe", spec, lib_name, "--threads", str(threads)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return int(result.stdout.strip().splitlines()[-1]) / 2**20


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(SPECS), help=f"comma-separated subset of {list(SPECS)}")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=20, help="timed blocks per library (medians)")
    parser.add_argument("--number", type=int, default=1, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per model (medians over them)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--memory-probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.memory_probe:
        print(memory_probe(*args.memory_probe))
        return {}
    torch = optional("torch")
    sync = synchronizer(args.device)
    peak = gemm_peak_gflops() if args.device == "cpu" else None
    results, rows = {}, []
    for spec in args.models.split(","):
        try:
            entry = measure(spec, torch, args, sync, peak) if args.rounds == 1 else over_rounds(spec, args)
        except Exception as err:  # noqa: BLE001 - one model's failure must not lose the others' rows
            print(f"{spec}: failed: {type(err).__name__}: {err}", file=sys.stderr)
            entry = {"error": f"{type(err).__name__}: {err}"}
        results[spec] = entry
        rows.append(_row(spec, entry))
    header = ["model", "shenjing ms", "torch ms", "ratio", "numpy ms", "vs numpy", "autograd ms", "vs autograd",
              "GFLOP/s", "% peak", "mem MiB (sj/torch)"]
    print(f"device={args.device} threads={args.threads} BLAS: {blas_info()} "
          f"torch: {getattr(torch, '__version__', 'absent')} GEMM peak: "
          f"{'-' if peak is None else f'{peak:.0f} GFLOP/s'}")
    print(table(rows, header))
    results["_meta"] = {"device": args.device, "threads": args.threads, "blas": blas_info(), "gemm_peak_gflops": peak,
                        "torch": getattr(torch, "__version__", None), "repeat": args.repeat}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


def measure(spec: str, torch, args, sync, peak) -> dict:
    """Median step times of every contender for one model, ratios, GFLOP/s and peak memory."""
    fns = contenders(spec, torch, args.device)
    timed = {name: (lambda f=fn: (f(), sync())) for name, fn in fns.items()}
    times = interleaved(timed, repeat=args.repeat, number=args.number)
    entry = {f"{name}_ms": t * 1e3 for name, t in times.items()}
    if "torch" in times:
        entry["ratio_vs_torch"] = times["shenjing"] / times["torch"]
    for peer in ("numpy", "autograd"):
        if peer in times:
            entry[f"ratio_vs_{peer}"] = times["shenjing"] / times[peer]
    if spec.startswith("mlp") and peak:
        entry["gflops"] = MLP_FLOPS_PER_SAMPLE * SPECS[spec][2] / times["shenjing"] / 1e9
        entry["fraction_of_gemm_peak"] = entry["gflops"] / peak
    if not args.no_memory and args.device == "cpu":
        entry["shenjing_peak_mib"] = peak_memory(spec, "shenjing", args.threads)
        if torch is not None:
            entry["torch_peak_mib"] = peak_memory(spec, "torch", args.threads)
    return entry


def over_rounds(spec: str, args) -> dict:
    """Measure ``spec`` in ``args.rounds`` fresh processes (peak memory in the first only); medians."""
    rounds = []
    for i in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "round.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--models", spec, "--threads", str(args.threads),
                   "--repeat", str(args.repeat), "--number", str(args.number), "--device", args.device,
                   "--json", out] + (["--no-memory"] if args.no_memory or i else [])
            subprocess.run(cmd, capture_output=True, check=True)
            with open(out) as f:
                rounds.append(json.load(f)[spec])
    keys = {k for r in rounds for k, v in r.items() if isinstance(v, (int, float))}
    return {k: statistics.median(r[k] for r in rounds if r.get(k) is not None) for k in keys}


def _row(spec: str, e: dict) -> list:
    fmt = lambda key, spec_="{:.2f}": spec_.format(e[key]) if e.get(key) is not None else "-"  # noqa: E731
    mem = f"{fmt('shenjing_peak_mib', '{:.0f}')}/{fmt('torch_peak_mib', '{:.0f}')}"
    return [spec, fmt("shenjing_ms"), fmt("torch_ms"), fmt("ratio_vs_torch"), fmt("numpy_ms"), fmt("ratio_vs_numpy"),
            fmt("autograd_ms"), fmt("ratio_vs_autograd"), fmt("gflops", "{:.0f}"),
            fmt("fraction_of_gemm_peak", "{:.0%}"), mem]


if __name__ == "__main__":
    main()
