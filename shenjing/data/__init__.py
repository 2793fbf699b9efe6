"""Datasets, samplers, the DataLoader, transforms and bundled data (DESIGN.md §5).

``shenjing.data.datasets`` (digits, breast_cancer, mnist1d, moons, spirals, xor) and
``shenjing.data.transforms`` are submodules; scikit-learn and mnist1d load only when a dataset is asked for.
"""

from . import datasets, transforms
from .dataset import *  # noqa: F403
from .loader import *  # noqa: F403
from ._worker import WorkerInfo, get_worker_info
from .sampler import *  # noqa: F403
from .dataset import __all__ as _dataset_all
from .loader import __all__ as _loader_all
from .sampler import __all__ as _sampler_all

__all__ = _dataset_all + _loader_all + _sampler_all + ["WorkerInfo", "get_worker_info", "transforms", "datasets"]
