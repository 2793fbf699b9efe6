"""Fixtures of the optimiser tests."""

import pytest


@pytest.fixture
def torch64(torch):
    """torch with float64 as default dtype, so its scalar state (step, mu_product) is float64 too."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)
