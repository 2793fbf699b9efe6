"""Adversarial examples and adversarial training (seed 004 §7 对抗训练: FGSM, FGM, PGD).

Training on inputs moved a small step in the direction that raises the loss most,
min_θ −log P(y | x + r_adv; θ), makes a model robust to such perturbations. The
attacks here differentiate the loss with respect to the input only (``autograd.grad``):
the parameters' ``.grad`` are not touched and the model's train/eval mode is left as it is.
"""

from __future__ import annotations

from .. import _backend as B
from ..autograd import grad
from ..tensor import Tensor
from .callbacks import Callback

__all__ = ["input_gradient", "fgsm", "fgm", "pgd", "AdversarialTraining"]


def _array(x):
    data = x.data if isinstance(x, Tensor) else B.asarray(x)
    if data.dtype.kind != "f":
        raise TypeError(f"adversarial attacks need floating-point inputs, got dtype {data.dtype}")
    return data


def _check_eps(eps, name: str = "eps") -> float:
    if not (isinstance(eps, (int, float)) and eps >= 0):
        raise ValueError(f"{name} must be a non-negative number, got {eps!r}")
    return float(eps)


def input_gradient(model, loss_fn, x, y):
    """∇_x L(f(x), y) as a raw array of x's shape and dtype.

    >>> import shenjing as sj
    >>> from shenjing import nn
    >>> from shenjing.train.adversarial import input_gradient
    >>> model = nn.Linear(4, 2)
    >>> input_gradient(model, nn.CrossEntropyLoss(), sj.randn(3, 4), sj.tensor([0, 1, 1])).shape
    (3, 4)
    """
    xr = Tensor(_array(x), requires_grad=True)
    (g,) = grad(loss_fn(model(xr), y), [xr])
    return g.data


def _per_sample_l2(g):
    xp = B.xp_of(g)
    norm = xp.sqrt((g * g).reshape(g.shape[0], -1).sum(axis=1))
    norm = xp.where(norm > 0, norm, 1)
    return norm.reshape((-1,) + (1,) * (g.ndim - 1))


def _clamp(x, clip):
    return x if clip is None else B.xp_of(x).clip(x, clip[0], clip[1])


def fgsm(model, loss_fn, x, y, eps: float, clip: tuple | None = None) -> Tensor:
    """Fast Gradient Sign Method: x_adv = x + ε·sgn(∇_x L(f(x), y)) (seed 004 §7, CV).

    The notes write the gradient with respect to θ; the method (Goodfellow et al. 2015)
    takes it with respect to the input x, as here. ``x`` (N, ...) array or Tensor;
    ``clip=(low, high)`` optionally clamps the result to the valid input range. Returns a
    detached Tensor of x's shape and dtype; without ``clip`` every entry moves by exactly ±ε
    (or 0 where the gradient is 0).

    >>> import shenjing as sj
    >>> from shenjing import nn
    >>> from shenjing.train.adversarial import fgsm
    >>> sj.manual_seed(0)
    >>> model = nn.Linear(4, 2)
    >>> x, y = sj.randn(3, 4), sj.tensor([0, 1, 1])
    >>> x_adv = fgsm(model, nn.CrossEntropyLoss(), x, y, eps=0.1)
    >>> round(float((x_adv - x).abs().max()), 4)
    0.1
    """
    eps = _check_eps(eps)
    data = _array(x)
    g = input_gradient(model, loss_fn, data, y)
    return Tensor._wrap(_clamp(data + eps * B.xp_of(g).sign(g), clip))


def fgm(model, loss_fn, x, y, eps: float) -> Tensor:
    """Fast Gradient Method on continuous inputs such as embeddings (seed 004 §7, NLP; Miyato et al. 2017):
    r_adv = ε·g/‖g‖₂ with g = ∇_x L(f(x), y) = −∇_x log p(y | x), normalised per sample.

    The notes write r = −ε·g/‖g‖ with g = −∇ log p, a double negative that would lower the
    loss; the published method raises it, as here. Returns the detached Tensor x + r_adv.

    >>> import shenjing as sj
    >>> from shenjing import nn
    >>> from shenjing.train.adversarial import fgm
    >>> sj.manual_seed(0)
    >>> model = nn.Linear(4, 2)
    >>> x, y = sj.randn(3, 4), sj.tensor([0, 1, 1])
    >>> r = (fgm(model, nn.CrossEntropyLoss(), x, y, eps=0.5) - x).numpy()
    >>> [round(float(v), 4) for v in (r ** 2).sum(axis=1) ** 0.5]
    [0.5, 0.5, 0.5]
    """
    eps = _check_eps(eps)
    data = _array(x)
    g = input_gradient(model, loss_fn, data, y)
    return Tensor._wrap(data + eps * g / _per_sample_l2(g))


