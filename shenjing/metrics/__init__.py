"""Evaluation metrics (seed 004 §1, §4.1, §4.2.2): classification, ranking, detection, information theory,
and streaming accumulators for training loops.

Metrics take NumPy arrays, lists or shenjing Tensors and return Python floats or NumPy arrays; names,
argument order and ``average=`` semantics follow scikit-learn.
"""

from .classification import *  # noqa: F403
from .detection import *  # noqa: F403
from .information import *  # noqa: F403
from .ranking import *  # noqa: F403
from .streaming import *  # noqa: F403
