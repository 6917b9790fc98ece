"""The markdown report (GitHub-flavoured tables)."""

from __future__ import annotations

from .base import ReportData, error_types, format_kb, format_ms

_SPECIAL = "\\`*_{}[]<>()#+!|~"


def escape_markdown(text: str) -> str:
    """Text that renders literally in a markdown table cell.

    Backslash-escapes markdown punctuation (``|`` included, so a name cannot
    split a cell), writes ``<``, ``>`` and ``&`` as entities (so it cannot
    inject HTML) and folds line breaks into spaces (so it cannot end a row).
    """
    out = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in "\r\n\t\v\f":
            out.append(" ")
        elif ch in _SPECIAL:
            out.append("\\" + ch)
        elif not ch.isprintable():
            out.append(ch.encode("unicode_escape").decode("ascii").replace("\\", "\\\\"))
        else:
            out.append(ch)
    return "".join(out)


def render_markdown(data: ReportData) -> str:
    lines = ["# WDBX Performance Report", "", f"_Generated {data.generated_iso}_", ""]
    if not data.operations:
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
        "| Operation | Calls | Avg (ms) | P95 (ms) | Max (ms) | Mem (KB) | Success % |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ordered = sorted(data.operations.items(), key=lambda kv: -kv[1]["avg_duration_ms"])
    for name, s in ordered:
        lines.append(
            f"| {escape_markdown(name)} | {s['call_count']} | {format_ms(s['avg_duration_ms'])} | "
            f"{format_ms(s['p95_duration_ms'])} | {format_ms(s['max_duration_ms'])} | "
            f"{format_kb(s['avg_memory_delta'])} | {s['success_rate']:.1f} |"
        )
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