def pgd(model, loss_fn, x, y, eps: float, alpha: float | None = None, steps: int = 10, random_start: bool = False,
        norm: str = "inf", clip: tuple | None = None) -> Tensor:
    """Projected Gradient Descent (Madry et al. 2018; seed 004 §7: small steps, many steps).

    x⁰ = x (or x + U(−ε, ε) with ``random_start``); x^{t+1} = Π_{B(x, ε)}(x^t + α·d^t) with
    d = sgn(∇L) for ``norm='inf'`` or ∇L/‖∇L‖₂ per sample for ``norm='l2'``; Π projects back
    onto the ε-ball around x (clipping each entry to [x−ε, x+ε], or rescaling the per-sample L2
    norm to ε), then ``clip`` clamps to the valid input range. ``alpha`` defaults to 2.5·ε/steps.
    Returns a detached Tensor.

    >>> import shenjing as sj
    >>> from shenjing import nn
    >>> from shenjing.train.adversarial import pgd
    >>> sj.manual_seed(0)
    >>> model = nn.Linear(4, 2)
    >>> x, y = sj.randn(3, 4), sj.tensor([0, 1, 1])
    >>> x_adv = pgd(model, nn.CrossEntropyLoss(), x, y, eps=0.1, steps=5)
    >>> float((x_adv - x).abs().max()) <= 0.1 + 1e-6
    True
    """
    eps = _check_eps(eps)
    if norm not in ("inf", "l2"):
        raise ValueError(f"pgd: norm must be 'inf' or 'l2', got {norm!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"pgd: steps must be a positive integer, got {steps!r}")
    alpha = 2.5 * eps / steps if alpha is None else _check_eps(alpha, "alpha")
    data = _array(x)
    xp = B.xp_of(data)
    adv = data
    if random_start:
        noise = B.rng(B.device_of(data)).uniform(-eps, eps, data.shape)
        adv = _clamp(data + xp.asarray(noise).astype(data.dtype), clip)
    for _ in range(steps):
        g = input_gradient(model, loss_fn, adv, y)
        step = xp.sign(g) if norm == "inf" else g / _per_sample_l2(g)
        delta = adv + alpha * step - data
        if norm == "inf":
            delta = xp.clip(delta, -eps, eps)
        else:
            delta = delta * xp.minimum(1, eps / _per_sample_l2(delta))
        adv = _clamp(data + delta, clip)
    return Tensor._wrap(adv)


_ATTACKS = {"fgsm": fgsm, "fgm": fgm, "pgd": pgd}


class AdversarialTraining(Callback):
    """Train on clean and adversarial examples together (seed 004 §7 对抗训练).

    After the clean backward pass, each batch's gradients become those of
    J̃ = w·L(x) + (1−w)·L(x_adv) (Goodfellow et al.; ``weight`` w = 0.5 by default):
    the clean gradients are scaled by w and (1−w)·∇L(x_adv) is added. ``method`` is
    'fgsm', 'fgm' or 'pgd'; x_adv is built with the model in eval mode (``attack_kwargs``
    go to the attack, e.g. ``alpha``, ``steps``). With ``param`` (a parameter name such as
    ``'embedding.weight'``) and ``method='fgm'`` the perturbation r = ε·g/‖g‖₂ is applied to
    that parameter (the embedding table, using its gradient g from the clean pass) for the
    adversarial forward/backward and removed before the update: FGM on embeddings.

    >>> from shenjing import nn, optim
    >>> from shenjing.data import datasets
    >>> from shenjing.train import Trainer
    >>> from shenjing.train.adversarial import AdversarialTraining
    >>> (X, y), _ = datasets.xor()
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01),
    ...     callbacks=[AdversarialTraining("fgsm", eps=0.05)], progress=False)
    >>> len(trainer.fit((X, y), epochs=2))
    2
    """

    def __init__(self, method: str = "fgsm", eps: float = 0.1, weight: float = 0.5, param: str | None = None,
                 **attack_kwargs):
        if method not in _ATTACKS:
            raise ValueError(f"AdversarialTraining: method must be one of {sorted(_ATTACKS)}, got {method!r}")
        if param is not None and method != "fgm":
            raise ValueError("AdversarialTraining: param= (perturbing an embedding table) needs method='fgm'")
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"AdversarialTraining: weight must be in [0, 1], got {weight!r}")
        self.method, self.eps, self.weight, self.param = method, _check_eps(eps), float(weight), param
        self.attack_kwargs = attack_kwargs
        self.last_adversarial_loss = None

    def on_after_backward(self, trainer):
        x, y = trainer.batch
        if isinstance(x, tuple):
            raise ValueError("AdversarialTraining: models with several inputs are not supported")
        model, loss_fn = trainer.model, trainer.loss_fn
        if self.param is not None:
            loss_adv = self._perturbed_parameter_loss(model, loss_fn, x, y)
        else:
            model.eval()
            try:
                x_adv = _ATTACKS[self.method](model, loss_fn, x, y, self.eps, **self.attack_kwargs)
            finally:
                model.train()
            self._scale_gradients(model)
            loss_adv = loss_fn(model(x_adv), y)
            (loss_adv * (1.0 - self.weight)).backward()
        self.last_adversarial_loss = float(loss_adv.item())

    def _scale_gradients(self, model) -> None:
        for p in model.parameters():
            if p.grad is not None:
                p.grad.data *= self.weight

    def _perturbed_parameter_loss(self, model, loss_fn, x, y):
        params = dict(model.named_parameters())
        if self.param not in params:
            raise ValueError(f"AdversarialTraining: no parameter named {self.param!r}; the model has {sorted(params)}")
        p = params[self.param]
        if p.grad is None:
            raise ValueError(f"AdversarialTraining: parameter {self.param!r} got no gradient in the clean pass")
        xp = B.xp_of(p.grad.data)
        norm = float(xp.sqrt((p.grad.data * p.grad.data).sum()))
        r = (self.eps / norm) * p.grad.data if norm > 0 else xp.zeros_like(p.data)
        self._scale_gradients(model)
        original = p.data
        p.data = original + r
        try:
            loss_adv = loss_fn(model(x), y)
            (loss_adv * (1.0 - self.weight)).backward()
        finally:
            p.data = original
        return loss_adv
