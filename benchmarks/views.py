"""Reports and the statistics table at many operations, beside their floor, in one run.

Each figure is the fastest of several runs with the collector off (the least
disturbed on a shared machine). The floor is what any view of every operation
must do: take a snapshot of the profiler and read every operation's summary.

Scenarios, 10,000 operations of 45 calls each (enough for step detection to
run on every one):

* *warm*: nothing new since the last view;
* *new calls*: 10 operations got a call since the last view (a notebook's
  usual case: the next cell's report); targets apply here: a report under
  300 ms, ``%wdbx_stats`` / the rich display under 200 ms;
* *cold*: the first view of a fresh profiler (every summary and every step
  test computed once), and, side by side, step detection run on every
  operation without the cache (what every report paid before).

Run: ``make bench`` (or ``python benchmarks/views.py --quick``).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import platform
import time
from collections.abc import Callable
from typing import Any

from wdbx_notebook import PerformanceProfiler, generate_performance_report
from wdbx_notebook.jupyter.display import StatisticsTable, profiler_bundle
from wdbx_notebook.trends import detect_step_up

OPERATIONS = 10_000
CALLS = 45


def profiler_with(operations: int, calls: int) -> PerformanceProfiler:
    profiler = PerformanceProfiler(track_memory=False)
    for i in range(operations):
        block = profiler.profile_block(f"module.operation_{i:05d}")
        for _ in range(calls):
            with block:
                pass
    return profiler


def best(fn: Callable[[], Any], repeats: int, setup: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()  # untimed
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def once(fn: Callable[[], Any]) -> float:
    return best(fn, 1)


def read_floor(profiler: PerformanceProfiler) -> None:
    snapshot = profiler.snapshot()
    for name in snapshot.get_all_operations():
        snapshot.summary(name)


def row(what: str, seconds: float, floor: float | None, target_s: float | None) -> bool:
    ratio = f"{seconds / floor:.2f}x" if floor else ""
    target = f"< {target_s * 1000:,.0f} ms" if target_s is not None else ""
    met = target_s is None or seconds < target_s
    mark = "" if target_s is None else ("met" if met else "MISSED")
    print(f"| {what} | {seconds * 1000:,.1f} ms | {ratio} | {target} | {mark} |")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    print(
        f"reports and tables, {datetime.date.today()}, Python {platform.python_version()}, "
        f"{platform.machine()}, {OPERATIONS:,} operations x {CALLS} calls"
    )
    print()
    print("| what | best time | vs floor | target | |")
    print("|---|---:|---:|---|---|")

    # Cold: a fresh profiler's first views (each on its own fresh profiler).
    cold = profiler_with(OPERATIONS, CALLS)
    row(
        "cold: first report (every summary and step test computed)",
        once(lambda: generate_performance_report("text", cold)),
        None,
        None,
    )
    cold = profiler_with(OPERATIONS, CALLS)
    row(
        "cold: first %wdbx_stats (every summary computed)",
        once(lambda: StatisticsTable(cold)._repr_mimebundle_()),
        None,
        None,
    )
    snapshot = cold.snapshot()
    names = snapshot.get_all_operations()
    uncached = once(lambda: [detect_step_up(snapshot, name) for name in names])
    row("before: step detection on every operation, uncached", uncached, None, None)

    cold = snapshot = None  # free the cold profilers
    profiler = profiler_with(OPERATIONS, CALLS)
    generate_performance_report("text", profiler)  # the first view: summaries and steps cached
    touched = profiler.get_all_operations()[:10]

    def new_calls() -> None:
        for name in touched:
            with profiler.profile_block(name):
                pass

    floor = best(lambda: read_floor(profiler), repeats)
    row("floor: snapshot + every summary (warm)", floor, None, None)
    ok = True
    for fmt in ("text", "markdown", "html"):
        warm = best(lambda f=fmt: generate_performance_report(f, profiler), repeats)
        row(f"report ({fmt}), warm", warm, floor, None)
        fresh = best(lambda f=fmt: generate_performance_report(f, profiler), repeats, new_calls)
        ok &= row(f"report ({fmt}), new calls on 10 operations", fresh, floor, 0.3)
    stats = best(lambda: StatisticsTable(profiler)._repr_mimebundle_(), repeats, new_calls)
    ok &= row("%wdbx_stats (text + HTML), new calls on 10 operations", stats, floor, 0.2)
    rich = best(lambda: profiler_bundle(profiler), repeats, new_calls)
    ok &= row("profiler rich display, new calls on 10 operations", rich, floor, 0.2)
    print()
    print("all targets met" if ok else "a target was missed (a noisy machine can do that: rerun)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
