"""History: per-epoch records padded with NaN, best epochs, plots and state dicts."""

import math

import numpy as np
import pytest

from shenjing.train import History


def test_history_padding_best_and_plot(tmp_path):
    h = History()
    h.append(1, {"loss": 1.0})
    h.append(2, {"loss": 0.5, "val_loss": 0.7, "accuracy": 0.8})
    h.append(3, {"loss": 0.4, "val_loss": 0.9, "accuracy": 0.9})
    assert math.isnan(h["val_loss"][0]) and h["loss"] == [1.0, 0.5, 0.4]
    assert h.best("val_loss") == (2, 0.7) and h.best("accuracy", "max") == (3, 0.9)
    with pytest.raises(KeyError, match="records"):
        h["nope"]
    fig = h.plot(tmp_path / "curves.png")
    assert len(fig.axes) == 2 and (tmp_path / "curves.png").stat().st_size > 1000
    again = History()
    again.load_state_dict(h.state_dict())
    assert again.epoch == h.epoch and again.keys() == h.keys()
    for key in h.keys():
        np.testing.assert_array_equal(again[key], h[key])
