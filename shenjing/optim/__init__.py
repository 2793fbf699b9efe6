"""Optimisers and learning-rate schedules (DESIGN.md §4): ``shenjing.optim``.

PyTorch's optimisers with PyTorch's defaults and update formulas, the notes' extras
(DeltaBarDelta, Newton, ConjugateGradient, SWATS), ``lr_scheduler``, ``swa_utils`` and ``ema``.
"""

from . import lr_scheduler, swa_utils
from .adam import *  # noqa: F403
from .adaptive import *  # noqa: F403
from .ema import *  # noqa: F403
from .optimizer import *  # noqa: F403
from .rprop import *  # noqa: F403
from .second_order import *  # noqa: F403
from .sgd import *  # noqa: F403
