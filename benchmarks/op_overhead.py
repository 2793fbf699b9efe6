"""Per-op overhead: microseconds for forward + backward of small element-wise ops and of a
512x512 float32 matmul, shenjing vs PyTorch CPU, same thread count, in one run.

    python benchmarks/op_overhead.py [--threads 1]
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import blas_info, interleaved, set_threads, table

import shenjing as sj

CASES = {
    "add (16,)": (lambda a, b: a + b, [(16,), (16,)]),
    "mul (16,)": (lambda a, b: a * b, [(16,), (16,)]),
    "mul bcast (8,16)*(16,)": (lambda a, b: a * b, [(8, 16), (16,)]),
    "tanh (16,)": (lambda a: a.tanh(), [(16,)]),
    "sum (64,)": (lambda a: a.sum(), [(64,)]),
    "relu (256,)": (lambda a: a.relu(), [(256,)]),
    "matmul (512,512)@(512,512)": (lambda a, b: a @ b, [(512, 512), (512, 512)]),
}


def step(lib_tensor, fn, arrays, ones):
    inputs = [lib_tensor(a) for a in arrays]

    def run():
        for t in inputs:
            t.grad = None
        out = fn(*inputs)
        out.backward(ones(out))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    set_threads(args.threads)
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []
    for name, (fn, shapes) in CASES.items():
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        number = 10 if "512" in name else 2000
        fns = {"shenjing": step(lambda a: sj.tensor(a, requires_grad=True), fn, arrays,
                                lambda o: sj.ones(*o.shape))}
        if torch is not None:
            fns["torch"] = step(lambda a: torch.tensor(a, requires_grad=True), fn, arrays, torch.ones_like)
        times = interleaved(fns, repeat=args.repeat, number=number)
        ours = times["shenjing"] * 1e6
        if torch is not None:
            theirs = times["torch"] * 1e6
            rows.append([name, f"{ours:.1f}", f"{theirs:.1f}", f"{ours / theirs:.2f}"])
        else:
            rows.append([name, f"{ours:.1f}", "-", "-"])
    print(f"threads={args.threads}; BLAS: {blas_info()}; torch {'absent' if torch is None else torch.__version__}")
    print(table(rows, ["op (forward+backward)", "shenjing us", "torch us", "ratio"]))


if __name__ == "__main__":
    main()
