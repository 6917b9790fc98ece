"""Rich display for notebooks: mimebundles with a plain-text twin always present.

Nothing here imports IPython at module level, so ``profiler._repr_mimebundle_``
works (and is testable) without a running shell.

>>> from wdbx_notebook import PerformanceProfiler
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("load"):
...     pass
>>> sorted(profiler_bundle(profiler))
['text/html', 'text/plain']

How the statistics table makes trouble visible at a glance:

* the mean-duration cell carries a bar proportional to the slowest mean in
  the table, and the slowest operations (mean at or above
  :data:`~wdbx_notebook.report.base.SLOW_MEAN_MS`, at most
  :data:`~wdbx_notebook.report.base.SLOWEST_COUNT` of them, as in the report's
  recommendations) are marked *slow*;
* operations with failed calls are tinted red and name their exception types;
* stability warnings (noisy timings, too few calls for a p95/p99, durations
  near the clock's resolution) are listed under the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ..report.base import error_types, format_kb, format_ms, slowest_operations
from ..report.html import bar_style
from ..report.text import printable

__all__ = [
    "StatisticsTable",
    "markdown_bundle",
    "profiler_bundle",
    "statistics_bundle",
    "statistics_html",
    "statistics_text",
]

_TABLE = 'style="border-collapse:collapse;font-family:monospace;font-size:12px"'
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:{align}"
_FAIL_TINT = "background:#fde8e8"
_SLOW_MARK = "color:#b45309;font-weight:bold"
_NAME_WIDTH = 32

#: The columns of :meth:`StatisticsTable.styled`.
STYLED_COLUMNS = (
    "call_count",
    "error_count",
    "avg_duration_ms",
    "median_duration_ms",
    "p95_duration_ms",
    "p99_duration_ms",
    "max_duration_ms",
    "avg_memory_delta",
    "success_rate",
)


def _rows(source: Any, names: Sequence[str] | None) -> list[tuple[str, dict[str, Any]]]:
    if names is None:
        names = list(source.get_all_operations())
    elif isinstance(names, str):
        raise TypeError(
            f"names must be a list of operation names, got the str {names!r}; wrap it in a list"
        )
    return [(name, source.get_statistics(name)) for name in names]


def _slow_names(rows: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """The table's slowest operations, by the report's rule (so both agree)."""
    return set(slowest_operations(dict(rows)))


def _warnings(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    from ..stability import stability_warnings

    found: list[str] = []
    for name, stats in rows:
        try:
            found.extend(stability_warnings(name, stats))
        except Exception as err:  # a display must never fail because of its extras
            found.append(f"{name!r}: stability check failed ({type(err).__name__}: {err})")
    return found


def _memory_kb(stats: dict[str, Any]) -> str:
    return format_kb(stats["avg_memory_delta"]) if stats["memory_call_count"] else "n/a"


def statistics_text(source: Any, names: Sequence[str] | None = None) -> str:
    """The statistics table as plain text (the twin of :func:`statistics_html`).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_text(PerformanceProfiler())
    'No operations have been profiled yet.'
    """
    rows = _rows(source, names)
    if not rows:
        return "No operations have been profiled yet."
    slow = _slow_names(rows)
    header = (
        f"{'Operation':<{_NAME_WIDTH}}{'Calls':>7}{'Errors':>7}{'Mean (ms)':>11}"
        f"{'P95 (ms)':>10}{'Max (ms)':>10}{'Mem (KB)':>10}{'Success %':>10}"
    )
    lines = [header, "-" * len(header)]
    for name, s in rows:
        flags = []
        if name in slow:
            flags.append("slow")
        if s["error_count"]:
            flags.append("failures: " + printable(error_types(s)))
        lines.append(
            f"{printable(name, _NAME_WIDTH - 1):<{_NAME_WIDTH}}{s['call_count']:>7}"
            f"{s['error_count']:>7}{format_ms(s['avg_duration_ms']):>11}"
            f"{format_ms(s['p95_duration_ms']):>10}{format_ms(s['max_duration_ms']):>10}"
            f"{_memory_kb(s):>10}{s['success_rate']:>10.1f}"
            + (f"  <- {'; '.join(flags)}" if flags else "")
        )
    warnings = _warnings(rows)
    if warnings:
        lines += ["", "Stability warnings:"] + [f"  ! {printable(w)}" for w in warnings]
    return "\n".join(lines)


def _td(value: str, align: str = "right", extra: str = "", title: str = "") -> str:
    style = _CELL.format(align=align) + (";" + extra if extra else "")
    title_attr = f' title="{escape(title)}"' if title else ""
    return f'<td style="{style}"{title_attr}>{value}</td>'


def statistics_html(source: Any, names: Sequence[str] | None = None) -> str:
    """The statistics table as a self-contained HTML fragment (inline styles).

    Every operation name and error type is HTML-escaped.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_html(PerformanceProfiler())
    '<div class="wdbx-stats"><p>No operations have been profiled yet.</p></div>'
    """
    rows = _rows(source, names)
    if not rows:
        return '<div class="wdbx-stats"><p>No operations have been profiled yet.</p></div>'
    slow = _slow_names(rows)
    slowest = max((s["avg_duration_ms"] for _, s in rows), default=0.0)
    headers = [
        "Operation",
        "Calls",
        "Errors",
        "Mean (ms)",
        "Median (ms)",
        "P95 (ms)",
        "P99 (ms)",
        "Max (ms)",
        "Std (ms)",
        "Mem/call (KB)",
        "Success %",
    ]
    parts = [f'<div class="wdbx-stats"><table {_TABLE}><thead><tr>']
    parts += [
        f'<th style="{_CELL.format(align="left" if i == 0 else "right")}">{h}</th>'
        for i, h in enumerate(headers)
    ]
    parts.append("</tr></thead><tbody>")
    for name, s in rows:
        failing = bool(s["error_count"])
        tint = _FAIL_TINT if failing else ""
        classes = ["wdbx-failing" if failing else "wdbx-ok"] + (
            ["wdbx-slow"] if name in slow else []
        )
        label = escape(name)
        if name in slow:
            label += f' <span style="{_SLOW_MARK}">slow</span>'
        errors = str(s["error_count"])
        if failing:
            errors = f'<b style="color:#b91c1c">{errors}</b>'
        parts.append(f'<tr class="{" ".join(classes)}">')
        parts += [
            _td(label, "left", tint),
            _td(str(s["call_count"]), extra=tint),
            _td(errors, extra=tint, title=error_types(s) if failing else ""),
            _td(format_ms(s["avg_duration_ms"]), extra=bar_style(s["avg_duration_ms"], slowest)),
            _td(format_ms(s["median_duration_ms"]), extra=tint),
            _td(format_ms(s["p95_duration_ms"]), extra=tint),
            _td(format_ms(s["p99_duration_ms"]), extra=tint),
            _td(format_ms(s["max_duration_ms"]), extra=tint),
            _td(format_ms(s["std_duration_ms"]), extra=tint),
            _td(_memory_kb(s), extra=tint),
            _td(f"{s['success_rate']:.1f}", extra=tint),
            "</tr>",
        ]
    parts.append("</tbody></table>")
    failing_rows = [(name, s) for name, s in rows if s["error_count"]]
    if failing_rows:
        parts.append(
            '<p class="wdbx-failures" style="color:#b91c1c;font-family:monospace;font-size:12px">'
        )
        parts.append(
            "<br>".join(
                f"Failures in {escape(name)}: {escape(error_types(s))}" for name, s in failing_rows
            )
        )
        parts.append("</p>")
    warnings = _warnings(rows)
    if warnings:
        parts.append(
            '<ul class="wdbx-warnings" style="color:#92400e;font-size:12px">'
            + "".join(f"<li>&#9888; {escape(w)}</li>" for w in warnings)
            + "</ul>"
        )
    parts.append("</div>")
    return "".join(parts)


def statistics_bundle(source: Any, names: Sequence[str] | None = None) -> dict[str, str]:
    """``{"text/plain": ..., "text/html": ...}`` for the statistics table.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> sorted(statistics_bundle(PerformanceProfiler()))
    ['text/html', 'text/plain']
    """
    return {
        "text/plain": statistics_text(source, names),
        "text/html": statistics_html(source, names),
    }


def profiler_bundle(profiler: Any) -> dict[str, str]:
    """The profiler's own display: its state and its statistics table.

    Called by ``PerformanceProfiler._repr_mimebundle_``; ``text/plain`` is
    always present, so terminals, VS Code and nbconvert read it too.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler_bundle(PerformanceProfiler())["text/plain"].splitlines()[0]
    '<PerformanceProfiler enabled, 0 operations>'
    """
    title = repr(profiler)
    return {
        "text/plain": title + "\n" + statistics_text(profiler),
        "text/html": f"<div><p><code>{escape(title)}</code></p>{statistics_html(profiler)}</div>",
    }


def markdown_bundle(markdown: str) -> dict[str, str]:
    """Markdown for front ends that render it, the same text as the plain twin.

    >>> markdown_bundle("# Title")["text/plain"]
    '# Title'
    """
    return {"text/markdown": markdown, "text/plain": markdown}


class StatisticsTable:
    """The statistics table of some operations, displayed as HTML with a text twin.

    What ``%wdbx_stats`` returns; ``.dataframe`` is the same numbers as a
    DataFrame (see :func:`wdbx_notebook.frames.statistics_dataframe`).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> table = StatisticsTable(PerformanceProfiler())
    >>> table.dataframe.empty
    True
    """

    def __init__(self, source: Any, names: Sequence[str] | None = None) -> None:
        self.source = source
        # Read once now, so an unknown name fails here, at the call that named it.
        self.names = [name for name, _ in _rows(source, names)]

    @property
    def dataframe(self) -> Any:
        """The table's numbers as a DataFrame indexed by ``operation``."""
        from ..frames import statistics_dataframe

        return statistics_dataframe(self.source, self.names)

    def styled(self) -> Any:
        """The main columns as a pandas ``Styler``: a bar on the mean duration, failing
        operations tinted, names HTML-escaped (for ``.to_html()`` or ``.to_excel()``).

        >>> from wdbx_notebook import PerformanceProfiler
        >>> StatisticsTable(PerformanceProfiler()).styled().data.empty
        True
        """
        frame = self.dataframe[list(STYLED_COLUMNS)]

        def tint_failures(row: Any) -> list[str]:
            # The mean keeps its bar; every other cell of a failing operation is tinted.
            style = _FAIL_TINT if row["error_count"] else ""
            return ["" if column == "avg_duration_ms" else style for column in row.index]

        styler = frame.style.format(precision=3, escape="html").format_index(escape="html")
        if not frame.empty:
            styler = styler.bar(subset=["avg_duration_ms"], color="#f6b26b", vmin=0)
            styler = styler.apply(tint_failures, axis=1)
        return styler

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return statistics_bundle(self.source, self.names)

    def __repr__(self) -> str:
        return statistics_text(self.source, self.names)
