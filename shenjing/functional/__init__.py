"""Differentiable functions, one file per family (DESIGN.md §1).

Public as ``shenjing.nn.functional`` (``F``); Tensor's operators and methods are
bound to these functions here, when the package initialises.
"""

from . import activation as _activation
from . import attention as _attention
from . import capsule as _capsule
from . import conv as _conv
from . import conv_transpose as _conv_transpose
from . import distance as _distance
from . import dropout as _dropout
from . import elementwise as _elementwise
from . import embedding as _embedding
from . import linalg as _linalg
from . import loss as _loss
from . import norm as _norm
from . import pool as _pool
from . import recurrent as _recurrent
from . import reduction as _reduction
from . import shape as _shape
from . import upsample as _upsample
from ._bind import bind_tensor_methods
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .capsule import *  # noqa: F403
from .conv import *  # noqa: F403
from .conv_transpose import *  # noqa: F403
from .distance import *  # noqa: F403
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
from .upsample import *  # noqa: F403

__all__ = [
    name
    for family in (_activation, _attention, _capsule, _conv, _conv_transpose, _distance, _dropout, _elementwise,
                   _embedding, _linalg, _loss, _norm, _pool, _recurrent, _reduction, _shape,
                   _upsample)
    for name in family.__all__
]

bind_tensor_methods()
