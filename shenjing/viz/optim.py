"""Pictures of the optimisers: trajectories on test surfaces (seed 000 §3.3), learning-rate schedules
(seed 004 §5.2.6.3, §6.1) and exponential smoothing with bias correction (seed 004 §5.1.2).

matplotlib is imported lazily, inside each function; figures are drawn with the Agg canvas, so
no display is needed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .. import optim
from ..optim import lr_scheduler as sched
from ..optim import swa_utils
from ..tensor import Tensor

__all__ = ["optimizer_paths", "schedule_curves", "ema_figure"]


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _saddle(x, y):
    return x**2 - y**2


class _Surface(NamedTuple):
    fn: Callable
    start: tuple
    minimum: tuple | None
    xlim: tuple
    ylim: tuple
    log_levels: bool
    legend: str
    hyper_parameters: dict


_SURFACES = {
    "beale": _Surface(_beale, (1.0, 1.5), (3.0, 0.5), (-1.0, 4.0), (-1.5, 2.0), True, "upper left",
                      dict(sgd=1e-3, adagrad=0.5, adadelta_eps=1e-4, rmsprop=0.02, adam=0.1)),
    "rosenbrock": _Surface(_rosenbrock, (0.0, 2.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0), True, "lower right",
                           dict(sgd=1e-3, adagrad=0.3, adadelta_eps=1e-5, rmsprop=0.01, adam=0.05)),
    "saddle": _Surface(_saddle, (1.0, 1e-3), None, (-1.5, 1.5), (-1.5, 1.5), False, "lower left",
                       dict(sgd=0.01, adagrad=0.1, adadelta_eps=1e-3, rmsprop=0.01, adam=0.02)),
}


def _default_optimizers(hp: dict) -> dict[str, Callable]:
    """The seven optimisers of the notes' figure 3.3, with learning rates suited to the surface."""
    return {
        "SGD": lambda p: optim.SGD(p, lr=hp["sgd"]),
        "Momentum": lambda p: optim.SGD(p, lr=hp["sgd"], momentum=0.9),
        "NAG": lambda p: optim.SGD(p, lr=hp["sgd"], momentum=0.9, nesterov=True),
        "AdaGrad": lambda p: optim.Adagrad(p, lr=hp["adagrad"]),
        "AdaDelta": lambda p: optim.Adadelta(p, eps=hp["adadelta_eps"]),
        "RMSprop": lambda p: optim.RMSprop(p, lr=hp["rmsprop"]),
        "Adam": lambda p: optim.Adam(p, lr=hp["adam"]),
    }


def _choose_optimizers(optimizers, defaults: dict) -> dict[str, Callable]:
    if optimizers is None:
        return defaults
    if isinstance(optimizers, dict):
        return dict(optimizers)
    unknown = [name for name in optimizers if name not in defaults]
    if unknown:
        raise ValueError(f"optimizers: unknown names {unknown}; expected some of {list(defaults)} "
                         "or a dict {label: factory(params) -> Optimizer}")
    return {name: defaults[name] for name in optimizers}


def _trajectory(factory: Callable, fn: Callable, start, steps: int, box) -> np.ndarray:
    """Positions visited by the optimiser from ``start`` (stops once it leaves the picture far behind)."""
    point = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = factory([point])
    path = [point.numpy().copy()]
    (x0, x1), (y0, y1) = box
    for _ in range(steps):
        opt.zero_grad()
        fn(point[0], point[1]).backward()
        opt.step()
        x, y = point.numpy()
        path.append(np.array([x, y]))
        if not (np.isfinite(x) and np.isfinite(y)) or abs(x) > 10 * max(abs(x0), abs(x1)) or \
                abs(y) > 10 * max(abs(y0), abs(y1)):
            break
    return np.array(path)


def _out_dir(out) -> str:
    out = os.fspath(out) if out is not None else os.getcwd()
    os.makedirs(out, exist_ok=True)
    return out


