"""Adversarial examples and adversarial training on the handwritten digits (seed 004 §7 对抗训练).

Trains the same MLP twice, plainly and with FGSM adversarial training (each update uses
w·L(x) + (1-w)·L(x + ε·sgn ∇_x L)), then reports clean accuracy and accuracy under FGSM and
PGD attacks of the same size ε on the test set, before and after.

    python examples/adversarial.py [--eps 0.3] [--epochs 20]
"""

import argparse

import numpy as np

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import datasets
from shenjing.train import Trainer
from shenjing.train.adversarial import AdversarialTraining, fgsm, pgd


def make_trainer(callbacks=()):
    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=2e-3), callbacks=callbacks,
                   progress=False, seed=0)


def accuracies(trainer, X, y, eps):
    """Clean, FGSM and PGD accuracy on (X, y); attacks are built with the model in eval mode."""
    model, loss = trainer.model.eval(), trainer.loss_fn

    def acc(inputs):
        return float(np.mean(trainer.predict(inputs).argmax(1) == y))

    x, target = sj.tensor(X), sj.tensor(y)
    return {"clean": acc(X), "fgsm": acc(fgsm(model, loss, x, target, eps).numpy()),
            "pgd": acc(pgd(model, loss, x, target, eps, steps=10).numpy())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eps", type=float, default=0.3, help="attack size in standardised pixel units")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    (X, y), (Xt, yt) = datasets.digits()
    rows = {}
    for name, callbacks in (("plain", ()), ("adversarial (FGSM)", [AdversarialTraining("fgsm", eps=args.eps)])):
        trainer = make_trainer(callbacks)
        trainer.fit((X, y), epochs=args.epochs, batch_size=32)
        rows[name] = accuracies(trainer, Xt, yt, args.eps)
    print(f"digits test set, attacks of size eps = {args.eps} (L-infinity, standardised pixels)\n")
    print(f"{'training':<20} {'clean':>7} {'FGSM':>7} {'PGD-10':>7}")
    for name, r in rows.items():
        print(f"{name:<20} {r['clean']:>7.3f} {r['fgsm']:>7.3f} {r['pgd']:>7.3f}")
    return rows


if __name__ == "__main__":
    main()
