"""Assertions shared by the tests."""

import numpy as np

from shenjing import Tensor, _backend
from shenjing.autograd import Function

TOL = {np.dtype("float64"): dict(rtol=1e-10, atol=1e-12), np.dtype("float32"): dict(rtol=1e-5, atol=1e-6)}


def to_np(x):
    """A NumPy array from a shenjing Tensor, a torch tensor, a CuPy array or anything array-like."""
    if type(x).__module__.startswith("torch"):
        return x.detach().cpu().numpy()
    if isinstance(x, Tensor):
        return x.numpy()
    return _backend.to_numpy(x) if hasattr(x, "shape") else np.asarray(x)


def assert_close(actual, expected, dtype=None, **kw):
    """Parity check at the project's tolerance: 1e-10 relative in float64, 1e-5 in float32."""
    a, e = to_np(actual), to_np(expected)
    dtype = np.dtype(dtype) if dtype is not None else a.dtype
    tol = dict(TOL.get(dtype, TOL[np.dtype("float32")]))
    tol.update(kw)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, **tol)


def load_example(name: str):
    """The script ``examples/<name>.py`` imported as a module (its ``main(argv)`` runs it)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RawCube(Function):
    """x³ with a raw-array backward: a first-order user Function."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x**3

    @staticmethod
    def backward(ctx, grad):
        return 3 * ctx.x**2 * grad
