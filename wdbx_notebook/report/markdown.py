"""The markdown report (GitHub-flavoured tables, readable as source too)."""

from __future__ import annotations

from .base import ReportData, error_types
from .escape import escape_markdown

__all__ = ["escape_markdown", "render_markdown"]


def render_markdown(data: ReportData) -> str:
    lines = ["# WDBX Performance Report", "", f"_Generated {data.generated_iso}_", ""]
    if not data.operations or data.table is None:
        lines.append("No operations have been profiled yet.")
        return "\n".join(lines) + "\n"
    lines += [
        "## Summary",
        "",
        "| Metric | Value |",
        "|---|---:|",
        f"| Total Operations Profiled | {len(data.operations)} |",
        f"| Total Function Calls | {data.total_calls} |",
        f"| Operations with Errors | {len(data.failing)} |",
        "",
        "## Operation Details",
        "",
        data.table.to_markdown(notes=False).rstrip("\n"),
    ]
    summary = data.notes_summary()
    if summary:
        lines += ["", f"_{escape_markdown(summary)}_"]
    if data.failing:
        lines += [
            "",
            "## Errors",
            "",
            "| Operation | Error Count | Error Rate % | Exception Types |",
            "|---|---:|---:|---|",
        ]
        for name, s in data.failing.items():
            lines.append(
                f"| {escape_markdown(name)} | {s['error_count']} | {100 - s['success_rate']:.1f} | "
                f"{escape_markdown(error_types(s))} |"
            )
    lines += ["", "## Performance Recommendations", ""]
    if data.recommendations:
        lines += [
            f"- **{r.action}** {escape_markdown(r.operation)}: {escape_markdown(r.evidence)}"
            for r in data.recommendations
        ]
    else:
        lines.append("- No operation stands out: nothing slow, memory-heavy, failing or unstable.")
    if data.notes:
        lines += ["", "## Notes", ""] + [f"- {escape_markdown(note)}" for note in data.notes]
    return "\n".join(lines) + "\n"
