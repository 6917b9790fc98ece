"""What every report says, computed once from the statistics; renderers only format it.

Recommendations (each names the figure that triggered it):

* slow: the :data:`SLOWEST_COUNT` operations with the highest mean duration
  among those at or above :data:`SLOW_MEAN_MS`;
* memory-heavy: mean memory delta at or above :data:`MEMORY_HEAVY_BYTES` per
  call, or an accumulated impact at or above :data:`MEMORY_LEAK_BYTES`;
* error-prone: any failed call;
* unstable: coefficient of variation (std / mean) at or above
  :data:`UNSTABLE_CV` with at least :data:`UNSTABLE_MIN_CALLS` successful calls.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..stability import stability_warnings
from ..trends import step_recommendations

FORMATS = ("text", "markdown", "html")

SLOWEST_COUNT = 3
SLOW_MEAN_MS = 1.0
MEMORY_HEAVY_BYTES = 32 * 1024
MEMORY_LEAK_BYTES = 10 * 1024 * 1024
UNSTABLE_CV = 0.5
UNSTABLE_MIN_CALLS = 5


class StatisticsSource(Protocol):
    """Anything reports can read: a live profiler or a saved session."""

    def get_all_operations(self) -> list[str]: ...
    def get_statistics(self, name: str) -> dict[str, Any]: ...


@dataclass
class Recommendation:
    """One piece of advice: what to do, to which operation, and the figure behind it."""

    kind: str  # "slow", "memory", "leak", "errors", "unstable"
    action: str  # "Optimize", "Review memory usage in", ...
    operation: str
    evidence: str  # "Average duration 75.32ms"


@dataclass
class ReportData:
    title: str
    generated_at: float
    operations: dict[str, dict[str, Any]]
    recommendations: list[Recommendation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(s["call_count"] for s in self.operations.values())

    @property
    def failing(self) -> dict[str, dict[str, Any]]:
        return {name: s for name, s in self.operations.items() if s["error_count"]}

    @property
    def generated_iso(self) -> str:
        return _dt.datetime.fromtimestamp(self.generated_at).isoformat(sep=" ", timespec="seconds")


def format_ms(value: float) -> str:
    """Milliseconds with two decimals; tiny nonzero values keep three significant digits."""
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_kb(value_bytes: float) -> str:
    return f"{value_bytes / 1024:.2f}"


def error_types(stats: dict[str, Any]) -> str:
    """``"ValueError (3), KeyError (1)"``, most frequent first."""
    items = sorted(stats["errors_by_type"].items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} ({count})" for name, count in items)


def slowest_operations(operations: dict[str, dict[str, Any]]) -> list[str]:
    """The operations reports call slow: the :data:`SLOWEST_COUNT` highest means
    at or above :data:`SLOW_MEAN_MS`, slowest first."""
    slow = sorted(
        (
            n
            for n, s in operations.items()
            if s["success_count"] and s["avg_duration_ms"] >= SLOW_MEAN_MS
        ),
        key=lambda n: -operations[n]["avg_duration_ms"],
    )
    return slow[:SLOWEST_COUNT]


def _recommend(operations: dict[str, dict[str, Any]]) -> list[Recommendation]:
    advice: list[Recommendation] = []
    for name in slowest_operations(operations):
        advice.append(
            Recommendation(
                "slow",
                "Optimize",
                name,
                f"Average duration {format_ms(operations[name]['avg_duration_ms'])}ms",
            )
        )
    for name, s in operations.items():
        if s["memory_call_count"] and s["avg_memory_delta"] >= MEMORY_HEAVY_BYTES:
            advice.append(
                Recommendation(
                    "memory",
                    "Review memory usage in",
                    name,
                    f"Average impact {format_kb(s['avg_memory_delta'])}KB per call",
                )
            )
        if s["total_memory_impact"] >= MEMORY_LEAK_BYTES:
            advice.append(
                Recommendation(
                    "leak",
                    "Check for a memory leak in",
                    name,
                    f"{s['total_memory_impact'] / 2**20:.2f} MB accumulated over "
                    f"{s['memory_call_count']} calls",
                )
            )
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
        mean = s["avg_duration_ms"]
        if s["success_count"] >= UNSTABLE_MIN_CALLS and mean > 0:
            cv = s["std_duration_ms"] / mean
            if cv >= UNSTABLE_CV:
                advice.append(
                    Recommendation(
                        "unstable",
                        "Stabilize",
                        name,
                        f"std dev {format_ms(s['std_duration_ms'])}ms is {cv * 100:.0f}% of the "
                        f"{format_ms(mean)}ms mean",
                    )
                )
    return advice


def collect(source: StatisticsSource, title: str = "WDBX PERFORMANCE REPORT") -> ReportData:
    """Read every operation's statistics once and derive the recommendations."""
    operations = {name: source.get_statistics(name) for name in source.get_all_operations()}
    data = ReportData(title=title, generated_at=time.time(), operations=operations)
    data.recommendations = _recommend(operations)
    # Sources with per-call history also say where an operation's durations stepped up.
    data.recommendations.extend(step_recommendations(source, operations))
    # Stability warnings sit under every table, so nobody trusts a p99 of twelve calls.
    for name, stats in operations.items():
        data.notes.extend(stability_warnings(name, stats))
    extra_notes = getattr(source, "report_notes", None)
    if callable(extra_notes):
        data.notes.extend(extra_notes())
    return data
