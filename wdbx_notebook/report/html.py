"""The HTML report: a self-contained fragment with inline styles.

Slow operations carry a bar proportional to their mean duration; operations
with failures are tinted, so both stand out at a glance. Every name goes
through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape

from .base import ReportData, error_types, format_kb, format_ms

_TABLE = 'style="border-collapse:collapse;font-family:monospace;font-size:12px"'
_CELL = 'style="padding:2px 8px;border-bottom:1px solid #ddd;text-align:{align}"'
_FAIL_TINT = "background:#fde8e8"


def _cell(value: str, align: str = "right", extra: str = "") -> str:
    style = _CELL.format(align=align)
    if extra:
        style = style[:-1] + ";" + extra + '"'
    return f"<td {style}>{value}</td>"


def bar_style(value: float, largest: float) -> str:
    """A background bar filling ``value / largest`` of the cell."""
    share = 0.0 if largest <= 0 else max(0.0, min(1.0, value / largest))
    stop = f"{share * 100:.1f}%"
    return f"background:linear-gradient(90deg,#f6b26b {stop},transparent {stop})"


def render_html(data: ReportData) -> str:
    parts = ['<div class="wdbx-report"><h3>WDBX Performance Report</h3>']
    if not data.operations:
        parts.append("<p>No operations have been profiled yet.</p></div>")
        return "".join(parts)
    parts.append(
        f"<p>Total Operations Profiled: <b>{len(data.operations)}</b> &middot; "
        f"Total Function Calls: <b>{data.total_calls}</b> &middot; "
        f"Operations with Errors: <b>{len(data.failing)}</b></p>"
    )
    headers = ["Operation", "Calls", "Avg (ms)", "P95 (ms)", "Max (ms)", "Mem (KB)", "Success %"]
    parts.append(f"<table {_TABLE}><thead><tr>")
    parts += [
        f"<th {_CELL.format(align='left' if i == 0 else 'right')}>{h}</th>"
        for i, h in enumerate(headers)
    ]
    parts.append("</tr></thead><tbody>")
    ordered = sorted(data.operations.items(), key=lambda kv: -kv[1]["avg_duration_ms"])
    slowest = max((s["avg_duration_ms"] for _, s in ordered), default=0.0)
    for name, s in ordered:
        tint = _FAIL_TINT if s["error_count"] else ""
        parts.append(f'<tr class="{"wdbx-failing" if s["error_count"] else "wdbx-ok"}">')
        parts += [
            _cell(escape(name), "left", tint),
            _cell(str(s["call_count"]), extra=tint),
            _cell(format_ms(s["avg_duration_ms"]), extra=bar_style(s["avg_duration_ms"], slowest)),
            _cell(format_ms(s["p95_duration_ms"]), extra=tint),
            _cell(format_ms(s["max_duration_ms"]), extra=tint),
            _cell(format_kb(s["avg_memory_delta"]), extra=tint),
            _cell(f"{s['success_rate']:.1f}", extra=tint),
            "</tr>",
        ]
    parts.append("</tbody></table>")
    if data.failing:
        parts.append(f"<h4>Errors</h4><table {_TABLE}><thead><tr>")
        for i, h in enumerate(["Operation", "Error Count", "Error Rate %", "Exception Types"]):
            parts.append(f"<th {_CELL.format(align='left' if i in (0, 3) else 'right')}>{h}</th>")
        parts.append("</tr></thead><tbody>")
        for name, s in data.failing.items():
            parts += [
                "<tr>",
                _cell(escape(name), "left", _FAIL_TINT),
                _cell(str(s["error_count"])),
                _cell(f"{100 - s['success_rate']:.1f}"),
                _cell(escape(error_types(s)), "left"),
                "</tr>",
            ]
        parts.append("</tbody></table>")
    parts.append("<h4>Performance Recommendations</h4><ul>")
    if data.recommendations:
        parts += [
            f"<li><b>{escape(r.action)}</b> {escape(r.operation)}: {escape(r.evidence)}</li>"
            for r in data.recommendations
        ]
    else:
        parts.append(
            "<li>No operation stands out: nothing slow, memory-heavy, failing or unstable.</li>"
        )
    parts.append("</ul>")
    if data.notes:
        parts.append(
            "<h4>Notes</h4><ul>" + "".join(f"<li>{escape(n)}</li>" for n in data.notes) + "</ul>"
        )
    parts.append("</div>")
    return "".join(parts)
