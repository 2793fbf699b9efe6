"""Diagnostics (DESIGN.md §10.4): what is wrong with a network, in the notes' terms — per-layer
statistics while training (:class:`Monitor`), the first checks before tuning
(:func:`sanity_check`) and the loss surface's sharpness (:func:`sharpness`)."""

from .monitor import Monitor
from .sanity import Check, SanityReport, sanity_check
from .sharpness import hvp, sharpness

__all__ = ["Monitor", "sanity_check", "SanityReport", "Check", "sharpness", "hvp"]
