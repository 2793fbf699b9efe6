"""Per-dataset defaults of ``shenjing train``: models and training settings found with
:func:`shenjing.tune.sweep` on a validation split (benchmarks/mnist1d_recipes.py).

MNIST-1D's models stay within the parameter budgets of the reference models of the MNIST-1D
paper (Greydanus 2020): MLP 15,210 (40-100-100-10), CNN 5,210 (three strided convolutions of
25 channels), GRU 5,134 (bidirectional, hidden size 6). The sweep chose on 800 training samples
held out; the test split is only reported (README).
"""

from __future__ import annotations

__all__ = ["RECIPES", "BUDGETS", "recipe", "mnist1d_model"]

BUDGETS = {"mlp": 15_210, "cnn": 5_210, "gru": 5_134}

# training options per (dataset, model); options the user gives on the command line win
RECIPES = {
    ("mnist1d", "mlp"): {"optimizer": "adamw", "lr": 1e-2, "schedule": "cosine", "epochs": 300, "batch_size": 100},
    ("mnist1d", "cnn"): {"optimizer": "adam", "lr": 3e-3, "schedule": "cosine", "epochs": 120, "batch_size": 100},
    ("mnist1d", "gru"): {"optimizer": "adam", "lr": 1e-2, "schedule": "cosine", "epochs": 40, "batch_size": 64},
}

# architecture of each MNIST-1D model (keyword arguments of the builders below)
ARCHITECTURES = {
    "mlp": {"dropout": 0.2},                    # 40-100-100-10 ReLU: 15,210 parameters
    "cnn": {"channels": 24, "norm": True},      # strided convolutions with BatchNorm: 5,002
    "gru": {"hidden": 32, "pool": "last+mean"},  # head on [last state, mean state]: 4,010
}


def recipe(dataset: str, model: str) -> dict:
    """The training options tuned for ``model`` on ``dataset`` ({} when there is no recipe)."""
    return dict(RECIPES.get((dataset, model), {}))


def _mlp(nn, length: int, classes: int, hidden: int = 100, depth: int = 2, dropout: float = 0.0):
    layers, width = [], length
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, classes))


def _cnn(nn, length: int, classes: int, channels: int = 25, norm: bool = False):
    def block(c_in, kernel):
        return [nn.Conv1d(c_in, channels, kernel, stride=2, padding=1)] + \
            ([nn.BatchNorm1d(channels)] if norm else []) + [nn.ReLU()]

    steps = length
    for kernel in (5, 3, 3):
        steps = (steps + 2 - kernel) // 2 + 1
    return nn.Sequential(*block(1, 5), *block(channels, 3), *block(channels, 3), nn.Flatten(),
                         nn.Linear(channels * steps, classes))


def _gru(nn, length: int, classes: int, hidden: int = 38, pool: str = "last"):
    from . import cat

    class GRUClassifier(nn.Module):
        """GRU over the sequence; a linear head on the last hidden state, or on the last state
        and the mean over time (``pool='last+mean'``)."""

        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(1, hidden, batch_first=True)
            self.head = nn.Linear(hidden * (2 if pool == "last+mean" else 1), classes)

        def forward(self, x):
            out, h = self.gru(x)
            if pool == "last+mean":
                return self.head(cat([h[-1], out.mean(1)], dim=1))
            return self.head(h[-1])

    return GRUClassifier()


def mnist1d_model(kind: str, length: int, classes: int, **arch):
    """The MNIST-1D model ``kind`` ('mlp', 'cnn', 'gru') with the recipe's architecture, or ``arch``."""
    from . import nn

    builders = {"mlp": _mlp, "cnn": _cnn, "gru": _gru}
    return builders[kind](nn, length, classes, **{**ARCHITECTURES[kind], **arch})
