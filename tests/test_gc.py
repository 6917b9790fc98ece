"""The GC pause recorder: one gc.callbacks hook while a profiler exists, recent
collections with their generation and the objects they collected."""

from __future__ import annotations

import gc
import time

import numpy as np

from wdbx_notebook import PerformanceProfiler, _gc
from wdbx_notebook._clock import FakeClock


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_profiler_installs_the_hook_and_collections_are_recorded() -> None:
    profiler = PerformanceProfiler()
    assert _gc.installed()
    assert gc.callbacks.count(_gc._callback) == 1
    PerformanceProfiler()  # a second profiler does not add a second hook
    assert gc.callbacks.count(_gc._callback) == 1
    before = time.perf_counter_ns()
    for _ in range(100):
        _Cycle()
    collected = gc.collect()
    after = time.perf_counter_ns()
    recorded = [c for c in _gc.collections() if c[0] >= before and c[1] <= after]
    assert recorded, "gc.collect() was not recorded"
    start, end, generation, count = recorded[-1]
    assert generation == 2  # gc.collect() collects the oldest generation
    assert count == collected >= 100
    assert before <= start <= end <= after
    del profiler


def test_pauses_are_the_recorded_collections_as_arrays() -> None:
    profiler = PerformanceProfiler()  # held: the hook stays while a profiler exists
    gc.collect()
    pauses = _gc.pauses()
    assert pauses is not None
    starts, ends = pauses
    assert starts.dtype == np.int64 and ends.dtype == np.int64
    # the ring and the list keep the same collections (the ring in slot order)
    recorded = sorted((s, e) for s, e, _, _ in _gc.collections())
    assert sorted(zip(starts.tolist(), ends.tolist(), strict=True)) == recorded
    assert (ends >= starts).all()
    del profiler


def test_install_and_uninstall_are_counted() -> None:
    _gc.install()
    _gc.install()
    _gc.uninstall()
    assert _gc.installed()
    _gc.uninstall()
    # other profilers of this test session may still hold it; a balanced pair never removes
    # a hook someone else installed, and once nobody holds it the hook is gone
    users = _gc._users
    assert _gc.installed() == (users > 0)


def test_a_fake_clock_profiler_attributes_no_pause() -> None:
    clock = FakeClock(1_000)
    profiler = PerformanceProfiler(clock=clock)

    @profiler.profile("collect")
    def collect() -> None:
        clock.advance_ms(5)
        gc.collect()

    collect()
    calls = profiler.snapshot().calls("collect")
    assert calls.gc_ns.tolist() == [-1]  # unknown, not zero
    assert calls.duration_ns.tolist() == [5_000_000]


def test_a_collecting_call_is_charged_its_pause() -> None:
    profiler = PerformanceProfiler()

    @profiler.profile("collect")
    def collect() -> None:
        for _ in range(50):
            _Cycle()
        gc.collect()

    collect()
    calls = profiler.snapshot().calls("collect")
    start = int(calls.start_ns[0]) - profiler.wall_offset_ns
    end = int(calls.end_ns[0]) - profiler.wall_offset_ns
    inside = [
        min(e, end) - max(s, start) for s, e, _, _ in _gc.collections() if e > start and s < end
    ]
    assert inside and calls.gc_ns.tolist() == [sum(inside)]
    assert profiler.get_statistics("collect")["calls_with_gc"] == 1
