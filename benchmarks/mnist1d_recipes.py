"""The sweep behind ``shenjing train``'s MNIST-1D defaults (shenjing/recipes.py).

Each point trains on 3,200 of the 4,000 training samples and is scored on the other 800 (a
fixed, seeded validation split); the test split is never looked at here. Usage:

    python benchmarks/mnist1d_recipes.py mlp --n-jobs 2 --out runs/recipes
    python benchmarks/mnist1d_recipes.py cnn --seeds 0,1,2

writes ``<out>/<model>.csv`` (one row per point, grid order) and prints the best points.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VALIDATION = 0.2  # of the 4,000 training samples: the same 800 as `shenjing sweep` holds out

# small, targeted grids: training settings of the command, and a few architectures at the budget
GRIDS = {
    "mlp": [{"lr": [1e-2, 3e-3], "epochs": [100], "batch_size": [100], "dropout": [0.0, 0.2]},
            {"lr": [1e-2], "epochs": [100], "batch_size": [100], "hidden": [72], "depth": [3], "dropout": [0.0, 0.1]},
            {"optimizer": ["adamw"], "lr": [1e-2], "epochs": [200], "batch_size": [100], "dropout": [0.1]},
            {"optimizer": ["adamw"], "lr": [1e-2], "epochs": [300], "batch_size": [100], "dropout": [0.2]},
            {"optimizer": ["adam"], "lr": [1e-2], "epochs": [200], "batch_size": [100], "dropout": [0.1]}],
    "cnn": [{"lr": [3e-3, 1e-2], "epochs": [60, 120], "batch_size": [100], "channels": [25], "norm": [False]},
            {"lr": [3e-3, 1e-2], "epochs": [60, 120], "batch_size": [100], "channels": [24], "norm": [True]}],
    "gru": [{"lr": [1e-2, 3e-3], "epochs": [40], "batch_size": [64], "hidden": [38]},
            {"lr": [1e-2], "epochs": [40], "batch_size": [64], "hidden": [32], "pool": ["last+mean"]}],
}


def train_point(model: str, lr: float, epochs: int, batch_size: int, optimizer: str = "adam",
                schedule: str = "cosine", seed: int = 0, **arch) -> dict:
    """Validation accuracy of one setting (one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    import shenjing as sj
    from shenjing import cli, recipes
    from shenjing.data import datasets
    from shenjing.train import Trainer

    with threadpool_limits(1):
        sj.manual_seed(seed)
        (X, y), (Xv, yv) = cli.hold_out(*datasets.mnist1d()[0], VALIDATION)
        length = X.shape[1]
        shape = cli.input_shape("mnist1d", model, length)
        X, Xv = X.reshape((-1,) + shape), Xv.reshape((-1,) + shape)
        net = recipes.mnist1d_model(model, length, 10, **arch)
        opt = cli.build_optimizer(optimizer, net.parameters(), lr)
        scheduler, callbacks = cli.build_schedule(schedule, opt, epochs, math.ceil(len(X) / batch_size))
        trainer = Trainer(net, sj.nn.CrossEntropyLoss(), opt, scheduler=scheduler, callbacks=callbacks,
                          progress=False, seed=seed)
        trainer.fit((X, y), epochs=epochs, batch_size=batch_size)
        metrics = trainer.evaluate((Xv, yv))
    result = {"val_accuracy": metrics["accuracy"], "val_loss": metrics["loss"], "parameters": net.num_parameters()}
    print(dict(model=model, optimizer=optimizer, lr=lr, epochs=epochs, batch_size=batch_size, seed=seed, **arch,
               **result), flush=True)
    return result


def main(argv=None) -> int:
    from shenjing import recipes, tune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=tuple(GRIDS))
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seeds", default="0", help="comma list of seeds")
    parser.add_argument("--out", default="runs/recipes")
    parser.add_argument("--part", type=int, help="run only this grid of the model's list (0-based)")
    args = parser.parse_args(argv)
    grids = GRIDS[args.model] if args.part is None else [GRIDS[args.model][args.part]]
    grid = [dict(g, model=[args.model], seed=[int(s) for s in args.seeds.split(",")]) for g in grids]
    rows = tune.sweep(train_point, grid, n_jobs=args.n_jobs)
    over = [r for r in rows if r["parameters"] > recipes.BUDGETS[args.model]]
    if over:
        raise SystemExit(f"over the {recipes.BUDGETS[args.model]}-parameter budget: {over}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    name = args.model if args.part is None else f"{args.model}-{args.part}"
    with open(out / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    for r in sorted(rows, key=lambda r: -r["val_accuracy"]):
        print(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
