"""The report's recommendations: each names an operation, what to do and why.

The bars are set so that advice is rare and worth reading:

* **Optimize**: a slow operation (see
  :func:`~wdbx_notebook.report.table.slow_operations`) that also takes at
  least :data:`OPTIMIZE_SHARE` of all profiled time; when it mostly waits
  (off-CPU at least half of the time) the advice is **Look at I/O, sleeps or
  locks in** instead;
* **Reduce garbage collection in**, **Warm up or cache the first call of**: the
  GC and warm-up findings of :func:`wdbx_notebook.explain.findings`;
* **Review memory usage**: a mean memory delta of at least
  :data:`MEMORY_HEAVY_BYTES` per call;
* **Check for a memory leak**: memory grew by at least :data:`MEMORY_LEAK_BYTES`
  in all, over at least :data:`LEAK_MIN_CALLS` calls, and grew in most of the
  recent calls (at least :data:`LEAK_GROWING_SHARE` of them), not in one big
  allocation;
* **Investigate failures**: any failed call;
* **Stabilize**: a coefficient of variation (std / mean) of at least
  :data:`UNSTABLE_CV` over at least :data:`UNSTABLE_MIN_CALLS` successful
  calls, for operations whose mean is at least :data:`UNSTABLE_MIN_MEAN_MS`
  (jitter of sub-microsecond operations is the clock and the machine);
* **Find what slowed down**: a sustained step up in the recent durations
  (:func:`wdbx_notebook.trends.detect_step_up`); the finding is cached per
  operation until new calls arrive, so a report over many operations stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._units import MIB, format_bytes, format_kib, format_ms
from ..explain import findings
from .base import Recommendation
from .table import error_types, slow_operations

__all__ = [
    "LEAK_GROWING_SHARE",
    "LEAK_MIN_CALLS",
    "MEMORY_HEAVY_BYTES",
    "MEMORY_LEAK_BYTES",
    "OPTIMIZE_SHARE",
    "UNSTABLE_CV",
    "UNSTABLE_MIN_CALLS",
    "UNSTABLE_MIN_MEAN_MS",
    "recommend",
    "step_recommendations",
]

OPTIMIZE_SHARE = 0.10
MEMORY_HEAVY_BYTES = 32 * 1024
MEMORY_LEAK_BYTES = 10 * MIB
LEAK_MIN_CALLS = 20
LEAK_GROWING_SHARE = 0.5
UNSTABLE_CV = 0.5
UNSTABLE_MIN_CALLS = 5
UNSTABLE_MIN_MEAN_MS = 0.1


def recommend(source: Any, operations: Mapping[str, Mapping[str, Any]]) -> list[Recommendation]:
    """Every recommendation for ``operations`` (all of ``source``'s), in a stable order."""
    advice: list[Recommendation] = []
    total_ms = sum(float(s["total_duration_ms"]) for s in operations.values())
    for name in slow_operations(operations):
        s = operations[name]
        share = float(s["total_duration_ms"]) / total_ms if total_ms > 0 else 0.0
        if share >= OPTIMIZE_SHARE:
            # An operation that mostly waits is not made faster by optimizing its code.
            waits = [f for f in findings(name, s) if f[0] == "waits"]
            advice.append(
                Recommendation(
                    "waits" if waits else "slow",
                    waits[0][1] if waits else "Optimize",
                    name,
                    f"Average duration {format_ms(s['avg_duration_ms'])}ms over "
                    f"{int(s['success_count']):,} calls, {share:.0%} of all profiled time"
                    + (f"; {waits[0][2]}" if waits else ""),
                )
            )
    for name, s in operations.items():
        count = int(s["memory_call_count"] or 0)
        if count and s["avg_memory_delta"] >= MEMORY_HEAVY_BYTES:
            advice.append(
                Recommendation(
                    "memory",
                    "Review memory usage in",
                    name,
                    f"Average impact {format_kib(s['avg_memory_delta'])} KiB per call "
                    f"over {count:,} call{'s' if count != 1 else ''}",
                )
            )
        if count >= LEAK_MIN_CALLS and s["total_memory_impact"] >= MEMORY_LEAK_BYTES:
            growing = _growing_calls(source, name)
            if growing is None or growing[0] >= LEAK_GROWING_SHARE * growing[1]:
                why = f"{format_bytes(s['total_memory_impact'])} accumulated over {count:,} calls"
                if growing is not None:
                    why += f"; memory grew in {growing[0]:,} of the last {growing[1]:,}"
                advice.append(Recommendation("leak", "Check for a memory leak in", name, why))
    for name, s in operations.items():
        if s["error_count"]:
            advice.append(
                Recommendation(
                    "errors",
                    "Investigate failures in",
                    name,
                    f"{s['error_count']} of {s['call_count']} calls failed "
                    f"({100 - s['success_rate']:.1f}%): {error_types(s)}",
                )
            )
    for name, s in operations.items():
        mean = float(s["avg_duration_ms"])
        n = int(s["success_count"])
        if n >= UNSTABLE_MIN_CALLS and mean >= UNSTABLE_MIN_MEAN_MS:
            cv = float(s["std_duration_ms"]) / mean
            if cv >= UNSTABLE_CV:
                advice.append(
                    Recommendation(
                        "unstable",
                        "Stabilize",
                        name,
                        f"std dev {format_ms(s['std_duration_ms'])}ms is {cv * 100:.0f}% of the "
                        f"{format_ms(mean)}ms mean over {n:,} calls",
                    )
                )
    for name, s in operations.items():  # GC and warm-up findings (see wdbx_notebook.explain)
        for kind, action, evidence in findings(name, s):
            if kind != "waits":
                advice.append(Recommendation(kind, action, name, evidence))
    advice.extend(step_recommendations(source, operations))
    return advice


def _growing_calls(source: Any, name: str) -> tuple[int, int] | None:
    """``(calls whose memory grew, calls with a reading)`` among the recent calls, or
    None when the source keeps no per-call memory."""
    calls = getattr(source, "calls", None)
    if not callable(calls):
        take = getattr(source, "snapshot", None)
        if not callable(take):
            return None
        calls = take([name]).calls  # a live profiler: a snapshot of this operation alone
    try:
        deltas = calls(name).memory_delta()
    except Exception:  # a report must not fail because of an extra
        return None
    known = deltas[deltas == deltas]
    if not len(known):
        return None
    return int((known > 0).sum()), len(known)


# -- step findings, cached per operation version -----------------------------------------
_STEP_CACHE: dict[tuple[Any, ...], Any] = {}
_STEP_CACHE_LIMIT = 200_000


def _version(name: str, s: Mapping[str, Any]) -> tuple[Any, ...]:
    # What changes whenever a call is added, reset or merged in (and differs between two
    # profilers that happen to share a name and a clock).
    return (
        name,
        s["call_count"],
        s["success_count"],
        s["first_call"],
        s["last_call"],
        s["total_duration_ms"],
        s["std_duration_ms"],
        s["max_duration_ms"],
    )


def step_recommendations(
    source: Any, operations: Mapping[str, Mapping[str, Any]]
) -> list[Recommendation]:
    """Recommendations for the operations whose durations stepped up.

    Empty when the source keeps no per-call history. Operations with too few
    successful calls for a step are skipped without reading their calls.
    """
    from ..trends import MIN_SEGMENT, detect_step_up

    if not callable(getattr(source, "recent_durations_ns", None)):
        return []
    keys = {
        name: _version(name, s)
        for name, s in operations.items()
        if int(s["success_count"]) >= 2 * MIN_SEGMENT
    }
    missed = [name for name, key in keys.items() if key not in _STEP_CACHE]
    if missed:
        # One snapshot of just the operations to test (a live profiler would otherwise
        # take one per operation); a Snapshot is read as it is.
        take = getattr(source, "snapshot", None)
        calls = source
        if callable(take) and not hasattr(source, "calls"):
            try:
                calls = take(missed)
            except Exception:  # a report must not fail because of an extra
                missed = []
        if len(_STEP_CACHE) + len(missed) >= _STEP_CACHE_LIMIT:
            _STEP_CACHE.clear()
        for name in missed:
            try:
                _STEP_CACHE[keys[name]] = detect_step_up(calls, name)
            except Exception:  # a report must not fail because of an extra
                _STEP_CACHE[keys[name]] = None
    advice = []
    for name, key in keys.items():
        step = _STEP_CACHE.get(key)
        if step is not None:
            advice.append(Recommendation("step", "Find what slowed down", name, step.describe()))
    return advice
