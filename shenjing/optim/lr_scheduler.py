"""Learning-rate (and momentum) schedules — ``torch.optim.lr_scheduler`` plus the notes' warm-ups.

A schedule changes each parameter group's ``lr`` when ``scheduler.step()`` is called (once per
epoch or once per batch, after ``optimizer.step()``). Creating it applies the value for step 0.
Seeds 003 §4.3.2 (dynamic learning rate), 004 §5.2.6.3 (Transformer and BERT warm-up) and §6.1
(CyclicLR, OneCycleLR), 000 §3.1.1 (a momentum that starts small and grows).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable

from .optimizer import Optimizer, nested_state, plain

__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "ReduceLROnPlateau", "LinearWarmupDecay",
    "InverseSqrtWarmup", "MomentumSchedule", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
    "SequentialLR", "ChainedScheduler",
]


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a shenjing.optim.Optimizer, got {type(optimizer).__name__}")


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """``value`` for each param group: a list/tuple of one per group, or one value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have one value per param group ({len(optimizer.param_groups)}), "
                             f"got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _momentum_key(optimizer: Optimizer, who: str) -> str:
    """'betas' (beta1 is the momentum of Adam-like optimisers) or 'momentum'."""
    for key in ("betas", "momentum"):
        if key in optimizer.defaults:
            return key
    raise ValueError(f"{who}: the optimizer has no 'momentum' or 'betas' hyper-parameter to schedule")


def _set_momentum(group: dict, key: str, value: float) -> None:
    if key == "betas":
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class _Stateful:
    """``state_dict()`` is every attribute except the optimizer and the user's functions."""

    _unsaved: tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> dict:
        """The schedule's counters and settings (plain values; user functions are not included)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._unsaved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned (also as ``shenjing.io.load`` reads it back)."""
        state_dict = nested_state(state_dict)
        self.__dict__.update({k: plain(v) for k, v in state_dict.items() if k not in self._unsaved})


