"""Adam and its relatives: Adam (AMSGrad, AdamL, uncorrected), AdamW, Adamax, NAdam, SWATS.

Seeds 000 §3.2.4, 002 "Adam", 003 §4.3.2, 004 §5.1.2 and §5.2.6.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from .. import _backend as B
from ..tensor import no_grad
from .optimizer import Optimizer, count_step, in_chunks, nested_state, with_weight_decay

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "SWATS"]


def _lerp_(avg, grad, weight: float, scratch) -> None:
    """avg ← avg + w·(g - avg), i.e. the moving average β·avg + (1 - β)·g with w = 1 - β (seed 004 §5.1.2)."""
    np.subtract(grad, avg, out=scratch)
    scratch *= weight
    avg += scratch


def _update_moments(exp_avg, exp_avg_sq, grad, beta1: float, beta2: float, scratch) -> None:
    """m ← β₁m + (1 - β₁)g and v ← β₂v + (1 - β₂)g², in place (seed 000 §3.2.4)."""
    _lerp_(exp_avg, grad, 1.0 - beta1, scratch)
    np.multiply(grad, grad, out=scratch)
    scratch *= 1.0 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch


def _decay_weights(param, grad, group: dict):
    """Apply the group's weight decay: decoupled (θ ← θ(1 - ηλ), AdamW) or as L2 in the gradient (AdamL)."""
    weight_decay = float(group["weight_decay"])
    if weight_decay != 0 and group.get("decoupled_weight_decay", False):
        param *= 1.0 - float(group["lr"]) * weight_decay
        return grad
    return with_weight_decay(grad, param, weight_decay)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2014; seed 000 §3.2.4, 004 §5.2.6) — ``torch.optim.Adam``.

    ::

        g_t ← g_t + λ θ_{t-1}                       (L2 in the gradient: the notes' "AdamL")
        θ_{t-1} ← θ_{t-1}(1 - ηλ)                    instead, if decoupled_weight_decay (AdamW)
        m_t = β₁ m_{t-1} + (1 - β₁) g_t              (first moment, an exponential average)
        v_t = β₂ v_{t-1} + (1 - β₂) g_t ⊙ g_t        (second moment)
        v̂max_t = max(v̂max_{t-1}, v_t)                 if amsgrad: v_t is replaced by v̂max_t below
        θ_t = θ_{t-1} - η/(1 - β₁ᵗ) · m_t / (√v_t / √(1 - β₂ᵗ) + ε)

    The factors 1/(1 - βᵗ) are the bias correction of seed 004 §5.1.2.
    ``bias_correction=False`` gives the notes' uncorrected form (seed 002 "Adam"):
    θ_t = θ_{t-1} - η m_t / (√v_t + ε).

    AMSGrad follows PyTorch: the running maximum of v is used only in the denominator, while
    002 feeds the maximum back into the average (v_t = max(β₂ v_{t-1} + (1-β₂) g², v_{t-1})).
    004 §5.2.6.1's code line updates with the raw gradient and no square root (a typo); its
    formula, implemented here, uses m̂_t / (√v̂_t + ε).

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.Adam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.7015863, -1.7006234])
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False, bias_correction: bool = True):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                        bias_correction=bias_correction)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        self._check_betas(group)

    def _update(self, param, grad, state: dict, group: dict) -> None:
        buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        step, (beta1, beta2) = count_step(state, param, *buffers), map(float, group["betas"])
        grad = _decay_weights(param, grad, group)
        if B.xp_of(param) is not np and not group["amsgrad"]:
            _fused_adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"], step, beta1, beta2, group)
            return
        step_size, bias_sqrt = float(group["lr"]), 1.0
        if group.get("bias_correction", True):
            step_size /= 1.0 - beta1**step
            bias_sqrt = math.sqrt(1.0 - beta2**step)
        for p, g, exp_avg, exp_avg_sq, *max_exp_avg_sq, s in in_chunks(param, grad, *(state[b] for b in buffers)):
            _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2, s)
            if max_exp_avg_sq:
                np.maximum(max_exp_avg_sq[0], exp_avg_sq, out=max_exp_avg_sq[0])
                exp_avg_sq = max_exp_avg_sq[0]
            np.sqrt(exp_avg_sq, out=s)
            if bias_sqrt != 1.0:
                s /= bias_sqrt
            s += float(group["eps"])
            np.divide(exp_avg, s, out=s)
            s *= step_size
            p -= s


