"""shenjing.classic: the notes' hand-derived BP network, trained without autograd (seed 000 §2)."""

from .bp import *