class LRScheduler(_Stateful):
    """Base class: ``step()`` advances ``last_epoch`` and writes ``get_lr()`` into the groups.

    ``base_lrs`` are the groups' ``initial_lr`` (set from ``lr`` when ``last_epoch=-1``);
    ``get_last_lr()`` returns the learning rates last written. Creating a schedule takes its
    first step (``_step_count`` becomes 1). Schedules that multiply the current lr (StepLR,
    MultiStepLR, ExponentialLR, CosineAnnealingLR) compose when several share an optimizer.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in group for group in optimizer.param_groups):
            raise ValueError(f"last_epoch={last_epoch} resumes a schedule, but the optimizer's param groups have "
                             "no 'initial_lr': load the optimizer's state_dict first or use last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at step ``last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step (call it after ``optimizer.step()``)."""
        self._step_count += 1
        self.last_epoch += 1
        self._write(self.get_lr())

    def _write(self, lrs: list) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group as last set by this schedule."""
        return list(self._last_lr)


class LambdaLR(LRScheduler):
    """η_t = η₀ · λ(t), with one function for all groups or one per group."""

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable | list[Callable], last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class StepLR(LRScheduler):
    """η_t = η₀ · γ^⌊t / step_size⌋ (each group's lr is multiplied by γ every ``step_size`` steps)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be an int >= 1, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """η_t = η₀ · γ^(number of milestones ≤ t); the lr is multiplied by γ at each milestone."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """η_t = η₀ · γ^t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._step_count == 1:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiplicativeLR(LRScheduler):
    """η_t = η_{t-1} · λ(t): each step multiplies the current lr by ``lr_lambda(t)``."""

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable | list[Callable], last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current_lrs()
        return [lr * fn(self.last_epoch) for lr, fn in zip(self._current_lrs(), self.lr_lambdas)]


class ConstantLR(LRScheduler):
    """η_t = η₀ · factor for t < total_iters, then η₀ (a constant warm-up)."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        if not 0 < factor <= 1:
            raise ValueError(f"factor must be in (0, 1], got {factor!r}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = self._current_lrs()
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr / self.factor for lr in lrs]


class LinearLR(LRScheduler):
    """η_t = η₀ · (s + (e - s)·min(t, T)/T): the factor moves linearly from ``start_factor`` s to
    ``end_factor`` e over ``total_iters`` T steps (PyTorch's recursive form, so it composes)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1] and end_factor in [0, 1], got {start_factor!r} and "
                             f"{end_factor!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs, t, s, e, T = self._current_lrs(), self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return [lr * s for lr in lrs]
        if t > T:
            return lrs
        return [lr * (1.0 + (e - s) / (T * s + (t - 1) * (e - s))) for lr in lrs]


class PolynomialLR(LRScheduler):
    """η_t = η₀ · (1 - min(t, T)/T)^power (PyTorch's recursive form)."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs, t, T = self._current_lrs(), self.last_epoch, self.total_iters
        if t == 0 or t > T:
            return lrs
        decay = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * decay for lr in lrs]


class CosineAnnealingLR(LRScheduler):
    r"""η_t = η_min + ½(η₀ - η_min)(1 + cos(π t / T_max)) (SGDR without restarts).

    As in PyTorch the update is applied recursively to the current lr,
    η_t = η_min + (η_{t-1} - η_min)(1 + cos(πt/T)) / (1 + cos(π(t-1)/T)), so it composes
    with other changes of the lr; past T_max the cosine continues (rises again).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if not T_max > 0:
            raise ValueError(f"T_max must be > 0, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._step_count == 1:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base, lr in zip(self.base_lrs, self._current_lrs())]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR (Loshchilov & Hutter 2017; seed 004 §7 snapshot ensembles): cosine cycles with restarts.

    η = η_min + ½(η₀ - η_min)(1 + cos(π T_cur / T_i)); T_cur counts steps since the last
    restart, the cycle length starts at T_0 and is multiplied by T_mult at each restart.
    ``step(epoch)`` accepts a fractional epoch (``scheduler.step(epoch + i / iters)``).
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"T_0 must be a positive int, got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"T_mult must be an int >= 1, got {T_mult!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or jump to a (fractional) ``epoch``."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch!r}")
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        self._write(self.get_lr())


class _MomentumCycler(LRScheduler):
    """Shared by CyclicLR and OneCycleLR: move momentum (or beta1) opposite to the lr."""

    def _setup_momentum(self, optimizer: Optimizer, cycle_momentum: bool, base_momentum, max_momentum,
                        last_epoch: int) -> None:
        self.cycle_momentum = cycle_momentum
        if not cycle_momentum:
            return
        self._momentum_key = _momentum_key(optimizer, type(self).__name__)
        self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
        self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        if last_epoch == -1:
            for group, low, high in zip(optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self._momentum_key, high)
                group["max_momentum"], group["base_momentum"] = high, low

    def _write_momenta(self, momenta: list) -> None:
        for group, value in zip(self.optimizer.param_groups, momenta):
            _set_momentum(group, self._momentum_key, value)

    def get_last_momentum(self) -> list[float]:
        """Each group's current momentum (beta1 for Adam-like optimisers)."""
        key = getattr(self, "_momentum_key", None) or _momentum_key(self.optimizer, type(self).__name__)
        return [g["betas"][0] if key == "betas" else g["momentum"] for g in self.optimizer.param_groups]


class CyclicLR(_MomentumCycler):
    r"""Cyclical learning rates (Smith 2017; seed 004 §6.1.2) — ``torch.optim.lr_scheduler.CyclicLR``.

    The lr goes linearly from ``base_lr`` up to ``max_lr`` in ``step_size_up`` steps and back in
    ``step_size_down``; a cycle is both. With cycle c = ⌊1 + t/(up + down)⌋ and position
    x = 1 + t/(up + down) - c::

        s = x / r            if x ≤ r = up/(up + down),   else (x - 1)/(r - 1)
        η_t = base_lr + (max_lr - base_lr) · s · scale
        scale = 1 ('triangular'), 1/2^(c-1) ('triangular2'), γ^t ('exp_range'), or scale_fn

    With ``cycle_momentum`` the momentum (beta1 for Adam) moves the opposite way, from
    ``max_momentum`` down to ``base_momentum``. The notes suggest step sizes of 2-10 epochs of
    batches and base_lr = max_lr/3 or /4; call ``step()`` after every batch.
    """

    _unsaved = ("optimizer", "scale_fn")

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable | None = None, scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1):
        _check_optimizer(optimizer)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"mode must be 'triangular', 'triangular2' or 'exp_range' or scale_fn given, got {mode!r}")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        for name, value in (("step_size_up", step_size_up), ("step_size_down", step_size_down)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = group["initial_lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size, self.step_ratio = up + down, up / (up + down)
        self.mode, self.gamma, self.scale_fn = mode, gamma, scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self._setup_momentum(optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _scale(self, x: float) -> float:
        if self.scale_fn is not None:
            return self.scale_fn(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        if self.mode == "exp_range":
            return self.gamma**x
        return 1.0

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle if self.scale_mode == "cycle" else self.last_epoch)
        if self.cycle_momentum:
            self._write_momenta([high - (high - low) * height * scale
                                 for low, high in zip(self.base_momentums, self.max_momentums)])
        return [base + (top - base) * height * scale for base, top in zip(self.base_lrs, self.max_lrs)]


class OneCycleLR(_MomentumCycler):
    r"""The 1cycle policy (Smith & Topin 2018; seed 004 §6.1.2) — ``torch.optim.lr_scheduler.OneCycleLR``.

    One cycle over ``total_steps`` (or ``epochs * steps_per_epoch``) batches: the lr anneals from
    max_lr/div_factor up to max_lr during the first ``pct_start`` of the steps, then down to
    max_lr/(div_factor·final_div_factor); the momentum does the opposite between
    ``max_momentum`` and ``base_momentum``. Annealing between a and b at fraction p is
    b + (a - b)(1 + cos πp)/2 ('cos') or a + (b - a)p ('linear'). ``three_phase`` mirrors the
    warm-up before a final annihilation phase.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.total_steps = self._total_steps(total_steps, epochs, steps_per_epoch)
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        warm = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        # each phase: (end step, start lr key, end lr key, start momentum key, end momentum key)
        if three_phase:
            self._phases = [(warm, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (2 * warm, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                            (last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [(warm, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (last, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, _per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self._setup_momentum(optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _total_steps(total_steps, epochs, steps_per_epoch) -> int:
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"total_steps must be a positive int, got {total_steps!r}")
            return total_steps
        if epochs is None or steps_per_epoch is None:
            raise ValueError("give either total_steps or both epochs and steps_per_epoch")
        for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        return epochs * steps_per_epoch

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR stepped {t} times, but total_steps is {self.total_steps}")
        lrs, momenta = [], []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr_a, lr_b, mom_a, mom_b) in enumerate(self._phases):
                if t <= end_step or i == len(self._phases) - 1:
                    pct = (t - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr_a], group[lr_b], pct))
                    if self.cycle_momentum:
                        momenta.append(self._anneal(group[mom_a], group[mom_b], pct))
                    break
                start_step = end_step
        if self.cycle_momentum:
            self._write_momenta(momenta)
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has stopped improving for ``patience`` steps.

    ``step(metric)`` after each validation. "Improving" means below best·(1 - threshold)
    ('min', 'rel'), below best - threshold ('min', 'abs'), or the mirrored tests for 'max'.
    After a reduction, ``cooldown`` steps pass before bad steps are counted again; the lr never
    goes below ``min_lr`` and changes smaller than ``eps`` are skipped.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0.0,
                 eps: float = 1e-8):
        _check_optimizer(optimizer)
        if not factor < 1.0:
            raise ValueError(f"factor must be < 1, got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience, self.cooldown, self.eps = mode, factor, patience, cooldown, eps
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def _is_better(self, value: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            return sign * value < sign * self.best * (1.0 - sign * self.threshold)
        return sign * value < sign * self.best - self.threshold

    def step(self, metrics) -> None:
        """Record one value of the monitored metric and reduce the lr if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(float(group["lr"]) * self.factor, min_lr)
                if float(group["lr"]) - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()


class _FactorSchedule(LRScheduler):
    """η_t = η₀ · factor(t)."""

    def factor(self, t: int) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]


class LinearWarmupDecay(_FactorSchedule):
    r"""BERT's schedule (seed 004 §5.2.6.3): linear warm-up, then linear decay to 0.

    With ws = warmup_steps and ts = total_steps, at step t (t = 1 after the first ``step()``)::

        η_t = η · t / ws                         t < ws
        η_t = η · max(0, (ts - t) / (ts - ws))   t ≥ ws
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int, last_epoch: int = -1):
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an int >= 0, got {warmup_steps!r}")
        if not isinstance(total_steps, int) or total_steps <= warmup_steps:
            raise ValueError(f"total_steps must be an int > warmup_steps ({warmup_steps}), got {total_steps!r}")
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        super().__init__(optimizer, last_epoch)

    def factor(self, t: int) -> float:
        if t < self.warmup_steps:
            return t / self.warmup_steps
        return max(0.0, (self.total_steps - t) / (self.total_steps - self.warmup_steps))


class InverseSqrtWarmup(_FactorSchedule):
    r"""The Transformer's schedule (seed 004 §5.2.6.3): linear warm-up, then decay as 1/√t.

    With ws = warmup_steps, at step t (t = 1 after the first ``step()``)::

        η_t = η · t / ws        t < ws
        η_t = η · √(ws / t)     t ≥ ws
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, last_epoch: int = -1):
        if not isinstance(warmup_steps, int) or warmup_steps < 1:
            raise ValueError(f"warmup_steps must be an int >= 1, got {warmup_steps!r}")
        self.warmup_steps = warmup_steps
        super().__init__(optimizer, last_epoch)

    def factor(self, t: int) -> float:
        if t < self.warmup_steps:
            return t / self.warmup_steps
        return math.sqrt(self.warmup_steps / t)


class MomentumSchedule(_Stateful):
    """Set each group's momentum (beta1 for Adam-like optimisers) to ``fn(t)`` at step t.

    Seed 000 §3.1.1: like the learning rate, the momentum α can be adapted during training,
    usually starting small and growing (e.g. ``fn=lambda t: min(0.99, 0.5 + 0.01 * t)``).
    ``fn`` may be one function or one per group; t = 0 on creation and grows by one per ``step()``.
    """

    _unsaved = ("optimizer", "fns")

    def __init__(self, optimizer: Optimizer, fn: Callable | list[Callable], last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        self.fns = _per_group("fn", optimizer, fn)
        for f in self.fns:
            if not callable(f):
                raise TypeError(f"fn must be callable, got {type(f).__name__}")
        self._key = _momentum_key(optimizer, "MomentumSchedule")
        self.last_epoch = last_epoch
        self.step()

    def step(self) -> None:
        """Advance one step and set each group's momentum to fn(t)."""
        self.last_epoch += 1
        for group, f in zip(self.optimizer.param_groups, self.fns):
            _set_momentum(group, self._key, f(self.last_epoch))

    def get_last_momentum(self) -> list[float]:
        """Each group's current momentum (beta1 for Adam-like optimisers)."""
        return [g["betas"][0] if self._key == "betas" else g["momentum"] for g in self.optimizer.param_groups]


class _Composite(_Stateful):
    """A schedule made of other schedules; its state is theirs, one state dict each."""

    def __init__(self, schedulers, optimizer: Optimizer | None):
        self._schedulers = list(schedulers)
        if not self._schedulers:
            raise ValueError(f"{type(self).__name__}: schedulers must hold at least one schedule")
        self.optimizer = optimizer if optimizer is not None else self._schedulers[0].optimizer
        for i, scheduler in enumerate(self._schedulers):
            if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
                raise TypeError(f"{type(self).__name__}: schedulers[{i}] must be an LRScheduler other than "
                                f"ReduceLROnPlateau, got {type(scheduler).__name__}")
            if scheduler.optimizer is not self.optimizer:
                raise ValueError(f"{type(self).__name__}: schedulers[{i}] drives a different optimizer")

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        own = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        return {**own, "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(nested_state(state_dict))
        for scheduler, state in zip(self._schedulers, state_dict.pop("_schedulers")):
            scheduler.load_state_dict(state)
        super().load_state_dict(state_dict)


class SequentialLR(_Composite):
    """One schedule after another: ``schedulers[i]`` runs from ``milestones[i-1]`` to ``milestones[i]``
    (PyTorch's ``SequentialLR``), e.g. a linear warm-up then a cosine decay (seed 004 §5.2.6.3).

    Each schedule starts afresh at its milestone: the groups' lr returns to its base value and the
    schedule's step t counts from 0.

    >>> import shenjing as sj
    >>> opt = sj.optim.SGD([sj.nn.Parameter(sj.zeros(1))], lr=1.0)
    >>> warm, decay = LinearLR(opt, start_factor=0.5, total_iters=2), ExponentialLR(opt, gamma=0.5)
    >>> schedule, lrs = SequentialLR(opt, [warm, decay], milestones=[2]), []
    >>> for _ in range(4):
    ...     lrs.append(schedule.get_last_lr()[0]); schedule.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5]
    """

    def __init__(self, optimizer: Optimizer, schedulers, milestones, last_epoch: int = -1):
        super().__init__(schedulers, optimizer)
        milestones = list(milestones)
        if len(milestones) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(self._schedulers) - 1} milestones for "
                             f"{len(self._schedulers)} schedulers, got {len(milestones)}")
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self._restart(self._schedulers[0])

    def _restart(self, scheduler: LRScheduler) -> None:
        for group, lr in zip(self.optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = lr
        scheduler.last_epoch, scheduler._step_count = -1, 0
        scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            self._restart(scheduler)
        else:
            scheduler.step()
            self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Several schedules at once: each ``step()`` steps every one of them in order, so multiplicative
    schedules compose (PyTorch's ``ChainedScheduler``)."""

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        super().__init__(schedulers, optimizer)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
