"""A character-level language model (embedding -> LSTM -> linear) on the source of a standard-library module.

Seed 002 (LSTM), seed 004 §1.7 (perplexity): after each epoch the validation perplexity
exp(mean negative log-likelihood per character) is printed next to the uniform baseline,
the vocabulary size (a model that knows nothing scores exactly that). Gradients are clipped
to norm 1, the notes' remedy for exploding recurrent gradients. Ends with a sampled snippet.

    python examples/char_lm.py [--module textwrap] [--epochs 4] [--steps 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib
import inspect

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.metrics import perplexity


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def windows(ids: np.ndarray, length: int, starts: np.ndarray):
    """Inputs ids[s : s+length] and next-character targets ids[s+1 : s+length+1] for every start s."""
    idx = starts[:, None] + np.arange(length)
    return ids[idx], ids[idx + 1]


def validation_perplexity(model, ids: np.ndarray, length: int) -> float:
    starts = np.arange(0, len(ids) - length - 1, length)
    x, y = windows(ids, length, starts)
    model.eval()
    with sj.no_grad():
        logits, _ = model(sj.tensor(x))
        probs = F.softmax(logits, dim=-1).numpy()
    model.train()
    return perplexity(y, probs)


def sample(model, chars: list, prompt: np.ndarray, n: int, rng) -> str:
    model.eval()
    out, state = [], None
    with sj.no_grad():
        logits, state = model(sj.tensor(prompt[None]))
        for _ in range(n):
            p = F.softmax(logits[:, -1], dim=-1).numpy()[0].astype(np.float64)
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(chars[nxt])
            logits, state = model(sj.tensor(np.array([[nxt]])), state)
    model.train()
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="textwrap", help="standard-library module whose source is the corpus")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=60, help="training steps per epoch")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=64, help="characters per training window")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    text = inspect.getsource(importlib.import_module(args.module))
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int64)
    split = int(0.9 * len(ids))
    train, val = ids[:split], ids[split:]
    print(f"corpus: source of {args.module} ({len(text)} characters), vocabulary {len(chars)}")
    print(f"uniform baseline perplexity: {len(chars):.1f}")

    sj.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = CharLSTM(len(chars))
    opt = sj.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(1, args.epochs + 1):
        losses = []
        for _ in range(args.steps):
            x, y = windows(train, args.length, rng.integers(0, len(train) - args.length - 1, args.batch))
            logits, _ = model(sj.tensor(x))
            loss = F.cross_entropy(logits.reshape(-1, len(chars)), sj.tensor(y.reshape(-1)))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        ppl = validation_perplexity(model, val, args.length)
        print(f"epoch {epoch}: train loss {np.mean(losses):.3f}, validation perplexity {ppl:.2f} "
              f"(uniform {len(chars)})")
    print("sample:", repr(sample(model, chars, train[:args.length], 120, rng)))


if __name__ == "__main__":
    main()
