"""Process memory: keep the memory a training step frees for the next step (glibc's malloc).

Every training step allocates and frees the same large arrays (activations, gradients, column
matrices). By default glibc maps each array above a threshold afresh and gives the top of its
heap back to the OS whenever more than a few MiB lie free there, so every step pays page faults
and the kernel zeroing those pages again. Measured on LeNet-5 at batch 128 in a process of its
own: about 4,500 page faults per step and a quarter of the step time; the conv benchmark model
about 8,000 faults and a seventh of its time. Raising the two thresholds makes the heap serve
each step from the memory the previous one freed, as a framework's caching allocator does.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``mallopt`` parameters (glibc's malloc.h) and glibc's static defaults for them.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
GLIBC_DEFAULT_THRESHOLD = 128 << 10

#: Arrays up to this size come from the heap (glibc's own ceiling for its adaptive threshold).
MMAP_THRESHOLD = 32 << 20
#: Freed heap kept for reuse before the top is returned to the OS.
TRIM_THRESHOLD = 256 << 20

ENV_SWITCH = "SHENJING_RETAIN_MEMORY"


def retain_freed_memory(enabled: bool = True) -> bool:
    """Let glibc's malloc keep freed memory for reuse (``enabled``) or restore its static defaults.

    Enabled: arrays up to 32 MiB come from the heap instead of fresh mappings, and up to 256 MiB
    of freed heap is kept rather than returned to the OS. This applies to the whole process, so a
    library sharing it (PyTorch in the benchmarks) gains as well. shenjing enables it on import
    unless the environment sets ``SHENJING_RETAIN_MEMORY=0``.

    Returns True when the C library took the settings, False where it has no ``mallopt`` (not
    Linux with glibc), in which case nothing changes.

    >>> import shenjing as sj
    >>> sj.retain_freed_memory()  # on Linux with glibc
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mmap, trim = (MMAP_THRESHOLD, TRIM_THRESHOLD) if enabled else (GLIBC_DEFAULT_THRESHOLD,) * 2
    return bool(mallopt(M_MMAP_THRESHOLD, mmap)) and bool(mallopt(M_TRIM_THRESHOLD, trim))


def retain_on_import() -> None:
    """Enable :func:`retain_freed_memory` unless ``SHENJING_RETAIN_MEMORY=0``."""
    if os.environ.get(ENV_SWITCH, "1") != "0":
        retain_freed_memory()
