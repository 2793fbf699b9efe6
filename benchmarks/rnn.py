"""Recurrent training-step time: shenjing vs PyTorch, same model, weights, data and threads.

Models (batch 128, sequences of 40 steps with 1 feature, hidden size 128, Adam, MSE):
  gru   GRU(1, 128) -> last hidden state -> Linear(128, 1)
  lstm  LSTM(1, 128) -> last hidden state -> Linear(128, 1)

A step is the whole training step: zero_grad, forward, loss, backward, optimiser step.
Times are medians of interleaved blocks (shenjing, torch, shenjing, torch, ...) with pauses,
in one process.

    python benchmarks/rnn.py [--threads 1] [--repeat 20] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import blas_info, interleaved, set_threads, table

BATCH, SEQ, FEATURES, HIDDEN = 128, 40, 1, 128
MODELS = ("gru", "lstm")


def build(lib, name: str):
    nn = lib.nn
    cls = {"gru": nn.GRU, "lstm": nn.LSTM}[name]

    class Regressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = cls(FEATURES, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, 1)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return Regressor()


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, SEQ, FEATURES)).astype(np.float32)
    return x, np.cumsum(x, axis=1)[:, -1].astype(np.float32)


def torch_side(name: str, device: str):
    import torch

    torch.manual_seed(0)
    model = build(torch, name).to(device)
    x, y = (torch.tensor(a, device=device) for a in data())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sync()
        return float(loss)

    return step, model


def shenjing_side(name: str, device: str, weights):
    import shenjing as sj

    model = build(sj, name)
    model.load_state_dict(weights)
    model.to(device)
    x, y = (sj.tensor(a, device=device) for a in data())
    opt = sj.optim.Adam(model.parameters(), lr=1e-3)
    sync = (lambda: sj._backend.cupy().cuda.Device().synchronize()) if device == "cuda" else (lambda: None)

    def step():
        opt.zero_grad()
        loss = sj.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sync()
        return float(loss.item())

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    set_threads(args.threads)
    rows = []
    for name in args.models.split(","):
        torch_step, torch_model = torch_side(name, args.device)
        weights = {k: v.detach().cpu().numpy() for k, v in torch_model.state_dict().items()}
        ours_step = shenjing_side(name, args.device, weights)
        first = (ours_step(), torch_step())
        if not np.isclose(*first, rtol=1e-4):
            raise SystemExit(f"{name}: first-step losses differ: shenjing {first[0]} vs torch {first[1]}")
        times = interleaved({"shenjing": ours_step, "torch": torch_step}, repeat=args.repeat)
        rows.append([name, f"{times['shenjing'] * 1e3:.1f}", f"{times['torch'] * 1e3:.1f}",
                     f"{times['shenjing'] / times['torch']:.2f}"])
    print(f"device {args.device}, threads {args.threads}, batch {BATCH}, seq {SEQ}, input {FEATURES}, "
          f"hidden {HIDDEN}, Adam; BLAS: {blas_info()}")
    print(table(rows, ["model", "shenjing ms", "torch ms", "ratio"]))


if __name__ == "__main__":
    main()
