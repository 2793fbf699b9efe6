"""Learning-rate and momentum schedules against torch.optim.lr_scheduler, step for step."""

import math

import numpy as np
import pytest
from helpers import assert_close

from shenjing import Tensor, optim
from shenjing.optim import lr_scheduler as sched

STEPS = 200


def _groups(make_param, lrs=(0.1, 0.05)):
    return [{"params": [make_param()], "lr": lr} for lr in lrs]


def _pair(torch, optimizer, **kwargs):
    ours = getattr(optim, optimizer)(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)), **kwargs)
    theirs = getattr(torch.optim, optimizer)(_groups(lambda: torch.zeros(2, requires_grad=True)), **kwargs)
    return ours, theirs


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _compare(torch, make, optimizer="SGD", opt_kwargs=None, steps=STEPS, torch_make=None, metrics=None):
    """Step both schedules ``steps`` times; lrs (and momenta) must agree after every step."""
    opt, topt = _pair(torch, optimizer, **(opt_kwargs or {}))
    ours, theirs = make(sched, opt), (torch_make or make)(torch.optim.lr_scheduler, topt)
    for t in range(steps + 1):
        assert_close(np.array(ours.get_last_lr()), np.array(theirs.get_last_lr()))
        assert_close(np.array([g["lr"] for g in opt.param_groups]), np.array([g["lr"] for g in topt.param_groups]))
        if _momenta(topt)[0] is not None:
            assert_close(np.array(_momenta(opt), dtype=float), np.array(_momenta(topt), dtype=float))
        if t < steps:
            opt.step()
            topt.step()
            if metrics is None:
                ours.step()
                theirs.step()
            else:
                ours.step(metrics[t])
                theirs.step(metrics[t])
    return ours


CASES = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda t: 0.97**t + 0.1 * math.sin(t)),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda t: 1 / (1 + t), lambda t: 0.99**t]),
    "StepLR": lambda m, o: m.StepLR(o, step_size=30, gamma=0.5),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda t: 0.99 if t % 2 else 0.995),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=40),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=60),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=150, power=2.0),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[30, 80, 80, 150], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.98),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=50, eta_min=0.001),
    "CosineAnnealingLR-short": lambda m, o: m.CosineAnnealingLR(o, T_max=7),
    "WarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=1e-3),
    "WarmRestarts-mult1": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=15),
    "CyclicLR-triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=20,
                                                    step_size_down=30, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=15, mode="exp_range",
                                                  gamma=0.99, base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=10, scale_fn=lambda x: 0.9**x,
                                                 scale_mode="iterations", cycle_momentum=False),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=STEPS),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(o, max_lr=[0.1, 0.3], epochs=20, steps_per_epoch=10,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three-phase": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=STEPS, three_phase=True,
                                                        div_factor=10.0, final_div_factor=100.0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_torch(torch, name):
    _compare(torch, CASES[name], opt_kwargs=dict(momentum=0.9))


@pytest.mark.parametrize("name", ["CyclicLR-triangular", "OneCycleLR"])
def test_beta1_cycles_like_torch(torch, name):
    _compare(torch, CASES[name], optimizer="Adam")


def test_chained_schedules_compose_like_torch(torch):
    opt, topt = _pair(torch, "SGD")
    ours = [sched.StepLR(opt, 10, 0.5), sched.ExponentialLR(opt, 0.97), sched.CosineAnnealingLR(opt, 25)]
    m = torch.optim.lr_scheduler
    theirs = [m.StepLR(topt, 10, 0.5), m.ExponentialLR(topt, 0.97), m.CosineAnnealingLR(topt, 25)]
    for _ in range(60):
        opt.step()
        topt.step()
        for a, b in zip(ours, theirs):
            a.step()
            b.step()
        assert_close(np.array(ours[-1].get_last_lr()), np.array(theirs[-1].get_last_lr()))


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mode="max", factor=0.5, patience=3, threshold=0.01, threshold_mode="abs"),
    dict(factor=0.5, patience=2, cooldown=3, min_lr=[0.01, 0.02]),
])
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    rng = np.random.default_rng(0)
    metrics = (1.0 / np.arange(1, STEPS + 1) + 0.05 * rng.random(STEPS)).tolist()
    _compare(torch, lambda m, o: m.ReduceLROnPlateau(o, **kwargs), metrics=metrics)


