"""Shared fixtures: the optional PyTorch oracle and the devices to run on."""

import pytest

from shenjing import _backend

DEVICES = ["cpu"] + (["cuda"] if _backend.cuda_available() else [])


@pytest.fixture
def torch():
    """PyTorch as a test oracle; the test is skipped when it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(params=DEVICES)
def device(request):
    """Every device shenjing can use here: 'cpu', plus 'cuda' when CuPy sees a GPU."""
    return request.param
