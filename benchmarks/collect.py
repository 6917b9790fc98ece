"""Bringing workers' calls home, and exporting them: what it costs.

In one run, on a 2-worker Dask LocalCluster started here on 127.0.0.1:

* collect: each worker has recorded ``OPERATIONS`` operations x ``CALLS`` calls;
  ``wdbx_dask.collect(client)`` drains both, ships the drains and absorbs them.
  Floor: ``client.run`` returning payloads of the same size (the transport alone).
  Target: under 1 s.
* to_otel for ``OPERATIONS`` operations (a snapshot and the live profiler).
  Floor: copying every operation's aggregates once (``snapshot()``). Target: under 200 ms.
* per-call overhead of a profiled function (time only) over the bare function, in a
  worker process (the wrapper pickled there by cloudpickle) and in this process,
  each the minimum of interleaved rounds; the ratio worker / in-process (target 1.1).

Run: ``make bench`` (or ``python benchmarks/collect.py``; ``--quick`` for a smaller
run). Not named ``distributed.py``: run as a script, that would shadow Dask's
``distributed`` package.
"""

from __future__ import annotations

import gc
import pickle
import sys
import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

from wdbx_notebook import PerformanceProfiler, get_performance_profiler
from wdbx_notebook.distributed import bounded
from wdbx_notebook.distributed import dask as wdbx_dask
from wdbx_notebook.export import to_otel

QUICK = "--quick" in sys.argv
OPERATIONS = 100 if QUICK else 1_000
CALLS = 2_000 if QUICK else 20_000
COLLECT_TARGET_S = 1.0
OTEL_TARGET_MS = 200.0
OVERHEAD_RATIO_TARGET = 1.10
OVERHEAD_CALLS = 200_000


def _nothing() -> None:
    return None


def fill(operations: int, calls: int) -> int:
    """Record ``operations`` x ``calls`` calls in this process's shared profiler."""
    profiler = get_performance_profiler()
    for i in range(operations):
        call = profiler.profile(f"operation {i:04d}", track_memory=False)(_nothing)
        for _ in repeat(None, calls):
            call()
    return len(profiler.get_all_operations())


def payload_like(size: int) -> bytes:
    return b"x" * size


def drain_size() -> int:
    """Bytes of one worker's drain right now (a dry run: nothing is drained)."""
    return len(pickle.dumps(bounded(get_performance_profiler().snapshot())))


def overhead_ns(calls: int) -> float:
    """ns per call of a profiled no-op over the bare no-op, min of interleaved rounds."""
    profiled = _profiled
    bare = _bare
    best_bare = best_profiled = float("inf")
    for _ in range(7):
        start = time.perf_counter_ns()
        for _ in repeat(None, calls):
            bare()
        best_bare = min(best_bare, time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        for _ in repeat(None, calls):
            profiled()
        best_profiled = min(best_profiled, time.perf_counter_ns() - start)
    return (best_profiled - best_bare) / calls


def _bare() -> None:
    return None


# Defined in __main__, so cloudpickle ships the wrapper by value, as from a notebook.
_profiled = get_performance_profiler().profile("overhead probe", track_memory=False)(_bare)


def best_ms(action: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> int:
    from dask.distributed import Client, LocalCluster

    rows: list[tuple[str, str, str, str]] = []
    ok = True
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
    )
    try:
        with Client(cluster) as client:
            wdbx_dask.install(client)
            # Overhead first, on an idle worker and an idle home, interleaved.
            in_worker = here = float("inf")
            for _ in range(3):
                in_worker = min(in_worker, *client.run(overhead_ns, OVERHEAD_CALLS).values())
                here = min(here, overhead_ns(OVERHEAD_CALLS))
            wdbx_dask.collect(client, PerformanceProfiler())  # the probe's calls: not counted
            start = time.perf_counter()
            client.run(fill, OPERATIONS, CALLS)
            fill_s = time.perf_counter() - start
            sizes = client.run(drain_size)
            floor_ms = best_ms(lambda: client.run(payload_like, max(sizes.values())), rounds=3)
            home = PerformanceProfiler()
            start = time.perf_counter()
            added = wdbx_dask.collect(client, home)
            collect_ms = (time.perf_counter() - start) * 1e3
            again_ms = best_ms(lambda: wdbx_dask.collect(client, home), rounds=3)
            expected = 2 * OPERATIONS * CALLS
            exact = added == expected and all(
                home.get_statistics(f"operation {i:04d}")["call_count"] == 2 * CALLS
                for i in range(OPERATIONS)
            )
            ok &= exact and collect_ms < COLLECT_TARGET_S * 1e3
            rows.append(
                (
                    f"collect: 2 workers x {OPERATIONS:,} operations x {CALLS:,} calls",
                    f"{collect_ms:,.0f} ms",
                    f"{collect_ms / floor_ms:.1f}x",
                    f"< {COLLECT_TARGET_S * 1e3:,.0f} ms: "
                    f"{'met' if collect_ms < COLLECT_TARGET_S * 1e3 else 'MISSED'}",
                )
            )
            rows.append(
                (
                    "floor: client.run returning a payload that size",
                    f"{floor_ms:,.0f} ms",
                    "1.0x",
                    f"worker drains of {max(sizes.values()) / 1e6:.1f} MB (pickled snapshot)",
                )
            )
            rows.append(
                (
                    "collect again (nothing new)",
                    f"{again_ms:,.1f} ms",
                    "",
                    f"{added:,} calls absorbed, {'exact' if exact else 'NOT EXACT'}",
                )
            )
            rows.append(("(filling the workers)", f"{fill_s:,.1f} s", "", "not timed"))

            ratio = in_worker / here
            ok &= ratio <= OVERHEAD_RATIO_TARGET
            rows.append(("per-call overhead in this process", f"{here:,.0f} ns", "1.00", ""))
            rows.append(
                (
                    "per-call overhead in a Dask worker (wrapper sent by cloudpickle)",
                    f"{in_worker:,.0f} ns",
                    f"{ratio:.2f}",
                    f"<= {OVERHEAD_RATIO_TARGET:.2f}: "
                    f"{'met' if ratio <= OVERHEAD_RATIO_TARGET else 'MISSED'}",
                )
            )
    finally:
        cluster.close()

    # to_otel on the calls just collected: OPERATIONS operations, sketches past 10,000 calls.
    snapshot = home.snapshot()
    gc.collect()
    snapshot_ms = best_ms(home.snapshot, rounds=5)
    otel_ms = best_ms(lambda: to_otel(snapshot), rounds=5)
    live_ms = best_ms(lambda: to_otel(home), rounds=5)
    ok &= otel_ms < OTEL_TARGET_MS
    rows.append(
        (
            f"to_otel: {OPERATIONS:,} operations (a snapshot)",
            f"{otel_ms:,.1f} ms",
            f"{otel_ms / snapshot_ms:.2f}x",
            f"< {OTEL_TARGET_MS:.0f} ms: {'met' if otel_ms < OTEL_TARGET_MS else 'MISSED'}",
        )
    )
    rows.append(("to_otel of the live profiler (snapshot included)", f"{live_ms:,.1f} ms", "", ""))
    rows.append(("floor: profiler.snapshot()", f"{snapshot_ms:,.1f} ms", "1.00x", ""))

    print("| measure | figure | x floor | target |")
    print("|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
