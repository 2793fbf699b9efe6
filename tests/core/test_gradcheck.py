"""Every core op passes a float64 central-difference gradient check."""

import numpy as np
import pytest
from op_table import CASES, make_inputs

import shenjing as sj
from shenjing.autograd import GradcheckError, gradcheck


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(case, device):
    _, fn, _, shapes, domain = case
    inputs = [sj.tensor(a, requires_grad=True, device=device) for a in make_inputs(shapes, domain)]
    assert gradcheck(fn, inputs)


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(sj.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.x  # should be 2x

    x = sj.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(WrongSquare.apply, [x])


def test_gradcheck_runs_in_float64_for_float32_inputs():
    seen = []

    def fn(x):
        seen.append(x.dtype)
        return x * x

    gradcheck(fn, [sj.tensor([1.0, 2.0], requires_grad=True)])
    assert set(seen) == {np.dtype("float64")}
