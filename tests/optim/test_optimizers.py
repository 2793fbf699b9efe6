"""Optimisers: trajectories against torch.optim, the notes' extras against hand-computed steps."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import Tensor, optim

STEPS = 30


@pytest.fixture
def torch64(torch):
    """torch with float64 as default dtype, so its scalar state (step, mu_product) is float64 too."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


def _initial(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(4,)).astype(dtype)]


def _data(dtype=np.float64):
    rng = np.random.default_rng(1)
    return rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype)


def _loss(w, b, x, y, tanh):
    """A small non-quadratic loss: mean squared error of a tanh layer plus a quartic penalty."""
    return ((tanh(x @ w + b) - y) ** 2).mean() + 0.05 * (w**4).sum()


def _trajectories(torch, ours, theirs, steps=STEPS, dtype=np.float64, groups=False):
    x, y = _data(dtype)
    params = [Tensor(a.copy(), requires_grad=True) for a in _initial(dtype)]
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in _initial(dtype)]
    tx, ty = torch.tensor(x), torch.tensor(y)
    if groups:
        params = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.03}]
        tparams = [{"params": [tparams[0]]}, {"params": [tparams[1]], "lr": 0.03}]
    opt, topt = ours(params), theirs(tparams)
    flat = [p for g in opt.param_groups for p in g["params"]]
    tflat = [p for g in topt.param_groups for p in g["params"]]
    for _ in range(steps):
        opt.zero_grad()
        _loss(flat[0], flat[1], Tensor(x), Tensor(y), sj.tanh).backward()
        opt.step()
        topt.zero_grad()
        _loss(tflat[0], tflat[1], tx, ty, torch.tanh).backward()
        topt.step()
        for p, tp in zip(flat, tflat):
            assert_close(p, tp)
    return opt


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_float64(torch64, name, kwargs):
    torch = torch64
    _trajectories(torch, lambda p: getattr(optim, name)(p, **kwargs),
                  lambda p: getattr(torch.optim, name)(p, **kwargs))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_match_torch(torch64, name):
    kwargs = dict(lr=0.1, momentum=0.9) if name != "Adam" else dict(lr=0.1)
    _trajectories(torch64, lambda p: getattr(optim, name)(p, **kwargs),
                  lambda p: getattr(torch64.optim, name)(p, **kwargs), groups=True)


@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=0.05)), ("SGD", dict(lr=0.1, momentum=0.9))])
def test_matches_torch_float32_and_keeps_dtype(torch, name, kwargs):
    opt = _trajectories(torch, lambda p: getattr(optim, name)(p, **kwargs),
                        lambda p: getattr(torch.optim, name)(p, **kwargs), steps=10, dtype=np.float32)
    for p in opt.param_groups[0]["params"]:
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if hasattr(v, "dtype"))


def _rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def _closure(opt, loss_fn):
    """The closure a full-batch optimiser calls: zero the gradients, evaluate ``loss_fn()``, back-propagate."""
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(torch64, line_search_fn):
    torch = torch64
    start = np.array([-1.2, 1.0])
    p, tp = Tensor(start.copy(), requires_grad=True), torch.tensor(start.copy(), requires_grad=True)
    kwargs = dict(lr=1 if line_search_fn else 0.05, history_size=5, max_iter=10, line_search_fn=line_search_fn)
    opt, topt = optim.LBFGS([p], **kwargs), torch.optim.LBFGS([tp], **kwargs)

    closure, tclosure = _closure(opt, lambda: _rosenbrock(p)), _closure(topt, lambda: _rosenbrock(tp))
    for _ in range(4):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        assert abs(float(loss) - tloss.item()) < 1e-8
    assert abs(float(_rosenbrock(p)) - _rosenbrock(tp).item()) < 1e-8
    assert opt.state[p]["func_evals"] == topt.state[tp]["func_evals"]
    if line_search_fn:
        assert float(_rosenbrock(p)) < 1e-8


# ----- the notes' formulas ---------------------------------------------------------------------------