@pytest.mark.parametrize("kwargs", [dict(swa_lr=0.05), dict(swa_lr=[0.01, 0.2], anneal_epochs=25,
                                                               anneal_strategy="linear"),
                                    dict(swa_lr=0.02, anneal_epochs=0)])
def test_swalr_matches_torch(torch, kwargs):
    _compare(torch, lambda m, o: optim.swa_utils.SWALR(o, **kwargs),
             torch_make=lambda m, o: torch.optim.swa_utils.SWALR(o, **kwargs))


def test_swalr_takes_over_from_another_schedule(torch):
    opt, topt = _pair(torch, "SGD")
    sched.StepLR(opt, 5, 0.5)
    torch.optim.lr_scheduler.StepLR(topt, 5, 0.5)
    for o in (opt, topt):
        for group in o.param_groups:
            group["lr"] *= 0.3
    ours, theirs = optim.swa_utils.SWALR(opt, 0.01, anneal_epochs=5), torch.optim.swa_utils.SWALR(topt, 0.01, 5)
    for _ in range(10):
        opt.step()
        topt.step()
        ours.step()
        theirs.step()
        assert_close(np.array(ours.get_last_lr()), np.array(theirs.get_last_lr()))


def _factor_pairs():
    def bert(t, ws=20, ts=150):
        return t / ws if t < ws else max(0.0, (ts - t) / (ts - ws))

    def transformer(t, ws=25):
        return t / ws if t < ws else math.sqrt(ws / t)

    return [(lambda m, o: m.LinearWarmupDecay(o, warmup_steps=20, total_steps=150), bert),
            (lambda m, o: m.InverseSqrtWarmup(o, warmup_steps=25), transformer)]


@pytest.mark.parametrize("index", [0, 1])
def test_warmups_match_the_notes_formulas_and_torch_lambda(torch, index):
    """Seed 004 §5.2.6.3: BERT's linear warm-up/decay and the Transformer's 1/√t, as LambdaLR in torch."""
    make, factor = _factor_pairs()[index]
    ours = _compare(torch, make, torch_make=lambda m, o: m.LambdaLR(o, factor))
    assert ours.last_epoch == STEPS
    assert_close(np.array(ours.get_last_lr()), np.array([0.1, 0.05]) * factor(STEPS))


def test_warmup_starts_at_zero_and_counts_from_one():
    opt = optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    s = sched.LinearWarmupDecay(opt, warmup_steps=4, total_steps=8)
    lrs = [s.get_last_lr()[0]]
    for _ in range(9):
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert_close(np.array(lrs), np.array([0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]))


@pytest.mark.parametrize("optimizer,key", [("SGD", "momentum"), ("Adam", "betas"), ("RMSprop", "momentum")])
def test_momentum_schedule_sets_momentum_or_beta1(optimizer, key):
    """Seed 000 §3.1.1: a momentum that starts small and grows."""
    opt = getattr(optim, optimizer)([Tensor(np.zeros(1), requires_grad=True)], lr=0.1)
    s = sched.MomentumSchedule(opt, lambda t: min(0.99, 0.5 + 0.1 * t))
    seen = []
    for _ in range(7):
        group = opt.param_groups[0]
        seen.append(group["betas"][0] if key == "betas" else group["momentum"])
        assert s.get_last_momentum() == [seen[-1]]
        s.step()
    assert_close(np.array(seen), np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 0.99]))
    if key == "betas":
        assert opt.param_groups[0]["betas"][1] == 0.999


def test_momentum_schedule_drives_training():
    w = Tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.0)
    s = sched.MomentumSchedule(opt, lambda t: 0.0 if t == 0 else 0.5)
    for _ in range(2):
        opt.zero_grad()
        (w * Tensor(np.array([1.0, 2.0]))).sum().backward()
        opt.step()
        s.step()
    # first step plain SGD (no buffer), second with momentum 0.5: buffer = g
    assert_close(w, -0.1 * np.array([1.0, 2.0]) * 2)
    with pytest.raises(ValueError, match="momentum"):
        sched.MomentumSchedule(optim.Adagrad([Tensor(np.zeros(1), requires_grad=True)]), lambda t: 0.9)


