"""Stochastic Weight Averaging on digits (seed 004 §7): average the weights visited in the last
epochs under a constant-then-annealed learning rate (SWALR), recompute BatchNorm statistics for
the averaged weights (update_bn), and compare with the final model.

    python examples/swa.py [--epochs 20] [--swa-start 12]
"""

import argparse

import numpy as np

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset
from shenjing.data.datasets import digits
from shenjing.optim import swa_utils


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with sj.no_grad():
        predicted = model(sj.tensor(x)).numpy().argmax(1)
    model.train()
    return float((predicted == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--swa-start", type=int, default=12, help="first epoch whose weights are averaged")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sj.manual_seed(args.seed)
    (x, y), (x_test, y_test) = digits()
    model = nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    swa_model = swa_utils.AveragedModel(model)
    swa_scheduler = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=args.seed)

    for epoch in range(args.epochs):
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        if epoch >= args.swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    swa_utils.update_bn(loader, swa_model)

    print(f"averaged {swa_model.n_averaged.item()} epochs of weights (from epoch {args.swa_start + 1})")
    print(f"final model test accuracy: {accuracy(model, x_test, y_test):.4f}")
    print(f"SWA model test accuracy:   {accuracy(swa_model, x_test, y_test):.4f}")


if __name__ == "__main__":
    main()
