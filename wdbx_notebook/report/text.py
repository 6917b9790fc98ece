"""The plain-text report, laid out as in the seed guide's example."""

from __future__ import annotations

from .base import ReportData, error_types, format_kb, format_ms

_NAME_WIDTH = 32
_WIDE_RULE = "-" * 80
_RULE = "-" * 50


def printable(name: str, width: int | None = None) -> str:
    """A name safe for a terminal table: control characters escaped, long names shortened."""
    safe = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name
    )
    if width is not None and len(safe) > width:
        safe = safe[: width - 1] + "…"
    return safe


def render_text(data: ReportData) -> str:
    lines = [data.title, "=" * 50, ""]
    if not data.operations:
        lines.append("No operations have been profiled yet.")
        return "\n".join(lines) + "\n"
    lines += [
        f"Total Operations Profiled: {len(data.operations)}",
        f"Total Function Calls: {data.total_calls}",
        f"Operations with Errors: {len(data.failing)}",
        "",
        "OPERATION DETAILS",
        _WIDE_RULE,
        f"{'Operation':<{_NAME_WIDTH}}{'Calls':<10}{'Avg (ms)':<11}{'P95 (ms)':<11}"
        f"{'Max (ms)':<11}{'Mem (KB)':<11}{'Success %':<9}",
        _WIDE_RULE,
    ]
    ordered = sorted(data.operations.items(), key=lambda kv: -kv[1]["avg_duration_ms"])
    for name, s in ordered:
        lines.append(
            f"{printable(name, _NAME_WIDTH - 1):<{_NAME_WIDTH}}{s['call_count']:<10}"
            f"{format_ms(s['avg_duration_ms']):<11}{format_ms(s['p95_duration_ms']):<11}"
            f"{format_ms(s['max_duration_ms']):<11}{format_kb(s['avg_memory_delta']):<11}"
            f"{s['success_rate']:<9.1f}"
        )
    if data.failing:
        lines += [
            "",
            "ERRORS",
            _RULE,
            f"{'Operation':<{_NAME_WIDTH}}{'Error Count':<17}{'Error Rate %':<17}Exception Types",
            _RULE,
        ]
        for name, s in data.failing.items():
            lines.append(
                f"{printable(name, _NAME_WIDTH - 1):<{_NAME_WIDTH}}{s['error_count']:<17}"
                f"{100 - s['success_rate']:<17.1f}{printable(error_types(s))}"
            )
    lines += ["", "PERFORMANCE RECOMMENDATIONS", _RULE]
    if data.recommendations:
        lines += [
            f"* {r.action} {printable(r.operation)}: {printable(r.evidence)}"
            for r in data.recommendations
        ]
    else:
        lines.append("* No operation stands out: nothing slow, memory-heavy, failing or unstable.")
    if data.notes:
        lines += ["", "NOTES", _RULE] + [f"* {printable(note)}" for note in data.notes]
    return "\n".join(lines) + "\n"
