"""Per-parameter adaptive learning rates: AdaGrad, AdaDelta, RMSprop (seed 000 §3.2, 003 §4.3.2, 004 §5.2.3-5.2.5)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .optimizer import Optimizer, count_step, in_chunks, with_weight_decay

__all__ = ["Adagrad", "Adadelta", "RMSprop"]


def _accumulate_square(avg, grad, decay: float, scratch):
    """avg ← decay·avg + (1 - decay)·g⊙g, using ``scratch`` for g⊙g."""
    np.multiply(grad, grad, out=scratch)
    scratch *= 1.0 - decay
    avg *= decay
    avg += scratch


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi et al. 2011; seed 000 §3.2.1, 003 §4.3.2, 004 §5.2.3) — ``torch.optim.Adagrad``.

    Each parameter's step shrinks with the root of its summed squared gradients::

        g_t ← g_t + λ θ_{t-1}
        η_t = η / (1 + (t - 1)·lr_decay)
        r_t = r_{t-1} + g_t ⊙ g_t                  (r_0 = initial_accumulator_value)
        θ_t = θ_{t-1} - η_t g_t / (√r_t + ε)

    004's code divides by ``learning_rate + epsilon`` without the square root (a typo: its
    own formula and the published algorithm take √r); this class takes the root.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.Adagrad([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.7804562, -1.7758214])
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _update(self, param, grad, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        grad = with_weight_decay(grad, param, float(group["weight_decay"]))
        clr = float(group["lr"]) / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))
        for p, g, total, s in in_chunks(param, grad, state["sum"]):
            np.multiply(g, g, out=s)
            total += s
            np.sqrt(total, out=s)
            s += float(group["eps"])
            np.divide(g, s, out=s)
            s *= clr
            p -= s


class Adadelta(Optimizer):
    r"""AdaDelta (Zeiler 2012; seed 000 §3.2.3) — ``torch.optim.Adadelta``.

    ::

        g_t ← g_t + λ θ_{t-1}
        r_t = ρ r_{t-1} + (1 - ρ) g_t ⊙ g_t
        Δθ_t = √(s_{t-1} + ε) / √(r_t + ε) ⊙ g_t
        s_t = ρ s_{t-1} + (1 - ρ) Δθ_t ⊙ Δθ_t
        θ_t = θ_{t-1} - η Δθ_t                      (η = 1 in the paper)

    000's update omits the factor ⊙g (a typo; the published algorithm multiplies by g).
    004 §5.2.4's "AdaDelta" formula is RMSprop: use ``RMSprop`` for it.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.Adadelta([w], lr=1.0)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.99030906, -1.9903008 ])
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        self._check(0.0 <= group["rho"] <= 1.0, "rho", "in [0, 1]", group["rho"])

    def _update(self, param, grad, state: dict, group: dict) -> None:
        count_step(state, param, "square_avg", "acc_delta")
        rho, eps = float(group["rho"]), float(group["eps"])
        grad = with_weight_decay(grad, param, float(group["weight_decay"]))
        arrays = (grad, state["square_avg"], state["acc_delta"], np.empty_like(param))
        for p, g, square_avg, acc_delta, delta, s in in_chunks(param, *arrays):
            _accumulate_square(square_avg, g, rho, s)
            np.add(acc_delta, eps, out=delta)
            np.sqrt(delta, out=delta)
            np.add(square_avg, eps, out=s)
            np.sqrt(s, out=s)
            delta /= s
            delta *= g
            _accumulate_square(acc_delta, delta, rho, s)
            delta *= float(group["lr"])
            p -= delta


class RMSprop(Optimizer):
    r"""RMSprop (Hinton 2012; seed 000 §3.2.2, 002, 003 §4.3.2, 004 §5.2.5) — ``torch.optim.RMSprop``.

    ::

        g_t ← g_t + λ θ_{t-1}
        r_t = α r_{t-1} + (1 - α) g_t ⊙ g_t
        m_t = α m_{t-1} + (1 - α) g_t,  r̃_t = r_t - m_t ⊙ m_t      if centered, else r̃_t = r_t
        u_t = g_t / (√r̃_t + ε)
        b_t = μ b_{t-1} + u_t;  θ_t = θ_{t-1} - η b_t              if momentum μ > 0
        θ_t = θ_{t-1} - η (u_t + μ b_t)                            if also nesterov
        θ_t = θ_{t-1} - η u_t                                      otherwise

    ``nesterov=True`` is 000 §3.2.2's RMSProp with Nesterov momentum (Goodfellow et al.
    Algorithm 8.6), rewritten like NAG in ``SGD`` so the gradient is taken at the current
    parameters. 004 §5.2.5 writes the special case α = 0.5; its §5.2.4 "AdaDelta" formula is
    this algorithm too.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.RMSprop([w], lr=0.01, centered=True)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.77806836, -1.7733353 ])
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 nesterov: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "alpha", "eps", "weight_decay", "momentum")
        if group["nesterov"]:
            self._check(group["momentum"] > 0, "nesterov", "used with momentum > 0",
                        f"nesterov=True with momentum={group['momentum']}")

    def _update(self, param, grad, state: dict, group: dict) -> None:
        momentum, alpha, centered = float(group["momentum"]), float(group["alpha"]), group["centered"]
        count_step(state, param, "square_avg", *(("grad_avg",) if centered else ()))
        if momentum > 0 and state.get("momentum_buffer") is None:
            state["momentum_buffer"] = np.zeros_like(param)
        grad = with_weight_decay(grad, param, float(group["weight_decay"]))
        names = ("square_avg",) + (("grad_avg",) if centered else ()) + (("momentum_buffer",) if momentum > 0 else ())
        for p, g, *buffers, s in in_chunks(param, grad, *(state[name] for name in names)):
            chunk = dict(zip(names, buffers))
            _accumulate_square(chunk["square_avg"], g, alpha, s)
            if centered:
                grad_avg = chunk["grad_avg"]
                np.subtract(g, grad_avg, out=s)
                s *= 1.0 - alpha
                grad_avg += s
                np.multiply(grad_avg, grad_avg, out=s)
                np.subtract(chunk["square_avg"], s, out=s)
                np.sqrt(s, out=s)
            else:
                np.sqrt(chunk["square_avg"], out=s)
            s += float(group["eps"])
            np.divide(g, s, out=s)
            if momentum > 0:
                buf = chunk["momentum_buffer"]
                buf *= momentum
                buf += s
                if group["nesterov"]:
                    s += momentum * buf
                else:
                    s[...] = buf
            s *= float(group["lr"])
            p -= s
