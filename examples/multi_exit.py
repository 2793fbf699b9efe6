"""Multi-exit network on digits (seed 004 §7): a classifier after every block, joint training, early exits.

Trains four blocks with a head each on the joint loss L = Σ_j j·L_j / Σ_j j, then reports the test
accuracy of every exit, budgeted exiting (only the first k blocks run) and dynamic exiting (a sample
leaves once `patience` consecutive exits agree, as in PABEE) with its mean exit depth.

    python examples/multi_exit.py [--epochs 30]
"""

import argparse

import numpy as np

import shenjing as sj
from shenjing import nn
from shenjing.data import datasets
from shenjing.train import Trainer


def build(n_in: int, n_classes: int, width: int = 64, depth: int = 4) -> nn.MultiExit:
    blocks = [nn.Sequential(nn.Linear(n_in if j == 0 else width, width), nn.ReLU()) for j in range(depth)]
    heads = [nn.Linear(width, n_classes) for _ in range(depth)]
    return nn.MultiExit(blocks, heads)


def train(model: nn.MultiExit, X: np.ndarray, y: np.ndarray, epochs: int) -> None:
    """Joint training: in training mode the model returns every exit's logits and ``joint_loss`` weighs them."""
    trainer = Trainer(model, model.joint_loss, sj.optim.Adam(model.parameters(), lr=1e-3), metrics=[], progress=False)
    history = trainer.fit((X, y), epochs=epochs, batch_size=64)
    print(f"joint loss: epoch 1 {history['loss'][0]:.4f}, epoch {epochs} {history['loss'][-1]:.4f}")


def accuracy(model: nn.MultiExit, X: np.ndarray, y: np.ndarray) -> float:
    with sj.no_grad():
        return float((model(sj.Tensor(X)).numpy().argmax(1) == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    sj.manual_seed(0)
    (X, y), (Xt, yt) = datasets.digits()
    model = build(X.shape[1], 10)
    train(model, X, y, args.epochs)

    model.eval()
    with sj.no_grad():
        exits = [out.numpy().argmax(1) for out in model.exits(sj.Tensor(Xt))]
    print("\naccuracy per exit:  " + "  ".join(f"exit {j + 1}: {np.mean(p == yt):.3f}" for j, p in enumerate(exits)))

    model.exit = "budgeted"
    for k in range(1, model.n_exits + 1):
        model.k = k
        print(f"budgeted k={k}: accuracy {accuracy(model, Xt, yt):.3f}, blocks run {model.exit_depth_.mean():.0f}")

    model.exit = "dynamic"
    for patience in (2, 3):
        model.patience = patience
        acc = accuracy(model, Xt, yt)
        depths = np.bincount(model.exit_depth_, minlength=model.n_exits + 1)[1:]
        print(f"dynamic patience={patience}: accuracy {acc:.3f}, mean exit depth {model.exit_depth_.mean():.2f} "
              f"of {model.n_exits} (samples leaving at exits 1..{model.n_exits}: {depths.tolist()})")


if __name__ == "__main__":
    main()