def _figure(**kwargs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def optimizer_paths(surface: str = "beale", optimizers=None, steps: int = 200, out=None) -> list[str]:
    """Draw the trajectories of several optimisers from one start on a contour plot (seed 000 §3.3).

    ``surface``: ``'beale'`` (minimum at (3, 0.5)), ``'rosenbrock'`` (the curved valley to (1, 1))
    or ``'saddle'`` (z = x² - y², starting almost on the ridge, where SGD, momentum and NAG
    struggle to break the symmetry). ``optimizers``: None for SGD, Momentum, NAG, AdaGrad,
    AdaDelta, RMSprop and Adam; a list of some of those names; or a dict
    ``{label: factory(params) -> Optimizer}``. Each runs ``steps`` steps on the surface, built
    from shenjing ops and differentiated by autograd.

    Writes ``optimizer_paths_<surface>.png`` and an animated ``optimizer_paths_<surface>.gif`` into
    the directory ``out`` (created if needed; None means the current directory) and returns their paths.

    >>> import os, tempfile
    >>> from shenjing.viz import optimizer_paths
    >>> files = optimizer_paths("saddle", optimizers=["SGD", "Adam"], steps=10, out=tempfile.mkdtemp())
    >>> [os.path.basename(f) for f in files]
    ['optimizer_paths_saddle.png', 'optimizer_paths_saddle.gif']
    """
    if surface not in _SURFACES:
        raise ValueError(f"surface must be one of {list(_SURFACES)}, got {surface!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    spec = _SURFACES[surface]
    chosen = _choose_optimizers(optimizers, _default_optimizers(spec.hyper_parameters))
    paths = [_trajectory(factory, spec.fn, spec.start, steps, (spec.xlim, spec.ylim)) for factory in chosen.values()]
    out = _out_dir(out)
    fig, lines = _paths_figure(surface, spec, list(chosen))
    png = os.path.join(out, f"optimizer_paths_{surface}.png")
    _show_paths(lines, paths, steps + 1)
    fig.savefig(png, dpi=100)
    gif = os.path.join(out, f"optimizer_paths_{surface}.gif")
    _animate(fig, lines, paths, steps, gif)
    return [png, gif]


def _paths_figure(surface: str, spec: _Surface, names: list):
    from matplotlib.colors import LogNorm

    fig = _figure(figsize=(7.5, 5.5))
    ax = fig.add_subplot()
    xs, ys = np.meshgrid(np.linspace(*spec.xlim, 150), np.linspace(*spec.ylim, 150))
    zs = spec.fn(xs, ys)
    if spec.log_levels:
        levels = np.logspace(np.log10(max(zs.min(), 1e-3)), np.log10(zs.max()), 30)
        ax.contour(xs, ys, zs, levels=levels, norm=LogNorm(), cmap="viridis", linewidths=0.7)
    else:
        ax.contour(xs, ys, zs, levels=30, cmap="viridis", linewidths=0.7)
    ax.plot(*spec.start, "ko", markersize=6)
    if spec.minimum is not None:
        ax.plot(*spec.minimum, "r*", markersize=14)
    colors = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#555555"]
    lines = [ax.plot([], [], "-", color=colors[i % len(colors)], lw=2, label=name)[0] for i, name in enumerate(names)]
    ax.set(xlim=spec.xlim, ylim=spec.ylim, xlabel="x", ylabel="y",
           title=f"Optimiser trajectories on the {surface} surface (seed 000 §3.3)")
    ax.legend(loc=spec.legend, fontsize=8, framealpha=0.9)
    fig.tight_layout()
    return fig, lines


def _show_paths(lines: list, paths: list, k: int) -> None:
    """Draw the first k points of each path."""
    for line, path in zip(lines, paths):
        line.set_data(path[:k, 0], path[:k, 1])


def _animate(fig, lines: list, paths: list, steps: int, filename: str, max_frames: int = 40) -> None:
    """An animated GIF of the paths growing: the static contours are drawn once and the lines blitted."""
    from PIL import Image

    fig.set_dpi(60)
    canvas = fig.canvas
    _show_paths(lines, paths, 0)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for k in np.unique(np.linspace(1, steps + 1, min(max_frames, steps + 1)).astype(int)):
        canvas.restore_region(background)
        _show_paths(lines, paths, k)
        for line in lines:
            line.axes.draw_artist(line)
        image = Image.frombuffer("RGBA", canvas.get_width_height(), bytes(canvas.buffer_rgba()), "raw", "RGBA", 0, 1)
        frames.append(image.convert("RGB").quantize(colors=128))
    frames[0].save(filename, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _run_schedule(make: Callable, steps: int, metric: Callable | None = None, momentum: bool = False):
    """(lrs, momenta) of a schedule created by ``make(optimizer)`` over ``steps`` steps."""
    opt = optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1, momentum=0.9)
    schedule = make(opt)
    lrs, momenta = [], []
    for t in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        if metric is None:
            schedule.step()
        else:
            schedule.step(metric(t))
    return np.array(lrs), (np.array(momenta) if momentum else None)


def _schedules(steps: int) -> list:
    return [
        ("StepLR(30, γ=0.5)", lambda o: sched.StepLR(o, 30, 0.5), None),
        ("MultiStepLR([60, 120, 160], γ=0.3)", lambda o: sched.MultiStepLR(o, [60, 120, 160], 0.3), None),
        ("ExponentialLR(γ=0.98)", lambda o: sched.ExponentialLR(o, 0.98), None),
        ("CosineAnnealingLR(T_max=steps)", lambda o: sched.CosineAnnealingLR(o, steps), None),
        ("CosineAnnealingWarmRestarts(20, 2)", lambda o: sched.CosineAnnealingWarmRestarts(o, 20, 2), None),
        ("CyclicLR triangular", lambda o: sched.CyclicLR(o, 0.025, 0.1, step_size_up=25), None),
        ("CyclicLR triangular2", lambda o: sched.CyclicLR(o, 0.025, 0.1, step_size_up=25, mode="triangular2"),
         None),
        ("CyclicLR exp_range(γ=0.99)", lambda o: sched.CyclicLR(o, 0.025, 0.1, 25, mode="exp_range", gamma=0.99),
         None),
        ("OneCycleLR (and momentum)", lambda o: sched.OneCycleLR(o, 0.1, total_steps=steps), None),
        ("ReduceLROnPlateau(patience=10)", lambda o: sched.ReduceLROnPlateau(o, factor=0.5, patience=10),
         lambda t: max(1.0 / (1 + t), 0.02)),
        ("LinearWarmupDecay (BERT)", lambda o: sched.LinearWarmupDecay(o, steps // 10, steps), None),
        ("InverseSqrtWarmup (Transformer)", lambda o: sched.InverseSqrtWarmup(o, steps // 10), None),
        ("SWALR(swa_lr=0.02, 30 steps)", lambda o: swa_utils.SWALR(o, 0.02, anneal_epochs=30), None),
    ]


def schedule_curves(out=None, steps: int = 200) -> list[str]:
    """Plot the learning rate of each schedule of ``optim.lr_scheduler`` over ``steps`` steps.

    Every schedule starts from lr = 0.1 (CyclicLR between 0.025 and 0.1, seed 004 §6.1.2's
    base_lr = max_lr/4); OneCycleLR's momentum is drawn on a second axis; ReduceLROnPlateau
    follows a loss that stops improving. Writes ``lr_schedules.png`` and an animated
    ``lr_schedules.gif`` (the curves drawn step by step) into ``out`` and returns both paths.

    >>> import os, tempfile
    >>> from shenjing.viz import schedule_curves
    >>> [os.path.basename(f) for f in schedule_curves(out=tempfile.mkdtemp(), steps=20)]
    ['lr_schedules.png', 'lr_schedules.gif']
    """
    if not isinstance(steps, int) or steps < 10:
        raise ValueError(f"steps must be an int >= 10, got {steps!r}")
    schedules = _schedules(steps)
    cols = 4
    rows = math.ceil(len(schedules) / cols)
    fig = _figure(figsize=(4 * cols, 2.6 * rows))
    lines, curves = [], []
    for i, (title, make, metric) in enumerate(schedules):
        ax = fig.add_subplot(rows, cols, i + 1)
        lrs, momenta = _run_schedule(make, steps, metric, momentum="OneCycle" in title)
        lines += ax.plot(lrs, color="#377eb8")
        curves.append(np.column_stack([np.arange(len(lrs)), lrs]))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("lr", fontsize=8)
        ax.tick_params(labelsize=7)
        if momenta is not None:
            twin = ax.twinx()
            lines += twin.plot(momenta, color="#e41a1c", ls="--")
            curves.append(np.column_stack([np.arange(len(momenta)), momenta]))
            twin.set_ylabel("momentum", fontsize=8, color="#e41a1c")
            twin.tick_params(labelsize=7)
    fig.tight_layout()
    png, gif = (os.path.join(_out_dir(out), f"lr_schedules.{ext}") for ext in ("png", "gif"))
    fig.savefig(png, dpi=90)
    _animate(fig, lines, curves, steps, gif)
    return [png, gif]


def ema_figure(out=None) -> list[str]:
    """The notes' exponential smoothing picture (seed 004 §5.1.2) on a year of daily temperatures.

    Red: m_t with β = 0.9 (about the last 10 days); purple: β = 0.98 without bias correction,
    pulled towards m_0 = 0 at the start; green: β = 0.98 with m_t / (1 - βᵗ). The temperatures
    are synthetic (a seasonal cosine plus noise, seeded). Writes ``ema_bias_correction.png`` into
    ``out`` and returns its path in a list.

    >>> import os, tempfile
    >>> from shenjing.viz import ema_figure
    >>> [os.path.basename(f) for f in ema_figure(out=tempfile.mkdtemp())]
    ['ema_bias_correction.png']
    """
    rng = np.random.default_rng(0)
    days = np.arange(1, 366)
    temperature = 15 - 10 * np.cos(2 * np.pi * (days - 15) / 365) + rng.normal(0, 3, days.size)
    fig = _figure(figsize=(9, 5))
    ax = fig.add_subplot()
    ax.scatter(days, temperature, s=6, color="#4a6fb5", alpha=0.6, label="θ_t (daily temperature)")
    ax.plot(days, optim.ema(temperature, 0.9), color="#e41a1c", lw=1.8, label="β = 0.9")
    ax.plot(days, optim.ema(temperature, 0.98, bias_correction=False), color="#984ea3", lw=1.8,
            label="β = 0.98, no bias correction")
    ax.plot(days, optim.ema(temperature, 0.98), color="#4daf4a", lw=1.8, label="β = 0.98, m_t / (1 - β^t)")
    ax.set(xlabel="day t", ylabel="temperature",
           title="Exponential moving average m_t = β m_{t-1} + (1 - β) θ_t (seed 004 §5.1.2)")
    ax.legend(fontsize=9)
    fig.tight_layout()
    path = os.path.join(_out_dir(out), "ema_bias_correction.png")
    fig.savefig(path, dpi=100)
    return [path]
