"""Stochastic gradient descent with momentum and Nesterov momentum (seed 000 §3.1, 001, 002, 004 §5.2)."""

from __future__ import annotations

from collections.abc import Iterable

from .optimizer import Optimizer, with_weight_decay

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Gradient descent, plain or with (Nesterov) momentum — PyTorch's ``torch.optim.SGD``.

    With g_t the gradient of the current batch (the whole set for BGD, one sample for SGD,
    a mini-batch for MBGD: seed 004 §5.2.1), weight decay λ, momentum μ, dampening τ::

        g_t ← g_t + λ θ_{t-1}                           (L2 penalty ½λ‖θ‖², seed 003 §4.3.2)
        b_t ← g_t                          if t = 1
        b_t ← μ b_{t-1} + (1 - τ) g_t      otherwise
        g_t ← g_t + μ b_t                  if nesterov  (NAG, seed 000 §3.1.2)
        g_t ← b_t                          otherwise
        θ_t ← θ_{t-1} - η g_t

    This is the notes' momentum ``v ← α v - ε g; θ ← θ + v`` (seed 000 §3.1.1) with
    v = -η b, α = μ, ε = η; under a constant gradient the velocity tends to the terminal
    velocity -ε g / (1 - α). Where a note writes momentum as an average
    ``m = β m + (1 - β) g`` (seed 002 "SGD-M", 004 §5.2.2), that is
    ``SGD(momentum=β, dampening=β)`` (up to the first step, where PyTorch's buffer starts
    at g rather than (1 - β) g).

    Nesterov's look-ahead gradient ∇L(θ + α v) is rewritten, as in PyTorch and Sutskever
    et al. (2013), in the variable θ' = θ + α v, so that the gradient is taken at the
    current parameters.

    >>> import shenjing as sj
    >>> w = sj.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = sj.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...
    >>> w.detach()
    tensor([-0.10835198,  0.21670395])
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"]:
            self._check(group["momentum"] > 0 and group["dampening"] == 0, "nesterov",
                        "used with momentum > 0 and dampening = 0",
                        f"nesterov=True with momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param, grad, state: dict, group: dict) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        grad = with_weight_decay(grad, param, float(group["weight_decay"]))
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                dampening = float(group["dampening"])
                buf += grad if dampening == 0 else (1.0 - dampening) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad
