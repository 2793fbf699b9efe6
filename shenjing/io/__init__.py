"""shenjing.io: ``save``/``load`` of state dicts as .npz or .safetensors (atomic writes, never pickle)."""

from .serialization import *  # noqa: F403
from .serialization import __all__
