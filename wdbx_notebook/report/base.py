"""What every report says, computed once; the renderers only format it.

:func:`collect` reads every operation's statistics once, builds the report's
statistics table (:mod:`wdbx_notebook.report.table`), its recommendations
(:mod:`wdbx_notebook.report.recommend`) and its notes.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._units import format_kib, format_ms
from .table import SLOW_MEAN_MS, SLOWEST_COUNT, Table, error_types, statistics_table, summaries_of

__all__ = [
    "FORMATS",
    "REPORT_COLUMNS",
    "SLOWEST_COUNT",
    "SLOW_MEAN_MS",
    "Recommendation",
    "ReportData",
    "StatisticsSource",
    "collect",
    "error_types",
    "format_kb",
    "format_ms",
    "slowest_operations",
]

FORMATS = ("text", "markdown", "html")

#: The report's table: the seed guide's example report's columns.
REPORT_COLUMNS = (
    "call_count",
    "avg_duration_ms",
    "p95_duration_ms",
    "max_duration_ms",
    "avg_memory_delta",
    "success_rate",
)
REPORT_LABELS = {"avg_duration_ms": "Avg (ms)", "avg_memory_delta": "Mem (KiB)"}


class StatisticsSource(Protocol):
    """Anything reports can read: a live profiler, a snapshot or a saved session."""

    def get_all_operations(self) -> list[str]: ...
    def get_statistics(self, name: str) -> dict[str, Any]: ...


@dataclass
class Recommendation:
    """One piece of advice: what to do, to which operation, and why (the figures)."""

    kind: str  # "slow", "memory", "leak", "errors", "unstable", "step"
    action: str  # "Optimize", "Review memory usage in", ...
    operation: str
    evidence: str  # "Average duration 75.32ms over 342 calls, 61% of all profiled time"


@dataclass
class ReportData:
    title: str
    generated_at: float
    operations: dict[str, Mapping[str, Any]]
    recommendations: list[Recommendation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: Table | None = None
    #: How many of :attr:`notes` are stability notes (the rest say where the data came from).
    stability_notes: int = 0
    noted_operations: int = 0

    @property
    def total_calls(self) -> int:
        return sum(int(s["call_count"]) for s in self.operations.values())

    @property
    def failing(self) -> dict[str, Mapping[str, Any]]:
        return {name: s for name, s in self.operations.items() if s["error_count"]}

    @property
    def generated_iso(self) -> str:
        return _dt.datetime.fromtimestamp(self.generated_at).isoformat(sep=" ", timespec="seconds")

    def notes_summary(self) -> str:
        """One line on the stability notes, "" when there are none."""
        if not self.stability_notes:
            return ""
        n, ops = self.stability_notes, self.noted_operations
        return (
            f"{n} stability note{'s' if n != 1 else ''} on {ops} "
            f"operation{'s' if ops != 1 else ''}: treat those numbers with care (see Notes)."
        )


def format_kb(value_bytes: float | None) -> str:
    """Bytes as KiB with two decimals (kept for callers of the old name)."""
    return format_kib(value_bytes)


def slowest_operations(operations: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The operations every view calls slow (see
    :func:`~wdbx_notebook.report.table.slow_operations`)."""
    from .table import slow_operations

    return slow_operations(operations)


def collect(source: StatisticsSource, title: str = "WDBX PERFORMANCE REPORT") -> ReportData:
    """Read every operation's statistics once; derive the table, recommendations and notes."""
    from .recommend import recommend

    operations = summaries_of(source)
    data = ReportData(title=title, generated_at=time.time(), operations=operations)
    table = statistics_table(
        source, sort_by="mean", columns=REPORT_COLUMNS, summaries=operations, notes=True
    )
    table.relabel(REPORT_LABELS)
    data.table = table
    data.recommendations = recommend(source, operations)
    # Stability notes sit under every table, so nobody trusts a p99 of twelve calls.
    data.notes.extend(table.notes)
    data.stability_notes = len(table.notes)
    data.noted_operations = table.noted_operations
    extra_notes = getattr(source, "report_notes", None)
    if callable(extra_notes):
        data.notes.extend(extra_notes())
    return data
