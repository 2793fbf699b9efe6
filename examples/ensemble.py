"""Model ensembles on digits (seed 004 §7; seed 001 Bagging): one script, every way of combining models.

- five differently seeded MLPs combined by probability averaging, rank averaging and voting;
- stacking: out-of-fold probabilities of an MLP and a linear model feed a logistic meta-learner;
- bagging: MLPs on bootstrap samples (about 63% distinct samples each) with an out-of-bag score;
- snapshot ensemble (cosine annealing with warm restarts) and fast geometric ensembling (cyclic lr),
  each from a single training run, against their last snapshot; FGE also with averaged weights.

    python examples/ensemble.py      (scikit-learn needed for shenjing.sklearn)
"""

import numpy as np

import shenjing as sj
from shenjing import nn
from shenjing.data import datasets
from shenjing.ensemble import Bagging, FastGeometricEnsemble, SnapshotEnsemble, StackingClassifier, average
from shenjing.ensemble import rank_average, vote
from shenjing.nn import functional as F
from shenjing.sklearn import NeuralNetClassifier


def mlp(n_features: int, n_outputs: int, hidden: int = 32) -> nn.Module:
    return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs))


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, None))))


def report(name: str, proba: np.ndarray, y: np.ndarray) -> None:
    print(f"  {name:<38s} accuracy {np.mean(proba.argmax(1) == y):.4f}   log loss {log_loss(proba, y):.4f}")


def seeded_members(X, y, Xt, yt) -> None:
    print("five MLPs, different seeds")
    probs = [NeuralNetClassifier(mlp, epochs=10, lr=3e-3, seed=s).fit(X, y).predict_proba(Xt) for s in range(5)]
    for s, p in enumerate(probs):
        report(f"member seed={s}", p, yt)
    print(f"  {'mean member':<38s} accuracy {np.mean([np.mean(p.argmax(1) == yt) for p in probs]):.4f}   "
          f"log loss {np.mean([log_loss(p, yt) for p in probs]):.4f}")
    report("probability average", average(probs), yt)
    print(f"  {'rank average':<38s} accuracy {np.mean(rank_average(probs).argmax(1) == yt):.4f}")
    labels = np.stack([p.argmax(1) for p in probs])
    print(f"  {'vote (ties by mean probability)':<38s} accuracy {np.mean(vote(labels, probs) == yt):.4f}")


def stacking_and_bagging(X, y, Xt, yt) -> None:
    print("stacking: MLP + linear model -> logistic meta-learner (5-fold out-of-fold features)")
    members = [("mlp", NeuralNetClassifier(mlp, epochs=10, lr=3e-3, seed=0)),
               ("linear", NeuralNetClassifier(nn.Linear, epochs=20, lr=1e-2, seed=0))]
    stack = StackingClassifier(members, cv=5, seed=0).fit(X, y)
    report("stacking", stack.predict_proba(Xt), yt)

    print("bagging: 5 MLPs on bootstrap samples")
    bag = Bagging(lambda: NeuralNetClassifier(mlp, epochs=10, lr=3e-3), n_estimators=5, oob_score=True, seed=0)
    bag.fit(X, y)
    unique = np.mean([len(np.unique(idx)) / len(X) for idx in bag.bootstrap_indices_])
    report("bagging", bag.predict_proba(Xt), yt)
    print(f"  distinct samples per bootstrap {unique:.3f} (1 - 1/e = {1 - np.exp(-1):.3f}), "
          f"out-of-bag accuracy {bag.oob_score_:.4f}")


def one_run_ensembles(X, y, Xt, yt) -> None:
    sj.manual_seed(0)
    model = mlp(64, 10, hidden=64)
    snap = SnapshotEnsemble(model, F.cross_entropy, sj.optim.SGD(model.parameters(), lr=0.2, momentum=0.9),
                            cycles=5, epochs_per_cycle=4, batch_size=64).fit(X, y)
    print("snapshot ensemble: 5 cycles of cosine annealing with warm restarts")
    report("last snapshot", snap.snapshot_proba(Xt)[-1], yt)
    report("snapshot ensemble", snap.predict_proba(Xt), yt)

    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10))
    fge = FastGeometricEnsemble(model, F.cross_entropy, sj.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                                cycles=4, cycle_epochs=2, lr_max=0.05, lr_min=5e-4, pretrain_epochs=10,
                                batch_size=64).fit(X, y)
    print("fast geometric ensemble: 10 epochs, then 4 cycles of 2 epochs with a triangular lr")
    report("last snapshot", fge.snapshot_proba(Xt)[-1], yt)
    report("FGE (averaged predictions)", fge.predict_proba(Xt), yt)
    averaged = fge.averaged_model(X)
    with sj.no_grad():
        report("FGE (averaged weights, BN recomputed)", F.softmax(averaged(sj.Tensor(Xt)), dim=1).numpy(), yt)


def main() -> None:
    sj.manual_seed(0)
    (X, y), (Xt, yt) = datasets.digits()
    seeded_members(X, y, Xt, yt)
    stacking_and_bagging(X, y, Xt, yt)
    one_run_ensembles(X, y, Xt, yt)


if __name__ == "__main__":
    main()