def _fused_adam_step(param, grad, exp_avg, exp_avg_sq, step: int, beta1: float, beta2: float, group: dict) -> None:
    """The same Adam update as one GPU kernel per parameter (instead of about a dozen launches)."""
    corrected = group.get("bias_correction", True)
    step_size = float(group["lr"]) / (1.0 - beta1**step if corrected else 1.0)
    bias_sqrt = math.sqrt(1.0 - beta2**step) if corrected else 1.0
    kernel = B.fused_kernel(
        "shenjing_adam",
        "T g, float64 b1, float64 b2, float64 step_size, float64 bias_sqrt, float64 eps",
        "T p, T m, T v",
        "m = m + (T)(1.0 - b1) * (g - m); v = (T)b2 * v + (T)(1.0 - b2) * g * g;"
        "p -= (T)step_size * m / (sqrt(v) / (T)bias_sqrt + (T)eps)",
    )
    kernel(grad, beta1, beta2, step_size, bias_sqrt, float(group["eps"]), param, exp_avg, exp_avg_sq)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019; seed 004 §5.2.6.2-5.2.6.3) — ``torch.optim.AdamW``.

    The decay skips the moments and shrinks the weights directly, θ ← θ(1 - ηλ), before
    the Adam step of ``Adam``; the notes' "AdamL" is ``Adam(weight_decay=λ)``. BERT's
    recipe puts biases and norm weights in a group with ``weight_decay=0``
    (``nn.utils.param_groups_no_decay``).

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.AdamW([w], lr=0.1, weight_decay=0.01)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.69891125, -1.6949446 ])
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, bias_correction: bool = True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, bias_correction=bias_correction)


