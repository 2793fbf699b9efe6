"""Plots and animations (matplotlib, an optional extra, is imported only when a plot is drawn)."""

from .metrics import *  # noqa: F403
from .optim import *  # noqa: F403
from .training import *  # noqa: F403
