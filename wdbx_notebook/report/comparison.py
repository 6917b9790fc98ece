"""The comparison of two runs as markdown (the rendering of :func:`wdbx_notebook.compare`).

``compare()`` computes; this module only writes its DataFrame as a table with
a legend, through the same units and escaping as every other view.

>>> from wdbx_notebook import PerformanceProfiler, compare
>>> comparison_markdown(compare(PerformanceProfiler(), PerformanceProfiler())).splitlines()
['## Performance comparison', '', 'No operations to compare.']
"""

from __future__ import annotations

import math
from typing import Any

from .._units import EMPTY, format_kib, format_ms
from .escape import escape_markdown

__all__ = ["comparison_markdown"]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        try:
            import pandas as pd

            return bool(pd.isna(value))
        except (TypeError, ValueError):
            return False


def _ms(value: Any) -> str:
    return EMPTY if _is_missing(value) else format_ms(float(value))


def _verdict_text(row: Any) -> str:
    from ..compare import INCONCLUSIVE, MAX_CALLS_ESTIMATE

    verdict = str(row["verdict"])
    needed = row["calls_needed"]
    if verdict == INCONCLUSIVE and not _is_missing(needed):
        more = "more than " if int(needed) >= MAX_CALLS_ESTIMATE else "about "
        return f"{verdict} ({more}{int(needed):,} per side)"
    return verdict


def _memory_text(row: Any) -> str:
    change = row["memory_change"]
    return EMPTY if _is_missing(change) else f"{format_kib(change, signed=True)} KiB"


def _success_text(row: Any) -> str:
    base, cur = row["baseline_success_rate"], row["current_success_rate"]
    if _is_missing(base) or _is_missing(cur):
        return EMPTY
    if base == cur:
        return f"{cur:.1f}%"
    return f"{base:.1f}% → {cur:.1f}%"


def comparison_markdown(frame: Any, title: str = "Performance comparison") -> str:
    """The comparison DataFrame (``compare()`` or ``compare_operations()``) as a
    markdown table with a legend.

    Each row reads like "1.16x slower"; names are escaped so ``|``, backticks,
    ``$`` or HTML in an operation name cannot change the table; a figure that
    does not exist reads "—".
    """
    from ..compare import DEFAULT_RESAMPLES, MIN_CALLS, P_VALUE_LIMIT

    required = {"verdict", "ratio", "ci_low", "ci_high", "p_value"}
    columns = set(getattr(frame, "columns", ()))
    if not required <= columns:
        raise TypeError(
            "comparison_markdown() renders the DataFrame compare() or compare_operations() "
            f"returns; got {type(frame).__name__} without the columns {sorted(required - columns)}"
        )
    attrs = getattr(frame, "attrs", {}) or {}
    threshold = float(attrs.get("threshold", 0.05))
    resamples = int(attrs.get("resamples", DEFAULT_RESAMPLES))
    confidence = float(attrs.get("confidence", 0.95))
    lines = [f"## {escape_markdown(title)}", ""]
    if frame.empty:
        lines.append("No operations to compare.")
        return "\n".join(lines) + "\n"
    lines += [
        "| Operation | Calls (base / now) | Median ms (base → now) | p95 ms (base → now) "
        f"| Change | {confidence:.0%} CI of ratio | p-value | Verdict | Memory/call | Success |",
        "|---|---:|---:|---:|---|---:|---:|---|---:|---:|",
    ]
    for name, row in frame.iterrows():
        ci = EMPTY if _is_missing(row["ci_low"]) else f"{row['ci_low']:.3f} – {row['ci_high']:.3f}"
        p = EMPTY if _is_missing(row["p_value"]) else f"{row['p_value']:.2g}"
        lines.append(
            f"| {escape_markdown(str(name))} | {row['baseline_calls']} / {row['current_calls']} "
            f"| {_ms(row['baseline_median_ms'])} → {_ms(row['current_median_ms'])} "
            f"| {_ms(row['baseline_p95_ms'])} → {_ms(row['current_p95_ms'])} "
            f"| {escape_markdown(str(row['change']))} | {ci} | {p} "
            f"| {escape_markdown(_verdict_text(row))} | {_memory_text(row)} "
            f"| {_success_text(row)} |"
        )
    lines += [
        "",
        "**Legend.** Calls: successful calls compared on each side (the most recent ones kept). "
        "Median and p95: the 50th and 95th percentile of their durations. "
        'Change: current median / baseline median, as "1.16x slower" or "1.10x faster". '
        f"CI: a {confidence:.0%} percentile-bootstrap confidence interval of that ratio "
        f"({resamples:,} resamples per side, fixed seed). "
        "p-value: two-sided Mann-Whitney U test (no normality assumed; unequal sizes are fine). "
        f"Verdict: slower or faster only when the interval excludes 1, p < {P_VALUE_LIMIT} and "
        f"the change exceeds {threshold:.0%}; same when the whole interval lies within "
        f"±{threshold:.0%}; otherwise inconclusive, with the calls per side likely to settle it "
        f"(always inconclusive under {MIN_CALLS} calls per side). "
        "Memory/call: change of the average memory delta per call (KiB = 1024 bytes); "
        f"{EMPTY} where it was not measured. "
        "Success: success rate, baseline → current.",
    ]
    return "\n".join(lines) + "\n"
