"""Memory probes: how much memory the process holds right now, in bytes.

A probe is a zero-argument callable returning a byte count, or :data:`UNKNOWN`
(-1) when it cannot tell: a probe never raises into user code; the call is
then recorded without a memory figure. (A sentinel int rather than ``None``
keeps the profiler's record columns plain int64 arrays.)

* ``rss``: resident set size. On Linux it is read with ``os.pread`` from a
  kept-open ``/proc/self/statm`` descriptor (about 0.5 us); elsewhere with
  ``psutil.Process().memory_info().rss`` (about 7 us).
* ``tracemalloc``: bytes currently allocated on the Python heap, as traced by
  :mod:`tracemalloc`. Exact for Python objects but it slows allocation-heavy
  code several times, so it is opt-in only.
"""

from __future__ import annotations

import contextlib
import os
import tracemalloc
from collections.abc import Callable

MemoryProbe = Callable[[], int]

#: What a probe returns when it cannot read memory.
UNKNOWN = -1

_STATM_PATH = "/proc/self/statm"
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_statm_fd: int | None = None


def _open_statm() -> None:
    """(Re)open ``/proc/self/statm``; a child after ``fork`` must not read its parent's."""
    global _statm_fd
    old, _statm_fd = _statm_fd, None
    if old is not None:
        with contextlib.suppress(OSError):
            os.close(old)
    try:
        _statm_fd = os.open(_STATM_PATH, os.O_RDONLY)
    except OSError:
        _statm_fd = None


_open_statm()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_open_statm)


def _statm_rss() -> int:
    try:
        return int(os.pread(_statm_fd, 64, 0).split(None, 2)[1]) * _PAGE_SIZE  # type: ignore[arg-type]
    except Exception:
        return UNKNOWN


_psutil_process = None


def _psutil_rss() -> int:
    global _psutil_process
    try:
        if _psutil_process is None:
            import psutil

            _psutil_process = psutil.Process()
        return int(_psutil_process.memory_info().rss)
    except Exception:  # psutil.AccessDenied, NoSuchProcess, missing psutil: unknown
        return UNKNOWN


def _tracemalloc_current() -> int:
    try:
        if not tracemalloc.is_tracing():
            return UNKNOWN
        return tracemalloc.get_traced_memory()[0]
    except Exception:
        return UNKNOWN


def rss_probe() -> MemoryProbe:
    """The fastest working resident-memory probe on this platform."""
    if _statm_fd is not None and _statm_rss() != UNKNOWN:
        return _statm_rss
    return _psutil_rss


def tracemalloc_probe() -> MemoryProbe:
    """The Python-heap probe; starts :mod:`tracemalloc` if it is not tracing yet."""
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    return _tracemalloc_current


def current_rss_bytes() -> int | None:
    """The process's resident memory now, in bytes, or ``None`` when unknown."""
    value = rss_probe()()
    return None if value == UNKNOWN else value
