"""Stability warnings: when an operation's statistics should not be trusted yet.

Every statistics table and report shows these under its numbers, so a reader
does not act on a p99 of twelve calls or a mean that jitters by a third.

>>> from wdbx_notebook import PerformanceProfiler
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("load"):
...     pass
>>> stability_warnings("load", profiler.get_statistics("load"))[0]
"'load': p95 and p99 rest on only 1 successful call; p95 needs at least 20 and p99 at least 100."

The rules (each warning names the operation and the figure):

* the coefficient of variation (std / mean) is at least :data:`NOISY_CV`
  (10%): the mean and percentiles move from run to run;
* fewer than :data:`P95_MIN_CALLS` successful calls: the p95 is close to the
  maximum and rests on one or two calls; fewer than :data:`P99_MIN_CALLS`:
  the same for the p99;
* the median duration is under :data:`RESOLUTION_FACTOR` times the clock's
  resolution: rounding to the clock's step alone shifts it by 1% or more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _clock
from ._units import format_duration_ms, format_duration_ns

#: Coefficient of variation (std / mean) from which timings are called noisy.
NOISY_CV = 0.10

#: Successful calls needed before a p95 means more than "about the maximum".
P95_MIN_CALLS = 20

#: Successful calls needed before a p99 means more than "about the maximum".
P99_MIN_CALLS = 100

#: A median under this many clock steps is near the clock's resolution
#: (one step is then at least 1% of it).
RESOLUTION_FACTOR = 100


def _quote(name: str) -> str:
    return repr(str(name))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def stability_warnings(
    name: str, stats: Mapping[str, Any], *, resolution_ns: float | None = None
) -> list[str]:
    """Short sentences saying why ``name``'s statistics may be unreliable.

    Args:
        name: the operation's name (quoted in each sentence).
        stats: its statistics, as ``get_statistics(name)`` returns them.
        resolution_ns: the clock's step in nanoseconds; the default clock's
            (``time.perf_counter``) when omitted.

    Returns:
        An empty list when nothing stands out.

    >>> stability_warnings("ok", {"success_count": 500, "avg_duration_ms": 2.0,
    ...                           "std_duration_ms": 0.05, "median_duration_ms": 2.0})
    []
    >>> noisy = {"success_count": 500, "avg_duration_ms": 2.0,
    ...          "std_duration_ms": 0.5, "median_duration_ms": 2.0}
    >>> stability_warnings("noisy", noisy)[0][:57]
    "'noisy': timings vary a lot (coefficient of variation 25%"
    """
    if not isinstance(stats, Mapping):
        raise TypeError(
            f"stats must be the dict get_statistics({name!r}) returns, got {type(stats).__name__}"
        )
    label = _quote(name)
    n = int(stats.get("success_count", 0) or 0)
    if n == 0:
        return [f"{label}: no successful calls, so there are no duration statistics yet."]
    warnings: list[str] = []

    mean = float(stats.get("avg_duration_ms", 0.0) or 0.0)
    std = float(stats.get("std_duration_ms", 0.0) or 0.0)
    if n >= 2 and mean > 0 and std / mean >= NOISY_CV:
        warnings.append(
            f"{label}: timings vary a lot (coefficient of variation {std / mean:.0%}, "
            f"std {format_duration_ms(std)} vs mean {format_duration_ms(mean)}); "
            "compare medians over many calls."
        )

    calls = _plural(n, "successful call")
    if n < P95_MIN_CALLS:
        warnings.append(
            f"{label}: p95 and p99 rest on only {calls}; "
            f"p95 needs at least {P95_MIN_CALLS} and p99 at least {P99_MIN_CALLS}."
        )
    elif n < P99_MIN_CALLS:
        warnings.append(f"{label}: p99 rests on only {calls}; it needs at least {P99_MIN_CALLS}.")

    step_ns = _clock.resolution_ns() if resolution_ns is None else float(resolution_ns)
    median_ns = float(stats.get("median_duration_ms", 0.0) or 0.0) * 1e6
    if step_ns > 0 and median_ns < RESOLUTION_FACTOR * step_ns:
        warnings.append(
            f"{label}: median duration {format_duration_ns(median_ns)} is near the clock's "
            f"resolution ({format_duration_ns(step_ns)}); time a batch of calls per measurement "
            "instead."
        )
    return warnings


def all_stability_warnings(source: Any) -> list[str]:
    """Stability warnings of every operation of a profiler or saved session.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> all_stability_warnings(PerformanceProfiler())
    []
    """
    notes: list[str] = []
    for name in source.get_all_operations():
        notes.extend(stability_warnings(name, source.get_statistics(name)))
    return notes
