"""Process memory: glibc's malloc keeps the memory a step frees for the next one."""

import resource
import sys

import numpy as np
import pytest

import shenjing as sj
from shenjing import _memory

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")


def _faults_per_cycle(cycles: int = 20) -> float:
    """Minor page faults per allocate-write-free cycle of an 8 MiB array (a training step in small)."""
    np.ones(1 << 21, np.float32)  # settle the heap before counting
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(cycles):
        np.ones(1 << 21, np.float32)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / cycles


@linux_only
def test_retained_memory_is_reused_without_page_faults():
    try:
        assert sj.retain_freed_memory(False) is True
        returned_to_os = _faults_per_cycle()
        assert sj.retain_freed_memory(True) is True
        retained = _faults_per_cycle()
    finally:
        sj.retain_freed_memory(True)
    assert retained < 1 < returned_to_os


@pytest.mark.parametrize("value,called", [(None, True), ("1", True), ("0", False)])
def test_import_switch(monkeypatch, value, called):
    calls = []
    monkeypatch.setattr(_memory, "retain_freed_memory", lambda enabled=True: calls.append(enabled))
    if value is None:
        monkeypatch.delenv(_memory.ENV_SWITCH, raising=False)
    else:
        monkeypatch.setenv(_memory.ENV_SWITCH, value)
    _memory.retain_on_import()
    assert calls == ([True] if called else [])


def test_other_platforms_change_nothing(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert sj.retain_freed_memory() is False
