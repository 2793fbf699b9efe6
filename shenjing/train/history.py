"""Per-epoch training record (seed 002 神经网络调参: keep the training and test loss side by side)."""

from __future__ import annotations

import math

__all__ = ["History"]


class History:
    """Loss and metrics per epoch, Keras-style: ``history['val_loss'][-1]``, ``history.epoch``.

    Keys are ``loss``, each metric name, their ``val_`` counterparts when there is validation
    data, and ``lr`` (the first parameter group's learning rate during the epoch).
    ``plot(path)`` draws train vs validation loss and accuracy (the overfitting picture of
    seed 004 §2.4.1.3: training loss keeps falling while the validation loss turns up).

    >>> from shenjing.train import History
    >>> history = History()
    >>> history.append(1, {"loss": 0.9, "val_loss": 1.0})
    >>> history.append(2, {"loss": 0.5, "val_loss": 0.7})
    >>> history.append(3, {"loss": 0.3, "val_loss": 0.8})
    >>> history["val_loss"], history.best("val_loss")
    ([1.0, 0.7, 0.8], (2, 0.7))
    """

    def __init__(self):
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def append(self, epoch: int, logs: dict) -> None:
        """Record epoch ``epoch`` (1-based); a key missing in some epochs is padded with NaN."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        for values in self.history.values():
            if len(values) == n:
                values.append(math.nan)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no '{key}'; it records {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def keys(self):
        return self.history.keys()

    def best(self, key: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """(epoch, value) of the best recorded ``key`` (``mode`` 'min' or 'max')."""
        values = self[key]
        pick = min if mode == "min" else max
        i = pick(range(len(values)), key=lambda j: values[j] if not math.isnan(values[j]) else
                 (math.inf if mode == "min" else -math.inf))
        return self.epoch[i], values[i]

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}

    def plot(self, path=None, title: str | None = None):
        """Train vs validation loss (left) and accuracy (right, when recorded); returns the Figure and
        writes a PNG to ``path`` when given. See :func:`shenjing.viz.plot_history`."""
        from ..viz.training import plot_history

        return plot_history(self, path=path, title=title)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items()} if self.epoch else {}
        return f"History(epochs={len(self.epoch)}, last={last})"
