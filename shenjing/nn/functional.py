"""``shenjing.nn.functional`` (imported as ``F``): the differentiable functions of ``shenjing.functional``."""

from ..functional import *  # noqa: F403
from ..functional import __all__  # noqa: F401
