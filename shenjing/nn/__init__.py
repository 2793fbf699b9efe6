"""Layers and models: ``Module``, ``Parameter``, containers and every layer of DESIGN.md §3."""

from . import functional, init, parallel, utils
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .containers import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .embedding import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import Module, Parameter
from .multiexit import *  # noqa: F403
from .norm import *  # noqa: F403
from .pool import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .summary import *  # noqa: F403
from .upsample import *  # noqa: F403
