"""Why networks fail to train, measured with shenjing.diagnostics (seed 003 梯度消失问题 / 梯度爆炸问题,
seed 002 神经元饱和, seed 004 §3): four experiments on the digits, three seeds each.

1. vanishing gradients: a 10-layer sigmoid MLP's gradient norms shrink layer by layer towards the
   input at initialisation (σ' ≤ 1/4 per layer), ReLU + BatchNorm's stay level;
2. dead ReLUs: too large a learning rate switches ReLU units off for good;
3. saturation: sigmoid outputs trained with MSE stay stuck where σ'(z) ≈ 0, cross-entropy cancels σ'(z);
4. exploding gradients in an RNN, and gradient-norm clipping capping them.

    python examples/training_pathologies.py [--out docs/images] [--seeds 3] [--epochs 8]
"""

import argparse
from pathlib import Path

import numpy as np

import shenjing as sj
from shenjing import nn, optim
from shenjing.data.datasets import digits
from shenjing.diagnostics import Monitor
from shenjing.train import Diagnostics, Trainer
from shenjing.viz.training import save_figure

def deep_mlp(block, depth=10, width=64):
    layers, size = [], 64
    for _ in range(depth):
        layers += [nn.Linear(size, width), *block(width)]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, 10))


def gradient_norms_at_init(block, seed, X, y) -> np.ndarray:
    """‖∂L/∂W‖ of each Linear layer, input side first, after one backward pass at initialisation."""
    sj.manual_seed(seed)
    model = deep_mlp(block)
    with Monitor(model) as monitor:
        nn.functional.cross_entropy(model(sj.tensor(X)), sj.tensor(y)).backward()
    return np.array([monitor.summary()[name]["grad_norm"] for name, m in model.named_modules()
                     if isinstance(m, nn.Linear)])


def vanishing(X, y, ax, seeds) -> None:
    blocks = {"sigmoid": lambda w: [nn.Sigmoid()], "ReLU + BatchNorm": lambda w: [nn.BatchNorm1d(w), nn.ReLU()]}
    print("1. gradient norm of the first Linear layer / of the last, at initialisation (10 hidden layers)")
    for (label, block), colour in zip(blocks.items(), ("tab:red", "tab:blue")):
        ratios = []
        for seed in seeds:
            norms = gradient_norms_at_init(block, seed, X, y)
            ratios.append(norms[0] / norms[-1])
            ax.semilogy(range(1, len(norms) + 1), norms, "o-", color=colour, alpha=0.7,
                        label=label if seed == 0 else None)
        print(f"   {label:>16}: " + ", ".join(f"{r:.1e}" for r in ratios))
    ax.set(xlabel="Linear layer (1 = input side)", ylabel="‖∂L/∂W‖ at initialisation",
           title="1. vanishing gradients: 10 sigmoid layers")
    ax.legend()


def digits_trainer(lr, seed, callbacks):
    sj.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), callbacks=callbacks,
                   progress=False, seed=seed)


def dead_relus(train, test, ax, seeds, epochs) -> None:
    print(f"2. share of dead ReLU units (first hidden layer) after {epochs} epochs of SGD, and test accuracy")
    for lr, colour in ((0.05, "tab:blue"), (1.0, "tab:red")):
        dead, accuracy = [], []
        for seed in seeds:
            watch = Diagnostics(every=1)
            trainer = digits_trainer(lr, seed, [watch])
            trainer.fit(train, epochs=epochs, batch_size=32)
            curve = [e["1"]["dead_fraction"] for e in watch.epochs]
            dead.append(curve[-1])
            accuracy.append(trainer.evaluate(test)["accuracy"])
            ax.plot(range(1, epochs + 1), curve, "o-", color=colour, alpha=0.7, label=f"lr {lr}" if seed == 0 else None)
        print(f"   lr {lr:>4}: dead " + ", ".join(f"{d:.0%}" for d in dead)
              + "; test accuracy " + ", ".join(f"{a:.3f}" for a in accuracy))
    ax.set(xlabel="epoch", ylabel="dead ReLU units (first hidden layer)", ylim=(-0.02, 1.02),
           title="2. dead ReLUs after a too-large learning rate")
    ax.legend()