def _constant_gradient_velocities(opt_factory, g, steps, with_optimizer=False):
    """Parameter increments under the loss (g·w).sum(), whose gradient is the constant g."""
    w = Tensor(np.zeros_like(g), requires_grad=True)
    opt = opt_factory([w])
    previous, velocities = w.numpy().copy(), []
    for _ in range(steps):
        opt.zero_grad()
        (Tensor(g) * w).sum().backward()
        opt.step()
        velocities.append(w.numpy() - previous)
        previous = w.numpy().copy()
    return (velocities, opt) if with_optimizer else velocities


def test_momentum_terminal_velocity():
    """Seed 000 §3.1.1: v ← αv - εg tends to -εg/(1-α) under a constant gradient (10x for α = 0.9)."""
    g, eps, alpha = np.array([0.5, -2.0]), 0.01, 0.9
    v = _constant_gradient_velocities(lambda p: optim.SGD(p, lr=eps, momentum=alpha), g, 300)
    assert_close(v[0], -eps * g)
    assert_close(v[1], -eps * g * (1 + alpha))
    assert_close(v[-1], -eps * g / (1 - alpha))


def test_momentum_as_average_is_dampening():
    """SGD(momentum=b, dampening=b): m = b m + (1-b) g after the first step, which starts at g."""
    g, b = np.array([1.0, -3.0]), 0.8
    v = _constant_gradient_velocities(lambda p: optim.SGD(p, lr=0.1, momentum=b, dampening=b), g, 5)
    for step in v:
        assert_close(step, -0.1 * g)


def test_adam_without_bias_correction_first_step():
    """Seed 002: θ ← θ - η m/(√v + ε) with m = (1-β1)g, v = (1-β2)g² at step 1."""
    g, lr, (b1, b2), eps = np.array([0.3, -2.0]), 0.1, (0.9, 0.999), 1e-8
    first = _constant_gradient_velocities(lambda p: optim.Adam(p, lr=lr, bias_correction=False), g, 1)[0]
    assert_close(first, -lr * (1 - b1) * g / (np.sqrt((1 - b2) * g * g) + eps))
    corrected = _constant_gradient_velocities(lambda p: optim.Adam(p, lr=lr), g, 1)[0]
    assert_close(corrected, -lr * g / (np.abs(g) + eps))


def test_rmsprop_nesterov_hand_computed():
    g, lr, alpha, mu, eps = np.array([1.0, -0.5]), 0.01, 0.9, 0.5, 1e-8
    v = _constant_gradient_velocities(
        lambda p: optim.RMSprop(p, lr=lr, alpha=alpha, momentum=mu, nesterov=True, eps=eps), g, 2)
    u1 = g / (np.sqrt((1 - alpha) * g * g) + eps)
    assert_close(v[0], -lr * (u1 + mu * u1))
    u2 = g / (np.sqrt((1 - alpha**2) * g * g) + eps)
    b2 = mu * u1 + u2
    assert_close(v[1], -lr * (u2 + mu * b2))


def test_delta_bar_delta_gains():
    """Seed 002: gain +0.05 while the sign repeats, x0.95 when it flips, clipped to the range."""
    w = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    opt = optim.DeltaBarDelta([w], lr=0.1, gain_range=(0.1, 1.08))
    grads = [np.array([1.0, 1.0]), np.array([1.0, -1.0]), np.array([2.0, 1.0])]
    # the step uses the gain held before it; the gain then adapts to this step's sign agreement
    gains_used = [np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.array([1.05, 0.95])]
    gains_after = [np.array([1.0, 1.0]), np.array([1.05, 0.95]), np.array([1.08, 0.95 * 0.95])]
    for g, used, after in zip(grads, gains_used, gains_after):
        before = w.numpy().copy()
        opt.zero_grad()
        (Tensor(g) * w).sum().backward()
        opt.step()
        assert_close(w.numpy(), before - 0.1 * used * g)
        assert_close(opt.state[w]["gain"], after)


