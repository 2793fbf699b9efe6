"""Module.register_full_backward_hook: grad_input and grad_output as torch.nn.Module's hook gives them."""

import contextlib

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn


def _recorder(log, replace=None):
    def hook(module, grad_input, grad_output):
        log.append(([None if g is None else np.asarray(g) for g in grad_input],
                    [None if g is None else np.asarray(g) for g in grad_output]))
        return replace(grad_input) if replace else None
    return hook


def _assert_same_grads(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=0, atol=1e-10)


def _layer_pair(torch, kind):
    """The same float64 layer in both libraries (weights copied from torch's), and an input for it."""
    if kind == "linear":
        t_layer, layer, shape = torch.nn.Linear(3, 2), nn.Linear(3, 2, dtype=np.float64), (4, 3)
    else:
        t_layer, layer, shape = torch.nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64), \
            (2, 2, 5, 5)
    t_layer = t_layer.double()
    layer.load_state_dict({k: sj.Tensor(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    return layer, t_layer, np.random.default_rng(0).normal(size=shape)


@pytest.mark.parametrize("kind", ["linear", "conv2d"])
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_hook_matches_torch(torch, kind, input_requires_grad):
    layer, t_layer, x = _layer_pair(torch, kind)
    log, t_log = [], []
    layer.register_full_backward_hook(_recorder(log))
    t_layer.register_full_backward_hook(lambda m, gi, go: t_log.append((gi, go)))
    out = layer(sj.Tensor(x, requires_grad=input_requires_grad))
    upstream = np.random.default_rng(1).normal(size=out.shape)
    (out.tanh() * sj.Tensor(upstream)).sum().backward()
    with contextlib.nullcontext() if input_requires_grad else pytest.warns(UserWarning):
        tx = torch.tensor(x, requires_grad=input_requires_grad)
        (t_layer(tx).tanh() * torch.tensor(upstream)).sum().backward()
    (grad_input, grad_output), (t_grad_input, t_grad_output) = log[0], t_log[0]
    assert len(log) == len(t_log) == 1
    _assert_same_grads(grad_input, t_grad_input)
    _assert_same_grads(grad_output, t_grad_output)
    np.testing.assert_allclose(np.asarray(layer.weight.grad), t_layer.weight.grad.numpy(), rtol=0, atol=1e-10)


class _Two(nn.Module):
    """Two tensor inputs around a float, two outputs: (a·b·k, a + b)."""

    def forward(self, a, k, b):
        return a * b * k, a + b


def _two_inputs(lib, module, replace):
    a = lib.ones(2, dtype=lib.float64, requires_grad=True)
    b = lib.full((2,), 3.0, dtype=lib.float64, requires_grad=True)
    log = []
    module.register_full_backward_hook(_recorder(log, replace))
    first, _ = module(a, 2.0, b)
    first.sum().backward()
    return log[0], np.asarray(a.grad), np.asarray(b.grad)


def test_several_inputs_unused_output_and_replacement_match_torch(torch):
    class TorchTwo(torch.nn.Module):
        def forward(self, a, k, b):
            return a * b * k, a + b

    def replace(grad_input):
        return grad_input[0] * 0, None, grad_input[2] * 2

    ours, theirs = _two_inputs(sj, _Two(), replace), _two_inputs(torch, TorchTwo(), replace)
    (grad_input, grad_output), a_grad, b_grad = ours
    (t_grad_input, t_grad_output), t_a_grad, t_b_grad = theirs
    assert grad_input[1] is None and grad_output[1] is None
    for ours_, theirs_ in zip(grad_input + grad_output + [a_grad, b_grad],
                              t_grad_input + t_grad_output + [t_a_grad, t_b_grad]):
        assert (ours_ is None) == (theirs_ is None)
        if ours_ is not None:
            np.testing.assert_array_equal(ours_, theirs_)
    np.testing.assert_array_equal(b_grad, [4.0, 4.0])


def test_hook_leaves_gradients_alone_when_it_returns_none():
    sj.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = sj.randn(5, 3, requires_grad=True)
    net(x).sum().backward()
    plain = [np.asarray(p.grad).copy() for p in net.parameters()] + [np.asarray(x.grad).copy()]
    net.zero_grad()
    x.grad = None
    log = []
    for layer in net:
        layer.register_full_backward_hook(_recorder(log))
    net(x).sum().backward()
    hooked = [np.asarray(p.grad) for p in net.parameters()] + [np.asarray(x.grad)]
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a, b)
    assert len(log) == 3
    np.testing.assert_array_equal(log[-1][0][0], plain[-1])  # the first layer's grad_input is x.grad


def test_hook_errors_name_what_was_expected():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: gi[0])
    with pytest.raises(ValueError, match="tuple of 1 gradients"):
        layer(sj.randn(2, 3, requires_grad=True)).sum().backward()
    frozen = nn.Linear(3, 2)
    frozen.register_full_backward_hook(lambda m, gi, go: (go[0],))
    with pytest.raises(RuntimeError, match="no input requires grad"):
        frozen(sj.randn(2, 3)).sum().backward()
    mixed = _Two()
    mixed.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(TypeError, match="share one dtype"):
        mixed(sj.ones(2, requires_grad=True), 1.0, sj.ones(2, dtype=np.float64, requires_grad=True))



@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_hook_runs_once_per_backward_pass(input_requires_grad):
    layer, log = nn.Linear(3, 2), []
    layer.register_full_backward_hook(_recorder(log))
    out = layer(sj.randn(4, 3, requires_grad=input_requires_grad)).sum()
    out.backward(retain_graph=True)
    out.backward()
    assert len(log) == 2
    np.testing.assert_array_equal(log[0][1][0], log[1][1][0])
