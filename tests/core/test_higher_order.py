"""The engine under create_graph=True: recorded gradients, backward(inputs=), tensor hooks,
multi-output Functions, and first-order Functions that refuse a second derivative."""

import numpy as np
import pytest

from helpers import RawCube

import shenjing as sj
from shenjing.autograd import Function, grad


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")
def test_backward_create_graph_leaves_a_differentiable_grad(torch):
    a = np.array([0.3, -1.1, 2.0])
    x = sj.tensor(a, requires_grad=True)
    (x.sin() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    first = x.grad
    (first * first).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    (t.sin() * t).sum().backward(create_graph=True)  # torch warns of a grad <-> graph cycle here
    tf = t.grad.clone()
    (tf * tf).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), t.grad.detach().numpy(), rtol=1e-12)


def test_retain_graph_defaults_to_create_graph():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    grad(y, x, create_graph=True)
    (g,) = grad(y, x)  # the graph was kept
    np.testing.assert_allclose(np.asarray(g), [3.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        grad(y, x)


def test_backward_inputs_accumulates_only_into_them():
    x, w = sj.tensor([1.0, 2.0], requires_grad=True), sj.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(np.asarray(w.grad), [1.0, 2.0])


def test_register_hook_sees_and_replaces_gradients(torch):
    seen = []
    x = sj.tensor([1.0, -2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: seen.append(np.asarray(g).copy()) or g * 2)
    handle = x.register_hook(lambda g: g + 1)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], [6.0, -12.0])
    np.testing.assert_allclose(np.asarray(x.grad), [37.0, -71.0])  # 2·6·3 + 1, 2·(-12)·3 + 1
    handle.remove()
    x.grad = None
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [1.0, 1.0])


class SinCos(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.sin(x), np.cos(x)

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        return grad_sin * ctx.x.cos() - grad_cos * ctx.x.sin() if isinstance(ctx.x, sj.Tensor) else \
            grad_sin * np.cos(ctx.x) - grad_cos * np.sin(ctx.x)


def test_multi_output_function_gets_one_gradient_per_output_and_zeros_for_unused():
    x = sj.tensor([0.5, 1.5], requires_grad=True)
    s, c = SinCos.apply(x)
    (s * 2).sum().backward()  # c unused: its gradient is zero
    np.testing.assert_allclose(np.asarray(x.grad), 2 * np.cos([0.5, 1.5]))
    x.grad = None
    s, c = SinCos.apply(x)
    (s + c).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), np.cos([0.5, 1.5]) - np.sin([0.5, 1.5]))


def test_raw_array_function_stays_first_order_and_names_itself():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad(RawCube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(np.asarray(g), [3.0, 12.0])  # the first derivative is fine
    with pytest.raises(RuntimeError, match="RawCube"):
        grad(g.sum(), x)


def test_first_order_path_keeps_raw_arrays_and_no_graph():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_an_array_that_is_two_different_inputs_is_never_guessed():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((x * x.detach()).sum(), x, create_graph=True)  # x.detach() shares x's array
    np.testing.assert_allclose(np.asarray(g), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="Mul"):
        grad(g.sum(), x)


def test_a_subclass_that_overrides_backward_does_not_inherit_the_declaration():
    class Cube(RawCube):
        differentiable_backward = True  # its backward uses operators only: differentiable as declared

    class Rewritten(Cube):
        @staticmethod
        def backward(ctx, grad):
            return 3 * np.square(ctx.x) * grad  # raw arrays again: must not pass for differentiable

    x = sj.tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(np.asarray(grad(g.sum(), x)[0]), [6.0, 12.0])
    (g,) = grad(Rewritten.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="Rewritten"):
        grad(g.sum(), x)
