"""Monitor: per-layer statistics against the same statistics taken with PyTorch hooks on the same weights."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.diagnostics import Monitor


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 3)).double()


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3)).double()


def torch_twin(torch, model):
    """The same architecture in PyTorch with the same weights."""
    tnn = torch.nn
    layers = {"Linear": lambda m: tnn.Linear(m.in_features, m.out_features),
              "Conv2d": lambda m: tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size),
              "ReLU": lambda m: tnn.ReLU(), "Sigmoid": lambda m: tnn.Sigmoid(), "Tanh": lambda m: tnn.Tanh(),
              "MaxPool2d": lambda m: tnn.MaxPool2d(2), "Flatten": lambda m: tnn.Flatten()}
    twin = tnn.Sequential(*[layers[type(m).__name__](m) for m in model.children()]).double()
    twin.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})
    return twin


def torch_stats(torch, twin, X, y, lr):
    """The Monitor's statistics computed by hand with forward hooks and an SGD step in PyTorch."""
    outputs, stats = {}, {}
    for name, module in twin.named_children():
        module.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach()))
    opt = torch.optim.SGD(twin.parameters(), lr=lr)
    torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(y)).backward()
    weights = {n: m.weight.detach().clone() for n, m in twin.named_children() if hasattr(m, "weight")}
    opt.step()
    for name, module in twin.named_children():
        out = outputs[name]
        s = {"act_mean": out.mean().item(), "act_std": out.std().item()}
        if isinstance(module, torch.nn.ReLU):
            s["dead_fraction"] = (out <= 0).all(0).double().mean().item()
        if isinstance(module, torch.nn.Sigmoid):
            s["saturated_fraction"] = (out * (1 - out) < 0.0025).double().mean().item()
        if isinstance(module, torch.nn.Tanh):
            s["saturated_fraction"] = (1 - out * out < 0.01).double().mean().item()
        if name in weights:
            w = weights[name]
            s.update(weight_norm=w.norm().item(), grad_norm=module.weight.grad.norm().item(),
                     update_ratio=((module.weight.detach() - w).norm() / w.norm()).item())
        stats[name] = s
    return stats


def spread_weights(model, scale):
    """Larger weights, so that some units saturate, and half the first layer's units switched off."""
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.data[...] = rng.normal(0.0, scale, p.shape)
    model[0].bias.data[: len(model[0].bias.data) // 2] = -100.0


@pytest.mark.parametrize("build, shape", [(mlp, (64, 6)), (cnn, (64, 1, 8, 8))])
def test_statistics_match_pytorch_hooks(torch, build, shape):
    sj.manual_seed(0)
    model = build()
    spread_weights(model, 1.5)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal(shape), rng.integers(0, 3, shape[0])
    expected = torch_stats(torch, torch_twin(torch, model), X, y, lr=0.1)
    opt = sj.optim.SGD(model.parameters(), lr=0.1)
    with Monitor(model, opt) as monitor:
        sj.nn.functional.cross_entropy(model(sj.tensor(X)), sj.tensor(y)).backward()
        opt.step()
    got = monitor.summary()
    assert list(got) == list(expected)
    for name, stats in expected.items():
        assert got[name].keys() == stats.keys(), name
        for stat, value in stats.items():
            assert got[name][stat] == pytest.approx(value, rel=1e-10, abs=1e-12), (name, stat)
    fractions = [s[k] for s in got.values() for k in ("dead_fraction", "saturated_fraction") if k in s]
    assert any(0 < f < 1 for f in fractions)  # the comparison is not between zeros


def test_without_optimizer_gradients_are_read_when_the_pass_closes():
    model = mlp()
    X = sj.randn(8, 6, dtype=sj.float64)
    with Monitor(model) as monitor:
        model(X).sum().backward()
        first = monitor.summary()["0"]["grad_norm"]
        model.zero_grad()
        model(X).sum().backward()
    assert len(monitor.history) == 2
    assert monitor.history[1]["0"]["grad_norm"] == pytest.approx(first)
    assert first == pytest.approx(float(np.linalg.norm(np.asarray(model[0].weight.grad))))
    assert "update_ratio" not in monitor.summary()["0"]


def test_detach_removes_hooks_and_restores_step():
    model = mlp()
    opt = sj.optim.SGD(model.parameters(), lr=0.1)
    monitor = Monitor(model, opt).attach()
    model(sj.randn(4, 6, dtype=sj.float64))
    monitor.detach()
    assert "step" not in vars(opt)
    model(sj.randn(4, 6, dtype=sj.float64))
    assert len(monitor.history) == 1


def test_every_and_training_only_choose_the_passes():
    model = mlp()
    X = sj.randn(4, 6, dtype=sj.float64)
    with Monitor(model, every=3) as monitor:
        for _ in range(7):
            model(X)
    assert len(monitor.history) == 3
    with Monitor(model, training_only=True) as monitor:
        model.eval()
        model(X)
        model.train()
        model(X)
    assert len(monitor.history) == 1


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    model = mlp()
    with Monitor(model) as monitor:
        for _ in range(3):
            model(sj.randn(16, 6, dtype=sj.float64)).sum().backward()
    path = monitor.plot(tmp_path / "monitor.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments():
    with pytest.raises(TypeError, match="model must be a Module"):
        Monitor(object())
    with pytest.raises(TypeError, match="optimizer must have a step"):
        Monitor(mlp(), optimizer=object())
    with pytest.raises(ValueError, match="every must be a positive integer"):
        Monitor(mlp(), every=0)
