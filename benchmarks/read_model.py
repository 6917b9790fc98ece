"""What reading costs: a snapshot of the live profiler, beside its floor and the old path.

``profiler.snapshot()`` copies every operation's aggregates and takes its
recent calls (kept as immutable column chunks) under the operation's lock.

* floor: copying the same number of recent durations as plain lists (what
  any consistent copy of the data must at least do);
* before: the path snapshots took before the read model: the session payload
  written to JSON and read back (``save`` + ``load_session`` in memory);
* snapshot + every summary, and snapshot + every call column, as views use them.

Each figure is the minimum of interleaved rounds (the least disturbed on a
shared machine). Run: ``make bench`` (or ``python benchmarks/read_model.py``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from wdbx_notebook import PerformanceProfiler
from wdbx_notebook.persistence import _payload, _snapshot_from_payload

OPERATIONS = 20
CALLS = 10_000
TARGET_MS = 20.0


def filled() -> PerformanceProfiler:
    profiler = PerformanceProfiler(track_memory=False)
    for i in range(OPERATIONS):
        op = profiler.profile(f"operation {i}")(lambda: None)
        for _ in range(CALLS):
            op()
    profiler.get_all_operations()  # fold everything once, as any earlier read would
    return profiler


def best_ms(action: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> int:
    profiler = filled()
    durations = [
        profiler.snapshot([name]).recent_durations_ns(name).tolist()
        for name in profiler.get_all_operations()
    ]

    def json_round_trip() -> object:
        payload = json.loads(json.dumps(_payload(profiler)))
        return _snapshot_from_payload(payload, None)

    def snapshot_and_summaries() -> object:
        snap = profiler.snapshot()
        return [snap.summary(name) for name in snap]

    def snapshot_and_calls() -> object:
        snap = profiler.snapshot()
        return [snap.calls(name) for name in snap]

    variants: dict[str, Callable[[], object]] = {
        "floor: copy the recent durations": lambda: [list(d) for d in durations],
        "profiler.snapshot()": profiler.snapshot,
        "snapshot + every summary": snapshot_and_summaries,
        "snapshot + every call column": snapshot_and_calls,
        "before: payload through JSON and back": json_round_trip,
    }
    figures = {name: float("inf") for name in variants}
    for _ in range(5):  # interleaved rounds
        for name, action in variants.items():
            figures[name] = min(figures[name], best_ms(action, 3))
    floor = figures["floor: copy the recent durations"]
    print(f"Reading {OPERATIONS} operations x {CALLS:,} calls (min of interleaved rounds)")
    print(f"{'variant':<40} {'ms':>9} {'x floor':>8}")
    for name, value in figures.items():
        print(f"{name:<40} {value:>9.2f} {value / floor:>8.2f}")
    snapshot_ms = figures["profiler.snapshot()"]
    met = snapshot_ms < TARGET_MS
    print(
        f"target: profiler.snapshot() under {TARGET_MS:.0f} ms: "
        f"{'met' if met else 'MISSED'} ({snapshot_ms:.2f} ms)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
