"""The one statistics table: a model built once, rendered to text, markdown or HTML.

API (stable; used by reports, ``%wdbx_stats``, the profiler's rich display, the
comparison widget's table and the comparison markdown)::

    from wdbx_notebook.report.table import statistics_table

    table = statistics_table(source, names=None, sort_by=None, columns=None)
    table.to_html()            # self-contained fragment, theme-aware inline styles
    table.to_text(width=None)  # fits ``width`` (default: the terminal's) columns
    table.to_markdown()        # GitHub-flavoured table
    table.rows                 # [Row(name, values={key: float | None}, slow, failing, errors)]
    table.columns              # [Column(key, label, kind)]; kind: count|duration|memory|percent
    table.notes                # stability warnings of the rows shown
    table.cell(row, key)       # one value as text ("—" when it does not exist)

``source`` is a Snapshot, a live profiler (anything with ``.snapshot()``), or
anything with ``get_all_operations()`` / ``get_statistics(name)``. ``names``
picks and orders rows (every operation when None); ``sort_by`` is a column key
(``"avg_duration_ms"``) or a short metric name (``"mean"``, ``"p95"``, or
``"name"``), largest first (prefix ``"+"`` for ascending; rows without the
figure go last);
``columns`` is a sequence of column keys (default :data:`DEFAULT_COLUMNS`).

Rules every view shares:

* a value that does not exist (a duration statistic of an operation without a
  successful call, the memory of an operation whose memory was never read) is
  ``None`` in the model and :data:`~wdbx_notebook._units.EMPTY` ("—") in every
  format, never ``0.00``;
* **slow** is decided once, over *all* operations of the source (not the rows
  shown): see :func:`slow_operations`; it shows as a badge apart from the name;
* stability warnings are one summary line per table, with the details on
  demand (an HTML ``<details>``, a trailing section in text and markdown).

>>> from wdbx_notebook import PerformanceProfiler
>>> from wdbx_notebook._clock import FakeClock
>>> clock = FakeClock()
>>> profiler = PerformanceProfiler(track_memory=False, clock=clock)
>>> with profiler.profile_block("load_csv"):
...     clock.advance_ms(12.5)
>>> table = statistics_table(profiler)
>>> table.cell(table.rows[0], "avg_duration_ms")
'12.50'
>>> "load_csv" in table.to_markdown()
True
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from .._units import CSS, EMPTY, format_kib, format_ms, format_percent
from ..stats import DURATION_KEYS, METRIC_ALIASES
from .escape import escape_html, escape_markdown, printable

__all__ = [
    "COLUMNS",
    "DEFAULT_COLUMNS",
    "SLOWEST_COUNT",
    "SLOW_MEAN_MS",
    "SLOW_RELATIVE",
    "Column",
    "Row",
    "Table",
    "error_types",
    "slow_operations",
    "statistics_table",
    "summaries_of",
]

#: At most this many operations are called slow ...
SLOWEST_COUNT = 3
#: ... each with a mean duration at or above this (absolute ground) ...
SLOW_MEAN_MS = 1.0
#: ... and at least this many times the median of every operation's mean (relative ground).
SLOW_RELATIVE = 2.0


@dataclass(frozen=True)
class Column:
    """One numeric column: the statistic's key, its header and how to format it.

    ``drop`` orders what goes first when a text table must narrow (higher first;
    0 never goes).
    """

    key: str
    label: str
    kind: str  # "count", "duration", "memory", "percent", "rate"
    drop: int = 0

    def format(self, value: float | None) -> str:
        if value is None or value != value:
            return EMPTY
        if self.kind == "count":
            return str(int(value))
        if self.kind == "duration":
            return format_ms(value)
        if self.kind == "memory":
            return format_kib(value)
        if self.kind == "percent":
            return format_percent(value)
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"

    def format_all(self, values: Iterable[float | None]) -> list[str]:
        """:meth:`format` over many values (one dispatch per column, not per value)."""
        kind = self.kind
        if kind == "count":
            return [EMPTY if v is None else str(int(v)) for v in values]
        if kind == "duration":
            return [
                EMPTY if v is None else f"{v:.2f}" if v == 0 or abs(v) >= 0.01 else f"{v:.3g}"
                for v in values
            ]
        if kind == "memory":
            return [EMPTY if v is None or v != v else f"{v / 1024:.2f}" for v in values]
        if kind == "percent":
            return [EMPTY if v is None or v != v else f"{v:.1f}" for v in values]
        return [self.format(v) for v in values]


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("call_count", "Calls", "count"),
        Column("error_count", "Errors", "count", drop=5),
        Column("avg_duration_ms", "Mean (ms)", "duration"),
        Column("median_duration_ms", "Median (ms)", "duration", drop=7),
        Column("p90_duration_ms", "P90 (ms)", "duration", drop=9),
        Column("p95_duration_ms", "P95 (ms)", "duration", drop=4),
        Column("p99_duration_ms", "P99 (ms)", "duration", drop=8),
        Column("min_duration_ms", "Min (ms)", "duration", drop=9),
        Column("max_duration_ms", "Max (ms)", "duration", drop=3),
        Column("std_duration_ms", "Std (ms)", "duration", drop=6),
        Column("total_duration_ms", "Total (ms)", "duration", drop=2),
        Column("avg_memory_delta", "Mem/call (KiB)", "memory", drop=2),
        Column("success_rate", "Success %", "percent", drop=1),
        Column("calls_per_second", "Calls/s", "rate", drop=9),
        Column("cpu_share", "CPU %", "percent", drop=9),
    )
}

#: The columns of ``%wdbx_stats`` and the profiler's rich display.
DEFAULT_COLUMNS = (
    "call_count",
    "error_count",
    "avg_duration_ms",
    "median_duration_ms",
    "p95_duration_ms",
    "p99_duration_ms",
    "max_duration_ms",
    "std_duration_ms",
    "avg_memory_delta",
    "success_rate",
)


def error_types(stats: Mapping[str, Any]) -> str:
    """``"ValueError (3), KeyError (1)"``, most frequent first.

    >>> error_types({"errors_by_type": {"KeyError": 1, "ValueError": 3}})
    'ValueError (3), KeyError (1)'
    """
    items = sorted(stats["errors_by_type"].items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} ({count})" for name, count in items)


def value_of(stats: Mapping[str, Any], key: str) -> float | None:
    """One statistic as a number, ``None`` when it does not exist (see the module doc)."""
    return _values(stats, (key,))[key]


def _values(stats: Mapping[str, Any], keys: Sequence[str]) -> dict[str, float | None]:
    # value_of for several keys at once (the table's hot loop at many operations). No
    # figure: durations without a successful call, memory never measured, a call rate
    # with fewer than two calls (it needs a span).
    missing: set[str] = set()
    if not stats["success_count"]:
        missing |= DURATION_KEYS
    if not stats.get("memory_call_count"):
        missing.add("avg_memory_delta")
    if stats["call_count"] < 2:
        missing.add("calls_per_second")
    get = stats.get
    out = {key: None if (value := get(key)) is None else float(value) for key in keys}
    for key in missing.intersection(out):
        out[key] = None
    return out


def summaries_of(source: Any, names: Iterable[str] | None = None) -> dict[str, Mapping[str, Any]]:
    """``{name: statistics}`` of ``names`` (every operation when None), read once.

    A Snapshot or a live profiler gives its typed summaries (``summary(name)``),
    each cached per version of the operation's aggregates, so a view over many
    operations reads the ones that did not change for free; any other object
    with ``get_all_operations()`` and ``get_statistics(name)`` works too.
    """
    summary = getattr(source, "summary", None)
    if names is None:
        names = source.get_all_operations()
    if callable(summary):
        return {name: _read_only(summary(name)) for name in names}
    return {name: source.get_statistics(name) for name in names}


def _read_only(summary: Any) -> Mapping[str, Any]:
    # A summary's values behind a C-level read-only view: views read each figure
    # several times per operation, and a Python-level __getitem__ (or a copy of
    # every dict) is what made tables of many operations slow.
    values = getattr(summary, "_values", None)
    return MappingProxyType(values) if isinstance(values, dict) else summary


def slow_operations(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The operations every view calls slow, slowest first.

    Decided over all the operations given (pass every operation of a source,
    not the rows a table shows): at most :data:`SLOWEST_COUNT`, each with a
    mean of at least :data:`SLOW_MEAN_MS` ms (absolute) and at least
    :data:`SLOW_RELATIVE` times the (lower) median of all operations' means
    when there are several (relative).

    >>> slow_operations({"a": {"success_count": 3, "avg_duration_ms": 50.0},
    ...                  "b": {"success_count": 3, "avg_duration_ms": 0.2},
    ...                  "c": {"success_count": 3, "avg_duration_ms": 0.5}})
    ['a']
    """
    means = {
        name: float(s["avg_duration_ms"]) for name, s in summaries.items() if s["success_count"]
    }
    if not means:
        return []
    ordered = sorted(means.values())
    median = ordered[(len(ordered) - 1) // 2]  # the lower median: two operations can differ
    floor = SLOW_MEAN_MS if len(means) == 1 else max(SLOW_MEAN_MS, SLOW_RELATIVE * median)
    slow = sorted((n for n, m in means.items() if m >= floor), key=lambda n: -means[n])
    return slow[:SLOWEST_COUNT]


@dataclass
class Row:
    """One operation's row: its name, its numbers (``None`` = no figure) and its marks."""

    name: str
    values: dict[str, float | None]
    slow: bool = False
    failing: bool = False
    errors: str = ""


@dataclass
class Table:
    """A statistics table (see the module doc); render with :meth:`to_text`,
    :meth:`to_markdown` or :meth:`to_html`."""

    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    noted_operations: int = 0
    bar_key: str | None = "avg_duration_ms"
    _cells: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    def column_cells(self) -> dict[str, list[str]]:
        """``{column key: [cell text per row]}``, formatted once for every renderer."""
        if self._cells is None:
            self._cells = {
                c.key: c.format_all([r.values.get(c.key) for r in self.rows]) for c in self.columns
            }
        return self._cells

    # -- reading -------------------------------------------------------------------
    def relabel(self, labels: Mapping[str, str]) -> Table:
        """Give some columns other headers (``{"avg_duration_ms": "Avg (ms)"}``); returns self."""
        self.columns = [
            replace(c, label=labels[c.key]) if c.key in labels else c for c in self.columns
        ]
        self._cells = None
        return self

    def cell(self, row: Row, key: str) -> str:
        """The text of one cell (``"—"`` when the value does not exist)."""
        return COLUMNS[key].format(row.values.get(key)) if key in COLUMNS else EMPTY

    @property
    def slowest_mean_ms(self) -> float:
        """The largest value of the bar's column (0 when there is none)."""
        key = self.bar_key
        if key is None:
            return 0.0
        return max(filter(None, [r.values.get(key) for r in self.rows]), default=0.0)

    def notes_summary(self) -> str:
        """One line for the stability notes ("" when there are none)."""
        if not self.notes:
            return ""
        count = len(self.notes)
        ops = self.noted_operations
        return (
            f"{count} stability note{'s' if count != 1 else ''} on {ops} "
            f"operation{'s' if ops != 1 else ''}: treat those numbers with care"
        )

    # -- text ----------------------------------------------------------------------
    def to_text(self, width: int | None = None, *, notes: bool = True) -> str:
        """Plain text that fits ``width`` columns (default: the terminal's width).

        Numbers are right-aligned under right-aligned headers, rules are as wide
        as the header, and when the table is too wide the least important
        columns go first (one line says which); names are shortened last.
        """
        if not self.rows:
            return "No operations have been profiled yet."
        if width is None:
            width = shutil.get_terminal_size((100, 24)).columns
        width = max(int(width), 40)
        names = [printable(r.name) for r in self.rows]
        cells = self.column_cells()
        widths = {c.key: max(len(c.label), max(map(len, cells[c.key]))) + 2 for c in self.columns}
        name_width = min(32, max(len("Operation"), max(map(len, names))) + 2)
        shown = list(self.columns)
        dropped: list[Column] = []
        min_name = 14
        # Room for the row marks ("  <- slow, failing") is kept too.
        marks = {
            r.name: ", ".join(m for m, on in (("slow", r.slow), ("failing", r.failing)) if on)
            for r in self.rows
            if r.slow or r.failing
        }
        mark_width = max((len(m) + 5 for m in marks.values() if m), default=0)
        while min_name + sum(widths[c.key] for c in shown) + mark_width > width:
            candidates = [c for c in shown if c.drop > 0]
            if not candidates:
                break
            victim = max(candidates, key=lambda c: (c.drop, shown.index(c)))
            shown.remove(victim)
            dropped.append(victim)
        name_width = max(
            min(name_width, width - sum(widths[c.key] for c in shown) - mark_width), min_name
        )
        header = f"{'Operation':<{name_width}}" + "".join(
            f"{c.label:>{widths[c.key]}}" for c in shown
        )
        lines = [header, "-" * len(header)]
        layout = f"{{:<{name_width}}}" + "".join(f"{{:>{widths[c.key]}}}" for c in shown)
        shown_cells = [cells[c.key] for c in shown]
        fill = layout.format
        # Each row's cells, in column order (no columns at all: empty rows).
        per_row = zip(*shown_cells, strict=True) if shown_cells else itertools.repeat(())
        for row, name, values in zip(self.rows, names, per_row, strict=False):
            if len(name) > name_width - 1:
                name = name[: name_width - 2] + "…"
            line = fill(name, *values)
            if row.name in marks:
                line += "  <- " + marks[row.name]
            lines.append(line)
        if dropped:
            import textwrap

            left_out = ", ".join(c.label for c in dropped)
            lines += textwrap.wrap(f"(left out to fit {width} columns: {left_out})", width)
        # Prose below the table is left to the terminal to wrap.
        lines += [
            f"Failures in {printable(r.name)}: {printable(r.errors)}"
            for r in self.rows
            if r.failing
        ]
        if notes and self.notes:
            lines += ["", "! " + self.notes_summary() + " (details below)"]
            lines += ["", "Stability warnings:"]
            shown_notes = self.notes[:TEXT_NOTES_LIMIT]
            lines += [f"  ! {printable(n)}" for n in shown_notes]
            if len(self.notes) > len(shown_notes):
                lines.append(
                    f"  ... and {len(self.notes) - len(shown_notes):,} more "
                    "(every note: the table's .notes, or the HTML view)"
                )
        return "\n".join(lines)

    # -- markdown ------------------------------------------------------------------
    def to_markdown(self, *, notes: bool = True) -> str:
        """A GitHub-flavoured markdown table; slow and failing operations are named in
        a Flags column, apart from their names."""
        if not self.rows:
            return "No operations have been profiled yet.\n"
        head = "| Operation | " + " | ".join(c.label for c in self.columns) + " | Flags |"
        rule = "|---|" + "---:|" * len(self.columns) + "---|"
        lines = [head, rule]
        cells = self.column_cells()
        columns = [cells[c.key] for c in self.columns]
        for index, row in enumerate(self.rows):
            flags = []
            if row.slow:
                flags.append("**slow**")
            if row.failing:
                flags.append("failures: " + escape_markdown(row.errors))
            lines.append(
                f"| {escape_markdown(row.name)} | "
                + " | ".join(column[index] for column in columns)
                + f" | {'; '.join(flags)} |"
            )
        if notes and self.notes:
            lines += ["", f"_{self.notes_summary()}:_", ""]
            lines += [f"- {escape_markdown(n)}" for n in self.notes]
        return "\n".join(lines) + "\n"

    # -- HTML ----------------------------------------------------------------------
    def to_html(self, *, notes: bool = True, caption: str = "") -> str:
        """A self-contained HTML fragment with inline, theme-aware styles (see
        :class:`~wdbx_notebook._units.CSS`): readable in light and dark themes."""
        if not self.rows:
            return '<div class="wdbx-stats"><p>No operations have been profiled yet.</p></div>'
        parts = [
            '<div class="wdbx-stats" style="max-width:100%;overflow-x:auto">',
            f'<table style="{TABLE_STYLE}">',
        ]
        if caption:
            parts.append(f'<caption style="text-align:left">{escape_html(caption)}</caption>')
        parts.append(f'<thead><tr style="{_TR}">')
        parts.append(f'<th style="{_cell_style("left")}">Operation</th>')
        parts += [f'<th style="{_RIGHT}">{c.label}</th>' for c in self.columns]
        parts.append("</tr></thead><tbody>")
        slowest = self.slowest_mean_ms
        cells = self.column_cells()
        rows = self.rows
        # Whole <td> elements built a column at a time, then joined row by row.
        tds: list[list[str]] = []
        for c in self.columns:
            column = [_TD_RIGHT + text + "</td>" for text in cells[c.key]]
            if c.key == self.bar_key:
                for index, row in enumerate(rows):
                    value = row.values.get(c.key)
                    if value is not None:
                        style = _RIGHT + ";" + bar_style(value, slowest)
                        column[index] = f'<td style="{style}">{cells[c.key][index]}</td>'
            elif c.key == "error_count":
                for index, row in enumerate(rows):
                    if row.failing:
                        column[index] = (
                            f'{_TD_RIGHT}<b style="color:{CSS.ERROR}" '
                            f'title="{escape_html(row.errors)}">{cells[c.key][index]}</b></td>'
                        )
            tds.append(column)
        badge = (
            f' <span class="wdbx-badge" style="{CSS.BADGE}" '
            'title="among the slowest operations (see the report)">slow</span>'
        )
        heads = [
            f'<tr class="{_ROW_CLASS[row.failing, row.slow]}" '
            f'style="{_TR_FAILING if row.failing else _TR}"><td style="{_LEFT}">'
            f'<span class="wdbx-name">{escape_html(row.name)}</span>'
            f"{badge if row.slow else ''}</td>"
            for row in rows
        ]
        parts += ["".join(cells_of_row) + "</tr>" for cells_of_row in zip(heads, *tds, strict=True)]
        parts.append("</tbody></table>")
        failing = [r for r in self.rows if r.failing]
        if failing:
            parts.append(
                f'<p class="wdbx-failures" style="color:{CSS.ERROR};'
                'font-family:monospace;font-size:12px;margin:4px 0">'
                + "<br>".join(
                    f"Failures in {escape_html(r.name)}: {escape_html(r.errors)}" for r in failing
                )
                + "</p>"
            )
        if notes and self.notes:
            parts.append(notes_html(self.notes, self.notes_summary()))
        parts.append("</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.to_text(), "text/html": self.to_html()}

    def __repr__(self) -> str:
        return self.to_text()


#: The most stability notes a text table lists (the rest are counted).
TEXT_NOTES_LIMIT = 50


def _cell_style(align: str) -> str:
    return f"padding:2px 8px;text-align:{align}"


# Rows carry the rule (a collapsed table draws row borders), so cells stay short.
_TR = f"border-bottom:1px solid {CSS.BORDER}"
_TR_FAILING = _TR + f";background-color:{CSS.FAIL_TINT}"


TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_LEFT = _cell_style("left") + ";white-space:nowrap"  # the badge stays beside the name
_RIGHT = _cell_style("right") + ";white-space:nowrap"
_TD_RIGHT = f'<td style="{_RIGHT}">'
_ROW_CLASS = {
    (False, False): "wdbx-ok",
    (False, True): "wdbx-ok wdbx-slow",
    (True, False): "wdbx-failing",
    (True, True): "wdbx-failing wdbx-slow",
}


def bar_style(value: float, largest: float) -> str:
    """A translucent bar filling ``value / largest`` of the cell (the text keeps its colour,
    so the cell reads in light and dark themes)."""
    share = 0.0 if largest <= 0 else max(0.0, min(1.0, value / largest))
    stop = f"{share * 100:.1f}%"
    return f"background-image:linear-gradient(90deg,{CSS.BAR} {stop},transparent {stop})"


def notes_html(notes: Sequence[str], summary: str) -> str:
    """Stability notes as one summary line that opens onto the details."""
    items = "".join(f"<li>{escape_html(n)}</li>" for n in notes)
    return (
        '<details class="wdbx-warnings" style="font-size:12px;margin:4px 0">'
        f'<summary style="color:{CSS.WARNING};cursor:pointer">&#9888; {escape_html(summary)}'
        "</summary>"
        f'<ul style="margin:2px 0">{items}</ul></details>'
    )


def _sort_key(sort_by: str) -> tuple[str, bool]:
    ascending = sort_by.startswith("+")
    key = sort_by.lstrip("+-")
    key = METRIC_ALIASES.get(key, key)
    if key not in COLUMNS and key != "name":
        choices = sorted(set(COLUMNS) | set(METRIC_ALIASES) | {"name"})
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {', '.join(choices)}")
    return key, ascending


def statistics_table(
    source: Any,
    names: Sequence[str] | None = None,
    sort_by: str | None = None,
    columns: Sequence[str] | None = None,
    *,
    summaries: Mapping[str, Mapping[str, Any]] | None = None,
    notes: bool = True,
) -> Table:
    """The statistics table of ``names`` (every operation when None) of ``source``.

    Args:
        source: a Snapshot, a profiler, or anything with ``get_all_operations()``
            and ``get_statistics(name)``.
        names: the rows, in this order (an unknown name raises ``KeyError``).
        sort_by: a column key or short name (``"mean"``, ``"p95"``, ``"name"``),
            largest first; ``"+mean"`` sorts ascending.
        columns: column keys (default :data:`DEFAULT_COLUMNS`).
        summaries: every operation's statistics when the caller already has them.
        notes: whether to compute stability notes for the rows shown.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_table(PerformanceProfiler()).to_text()
    'No operations have been profiled yet.'
    """
    if isinstance(names, str):
        raise TypeError(
            f"names must be a list of operation names, got the str {names!r}; wrap it in a list"
        )
    keys = list(DEFAULT_COLUMNS if columns is None else columns)
    for key in keys:
        if key not in COLUMNS:
            raise ValueError(f"unknown column {key!r}; choose from {', '.join(COLUMNS)}")
    everything = dict(summaries) if summaries is not None else summaries_of(source)
    if names is None:
        chosen = list(everything)
    else:
        chosen = list(names)
        missing = [n for n in chosen if n not in everything]
        if missing:
            # Let the source say what is wrong (did-you-mean, type errors) at this call.
            extra = summaries_of(source, missing)
            everything.update(extra)
    slow = set(slow_operations(everything))
    rows = []
    for name in chosen:
        stats = everything[name]
        failing = bool(stats["error_count"])
        rows.append(
            Row(
                name=name,
                values=_values(stats, keys),
                slow=name in slow,
                failing=failing,
                errors=error_types(stats) if failing else "",
            )
        )
    if sort_by is not None:
        key, ascending = _sort_key(sort_by)
        if key == "name":
            rows.sort(key=lambda r: r.name, reverse=not ascending)
        else:
            # Rows without a figure go last either way.
            figures = {r.name: value_of(everything[r.name], key) for r in rows}
            present = [r for r in rows if figures[r.name] is not None]
            absent = [r for r in rows if figures[r.name] is None]
            present.sort(key=lambda r: figures[r.name] or 0.0, reverse=not ascending)
            rows = present + absent
    found: list[str] = []
    noted = 0
    if notes:
        for name in chosen:
            mine = _notes_of(name, everything[name])
            if mine:
                noted += 1
                found.extend(mine)
    return Table(
        columns=[COLUMNS[k] for k in keys],
        rows=rows,
        notes=found,
        noted_operations=noted,
    )


# Stability notes depend only on an operation's figures: cached per version of them.
_NOTES_CACHE: dict[tuple[Any, ...], list[str]] = {}
_NOTES_CACHE_LIMIT = 200_000
_NOTES_KEY = itemgetter(
    "call_count",
    "success_count",
    "last_call",
    "total_duration_ms",
    "std_duration_ms",
    "median_duration_ms",
)


def _notes_of(name: str, stats: Mapping[str, Any]) -> list[str]:
    try:
        key: tuple[Any, ...] | None = (name, *_NOTES_KEY(stats))
    except KeyError:  # a statistics dict of another shape: computed, not cached
        key = None
    found = None if key is None else _NOTES_CACHE.get(key)
    if found is None:
        from .. import _clock
        from ..stability import stability_warnings

        try:
            found = stability_warnings(name, stats, resolution_ns=_clock.resolution_ns())
        except Exception as err:  # a display must never fail because of its extras
            return [f"{name!r}: stability check failed ({type(err).__name__}: {err})"]
        if key is not None:
            if len(_NOTES_CACHE) >= _NOTES_CACHE_LIMIT:
                _NOTES_CACHE.clear()
            _NOTES_CACHE[key] = found
    return found
