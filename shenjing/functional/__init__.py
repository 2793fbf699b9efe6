"""Differentiable functions, one file per family (DESIGN.md §1).

Public as ``shenjing.nn.functional`` (``F``); Tensor's operators and methods are
bound to these functions here, when the package initialises.
"""

from . import (
    activation, attention, capsule, conv, dropout, elementwise, embedding, linalg, loss, norm, pool,
    recurrent, reduction, shape,
)
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .capsule import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .embedding import *  # noqa: F403
from .linalg import *  # noqa: F403
from .loss import *  # noqa: F403
from .norm import *  # noqa: F403
from .pool import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .reduction import *  # noqa: F403
from .shape import *  # noqa: F403
from ._bind import bind_tensor_methods

__all__ = [
    name
    for module in (activation, attention, capsule, conv, dropout, elementwise, embedding, linalg, loss, norm,
                   pool, recurrent, reduction, shape)
    for name in module.__all__
]

bind_tensor_methods()
