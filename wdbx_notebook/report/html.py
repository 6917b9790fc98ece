"""The HTML report: a self-contained fragment with inline, theme-aware styles.

The operation table is the statistics table's HTML (a translucent bar on the
mean, failing rows tinted, a *slow* badge apart from the name); every name
goes through :func:`~wdbx_notebook.report.escape.escape_html`, which also
neutralises bidi overrides, zero-width characters and lone surrogates.
"""

from __future__ import annotations

from .._units import CSS
from .base import ReportData, error_types
from .escape import escape_html
from .table import TABLE_STYLE, bar_style, notes_html

__all__ = ["bar_style", "render_html"]

_CELL = "padding:2px 8px;border-bottom:1px solid " + CSS.BORDER + ";text-align:{align}"


def _cell(value: str, align: str = "right", extra: str = "") -> str:
    style = _CELL.format(align=align) + (";" + extra if extra else "")
    return f'<td style="{style}">{value}</td>'


def render_html(data: ReportData) -> str:
    parts = ['<div class="wdbx-report"><h3>WDBX Performance Report</h3>']
    if not data.operations or data.table is None:
        parts.append("<p>No operations have been profiled yet.</p></div>")
        return "".join(parts)
    parts.append(
        f"<p>Total Operations Profiled: <b>{len(data.operations)}</b> &middot; "
        f"Total Function Calls: <b>{data.total_calls}</b> &middot; "
        f"Operations with Errors: <b>{len(data.failing)}</b></p>"
    )
    parts.append(data.table.to_html(notes=False))
    stability = data.notes[: data.stability_notes]
    if stability:
        parts.append(notes_html(stability, data.table.notes_summary()))
    if data.failing:
        parts.append(f'<h4>Errors</h4><table style="{TABLE_STYLE}"><thead><tr>')
        for i, h in enumerate(["Operation", "Error Count", "Error Rate %", "Exception Types"]):
            parts.append(
                f'<th style="{_CELL.format(align="left" if i in (0, 3) else "right")}">{h}</th>'
            )
        parts.append("</tr></thead><tbody>")
        for name, s in data.failing.items():
            parts += [
                f'<tr class="wdbx-failing" style="background-color:{CSS.FAIL_TINT}">',
                _cell(escape_html(name), "left"),
                _cell(str(s["error_count"])),
                _cell(f"{100 - s['success_rate']:.1f}"),
                _cell(escape_html(error_types(s)), "left"),
                "</tr>",
            ]
        parts.append("</tbody></table>")
    parts.append("<h4>Performance Recommendations</h4><ul>")
    if data.recommendations:
        parts += [
            f"<li><b>{escape_html(r.action)}</b> {escape_html(r.operation)}: "
            f"{escape_html(r.evidence)}</li>"
            for r in data.recommendations
        ]
    else:
        parts.append(
            "<li>No operation stands out: nothing slow, memory-heavy, failing or unstable.</li>"
        )
    parts.append("</ul>")
    other = data.notes[data.stability_notes :]
    if other:
        parts.append(
            "<h4>Notes</h4><ul>" + "".join(f"<li>{escape_html(n)}</li>" for n in other) + "</ul>"
        )
    parts.append("</div>")
    return "".join(parts)
