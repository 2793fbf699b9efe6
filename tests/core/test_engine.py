"""The autograd engine: accumulation, graph freeing, no_grad, autograd.grad, anomaly detection."""

import gc
import weakref

import numpy as np
import pytest
from helpers import RawCube

import shenjing as sj
from shenjing.tensor import queue_callback


def test_backward_through_10000_ops_has_no_recursion_limit():
    x = sj.tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**10_000, rtol=1e-9)


def test_deep_graph_is_freed_without_backward():
    x = sj.tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_intermediates_are_released_after_backward_over_many_iterations():
    w = sj.tensor(np.random.default_rng(0).standard_normal((8, 4)), requires_grad=True)
    x = sj.tensor(np.random.default_rng(1).standard_normal((16, 8)))
    refs = []
    for _ in range(1000):
        h = sj.tanh(x @ w)
        loss = (h * h).mean()
        refs.append(weakref.ref(h))
        loss.backward()
        with sj.no_grad():
            w.data -= 0.01 * w.grad.data
        w.grad = None
        del h, loss
    alive = sum(r() is not None for r in refs)
    assert alive == 0, f"{alive} intermediate tensors still alive"


def test_graph_is_freed_after_backward_and_second_backward_errors():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_accumulates():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * x.numpy())


def test_gradient_accumulates_over_calls_and_diamonds():
    x = sj.tensor([3.0], requires_grad=True)
    a, b = x * 2, x * 5
    (a * b).sum().backward()  # d/dx 10 x^2 = 20 x
    np.testing.assert_allclose(x.grad.numpy(), [60.0])
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [61.0])


def test_leaves_sharing_an_upstream_gradient_get_independent_arrays():
    a = sj.tensor([1.0, 2.0], requires_grad=True)
    b = sj.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_broadcast_gradient_is_writable():
    a = sj.tensor(np.ones((3, 4)), requires_grad=True)
    a.sum().backward()
    a.grad.data *= 2  # must not raise on a read-only broadcast view
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 2.0))


def test_no_grad_records_nothing_and_works_as_decorator():
    x = sj.tensor([1.0], requires_grad=True)
    with sj.no_grad():
        y = x * 2
    assert y.grad_fn is None and not y.requires_grad

    @sj.no_grad()
    def f(t):
        return t * 3

    assert f(x).grad_fn is None
    assert sj.is_grad_enabled()
    z = x * 2
    assert z.grad_fn is not None and type(z.grad_fn).__name__ == "Mul"


def test_detach_cuts_the_graph():
    x = sj.tensor([2.0], requires_grad=True)
    y = (x * x).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0])


def test_autograd_grad_leaves_dot_grad_untouched():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    w = sj.tensor([3.0, -1.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh = sj.autograd.grad(y, [x, h])
    np.testing.assert_allclose(gx.numpy(), 2 * (x.numpy() * w.numpy()) * w.numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input():
    x = sj.tensor([1.0], requires_grad=True)
    unused = sj.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(ValueError, match="allow_unused"):
        sj.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = sj.autograd.grad(y, [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_retain_grad_keeps_non_leaf_gradient():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())


def test_backward_needs_grad_for_non_scalar():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="explicit grad"):
        (x * 2).backward()
    (x * 2).backward(sj.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_custom_function_like_torch():
    x = sj.tensor([2.0], requires_grad=True)
    RawCube.apply(x).sum().backward()
    assert x.grad.item() == 12.0
    assert sj.autograd.gradcheck(RawCube.apply, [sj.tensor([0.3, -1.2], dtype=sj.float64, requires_grad=True)])


def test_detect_anomaly_names_forward_op():
    x = sj.tensor([-1.0, 1.0], requires_grad=True)
    with sj.detect_anomaly(), pytest.raises(RuntimeError, match="Sqrt.*forward"):
        with np.errstate(invalid="ignore"):
            sj.sqrt(x)


def test_detect_anomaly_names_backward_op():
    x = sj.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        with sj.detect_anomaly():
            y = sj.sqrt(x).sum()  # finite forward, infinite derivative at 0
            with pytest.raises(FloatingPointError, match="Sqrt.*backward"):
                y.backward()


def test_grad_dtype_follows_the_leaf():
    x = sj.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = (x.double() * np.float64(3.0)).sum()
    y.backward()
    assert x.grad.dtype == np.float32


def test_post_accumulate_grad_hook_sees_each_leafs_whole_gradient_once_per_pass():
    w = sj.tensor([1.0, 2.0], requires_grad=True, dtype=sj.float64)
    b = sj.tensor([0.5, 0.5], requires_grad=True, dtype=sj.float64)
    seen, order = [], []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    b.register_post_accumulate_grad_hook(lambda t: order.append("b"))
    def loss():
        y = (w * w).sum() + (w * 3.0).sum() + (w * b).sum()   # w reaches the loss through three nodes
        queue_callback(lambda: order.append("end"))
        return y

    loss().backward()
    np.testing.assert_array_equal(seen[0], 2 * w.numpy() + 3 + b.numpy())
    loss().backward()   # accumulates: the hook sees the sum of both passes
    np.testing.assert_array_equal(seen[1], 2 * (2 * w.numpy() + 3 + b.numpy()))
    assert len(seen) == 2 and order == ["b", "end", "b", "end"]


def test_post_accumulate_grad_hook_removal_grad_and_non_leaves():
    x = sj.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_post_accumulate_grad_hook(calls.append)
    sj.autograd.grad((x * x).sum(), [x])   # autograd.grad touches no .grad: no hook
    assert calls == []
    (x * x).sum().backward()
    assert calls == [x]
    handle.remove()
    (x * x).sum().backward()
    assert calls == [x]
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).register_post_accumulate_grad_hook(calls.append)

def test_apply_hooks_observe_every_op_call_with_or_without_grad():
    from shenjing.autograd import apply_hooks

    seen = []

    def hook(cls, args, kwargs, out):
        seen.append((cls.__name__, out))

    x = sj.tensor([1.0, -2.0, 3.0], requires_grad=True)
    apply_hooks.append(hook)
    try:
        y = (x * 2.0).sum()
        with sj.no_grad():
            z = sj.exp(x)
        index = x.argmax()
    finally:
        apply_hooks.remove(hook)
    assert [name for name, _ in seen] == ["Mul", "Sum", "Exp", "ArgExtreme"]
    assert seen[1][1] is y and seen[2][1] is z and seen[3][1] is index
    assert y.requires_grad and not z.requires_grad
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    (x * 1.0).sum()
    assert len(seen) == 4  # removed hooks see nothing


@pytest.mark.parametrize("op", [
    lambda x: x > 0, lambda x: x == x, lambda x: (x > 0) & (x < 2), lambda x: ~(x > 0), lambda x: x.argmax(0),
    lambda x: x.max(0).indices,
    lambda x: x.topk(2).indices, lambda x: x.long(), lambda x: x.isnan(), lambda x: x.all(),
    lambda x: sj.nn.functional.one_hot(x.long().abs(), 5),
])
def test_index_and_boolean_results_stay_outside_the_graph(op):
    x = sj.tensor([1.5, -2.0, 3.0, 0.0], requires_grad=True)
    out = op(x)
    assert not out.requires_grad and out.grad_fn is None
