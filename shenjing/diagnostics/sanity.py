"""The notes' first steps before tuning, as one report (seed 002 神经网络调参 第一步): no NaN in
the data, a sensible loss at initialisation, a model that can fit a small batch, gradients that
reach every layer (seed 003 梯度消失问题 / 梯度爆炸问题)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import _backend as B
from ..tensor import Tensor, no_grad
from .monitor import Monitor

__all__ = ["sanity_check", "SanityReport", "Check"]

VANISHING, EXPLODING = 1e-3, 1e3  # ratio of the first to the last layer's gradient norm


@dataclass
class Check:
    """One check: ``passed`` (None when it does not apply), a plain-language ``verdict``, ``advice``
    on what to try, and the measured ``numbers``."""

    name: str
    passed: bool | None
    verdict: str
    advice: str = ""
    numbers: dict = field(default_factory=dict)

    def __str__(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.passed]
        text = f"[{mark}] {self.name}: {self.verdict}"
        return text + (f"\n       try: {self.advice}" if self.advice else "")


@dataclass
class SanityReport:
    """The checks of :func:`sanity_check`; ``ok`` when none failed; ``report[name]`` one check."""

    checks: list

    @property
    def ok(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; checks: {[c.name for c in self.checks]}")

    def __str__(self) -> str:
        head = "sanity check: " + ("all checks passed" if self.ok else "problems found")
        return "\n".join([head] + [str(c) for c in self.checks])


def _finite_data(X: np.ndarray, y: np.ndarray) -> Check:
    bad = {"X": int((~np.isfinite(X)).sum()), "y": int((~np.isfinite(y)).sum())}
    spread = {"mean": float(np.nanmean(X)), "std": float(np.nanstd(X))}
    if any(bad.values()):
        where = ", ".join(f"{n} has {k} NaN/Inf values" for n, k in bad.items() if k)
        return Check("finite data", False, where, "drop or impute those samples; a single NaN makes every loss "
                     "and gradient NaN", {**bad, **spread})
    if abs(spread["mean"]) > 3 or not 0.1 < spread["std"] < 10:
        return Check("finite data", True, f"no NaN/Inf, but the inputs are not standardised (mean "
                     f"{spread['mean']:.3g}, std {spread['std']:.3g})", "standardise the inputs to mean 0, std 1",
                     {**bad, **spread})
    return Check("finite data", True, f"no NaN/Inf; inputs mean {spread['mean']:.3g}, std {spread['std']:.3g}",
                  numbers={**bad, **spread})


def _classes(y: np.ndarray, out: np.ndarray) -> int | None:
    """Class count for integer labels and (N, C) outputs; None for regression."""
    if y.ndim != 1 or out.ndim != 2 or not np.all(np.mod(y, 1) == 0):
        return None
    return out.shape[1]


def _initial_loss(model, loss_fn, X, y) -> Check:
    with no_grad():
        out = model(Tensor(X))
        loss = float(loss_fn(out, Tensor(y)))
    classes = _classes(y, out.data)
    numbers = {"loss": loss}
    if not math.isfinite(loss):
        return Check("loss at initialisation", False, f"the loss is {loss}", "check the loss function's inputs "
                     "and the initialisation scale", numbers)
    if classes is None or classes < 2:
        return Check("loss at initialisation", None, f"{loss:.4g} (not a classification: no ln C to compare)",
                     numbers=numbers)
    expected = math.log(classes)
    numbers.update(expected=expected, classes=classes)
    if loss > 1.5 * expected:
        return Check("loss at initialisation", False, f"{loss:.4g}, far above ln {classes} = {expected:.4g}: the "
                     "untrained model is confidently wrong", "shrink the initial weights (a default init, a "
                     "smaller last layer) so the first predictions are near uniform", numbers)
    if loss < 0.5 * expected:
        return Check("loss at initialisation", False, f"{loss:.4g}, far below ln {classes} = {expected:.4g} "
                     "before any training", "check that the labels are not leaking into the inputs", numbers)
    return Check("loss at initialisation", True, f"{loss:.4g}, close to ln {classes} = {expected:.4g} "
                 "(near-uniform predictions, as expected)", numbers=numbers)


def _overfit(model, loss_fn, X, y, steps: int, lr: float) -> Check:
    from ..optim import Adam

    optimizer = Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(Tensor(X)), Tensor(y))
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    first, last = losses[0], losses[-1]
    numbers = {"first_loss": first, "last_loss": last, "samples": len(X), "steps": steps}
    if math.isfinite(last) and last < 0.1 * first:
        return Check("overfit a small batch", True, f"{len(X)} samples: loss {first:.4g} -> {last:.4g} in {steps} "
                     "steps", numbers=numbers)
    return Check("overfit a small batch", False, f"{len(X)} samples: loss only went {first:.4g} -> {last:.4g} in "
                 f"{steps} Adam steps (lr {lr:g})", "a model that cannot memorise a few samples has a bug or a "
                 "gradient that does not reach its first layers (see gradient flow): check that the labels match "
                 "the inputs, the loss suits the output layer, nothing stops the gradient (detach, no_grad, frozen "
                 "layers); then try a larger learning rate", numbers)


def _gradient_flow(model, loss_fn, X, y) -> Check:
    with Monitor(model) as monitor:
        loss_fn(model(Tensor(X)), Tensor(y)).backward()
    norms = {name: stats["grad_norm"] for name, stats in monitor.summary().items() if "grad_norm" in stats}
    missing = [name for name, stats in monitor.summary().items() if "weight_norm" in stats and name not in norms]
    if not norms:
        return Check("gradient flow at initialisation", False, "no layer received a gradient",
                     "check that the loss depends on the parameters (no detach or no_grad)")
    values = np.array(list(norms.values()))
    numbers = {"grad_norms": norms, "missing": missing}
    if not np.all(np.isfinite(values)):
        return Check("gradient flow at initialisation", False, "NaN/Inf gradients", "check the loss and inputs "
                     "for NaN; lower the initial weight scale", numbers)
    first, last = values[0], values[-1]
    ratio = first / last if last > 0 else math.inf
    numbers["first_to_last"] = ratio
    layers = f"‖∇w‖ first layer {first:.3g}, last layer {last:.3g} (ratio {ratio:.3g})"
    if missing or first == 0 or ratio < VANISHING:
        why = f"no gradient reaches {', '.join(missing)}" if missing else "the gradient vanishes on its way down"
        return Check("gradient flow at initialisation", False, f"{why}: {layers}", "use ReLU instead of sigmoid/"
                     "tanh, BatchNorm, residual connections or a better initialisation (seed 003 梯度消失问题)",
                     numbers)
    if ratio > EXPLODING:
        return Check("gradient flow at initialisation", False, f"the gradient grows on its way down: {layers}",
                     "clip the gradient norm, lower the initial weight scale, add normalisation "
                     "(seed 003 梯度爆炸问题)", numbers)
    return Check("gradient flow at initialisation", True, f"every layer gets a gradient; {layers}", numbers=numbers)


def sanity_check(model, loss_fn, X, y, batch_size: int = 16, steps: int = 100, lr: float = 1e-2) -> SanityReport:
    """Run the notes' first checks on ``model`` with ``loss_fn(model(X), y)``; returns a
    :class:`SanityReport` (print it) of four checks, each with a verdict and what to try:

    - finite data: no NaN/Inf in X or y (and whether X looks standardised);
    - loss at initialisation against ln C for C classes (cross-entropy of uniform predictions);
    - overfitting the first ``batch_size`` samples with ``steps`` Adam steps of ``lr``: the loss
      must fall below a tenth of its start;
    - gradient flow: every parameterised layer gets a finite gradient and ‖∇w‖ of the first
      layer is within 1e-3..1e3 of the last's (seed 003 ∂L/∂b₁ ≤ (1/4)ⁿ w₂⋯wₙ ∂L/∂bₙ).

    The model's weights, buffers, gradients, mode and the global random state are restored.

    >>> import shenjing as sj
    >>> X, y = np.random.default_rng(0).standard_normal((64, 4)), np.arange(64) % 3
    >>> net = sj.nn.Sequential(sj.nn.Linear(4, 32), sj.nn.ReLU(), sj.nn.Linear(32, 3)).double()
    >>> sanity_check(net, sj.nn.CrossEntropyLoss(), X, y).ok
    True
    """
    X, y = B.to_numpy(X.data if isinstance(X, Tensor) else np.asarray(X)), \
        B.to_numpy(y.data if isinstance(y, Tensor) else np.asarray(y))
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"sanity_check: X and y must hold the same non-zero number of samples, got {len(X)} "
                         f"and {len(y)}")
    data = _finite_data(X, y)
    if data.passed is False:
        return SanityReport([data])
    dtype = next(iter(model.parameters())).dtype
    X, y = (a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a for a in (X, y))
    batch = X[:batch_size], y[:batch_size]
    state, grads = model.state_dict(), [p.grad for p in model.parameters()]
    saved = {k: v.data.copy() if isinstance(v, Tensor) else np.copy(v) for k, v in state.items()}
    rng_state, training = B.get_rng_state(), model.training
    try:
        initial, flow = _initial_loss(model, loss_fn, X, y), _gradient_flow(model, loss_fn, *batch)
        checks = [data, initial, _overfit(model, loss_fn, *batch, steps, lr), flow]
    finally:
        model.load_state_dict(saved)
        for p, g in zip(model.parameters(), grads):
            p.grad = g
        B.set_rng_state(rng_state)
        model.train(training)
    return SanityReport(checks)