def _quadratic(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    a = m @ m.T + n * np.eye(n)
    b = rng.normal(size=n)
    return a, b, np.linalg.solve(a, b)


def _quadratic_closure(opt, x, a, b):
    return _closure(opt, lambda: 0.5 * (x @ (Tensor(a) @ x)) - (Tensor(b) * x).sum())


def test_newton_one_step_on_a_quadratic():
    a, b, solution = _quadratic(5)
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.Newton([x])
    opt.step(_quadratic_closure(opt, x, a, b))
    assert_close(x, solution, atol=1e-8)
    assert_close(opt.hessian(_quadratic_closure(opt, x, a, b)), a, rtol=1e-7, atol=1e-8)


def test_newton_pseudo_inverse_on_a_singular_hessian():
    """A flat direction has singular value 0: the pseudo-inverse leaves it alone instead of dividing by 0."""
    x = Tensor(np.array([3.0, 5.0]), requires_grad=True)
    opt = optim.Newton([x])
    opt.step(_closure(opt, lambda: (x[0] - 1.0) ** 2))
    assert_close(x, np.array([1.0, 5.0]), atol=1e-8)


def test_newton_damping_shortens_the_step():
    x = Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.Newton([x], damping=2.0)
    opt.step(_closure(opt, lambda: (x**2).sum()))
    assert_close(x, np.array([2.0 - 4.0 / (2.0 + 2.0)]), atol=1e-8)


def test_conjugate_gradient_solves_quadratic_in_n_steps():
    n = 6
    a, b, solution = _quadratic(n, seed=3)
    x = Tensor(np.zeros(n), requires_grad=True)
    opt = optim.ConjugateGradient([x])
    closure = _quadratic_closure(opt, x, a, b)
    for _ in range(n):
        opt.step(closure)
    assert_close(x, solution, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("factory", [
    lambda p: optim.ConjugateGradient(p),
    lambda p: optim.Newton(p, damping=1e-3),
    lambda p: optim.LBFGS(p, line_search_fn="strong_wolfe"),
])
def test_full_batch_methods_minimise_rosenbrock(factory):
    p = Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = factory([p])
    closure = _closure(opt, lambda: _rosenbrock(p))
    for _ in range(100):
        opt.step(closure)
    assert_close(p, np.array([1.0, 1.0]), rtol=1e-4, atol=1e-5)


def test_swats_adam_phase_switch_and_sgd_phase():
    """arXiv:1712.07628 Alg. 1 under a constant gradient: γ is constant, so SWATS switches at step 2."""
    g, lr, (b1, b2), eps = np.array([0.3, -2.0]), 0.1, (0.9, 0.999), 1e-8
    v, opt = _constant_gradient_velocities(lambda p: optim.SWATS(p, lr=lr, switch_tol=1e-6), g, 5, with_optimizer=True)

    def adam_step(k):  # m_k = (1-β1^k) g and v_k = (1-β2^k) g² under a constant gradient
        return -lr * np.sqrt(1 - b2**k) / (1 - b1**k) * (1 - b1**k) * g / (np.sqrt((1 - b2**k) * g * g) + eps)

    gammas = [adam_step(k) @ adam_step(k) / -(adam_step(k) @ g) for k in (1, 2)]
    rate = ((1 - b2) * b2 * gammas[0] + (1 - b2) * gammas[1]) / (1 - b2**2)
    assert_close(v[0], adam_step(1))
    assert_close(v[1], adam_step(2))
    assert opt.switched
    assert_close(opt.sgd_lr, rate)
    assert_close(v[2], -(1 - b1) * rate * g)
    assert_close(v[3], -(1 - b1) * rate * (1 + b1) * g)
    saved = opt.state_dict()
    assert saved["swats"]["switched"] is True


def test_swats_does_not_switch_while_the_estimate_moves():
    a, b, _ = _quadratic(4)
    x = Tensor(np.zeros(4), requires_grad=True)
    opt = optim.SWATS([x], lr=0.05)
    closure = _quadratic_closure(opt, x, a, b)
    losses = [float(opt.step(closure)) for _ in range(100)]
    assert not opt.switched and "momentum_buffer" not in opt.state[x]
    assert losses[-1] < losses[0]


def test_mlp_training_with_notes_optimisers():
    """Each extra optimiser lowers the loss of a small MLP on a fixed batch."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(32, 4)))
    y = Tensor(np.sin(rng.normal(size=(32, 1))))
    for factory in (lambda p: optim.DeltaBarDelta(p, lr=0.05), lambda p: optim.SWATS(p, lr=0.01),
                    lambda p: optim.Adam(p, lr=0.01, bias_correction=False)):
        sj.manual_seed(0)
        model = sj.nn.Sequential(sj.nn.Linear(4, 16, dtype=np.float64), _Tanh(), sj.nn.Linear(16, 1, dtype=np.float64))
        opt = factory(list(model.parameters()))
        losses = []
        for _ in range(150):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("factory,hidden,steps", [
    (lambda p: optim.Newton(p, damping=0.3), 4, 20),
    (lambda p: optim.ConjugateGradient(p), 16, 60),
    (lambda p: optim.LBFGS(p, line_search_fn="strong_wolfe", max_iter=5), 16, 12),
])
def test_full_batch_methods_train_an_mlp(factory, hidden, steps):
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(32, 3)))
    y = Tensor(np.sin(x.numpy().sum(axis=1, keepdims=True)))
    sj.manual_seed(0)
    model = sj.nn.Sequential(sj.nn.Linear(3, hidden, dtype=np.float64), _Tanh(),
                             sj.nn.Linear(hidden, 1, dtype=np.float64))
    opt = factory(list(model.parameters()))
    closure = _closure(opt, lambda: ((model(x) - y) ** 2).mean())
    first = float(closure())
    for _ in range(steps):
        opt.step(closure)
    assert float(closure()) < 0.1 * first


def test_delta_bar_delta_converges_on_a_quadratic():
    a, b, solution = _quadratic(4)
    x = Tensor(np.zeros(4), requires_grad=True)
    opt = optim.DeltaBarDelta([x], lr=0.01)
    closure = _quadratic_closure(opt, x, a, b)
    for _ in range(400):
        opt.step(closure)
    assert_close(x, solution, rtol=1e-6, atol=1e-8)


class _Tanh(sj.nn.Module):
    def forward(self, x):
        return sj.tanh(x)


# ----- the base class -------------------------------------------------------------------------------


def test_state_dict_round_trip_continues_identically():
    def run(opt, params, steps):
        x, y = _data()
        for _ in range(steps):
            opt.zero_grad()
            _loss(params[0], params[1], Tensor(x), Tensor(y), sj.tanh).backward()
            opt.step()

    params = [Tensor(a, requires_grad=True) for a in _initial()]
    opt = optim.Adam(params, lr=0.05, amsgrad=True)
    run(opt, params, 5)
    saved = opt.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert saved["param_groups"][0]["params"] == [0, 1]
    assert all(isinstance(v, (int, float, np.ndarray)) for s in saved["state"].values() for v in s.values())
    # as a flat file format would give it back: string keys, 0-d arrays for numbers
    reloaded = {"state": {str(k): {n: np.asarray(v) for n, v in s.items()} for k, s in saved["state"].items()},
                "param_groups": saved["param_groups"]}
    clone_params = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    clone = optim.Adam(clone_params, lr=0.1)
    clone.load_state_dict(reloaded)
    assert clone.param_groups[0]["lr"] == 0.05 and clone.param_groups[0]["params"][0] is clone_params[0]
    assert isinstance(clone.state[clone_params[0]]["step"], int)
    assert clone.state[clone_params[0]]["exp_avg"] is not opt.state[params[0]]["exp_avg"]
    run(opt, params, 5)
    run(clone, clone_params, 5)
    for p, q in zip(params, clone_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_load_state_dict_rejects_mismatched_groups():
    p = Tensor(np.zeros(2), requires_grad=True)
    saved = optim.SGD([p], lr=0.1).state_dict()
    other = optim.SGD([Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="parameters"):
        other.load_state_dict(saved)


def test_zero_grad_and_missing_grads():
    p, q = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p, q], lr=0.5)
    (p * 2.0).sum().backward()
    opt.step()
    assert_close(p, np.zeros(2))
    assert_close(q, np.ones(2))
    opt.zero_grad(set_to_none=False)
    assert_close(p.grad, np.zeros(2))
    opt.zero_grad()
    assert p.grad is None


def test_add_param_group_uses_defaults_and_own_values():
    p, q = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([p], lr=0.01, weight_decay=0.1)
    opt.add_param_group({"params": q, "weight_decay": 0.0})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["weight_decay"] == 0.0
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [p]})


@pytest.mark.parametrize("factory,argument", [
    (lambda p: optim.SGD(p, lr=-0.1), "lr"),
    (lambda p: optim.SGD(p, momentum=-0.5), "momentum"),
    (lambda p: optim.SGD(p, nesterov=True), "nesterov"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda p: optim.Adam(p, eps=-1e-8), "eps"),
    (lambda p: optim.AdamW(p, weight_decay=-1.0), "weight_decay"),
    (lambda p: optim.RMSprop(p, nesterov=True), "nesterov"),
    (lambda p: optim.Adadelta(p, rho=1.5), "rho"),
    (lambda p: optim.Rprop(p, etas=(1.2, 0.5)), "etas"),
    (lambda p: optim.DeltaBarDelta(p, gain_range=(2.0, 10.0)), "gain_range"),
    (lambda p: optim.LBFGS(p, line_search_fn="armijo"), "line_search_fn"),
    (lambda p: optim.ConjugateGradient(p, restart=0), "restart"),
    (lambda p: optim.Newton(p, damping=-1.0), "damping"),
])
def test_invalid_hyper_parameters_name_the_argument(factory, argument):
    with pytest.raises(ValueError, match=argument):
        factory([Tensor(np.zeros(2), requires_grad=True)])


def test_bad_params():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Tensor"):
        optim.SGD([np.zeros(2)], lr=0.1)
    x = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2.0], lr=0.1)
    with pytest.raises(ValueError, match="closure"):
        optim.LBFGS([x]).step()
    with pytest.raises(ValueError, match="single parameter group"):
        optim.LBFGS([{"params": [x]}, {"params": [Tensor(np.zeros(1), requires_grad=True)]}])


@pytest.mark.parametrize("factory,closure_based", [
    (lambda p: optim.Adam(p, lr=0.1, amsgrad=True), False),
    (lambda p: optim.SWATS(p, lr=0.1), False),
    (lambda p: optim.LBFGS(p, max_iter=3, history_size=3), True),
])
def test_state_dict_survives_shenjing_io(tmp_path, factory, closure_based):
    """The state dict is plain arrays and numbers: io.save writes it, io.load's flat dict loads back."""
    io = pytest.importorskip("shenjing.io")

    def run(opt, params, steps):
        closure = _closure(opt, lambda: sum(((p - 2.0) ** 4).sum() for p in params))

        for _ in range(steps):
            if closure_based:
                opt.step(closure)
            else:
                closure()
                opt.step()

    params = [Tensor(a, requires_grad=True) for a in _initial()]
    opt = factory(params)
    run(opt, params, 3)
    io.save(opt.state_dict(), tmp_path / "opt.npz")
    clone_params = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    clone = factory(clone_params)
    clone.load_state_dict(io.load(tmp_path / "opt.npz"))
    run(opt, params, 3)
    run(clone, clone_params, 3)
    for p, q in zip(params, clone_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


CHUNKED = [
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01)),
]


@pytest.mark.parametrize("name,kwargs", CHUNKED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CHUNKED)])
@pytest.mark.parametrize("transposed_grad", [False, True])
def test_chunked_updates_match_torch_on_a_large_parameter(torch64, name, kwargs, transposed_grad):
    """A parameter spanning several update chunks (and a ragged last one) steps exactly as torch's does,
    also when its gradient is a non-contiguous array."""
    from shenjing.optim.optimizer import CHUNK

    rng = np.random.default_rng(0)
    shape = (3, CHUNK // 2 + 7)
    start = rng.normal(size=shape)
    p, tp = Tensor(start.copy(), requires_grad=True), torch64.tensor(start.copy(), requires_grad=True)
    opt, topt = getattr(optim, name)([p], **kwargs), getattr(torch64.optim, name)([tp], **kwargs)
    for _ in range(3):
        grad = rng.normal(size=shape[::-1]).T if transposed_grad else rng.normal(size=shape)
        p.grad, tp.grad = sj.from_numpy(grad), torch64.tensor(np.ascontiguousarray(grad))
        assert p.grad.data.flags.c_contiguous != transposed_grad
        opt.step()
        topt.step()
        assert_close(p, tp)
