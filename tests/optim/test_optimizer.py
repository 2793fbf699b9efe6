"""The Optimizer base class (optim/optimizer.py): parameter groups, state dicts, chunked updates, errors."""

import numpy as np
import pytest
from helpers import assert_close
from optim_helpers import initial_params, make_closure, regression_batch, Tanh, tanh_loss, trajectories

import shenjing as sj
from shenjing import Tensor, optim


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_match_torch(torch64, name):
    kwargs = dict(lr=0.1, momentum=0.9) if name != "Adam" else dict(lr=0.1)
    trajectories(torch64, lambda p: getattr(optim, name)(p, **kwargs),
                  lambda p: getattr(torch64.optim, name)(p, **kwargs), groups=True)


@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=0.05)), ("SGD", dict(lr=0.1, momentum=0.9))])
def test_matches_torch_float32_and_keeps_dtype(torch, name, kwargs):
    opt = trajectories(torch, lambda p: getattr(optim, name)(p, **kwargs),
                        lambda p: getattr(torch.optim, name)(p, **kwargs), steps=10, dtype=np.float32)
    for p in opt.param_groups[0]["params"]:
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if hasattr(v, "dtype"))


def test_mlp_training_with_notes_optimisers():
    """Each extra optimiser lowers the loss of a small MLP on a fixed batch."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(32, 4)))
    y = Tensor(np.sin(rng.normal(size=(32, 1))))
    for factory in (lambda p: optim.DeltaBarDelta(p, lr=0.05), lambda p: optim.SWATS(p, lr=0.01),
                    lambda p: optim.Adam(p, lr=0.01, bias_correction=False)):
        sj.manual_seed(0)
        model = sj.nn.Sequential(sj.nn.Linear(4, 16, dtype=np.float64), Tanh(), sj.nn.Linear(16, 1, dtype=np.float64))
        opt = factory(list(model.parameters()))
        losses = []
        for _ in range(150):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.5 * losses[0]


def test_state_dict_round_trip_continues_identically():
    def run(opt, params, steps):
        x, y = regression_batch()
        for _ in range(steps):
            opt.zero_grad()
            tanh_loss(params[0], params[1], Tensor(x), Tensor(y), sj.tanh).backward()
            opt.step()

    params = [Tensor(a, requires_grad=True) for a in initial_params()]
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
        closure = make_closure(opt, lambda: sum(((p - 2.0) ** 4).sum() for p in params))

        for _ in range(steps):
            if closure_based:
                opt.step(closure)
            else:
                closure()
                opt.step()

    params = [Tensor(a, requires_grad=True) for a in initial_params()]
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
