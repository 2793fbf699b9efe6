"""Training: the Trainer loop, callbacks, History, checkpoints, the learning-rate sweep and adversarial
training (DESIGN.md §5)."""

from . import adversarial
from .callbacks import *  # noqa: F403
from .diagnostics import Diagnostics
from .checkpoint import load_state, save_state
from .history import *  # noqa: F403
from .lr_finder import *  # noqa: F403
from .trainer import *  # noqa: F403
from .callbacks import __all__ as _callbacks_all
from .history import __all__ as _history_all
from .lr_finder import __all__ as _lr_all
from .trainer import __all__ as _trainer_all

__all__ = _callbacks_all + _history_all + _lr_all + _trainer_all + ["adversarial", "load_state", "save_state",
                                                                   "Diagnostics"]
