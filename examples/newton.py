"""Newton's method with the exact Hessian, with a finite-difference Hessian, and L-BFGS on
L2-regularised logistic regression (seed 002 参数更新2：牛顿下降法: θ ← θ - H⁺g, H⁺ an SVD
pseudo-inverse).

The exact Hessian differentiates the back-propagated gradient again (one closure call per
step, then one backward pass per parameter); the finite-difference one needs 2n extra closure
calls. Prints, for each method: steps, closure calls, wall time and final loss.

    python examples/newton.py [--steps 8] [--pair 3 5]
"""

import argparse
import time

import numpy as np

import shenjing as sj
from shenjing import optim
from shenjing.data import datasets
from shenjing.nn import functional as F


def two_digit_problem(first: int, second: int):
    """Standardised 8x8 digits of two classes, labels 0/1, as float64 tensors."""
    (X, y), _ = datasets.digits()
    keep = (y == first) | (y == second)
    return sj.tensor(X[keep].astype(np.float64)), sj.tensor((y[keep] == second).astype(np.float64))


def run(name: str, make_optimizer, X, y, steps: int, weight_decay: float = 1e-2) -> dict:
    w = sj.tensor(np.zeros(X.shape[1]), requires_grad=True)
    b = sj.tensor(np.zeros(1), requires_grad=True)
    opt = make_optimizer([w, b])
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(X @ w + b, y) + weight_decay * (w * w).sum()
        loss.backward()
        return loss

    start = time.perf_counter()
    for _ in range(steps):
        opt.step(closure)
    seconds = time.perf_counter() - start
    with sj.no_grad():
        final = float(F.binary_cross_entropy_with_logits(X @ w + b, y) + weight_decay * (w * w).sum())
    return {"method": name, "steps": steps, "closure calls": calls[0], "seconds": seconds, "final loss": final}


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--pair", type=int, nargs=2, default=(3, 5), help="the two digit classes")
    args = parser.parse_args(argv)
    X, y = two_digit_problem(*args.pair)
    methods = [
        ("Newton, exact Hessian", lambda p: optim.Newton(p)),
        ("Newton, finite differences", lambda p: optim.Newton(p, hessian="finite_difference")),
        ("L-BFGS (strong Wolfe)", lambda p: optim.LBFGS(p, max_iter=1, line_search_fn="strong_wolfe")),
    ]
    rows = [run(name, make, X, y, args.steps) for name, make in methods]
    print(f"logistic regression, digits {args.pair[0]} vs {args.pair[1]}: {X.shape[0]} samples, "
          f"{X.shape[1] + 1} parameters\n")
    print(f"{'method':<28} {'steps':>5} {'closure calls':>13} {'seconds':>8} {'final loss':>12}")
    for r in rows:
        print(f"{r['method']:<28} {r['steps']:>5} {r['closure calls']:>13} {r['seconds']:>8.3f} "
              f"{r['final loss']:>12.8f}")
    return rows


if __name__ == "__main__":
    main()
