"""The plain-text report, laid out as in the seed guide's example report.

The operation table keeps the guide's columns and widths, names on the left
and every figure right-aligned under the end of its header, so digits of the
same place line up; rules are as wide as the header they frame.
"""

from __future__ import annotations

from .._units import EMPTY
from .base import ReportData, error_types
from .escape import printable

__all__ = ["printable", "render_text"]

_NAME_WIDTH = 32
_WIDTHS = (10, 11, 11, 11, 11, 11)  # Calls, Avg, P95, Max, Mem, Success %
_RULE = "-" * 50


def _row(first: str, cells: list[str], widths: tuple[int, ...]) -> str:
    return f"{first:<{_NAME_WIDTH}}" + "".join(
        f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True)
    )


def render_text(data: ReportData) -> str:
    lines = [data.title, "=" * 50, ""]
    table = data.table
    if not data.operations or table is None:
        lines.append("No operations have been profiled yet.")
        return "\n".join(lines) + "\n"
    header = _row("Operation", [c.label for c in table.columns], _WIDTHS).rstrip()
    wide_rule = "-" * len(header)
    lines += [
        f"Total Operations Profiled: {len(data.operations)}",
        f"Total Function Calls: {data.total_calls}",
        f"Operations with Errors: {len(data.failing)}",
    ]
    if data.stability_notes:
        lines.append(
            f"Stability Notes: {data.stability_notes} on {data.noted_operations} "
            "operations (details under NOTES)"
        )
    lines += [
        "",
        "OPERATION DETAILS",
        wide_rule,
        header,
        wide_rule,
    ]
    cells = table.column_cells()
    columns = [cells[c.key] for c in table.columns]
    for index, row in enumerate(table.rows):
        name = printable(row.name, _NAME_WIDTH - 1)
        lines.append(_row(name, [column[index] for column in columns], _WIDTHS))
    if data.failing:
        error_header = (
            f"{'Operation':<{_NAME_WIDTH}}{'Error Count':>12}{'Error Rate %':>14}  Exception Types"
        )
        lines += ["", "ERRORS", "-" * len(error_header), error_header, "-" * len(error_header)]
        for name, s in data.failing.items():
            lines.append(
                f"{printable(name, _NAME_WIDTH - 1):<{_NAME_WIDTH}}{s['error_count']:>12}"
                f"{100 - s['success_rate']:>14.1f}  {printable(error_types(s)) or EMPTY}"
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