def test_state_dict_round_trip(torch):
    opt = optim.SGD(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)), momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=0.1, total_steps=100)
    for _ in range(30):
        s.step()
    saved = s.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 30
    opt2 = optim.SGD(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)), momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    s2 = sched.OneCycleLR(opt2, max_lr=0.1, total_steps=100, last_epoch=29)
    s2.load_state_dict(saved)
    for _ in range(20):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
    lam = sched.LambdaLR(opt, lambda t: 1.0)
    assert "lr_lambdas" not in lam.state_dict()


def test_bad_arguments():
    opt = optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="optimizer"):
        sched.StepLR(object(), 10)
    with pytest.raises(ValueError, match="step_size"):
        sched.StepLR(opt, 0)
    with pytest.raises(ValueError, match="total_steps"):
        sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="cubic")
    with pytest.raises(ValueError, match="max_lr"):
        sched.CyclicLR(opt, 0.01, [0.1, 0.2])
    with pytest.raises(ValueError, match="factor"):
        sched.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="total_steps"):
        sched.LinearWarmupDecay(opt, warmup_steps=10, total_steps=10)
    with pytest.raises(ValueError, match="initial_lr"):
        sched.StepLR(optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1), 5, last_epoch=3)
    one_cycle = sched.OneCycleLR(opt, max_lr=0.1, total_steps=2, cycle_momentum=False)
    one_cycle.step()
    one_cycle.step()
    with pytest.raises(ValueError, match="total_steps"):
        one_cycle.step()


def test_state_dict_survives_shenjing_io(tmp_path):
    io = pytest.importorskip("shenjing.io")

    def make():
        opt = optim.SGD(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)), momentum=0.9)
        return opt, sched.OneCycleLR(opt, max_lr=0.1, total_steps=100, three_phase=True)

    opt, s = make()
    for _ in range(40):
        s.step()
    io.save(s.state_dict(), tmp_path / "sched.npz")
    opt2, s2 = make()
    s2.load_state_dict(io.load(tmp_path / "sched.npz"))
    for _ in range(30):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
        assert opt.param_groups[0]["momentum"] == opt2.param_groups[0]["momentum"]


COMPOSITES = {
    "Sequential-warmup-cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=40)], milestones=[10]),
    "Sequential-three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=5), m.ExponentialLR(o, gamma=0.9), m.StepLR(o, 7, 0.5)],
        milestones=[5, 30]),
    "Chained": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=8),
                                                m.ExponentialLR(o, gamma=0.95)]),
    "Chained-with-optimizer": lambda m, o: m.ChainedScheduler([m.StepLR(o, 10, 0.5), m.LinearLR(o, 0.2)],
                                                              optimizer=o),
}


@pytest.mark.parametrize("name", COMPOSITES)
def test_composite_schedule_matches_torch(torch, name):
    _compare(torch, COMPOSITES[name], steps=60)


@pytest.mark.parametrize("name", COMPOSITES)
def test_composite_schedule_resumes_from_its_state_dict(tmp_path, name):
    from shenjing import io

    def fresh():
        opt = optim.SGD(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)))
        return opt, COMPOSITES[name](sched, opt)

    opt, first = fresh()
    for _ in range(12):
        first.step()
    io.save(first.state_dict(), tmp_path / "schedule.npz")
    lrs = [group["lr"] for group in opt.param_groups]  # what the optimizer's own state dict carries
    expected = [(first.step(), first.get_last_lr())[1] for _ in range(20)]
    opt, second = fresh()
    for group, lr in zip(opt.param_groups, lrs):
        group["lr"] = lr
    second.load_state_dict(io.load(tmp_path / "schedule.npz"))
    assert [(second.step(), second.get_last_lr())[1] for _ in range(20)] == expected


def test_sequential_lr_checks_its_milestones_and_optimizers():
    opt = optim.SGD(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)))
    other = optim.SGD(_groups(lambda: Tensor(np.zeros(2), requires_grad=True)))
    with pytest.raises(ValueError, match="expected 1 milestones"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="different optimizer"):
        sched.ChainedScheduler([sched.StepLR(opt, 2), sched.StepLR(other, 3)])
    with pytest.raises(TypeError, match=r"schedulers\[0\] must be an LRScheduler"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])
