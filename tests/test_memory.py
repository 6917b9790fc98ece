"""Memory probes: the fast statm reader agrees with psutil, survives fork, never raises."""

from __future__ import annotations

import os
import sys

import psutil
import pytest

from wdbx_notebook import _memory

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")


@linux_only
def test_statm_probe_is_the_default_on_linux():
    assert _memory.rss_probe() is _memory._statm_rss


@linux_only
def test_statm_and_psutil_agree():
    statm = _memory._statm_rss()
    rss = psutil.Process().memory_info().rss
    assert abs(statm - rss) < 4 * 2**20


@linux_only
def test_statm_follows_the_process_after_fork():
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: grow by 100 MiB and compare its own readings
        try:
            block = bytearray(100 * 2**20)
            block[::4096] = b"x" * len(block[::4096])
            agree = abs(_memory._statm_rss() - psutil.Process().memory_info().rss) < 8 * 2**20
            os.write(write_end, b"1" if agree else b"0")
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def test_unknown_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(_memory, "_statm_fd", 987_654)  # a closed descriptor
    assert _memory._statm_rss() == _memory.UNKNOWN

    class Broken:
        def memory_info(self) -> None:
            raise psutil.AccessDenied(pid=os.getpid())

    monkeypatch.setattr(_memory, "_psutil_process", Broken())
    assert _memory._psutil_rss() == _memory.UNKNOWN


def test_current_rss_bytes_is_a_positive_int():
    value = _memory.current_rss_bytes()
    assert isinstance(value, int) and value > 0


def test_tracemalloc_probe_is_unknown_when_tracing_stops():
    import tracemalloc

    was_tracing = tracemalloc.is_tracing()
    probe = _memory.tracemalloc_probe()
    assert tracemalloc.is_tracing()
    assert probe() >= 0
    tracemalloc.stop()
    assert probe() == _memory.UNKNOWN
    if was_tracing:
        tracemalloc.start()