class Adamax(Optimizer):
    r"""AdaMax (Kingma & Ba 2014 §7; seed 000 §3.2.4) — ``torch.optim.Adamax``.

    Adam with the second moment replaced by an exponentially decayed maximum::

        g_t ← g_t + λ θ_{t-1}
        m_t = β₁ m_{t-1} + (1 - β₁) g_t
        u_t = max(β₂ u_{t-1}, |g_t| + ε)
        θ_t = θ_{t-1} - η/(1 - β₁ᵗ) · m_t / u_t

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.Adamax([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.7154994, -1.7076483])
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    _validate = Adam._validate

    def _update(self, param, grad, state: dict, group: dict) -> None:
        count_step(state, param, "exp_avg", "exp_inf")
        beta1, beta2 = map(float, group["betas"])
        grad = with_weight_decay(grad, param, float(group["weight_decay"]))
        step_size = float(group["lr"]) / (1.0 - beta1 ** state["step"])
        for p, g, exp_avg, exp_inf, s in in_chunks(param, grad, state["exp_avg"], state["exp_inf"]):
            _lerp_(exp_avg, g, 1.0 - beta1, s)
            np.abs(g, out=s)
            s += float(group["eps"])
            exp_inf *= beta2
            np.maximum(exp_inf, s, out=exp_inf)
            np.divide(exp_avg, exp_inf, out=s)
            s *= step_size
            p -= s


class NAdam(Optimizer):
    r"""Nesterov-accelerated Adam (Dozat 2016; seed 000 §3.2.4) — ``torch.optim.NAdam``.

    With the momentum schedule μ_t = β₁(1 - ½·0.96^{tψ}) (ψ = momentum_decay)::

        g_t ← g_t + λ θ_{t-1}     (or θ_{t-1} ← θ_{t-1}(1 - ηλ) if decoupled_weight_decay)
        m_t = β₁ m_{t-1} + (1 - β₁) g_t
        v_t = β₂ v_{t-1} + (1 - β₂) g_t ⊙ g_t
        d_t = √(v_t / (1 - β₂ᵗ)) + ε
        θ_t = θ_{t-1} - η(1 - μ_t)/(1 - Π_{i≤t} μ_i) · g_t/d_t - η μ_{t+1}/(1 - Π_{i≤t+1} μ_i) · m_t/d_t

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.NAdam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.75272924, -1.7475085 ])
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay", "momentum_decay")
        self._check_betas(group)

    def _update(self, param, grad, state: dict, group: dict) -> None:
        step, lr = count_step(state, param, "exp_avg", "exp_avg_sq", mu_product=1.0), float(group["lr"])
        beta1, beta2 = map(float, group["betas"])
        psi = float(group["momentum_decay"])
        grad = _decay_weights(param, grad, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        arrays = (grad, state["exp_avg"], state["exp_avg_sq"], np.empty_like(param))
        for p, g, exp_avg, exp_avg_sq, update, s in in_chunks(param, *arrays):
            _update_moments(exp_avg, exp_avg_sq, g, beta1, beta2, s)
            np.divide(exp_avg_sq, 1.0 - beta2**step, out=s)
            np.sqrt(s, out=s)
            s += float(group["eps"])
            np.divide(g, s, out=update)
            update *= lr * (1.0 - mu) / (1.0 - mu_product)
            p -= update
            np.divide(exp_avg, s, out=update)
            update *= lr * mu_next / (1.0 - mu_product * mu_next)
            p -= update


class SWATS(Optimizer):
    r"""SWitching from Adam To SGD (Keskar & Socher 2017, arXiv:1712.07628; seed 002 "Adam").

    Adam steps p_t = -η √(1 - β₂ᵗ)/(1 - β₁ᵗ) · m_t/(√v_t + ε) until the learning rate that
    SGD would need to take the projection of that step settles::

        γ_t = p_tᵀp_t / (-p_tᵀg_t)                  (over all parameters)
        λ_t = β₂ λ_{t-1} + (1 - β₂) γ_t,   Λ_t = λ_t / (1 - β₂ᵗ)
        switch when t > 1, Λ_t > 0 and |Λ_t - γ_t| < switch_tol

    after which every step is SGD with momentum at the rate Λ::

        v_t = β₁ v_{t-1} + g_t,   θ_t = θ_{t-1} - (1 - β₁) Λ v_t

    ``optimizer.switched`` tells whether the switch happened and ``optimizer.sgd_lr`` is Λ.
    ``weight_decay`` adds λθ to the gradient in both phases.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.SWATS([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([ 0.70158637, -1.7006234 ])
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, switch_tol: float = 1e-9):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))
        if not switch_tol > 0:
            raise ValueError(f"SWATS: switch_tol must be > 0, got {switch_tol!r}")
        self.switch_tol = float(switch_tol)
        self.switched = False
        self.sgd_lr = 0.0
        self._projected = 0.0
        self._steps = 0

    _validate = Adam._validate

    def step(self, closure: Callable | None = None):
        """One Adam step (checking whether to switch) or, once switched, one SGD step."""
        loss = self._evaluate(closure)
        with no_grad():
            if self.switched:
                self._sgd_step()
            else:
                self._adam_step()
        return loss

    def _with_grads(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield p, with_weight_decay(p.grad.data, p.data, float(group["weight_decay"])), group

    def _adam_step(self) -> None:
        self._steps += 1
        p_dot_p, p_dot_g = 0.0, 0.0
        for p, grad, group in self._with_grads():
            state = self.state[p]
            if not state:
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
            beta1, beta2 = map(float, group["betas"])
            scratch = np.empty_like(p.data)
            _update_moments(state["exp_avg"], state["exp_avg_sq"], grad, beta1, beta2, scratch)
            np.sqrt(state["exp_avg_sq"], out=scratch)
            scratch += float(group["eps"])
            np.divide(state["exp_avg"], scratch, out=scratch)
            scratch *= -float(group["lr"]) * math.sqrt(1.0 - beta2**self._steps) / (1.0 - beta1**self._steps)
            p.data += scratch
            p_dot_p += float(np.vdot(scratch, scratch))
            p_dot_g += float(np.vdot(scratch, grad))
        if p_dot_g != 0:
            beta2 = float(self.param_groups[0]["betas"][1])
            gamma = p_dot_p / -p_dot_g
            self._projected = beta2 * self._projected + (1.0 - beta2) * gamma
            rate = self._projected / (1.0 - beta2**self._steps)
            if self._steps > 1 and rate > 0 and abs(rate - gamma) < self.switch_tol:
                self.switched, self.sgd_lr = True, rate

    def _sgd_step(self) -> None:
        for p, grad, group in self._with_grads():
            state = self.state[p]
            beta1 = float(group["betas"][0])
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.zeros_like(p.data)
            buf *= beta1
            buf += grad
            p.data -= ((1.0 - beta1) * self.sgd_lr) * buf

    def state_dict(self) -> dict:
        """``Optimizer.state_dict()`` plus ``'swats'``: the switch flag, Λ and the running λ."""
        state = super().state_dict()
        state["swats"] = dict(switched=self.switched, sgd_lr=self.sgd_lr, projected=self._projected,
                              steps=self._steps)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = nested_state(state_dict)
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "swats"})
        saved = {k: float(np.asarray(v)) for k, v in state_dict["swats"].items()}
        self.switched, self.sgd_lr = bool(saved["switched"]), saved["sgd_lr"]
        self._projected, self._steps = saved["projected"], int(saved["steps"])
