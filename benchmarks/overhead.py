"""What profiling costs per call, beside the floor and the peers, measured in one run.

Every variant wraps the same trivial function and is timed in interleaved
rounds; each figure is the fastest round's time per call minus the bare call's
(the minimum is the figure least disturbed by a shared, noisy machine).

* floor (time): two ``perf_counter_ns`` reads and a list append in a
  hand-written wrapper: the least any timing decorator can cost.
* floor (time, same signature): the same wrapper with the wrapped
  function's own signature instead of ``*args, **kwargs`` (what wdbx's
  generated wrappers use), shown for a fair view of the remaining cost.
* floor (time + statm): the time floor plus two ``/proc/self/statm`` reads.
* peers: codetiming's ``Timer`` decorator, prometheus_client's
  ``Summary.time()``, and an OpenTelemetry histogram ``record`` of the
  duration.

Then one operation is called 1,000,000 times to measure what the profiler
holds afterwards (traced by tracemalloc) and how fast ``get_statistics``
answers.

Run: ``make bench`` (or ``python benchmarks/overhead.py --quick``).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from typing import Any

from wdbx_notebook import PerformanceProfiler
from wdbx_notebook._memory import rss_probe

TARGETS = {
    "wdbx time only": ("floor (time)", 2.0),
    "wdbx time + memory (default)": ("floor (time + statm)", 1.5),
}
DISABLED_BUDGET_NS = 100.0
STATS_BUDGET_MS = 10.0
MEMORY_BUDGET_MB = 32.0


def work(x: int) -> int:
    return x


def floor_time() -> Callable[..., Any]:
    sink: list[int] = []
    append = sink.append
    clock = time.perf_counter_ns

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        result = work(*args, **kwargs)
        append(clock() - start)
        return result

    wrapper.sink = sink  # type: ignore[attr-defined]
    return wrapper


def floor_time_same_signature() -> Callable[..., Any]:
    """The floor without ``*args, **kwargs`` packing, as wdbx's generated wrappers do."""
    sink: list[int] = []
    append = sink.append
    clock = time.perf_counter_ns

    def wrapper(x: int) -> Any:
        start = clock()
        result = work(x)
        append(clock() - start)
        return result

    wrapper.sink = sink  # type: ignore[attr-defined]
    return wrapper


def floor_statm() -> Callable[..., Any]:
    sink: list[tuple[int, int]] = []
    append = sink.append
    clock = time.perf_counter_ns
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    pread = os.pread

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = int(pread(fd, 64, 0).split()[1])
        start = clock()
        result = work(*args, **kwargs)
        end = clock()
        append((end - start, int(pread(fd, 64, 0).split()[1]) - before))
        return result

    wrapper.sink = sink  # type: ignore[attr-defined]
    return wrapper


def codetiming_timer() -> Callable[..., Any]:
    from codetiming import Timer

    return Timer(text="", logger=None)(work)  # type: ignore[no-any-return]


def prometheus_summary() -> Callable[..., Any]:
    from prometheus_client import CollectorRegistry, Summary

    summary = Summary("work_seconds", "work", registry=CollectorRegistry())
    return summary.time()(work)  # type: ignore[no-any-return]


