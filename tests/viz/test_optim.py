"""The optimiser pictures: trajectories (seed 000 §3.3), schedules and the EMA figure (004 §5.1.2)."""

import os

import pytest

from shenjing import optim, viz

pytest.importorskip("matplotlib")


def _check_image(path, min_bytes=20_000):
    assert os.path.isfile(path) and os.path.getsize(path) > min_bytes


def test_optimizer_paths_writes_png_and_animated_gif(tmp_path):
    from PIL import Image

    written = viz.optimizer_paths("saddle", steps=60, out=tmp_path)
    assert [os.path.basename(p) for p in written] == ["optimizer_paths_saddle.png", "optimizer_paths_saddle.gif"]
    for path in written:
        _check_image(path)
    with Image.open(written[1]) as gif:
        assert gif.n_frames > 20


def test_optimizer_paths_accepts_names_and_factories(tmp_path):
    written = viz.optimizer_paths("beale", optimizers=["SGD", "Adam"], steps=20, out=tmp_path / "a")
    _check_image(written[0])
    written = viz.optimizer_paths("rosenbrock", optimizers={"SWATS": lambda p: optim.SWATS(p, lr=0.05)}, steps=20,
                                  out=tmp_path / "b")
    _check_image(written[0])
    with pytest.raises(ValueError, match="surface"):
        viz.optimizer_paths("himmelblau", out=tmp_path)
    with pytest.raises(ValueError, match="optimizers"):
        viz.optimizer_paths("beale", optimizers=["LBFGS"], out=tmp_path)


def test_schedule_curves_and_ema_figure(tmp_path):
    for path in viz.schedule_curves(out=tmp_path) + viz.ema_figure(out=tmp_path):
        _check_image(path)
    assert sorted(os.listdir(tmp_path)) == ["ema_bias_correction.png", "lr_schedules.gif", "lr_schedules.png"]
