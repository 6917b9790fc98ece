"""Shared fixtures: profilers on a fake clock, and a clean shared profiler per test."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from wdbx_notebook import PerformanceProfiler, get_performance_profiler
from wdbx_notebook._clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_ns=1_000_000_000)


@pytest.fixture
def profiler(clock: FakeClock) -> PerformanceProfiler:
    """A time-only profiler on a fake clock: durations are exactly what a test says."""
    return PerformanceProfiler(clock=clock, track_memory=False)


@pytest.fixture
def timed_op(profiler: PerformanceProfiler, clock: FakeClock) -> Callable[..., None]:
    """``timed_op(name, durations_ns, fail=set())`` records one call per duration."""

    def record(name: str, durations_ns: list[int], fail: frozenset[int] = frozenset()) -> None:
        @profiler.profile(name)
        def call(index: int, duration: int) -> None:
            clock.advance_ns(duration)
            if index in fail:
                raise ValueError(f"call {index} failed")

        for index, duration in enumerate(durations_ns):
            with contextlib.suppress(ValueError):
                call(index, duration)
            clock.advance_ns(1_000)  # a gap between calls

    return record


@pytest.fixture
def shared_profiler() -> Iterator[PerformanceProfiler]:
    """The shared profiler, emptied before and after the test."""
    shared = get_performance_profiler()
    shared.reset_statistics()
    shared.enable()
    yield shared
    shared.reset_statistics()
    shared.enable()


def session_shell() -> object:
    """The test session's one IPython shell, whichever test file asks first.

    IPython's ``globalipapp.start_ipython()`` (and ``get_ipython()``) return the
    shell only on their first call and ``None`` after, so every file that needs
    the shell asks here.
    """
    from IPython.terminal.interactiveshell import TerminalInteractiveShell
    from IPython.testing.globalipapp import start_ipython

    started = start_ipython()
    return started if started is not None else TerminalInteractiveShell.instance()