def saturation(train, test, ax, seeds, epochs) -> None:
    """A sigmoid output layer started deep in saturation (large weights), trained with MSE and with
    cross-entropy: ∂L/∂z = (a - y)·σ'(z) for MSE, (a - y) for cross-entropy (seed 002 神经元饱和)."""
    (X, y), (Xt, yt) = train, test
    onehot = np.eye(10, dtype=np.float32)[y]
    print(f"3. sigmoid outputs started saturated (weights x30): test accuracy after 1 and {epochs} epochs")
    for (label, loss), colour in zip((("MSE", nn.MSELoss()), ("cross-entropy", nn.BCELoss())),
                                     ("tab:red", "tab:blue")):
        results = []
        for seed in seeds:
            sj.manual_seed(seed)
            model = nn.Sequential(nn.Linear(64, 10), nn.Sigmoid())
            model[0].weight.data *= 30
            trainer = Trainer(model, loss, optim.SGD(model.parameters(), lr=0.5), metrics=[], progress=False,
                              seed=seed)
            curve = []
            for epoch in range(1, epochs + 1):
                trainer.fit((X, onehot), epochs=epoch, batch_size=32)
                with sj.no_grad():
                    curve.append(float((np.asarray(model(sj.tensor(Xt))).argmax(1) == yt).mean()))
            results.append(curve)
            ax.plot(range(1, epochs + 1), curve, "o-", color=colour, alpha=0.7, label=label if seed == 0 else None)
        print(f"   {label:>13}: " + ", ".join(f"{c[0]:.3f} -> {c[-1]:.3f}" for c in results))
    ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1),
           title="3. saturated sigmoid outputs: MSE vs cross-entropy")
    ax.legend()


def memory_task(seed, n=256, steps=20):
    """Recall the sign of the first input of a noisy sequence: the gradient must cross every step."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, 1)).astype(np.float32) * 0.1
    label = rng.integers(0, 2, n)
    x[:, 0, 0] = np.where(label == 1, 1.0, -1.0)
    return x, label


class Recall(nn.Module):
    def __init__(self, gain):
        super().__init__()
        self.rnn = nn.RNN(1, 32, batch_first=True)
        nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=gain)  # spectral radius `gain` > 1: gradients explode
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def exploding(ax, seeds, steps=60, lr=0.5, max_norm=1.0) -> None:
    """One step along an exploded gradient (‖g‖ ~ 100, step lr·‖g‖ ~ 50) throws the RNN into a flat,
    saturated region it does not leave; clipping the norm to ``max_norm`` bounds every step."""
    print(f"4. RNN with recurrent gain 3, SGD lr {lr}: largest gradient norm over {steps} steps, final loss")
    for clip, colour in ((None, "tab:red"), (max_norm, "tab:blue")):
        report = []
        for seed in seeds:
            sj.manual_seed(seed)
            model = Recall(gain=3.0)
            opt = optim.SGD(model.parameters(), lr=lr)
            x, label = (sj.tensor(a) for a in memory_task(seed))
            norms, losses = [], []
            for _ in range(steps):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x), label)
                loss.backward()
                norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), clip or np.inf)))
                losses.append(float(loss))
                opt.step()
            report.append((max(norms), losses[-1]))
            name = "no clipping" if clip is None else f"clip_grad_norm_({clip})"
            ax.semilogy(losses, color=colour, alpha=0.7, label=name if seed == 0 else None)
        title = "no clipping" if clip is None else f"clipped at {clip}"
        print(f"   {title:>15}: " + ", ".join(f"max ‖g‖ {g:.3g}, loss {lo:.3g}" for g, lo in report))
    ax.set(xlabel="step", ylabel="training loss", title="4. exploding RNN gradients: loss with and without clipping")
    ax.legend()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images", help="folder for training_pathologies.png")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per experiment")
    parser.add_argument("--epochs", type=int, default=8, help="epochs of experiment 2 (experiment 3: 2 more)")
    args = parser.parse_args()
    seeds = range(args.seeds)
    train, test = digits()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    vanishing(train[0][:256], train[1][:256], axes[0], seeds)
    dead_relus(train, test, axes[1], seeds, args.epochs)
    saturation(train, test, axes[2], seeds, args.epochs + 2)
    exploding(axes[3], seeds)
    path = save_figure(fig, Path(args.out) / "training_pathologies.png")
    print(f"picture: {path}")


if __name__ == "__main__":
    main()
