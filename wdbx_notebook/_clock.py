"""The one clock the core reads.

Every duration the profiler records comes from :data:`now_ns`, a monotonic
nanosecond counter (``time.perf_counter_ns``). A :class:`PerformanceProfiler`
takes its clock at construction (``PerformanceProfiler(clock=...)``), so tests
can hand it a fake clock and assert exact numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]

#: Monotonic clock in integer nanoseconds; the default for every profiler.
now_ns: Clock = time.perf_counter_ns

#: Wall clock in integer nanoseconds since the epoch, read once per profiler
#: to anchor monotonic readings to calendar time.
wall_ns: Clock = time.time_ns


def resolution_ns() -> float:
    """The smallest step the default clock can show, in nanoseconds."""
    return time.get_clock_info("perf_counter").resolution * 1e9


class FakeClock:
    """A clock for tests: returns ``now`` and moves only when told to.

    >>> clock = FakeClock()
    >>> clock.advance_ms(2.5); clock()
    2500000
    """

    def __init__(self, start_ns: int = 0) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        return self.now

    def advance_ns(self, ns: int) -> None:
        self.now += ns

    def advance_ms(self, ms: float) -> None:
        self.now += round(ms * 1_000_000)