def otel_histogram() -> Callable[..., Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    histogram = provider.get_meter("bench").create_histogram("work_ms", unit="ms")
    clock = time.perf_counter_ns

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        result = work(*args, **kwargs)
        histogram.record((clock() - start) / 1e6)
        return result

    return wrapper


def variants() -> dict[str, Callable[..., Any]]:
    profiler = PerformanceProfiler()
    disabled = PerformanceProfiler(enabled=False)
    found: dict[str, Callable[..., Any]] = {
        "bare call": work,
        "floor (time)": floor_time(),
        "floor (time, same signature)": floor_time_same_signature(),
        "floor (time + statm)": floor_statm(),
        "wdbx time only": profiler.profile("time_only", track_memory=False)(work),
        "wdbx time + memory (default)": profiler.profile("default")(work),
        "wdbx disabled": disabled.profile("disabled")(work),
    }
    for name, build in (
        ("codetiming Timer", codetiming_timer),
        ("prometheus Summary.time()", prometheus_summary),
        ("OpenTelemetry histogram", otel_histogram),
    ):
        try:
            found[name] = build()
        except ImportError as exc:
            print(f"(skipping {name}: {exc})", file=sys.stderr)
    return found


def measure(funcs: dict[str, Callable[..., Any]], calls: int, rounds: int) -> dict[str, float]:
    """Fastest round's nanoseconds per call, rounds interleaved across variants."""
    best = {name: float("inf") for name in funcs}
    for _ in range(rounds):
        for name, func in funcs.items():
            timer = timeit.Timer("f(1)", globals={"f": func})
            gc.collect()
            per_call = timer.timeit(calls) / calls * 1e9
            best[name] = min(best[name], per_call)
            sink = getattr(func, "sink", None)
            if sink is not None:
                sink.clear()
    return best


def million_calls(n: int) -> dict[str, float]:
    """Memory held and get_statistics latency after ``n`` calls of one operation."""
    profiler = PerformanceProfiler(track_memory=False)
    func = profiler.profile("hot")(work)
    for i in range(20_000):  # warm up: numpy loaded, first flushes done
        func(i)
    profiler.get_statistics("hot")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        func(i)
    gc.collect()
    # Held memory includes the records still pending a flush: that is what it holds.
    held_mb = (tracemalloc.get_traced_memory()[0] - before) / 2**20
    tracemalloc.stop()  # tracing would slow the timing below
    started = time.perf_counter()
    profiler.get_statistics("hot")
    first_ms = (time.perf_counter() - started) * 1e3
    later = []
    for _ in range(20):
        func(0)  # a new call invalidates the cached summary
        started = time.perf_counter()
        profiler.get_statistics("hot")
        later.append((time.perf_counter() - started) * 1e3)
    return {
        "calls": float(profiler.get_statistics("hot")["call_count"]),
        "held_mb": held_mb,
        "first_stats_ms": first_ms,
        "stats_ms": statistics.median(later),
        "worst_stats_ms": max([first_ms, *later]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    args = parser.parse_args()
    calls, rounds, many = (50_000, 5, 200_000) if args.quick else (200_000, 15, 1_000_000)

    print(f"wdbx_notebook overhead benchmark, {datetime.date.today().isoformat()}")
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"memory probe: {rss_probe().__name__}; {calls:,} calls x {rounds} interleaved rounds\n")

    best = measure(variants(), calls, rounds)
    bare = best.pop("bare call")
    over = {name: ns - bare for name, ns in best.items()}
    ok = True
    rows = []
    for name, ns in over.items():
        target = ""
        if name in TARGETS:
            floor_name, limit = TARGETS[name]
            ratio = ns / over[floor_name]
            passed = ratio <= limit
            target = f"{ratio:.2f}x {floor_name} (<= {limit}x): {'ok' if passed else 'MISSED'}"
            ok &= passed
        elif name == "wdbx disabled":
            passed = ns <= DISABLED_BUDGET_NS
            target = f"<= {DISABLED_BUDGET_NS:.0f} ns: {'ok' if passed else 'MISSED'}"
            ok &= passed
        rows.append((name, ns, ns / over["floor (time)"], target))
    if "codetiming Timer" in over:
        passed = over["wdbx time only"] < over["codetiming Timer"]
        ok &= passed
        rows.append(
            (
                "(wdbx time only below codetiming)",
                float("nan"),
                float("nan"),
                "ok" if passed else "MISSED",
            )
        )

    print(f"bare call: {bare:.0f} ns\n")
    print("| variant | ns per call over a bare call | x floor (time) | target |")
    print("|---|---:|---:|---|")
    for name, ns, ratio, target in rows:
        ns_text = "" if ns != ns else f"{ns:,.0f}"
        ratio_text = "" if ratio != ratio else f"{ratio:.2f}"
        print(f"| {name} | {ns_text} | {ratio_text} | {target} |")

    result = million_calls(many)
    stats_ok = result["worst_stats_ms"] < STATS_BUDGET_MS
    mem_ok = result["held_mb"] < MEMORY_BUDGET_MB
    ok &= stats_ok and mem_ok
    print(f"\nafter {result['calls']:,.0f} calls of one operation:")
    held, first, median, worst = (
        result["held_mb"],
        result["first_stats_ms"],
        result["stats_ms"],
        result["worst_stats_ms"],
    )
    print("| measure | figure | target |")
    print("|---|---:|---|")
    print(
        f"| memory held by the profiler | {held:.2f} MB | "
        f"< {MEMORY_BUDGET_MB:.0f} MB: {'ok' if mem_ok else 'MISSED'} |"
    )
    print(
        "| get_statistics: first (flush + summary) / median / worst | "
        f"{first:.2f} / {median:.2f} / {worst:.2f} ms | "
        f"< {STATS_BUDGET_MS:.0f} ms: {'ok' if stats_ok else 'MISSED'} |"
    )
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
