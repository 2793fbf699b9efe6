"""The benchmark models, built identically in shenjing and PyTorch (same names, same weights)."""

from __future__ import annotations

import numpy as np

SPECS = {
    # name: (builder, input shape per sample, batch, optimiser, optimiser kwargs)
    "mlp": ("mlp", (784,), 128, "Adam", {"lr": 1e-3}),
    "mlp_b512": ("mlp", (784,), 512, "Adam", {"lr": 1e-3}),
    "lenet5": ("lenet5", (1, 28, 28), 128, "SGD", {"lr": 0.01, "momentum": 0.9}),
    "conv": ("conv", (1, 28, 28), 64, "Adam", {"lr": 1e-3}),
    "gru": ("gru", (40, 1), 128, "Adam", {"lr": 1e-3}),
    "lstm": ("lstm", (40, 1), 128, "Adam", {"lr": 1e-3}),
    "tiny_mlp": ("tiny_mlp", (64,), 32, "SGD", {"lr": 0.01}),
}


def build(lib, kind: str):
    """The model ``kind`` in ``lib`` (the ``shenjing`` or ``torch`` module)."""
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    if kind == "tiny_mlp":
        return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    if kind == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )
    if kind == "conv":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 14 * 14, 128), nn.ReLU(), nn.Linear(128, 10),
        )
    if kind in ("gru", "lstm"):
        return _recurrent_classifier(lib, kind)
    raise ValueError(f"unknown model {kind!r}")


def _recurrent_classifier(lib, kind):
    nn = lib.nn

    class RecurrentClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            cell = nn.GRU if kind == "gru" else nn.LSTM
            self.rnn = cell(1, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return RecurrentClassifier()


def copy_weights(src_torch, dst_shenjing) -> None:
    """Load the PyTorch model's initial weights into the shenjing model (float32)."""
    state = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in src_torch.state_dict().items()}
    dst_shenjing.load_state_dict(state)


def batch(spec: str, seed: int = 0):
    """A float32 input batch and int64 labels for model ``spec``."""
    _, shape, n, _, _ = SPECS[spec]
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n,) + shape).astype(np.float32), rng.integers(0, 10, n).astype(np.int64)


def train_step(lib, model, optimizer, x, y):
    """One full step: forward, cross-entropy, backward, optimiser step, zero_grad."""

    def step():
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    return step


def setup(lib, spec: str, torch_model=None):
    """(step function, model) for ``spec`` in ``lib``; shenjing copies ``torch_model``'s weights."""
    kind, _, _, opt_name, opt_kw = SPECS[spec]
    model = build(lib, kind)
    if torch_model is not None:
        copy_weights(torch_model, model)
    x, y = batch(spec)
    x, y = lib.tensor(x), lib.tensor(y)
    optimizer = getattr(lib.optim, opt_name)(model.parameters(), **opt_kw)
    return train_step(lib, model, optimizer, x, y), model
