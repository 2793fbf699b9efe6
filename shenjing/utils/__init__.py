"""PyTorch's ``torch.utils.data`` path: ``shenjing.utils.data`` is :mod:`shenjing.data` itself, so ported
code that spells the full path (``torch.utils.data.DataLoader``) runs unchanged."""

import sys

from .. import data

sys.modules[f"{__name__}.data"] = data

__all__ = ["data"]
