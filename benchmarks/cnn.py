"""CNN training-step time and peak memory: shenjing vs PyTorch, same model, weights, data and threads.

Models (batch 128, 1x28x28 inputs, SGD with momentum 0.9, cross-entropy):
  lenet5  conv 1->6 5x5 pad 2, relu, maxpool 2, conv 6->16 5x5, relu, maxpool 2, fc 400-120-84-10
  cnn     conv 1->32 3x3 pad 1, relu, maxpool 2, conv 32->64 3x3 pad 1, relu, maxpool 2, fc 3136-128-10

Times are medians of interleaved blocks (shenjing, torch, shenjing, torch, ...) in one process;
peak memory is measured for each side in its own subprocess (resident set on the CPU, the
framework's allocator peak on a GPU).

    python benchmarks/cnn.py [--threads 2] [--repeat 15] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import numpy as np
from _timing import blas_info, interleaved, set_threads, table

BATCH = 128
MODELS = ("lenet5", "cnn")


def build(lib, name: str):
    nn = lib.nn
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, BATCH)


def torch_side(name: str, device: str):
    import torch

    torch.manual_seed(0)
    model = build(torch, name).to(device)
    x, y = data()
    x, y = torch.tensor(x, device=device), torch.tensor(y, device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sync()
        return float(loss.detach())

    return step, model


def shenjing_side(name: str, device: str, weights=None):
    import shenjing as sj

    sj.manual_seed(0)
    model = build(sj, name)
    if weights is not None:
        model.load_state_dict(weights)
    model.to(device)
    x, y = data()
    x, y = sj.tensor(x, device=device), sj.tensor(y, device=device)
    opt = sj.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sync = (lambda: sj._backend.cupy().cuda.Device().synchronize()) if device == "cuda" else (lambda: None)

    def step():
        opt.zero_grad()
        loss = sj.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sync()
        return float(loss.item())

    return step


def _rss_peak_mib() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss would carry over the parent's peak across exec)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory(side: str, name: str, threads: int, device: str, steps: int = 5) -> dict:
    """Run ``steps`` training steps of one side in this process (which imports only that side's
    framework); peak memory in MiB, and its growth over the steps."""
    if side == "torch":
        set_threads(threads)
        step = torch_side(name, device)[0]
    else:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        step = shenjing_side(name, device)
    before = _rss_peak_mib()
    for _ in range(steps):
        step()
    peak = _rss_peak_mib()
    if device == "cuda":
        if side == "torch":
            import torch

            return {"peak": torch.cuda.max_memory_allocated() / 2**20}
        import shenjing as sj

        return {"peak": sj._backend.cupy().get_default_memory_pool().total_bytes() / 2**20}
    return {"peak": peak, "growth": peak - before}


def memory_in_subprocess(side: str, name: str, threads: int, device: str) -> dict:
    cmd = [sys.executable, __file__, "--probe", side, name, "--threads", str(threads), "--device", device]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _memory_cell(mem: dict) -> str:
    return f"{mem['peak']:.0f}" + (f" (+{mem['growth']:.0f})" if "growth" in mem else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--probe", nargs=2, metavar=("SIDE", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(peak_memory(*args.probe, args.threads, args.device)))
        return
    set_threads(args.threads)
    rows = []
    for name in args.models.split(","):
        torch_step, torch_model = torch_side(name, args.device)
        weights = {k: v.detach().cpu().numpy() for k, v in torch_model.state_dict().items()}
        ours_step = shenjing_side(name, args.device, weights)
        first = (ours_step(), torch_step())
        if not np.isclose(*first, rtol=1e-4):
            raise SystemExit(f"{name}: first-step losses differ: shenjing {first[0]} vs torch {first[1]}")
        times = interleaved({"shenjing": ours_step, "torch": torch_step}, repeat=args.repeat)
        mem = {side: memory_in_subprocess(side, name, args.threads, args.device) for side in ("shenjing", "torch")}
        rows.append([name, f"{times['shenjing'] * 1e3:.1f}", f"{times['torch'] * 1e3:.1f}",
                     f"{times['shenjing'] / times['torch']:.2f}"]
                    + [_memory_cell(mem[side]) for side in ("shenjing", "torch")])
    print(f"device {args.device}, threads {args.threads}, batch {BATCH}, BLAS: {blas_info()}")
    what = "GPU allocator peak MiB" if args.device == "cuda" else "peak RSS MiB (+ growth in training)"
    print(table(rows, ["model", "shenjing ms", "torch ms", "ratio", f"shenjing {what}", f"torch {what}"]))


if __name__ == "__main__":
    main()
