"""The cost of create_graph: a Hessian-vector product relative to a gradient, shenjing vs PyTorch CPU.

For an MLP loss L(θ) on one batch: the gradient g = ∇L (forward + backward) and the
Hessian-vector product Hv = ∇(gᵀv) (forward, a recorded backward with create_graph=True, and a
second backward). Median milliseconds of interleaved blocks, same threads, float32.

    python benchmarks/hvp.py [--threads 1] [--repeat 15] [--hidden 256] [--batch 64]
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import blas_info, interleaved, set_threads, table

import shenjing as sj


def mlp_loss(lib, params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1.T + b1).tanh()
    h = (h @ w2.T + b2).tanh()
    return lib.nn.functional.cross_entropy(h @ w3.T + b3, y)


def steps(lib, arrays, x, y, v):
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    x, y = lib.tensor(x), lib.tensor(y)
    vs = [lib.tensor(a) for a in v]

    def gradient():
        lib.autograd.grad(mlp_loss(lib, params, x, y), params)

    def hvp():
        grads = lib.autograd.grad(mlp_loss(lib, params, x, y), params, create_graph=True)
        lib.autograd.grad(sum((g * u).sum() for g, u in zip(grads, vs)), params)

    return gradient, hvp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    set_threads(args.threads)
    rng = np.random.default_rng(0)
    shapes = [(args.hidden, 64), (args.hidden,), (args.hidden, args.hidden), (args.hidden,), (10, args.hidden), (10,)]
    arrays = [(0.1 * rng.standard_normal(s)).astype(np.float32) for s in shapes]
    v = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    x, y = rng.standard_normal((args.batch, 64)).astype(np.float32), rng.integers(0, 10, args.batch)
    libs = {"shenjing": sj}
    try:
        import torch

        libs["torch"] = torch
    except ImportError:
        pass
    fns = {}
    for name, lib in libs.items():
        gradient, hvp = steps(lib, arrays, x, y, v)
        fns[f"{name} gradient"], fns[f"{name} hvp"] = gradient, hvp
    times = interleaved(fns, repeat=args.repeat, number=5)
    rows = [[name, f"{times[f'{name} gradient'] * 1e3:.2f}", f"{times[f'{name} hvp'] * 1e3:.2f}",
             f"{times[f'{name} hvp'] / times[f'{name} gradient']:.2f}"] for name in libs]
    print(f"MLP 64-{args.hidden}-{args.hidden}-10, batch {args.batch}, float32, threads={args.threads}; "
          f"BLAS: {blas_info()}")
    print(table(rows, ["library", "gradient ms", "Hessian-vector product ms", "hvp / gradient"]))


if __name__ == "__main__":
    main()
