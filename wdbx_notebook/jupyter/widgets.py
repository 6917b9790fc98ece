"""The comparison app: an ipywidgets front end over the profiler's statistics and plots.

:func:`comparison_widget` returns a :class:`ComparisonWidget` (a ``VBox``):

* a multi-select of operations (all by default, slowest first);
* a metric selector (:data:`wdbx_notebook.plots.METRICS`);
* a chart selector: bar chart of the metric, box or violin plot of the
  durations, histogram, timeline with a moving average; a log-scale switch;
* the statistics table of the selected operations, sorted by the metric,
  worst first;
* Refresh, a Live toggle that re-renders every ``live_interval_s`` seconds
  while the profiled code runs (only when new calls arrived), and Export
  report, which writes the markdown report of the selection to a file.

The chart is PNG bytes swapped into one ``Image`` widget, not figures appended
to an ``Output``: replacing a value is flicker-free, never grows the
notebook's output, works from the Live timer's thread (an ``Output`` context
captures by the message being executed, which a timer thread has not got)
and lands in the saved widget state. Figures are drawn with the object API
(:mod:`wdbx_notebook.plots`) and closed by going out of scope; pyplot's
registry never sees them.

:func:`show_comparison` is what ``%wdbx_compare`` calls: the app under a
kernel with a widget front end, the comparison table as text anywhere else.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

from .. import plots
from ..report import PerformanceReport
from ..report.base import StatisticsSource, format_ms
from ..report.text import printable

__all__ = ["ComparisonWidget", "comparison_table_text", "comparison_widget", "show_comparison"]

_CHART_LABELS = {
    "bar": "Bar chart of the metric",
    "box": "Distribution: box plot",
    "violin": "Distribution: violin plot",
    "histogram": "Histogram of durations",
    "timeline": "Timeline with moving average",
}

_METRIC_LABELS = {
    "mean": "Mean",
    "median": "Median",
    "p95": "p95",
    "p99": "p99",
    "max": "Max",
    "total": "Total time",
    "calls_per_second": "Calls per second",
    "memory_per_call": "Memory delta per call",
    "success_rate": "Success rate",
}

#: Table columns after the operation's name: (metric key, header).
_TABLE_COLUMNS = [(key, m.column) for key, m in plots.METRICS.items()]

_TABLE_NAME_WIDTH = 48


class _Selection:
    """A statistics source limited to some operations (what the report exports)."""

    def __init__(self, source: StatisticsSource, names: list[str]) -> None:
        self._source = source
        self._names = names

    def get_all_operations(self) -> list[str]:
        return list(self._names)

    def get_statistics(self, name: str) -> dict[str, Any]:
        return self._source.get_statistics(name)

    def report_notes(self) -> list[str]:
        notes = getattr(self._source, "report_notes", None)
        return list(notes()) if callable(notes) else []


def _format(value: float, metric: str) -> str:
    if metric in ("calls_per_second", "success_rate", "memory_per_call"):
        return f"{value:,.1f}"
    return format_ms(value)


def _ordered(stats: dict[str, dict[str, Any]], metric: str) -> list[str]:
    m = plots.METRICS[metric]
    return sorted(stats, key=lambda n: plots.metric_value(stats[n], m), reverse=m.higher_is_worse)


def _table_html(stats: dict[str, dict[str, Any]], metric: str) -> str:
    """The statistics table of the selection, worst first by ``metric``; names escaped."""
    m = plots.METRICS[metric]
    if not stats:
        return (
            '<div class="wdbx-compare-empty"><i>No operations selected, or nothing has been '
            "profiled yet: run profiled code, then press Refresh.</i></div>"
        )
    head = "".join(
        f'<th style="text-align:right{";background:#e8eef8" if key == metric else ""}"'
        f' data-metric="{key}">{html.escape(header)}</th>'
        for key, header in _TABLE_COLUMNS
    )
    rows = []
    for rank, name in enumerate(_ordered(stats, metric), 1):
        s = stats[name]
        cells = "".join(
            f'<td style="text-align:right;font-variant-numeric:tabular-nums'
            f'{";font-weight:bold" if key == metric else ""}" data-metric="{key}">'
            f"{html.escape(_format(plots.metric_value(s, key), key))}</td>"
            for key, _ in _TABLE_COLUMNS
        )
        label = printable(name, _TABLE_NAME_WIDTH)
        rows.append(
            f'<tr data-operation="{html.escape(name, quote=True)}"><td>{rank}</td>'
            f'<td title="{html.escape(printable(name), quote=True)}">'
            f"<code>{html.escape(label)}</code></td>"
            f'<td style="text-align:right">{s["call_count"]:,}</td>{cells}</tr>'
        )
    order = "highest first" if m.higher_is_worse else "lowest first"
    return (
        "<style>.wdbx-compare-table td,.wdbx-compare-table th"
        "{padding:2px 8px;white-space:nowrap}</style>"
        f'<table class="wdbx-compare-table" data-sort-metric="{metric}" '
        'style="border-collapse:collapse;font-size:12px">'
        f'<caption style="text-align:left;padding:4px 0">Sorted by {html.escape(m.label)}, '
        f"{order} (worst at the top)</caption>"
        f'<thead><tr><th>#</th><th style="text-align:left">Operation</th>'
        f'<th style="text-align:right">Calls</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def comparison_table_text(
    operations: str | Iterable[str] | None = None,
    profiler: StatisticsSource | None = None,
    *,
    metric: str = "mean",
) -> str:
    """The comparison table as plain text: the app's table where widgets cannot render.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> print(comparison_table_text(profiler=profiler).splitlines()[0])
    OPERATION COMPARISON (sorted by Mean duration (ms), highest first)
    """
    m = plots._check_metric(metric)
    _, stats = plots.resolve_operations(operations, profiler)
    stats = {name: s for name, s in stats.items() if s["call_count"]}
    order = "highest first" if m.higher_is_worse else "lowest first"
    lines = [f"OPERATION COMPARISON (sorted by {m.label}, {order})"]
    if not stats:
        lines.append("No operations have been profiled yet.")
        return "\n".join(lines) + "\n"
    width = min(_TABLE_NAME_WIDTH, max(len("Operation"), *(len(printable(n)) for n in stats))) + 2
    headers = ["Calls"] + [header for _, header in _TABLE_COLUMNS]
    widths = [max(len(h), 9) + 2 for h in headers]
    lines.append(
        f"{'Operation':<{width}}"
        + "".join(f"{h:>{w}}" for h, w in zip(headers, widths, strict=True))
    )
    lines.append("-" * (width + sum(widths)))
    for name in _ordered(stats, m.key):
        s = stats[name]
        values = [f"{s['call_count']:,}"] + [
            _format(plots.metric_value(s, key), key) for key, _ in _TABLE_COLUMNS
        ]
        lines.append(
            f"{printable(name, width - 2):<{width}}"
            + "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True))
        )
    return "\n".join(lines) + "\n"


_DPI = 90

#: Charts kept per app (PNG bytes, ~20-60 KB each) for controls flipped back and forth.
_CHART_CACHE_SIZE = 24


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


class ComparisonWidget(widgets.VBox):
    """The comparison app; build it with :func:`comparison_widget`.

    Controls (public attributes): ``operations_select``, ``metric``,
    ``chart``, ``log_scale``, ``refresh_button``, ``live``, ``export_path``,
    ``export_button``; views: ``chart_image`` (PNG), ``table`` (HTML) and
    ``status``. ``render()`` redraws; ``refresh()`` re-reads the profiler's
    operations first. ``render_count`` and ``last_error`` tell what happened.
    """

    # class defaults: ipywidgets calls close() from __del__, even on an instance
    # whose __init__ stopped at a bad argument
    _live_stop: threading.Event | None = None
    _live_thread: threading.Thread | None = None
    _parts: tuple[widgets.Widget, ...] = ()

    def __init__(
        self,
        operations: str | Iterable[str] | None = None,
        profiler: StatisticsSource | None = None,
        *,
        metric: str = "mean",
        chart: str = "bar",
        live_interval_s: float = 1.5,
        report_path: str = "wdbx_comparison_report.md",
    ) -> None:
        plots._check_metric(metric)
        if chart not in _CHART_LABELS:
            raise ValueError(
                f"unknown chart {chart!r}; choose one of "
                + ", ".join(repr(c) for c in _CHART_LABELS)
            )
        if (
            isinstance(live_interval_s, bool)
            or not isinstance(live_interval_s, (int, float))
            or not (0.1 <= live_interval_s <= 3600)
        ):
            raise ValueError(
                f"live_interval_s must be seconds between 0.1 and 3600, got {live_interval_s!r}"
            )
        source, stats = plots.resolve_operations(operations, profiler)
        self.source = source
        # with operations=None the app follows the profiler: new operations appear on refresh
        self._follow_all = operations is None
        self.live_interval_s = float(live_interval_s)
        self.render_count = 0
        self.last_error: str | None = None
        self.last_export_path: str | None = None
        self._render_lock = threading.RLock()
        self._quiet = False  # set while the app itself changes controls, to render once
        self._signature: tuple[Any, ...] = ()
        self._charts: OrderedDict[tuple[Any, ...], tuple[bytes, str]] = OrderedDict()

        # slowest first, whoever chose the operations: the eye starts at the top
        names = sorted(stats, key=lambda n: -stats[n]["avg_duration_ms"])
        self.operations_select = widgets.SelectMultiple(
            options=self._options(names),
            value=tuple(names),
            rows=min(10, max(4, len(names))),
            description="Operations",
            layout=widgets.Layout(width="380px"),
        )
        self.metric = widgets.Dropdown(
            options=[(_METRIC_LABELS[k], k) for k in plots.METRICS],
            value=metric,
            description="Metric",
        )
        self.chart = widgets.Dropdown(
            options=[(label, key) for key, label in _CHART_LABELS.items()],
            value=chart,
            description="Chart",
        )
        self.log_scale = widgets.Checkbox(value=False, description="Log scale", indent=True)
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="Re-read the profiler"
        )
        self.live = widgets.ToggleButton(
            value=False,
            description="Live",
            icon="play",
            tooltip=f"Refresh every {live_interval_s:g} s",
        )
        self.export_path = widgets.Text(value=report_path, description="Report file")
        self.export_button = widgets.Button(
            description="Export report",
            icon="download",
            tooltip="Write the markdown report of the selection",
        )
        self.chart_image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.table = widgets.HTML()
        self.status = widgets.HTML()
        self._parts = (
            self.operations_select,
            self.metric,
            self.chart,
            self.log_scale,
            self.refresh_button,
            self.live,
            self.export_path,
            self.export_button,
            self.chart_image,
            self.table,
            self.status,
        )
        # class names give the browser test (and user CSS) stable handles
        for widget, css in (
            (self.operations_select, "wdbx-operations"),
            (self.metric, "wdbx-metric"),
            (self.chart, "wdbx-chart-kind"),
            (self.log_scale, "wdbx-log-scale"),
            (self.refresh_button, "wdbx-refresh"),
            (self.live, "wdbx-live"),
            (self.export_path, "wdbx-export-path"),
            (self.export_button, "wdbx-export"),
            (self.chart_image, "wdbx-chart"),
            (self.table, "wdbx-table"),
            (self.status, "wdbx-status"),
        ):
            widget.add_class(css)

        controls = widgets.VBox(
            [
                self.metric,
                self.chart,
                self.log_scale,
                widgets.HBox([self.refresh_button, self.live]),
                widgets.HBox([self.export_path, self.export_button]),
            ]
        )
        super().__init__(
            [
                widgets.HTML("<b>Operation comparison</b>"),
                widgets.HBox([self.operations_select, controls]),
                self.chart_image,
                self.table,
                self.status,
            ]
        )
        self.add_class("wdbx-comparison")
        for control in (self.operations_select, self.metric, self.chart, self.log_scale):
            control.observe(self._on_change, names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.export_button.on_click(lambda _: self.export())
        self.live.observe(self._on_live, names="value")
        self._signature = self._current_signature()
        self.render()

    # -- reading the profiler ------------------------------------------------------
    @staticmethod
    def _options(names: list[str]) -> list[tuple[str, str]]:
        return [(printable(name), name) for name in names]

    def _current_signature(self) -> tuple[Any, ...]:
        """What changes when calls arrive: each operation's call count."""
        try:
            names = self.source.get_all_operations()
            return tuple((n, self.source.get_statistics(n)["call_count"]) for n in names)
        except Exception:  # a source that fails to answer just looks unchanged
            return self._signature

    def refresh(self) -> None:
        """Re-read the operations (new ones appear; with all selected they are
        selected too), then redraw."""
        with self._render_lock:
            self._signature = self._current_signature()
            if self._follow_all:
                try:
                    _, stats = plots.resolve_operations(None, self.source)
                except Exception as exc:
                    self._fail(exc)
                    return
                names = list(stats)
                old_options = [value for _, value in self.operations_select.options]
                selected = set(self.operations_select.value)
                all_selected = selected >= set(old_options)
                if names != old_options:
                    keep = [
                        n for n in names if n in selected or (all_selected and n not in old_options)
                    ]
                    self._quiet = True
                    try:
                        self.operations_select.options = self._options(names)
                        self.operations_select.value = tuple(keep)
                        self.operations_select.rows = min(10, max(4, len(names)))
                    finally:
                        self._quiet = False
            self.render()

    # -- drawing -------------------------------------------------------------------
    def _on_change(self, change: dict[str, Any]) -> None:
        # under the lock, so _quiet is only ever seen by the thread that set it: a
        # user's change during a Live refresh waits for that refresh, then renders
        with self._render_lock:
            if not self._quiet:
                self.render()

    def selected_statistics(self) -> dict[str, dict[str, Any]]:
        """``{name: statistics}`` of the selected operations that have calls."""
        stats = {}
        for name in self.operations_select.value:
            s = self.source.get_statistics(name)
            if s["call_count"]:
                stats[name] = s
        return stats

    def figure(self) -> Any:
        """The current chart as a matplotlib Figure (what the image shows)."""
        names = list(self.selected_statistics())
        chart, log = self.chart.value, self.log_scale.value
        if chart == "bar":
            return plots.plot_comparison(names, self.source, metric=self.metric.value)
        if chart == "timeline":
            return plots.plot_timeline(names, self.source, log_scale=log)
        return plots.plot_distribution(names, self.source, kind=chart, log_scale=log)

    def _chart_png(self, stats: dict[str, dict[str, Any]]) -> tuple[bytes, str]:
        """The chart's PNG and pixel width, drawn only when what it shows changed.

        The key holds only the controls the chart depends on (the metric only
        for bars, the log scale only for the others) and the selection's call
        counts, so flipping controls back and forth, or a metric change under a
        box plot, reuses the image instead of redrawing it."""
        chart = self.chart.value
        key = (
            chart,
            self.metric.value if chart == "bar" else None,
            self.log_scale.value if chart != "bar" else None,
            tuple((name, s["call_count"]) for name, s in stats.items()),
        )
        cached = self._charts.get(key)
        if cached is not None:
            self._charts.move_to_end(key)
            return cached
        fig = self.figure()
        drawn = (_png(fig), str(round(fig.get_figwidth() * _DPI)))
        self._charts[key] = drawn
        while len(self._charts) > _CHART_CACHE_SIZE:
            self._charts.popitem(last=False)
        return drawn

    def render(self) -> None:
        """Redraw the chart and the table from the current controls.

        Never raises: a failure is shown in the status line and kept in
        ``last_error``, since an exception in a widget callback is lost in the
        kernel's log where nobody looks.
        """
        with self._render_lock:
            try:
                # a log scale means nothing for a bar of success rates or throughput
                self.log_scale.disabled = self.chart.value == "bar"
                stats = self.selected_statistics()
                png, width = self._chart_png(stats)
                table = _table_html(stats, self.metric.value)
                # one image pixel per screen pixel: crisp text, and the page only
                # reflows when the chart's size really changes
                self.chart_image.width = width
                self.chart_image.value = png
                self.table.value = table
                self.render_count += 1
                self.last_error = None
                calls = sum(s["call_count"] for s in stats.values())
                stamp = _dt.datetime.now().strftime("%H:%M:%S")
                live = " · live" if self.live.value else ""
                self._set_status(
                    f"{len(stats)} operation{'s' if len(stats) != 1 else ''}, {calls:,} calls · "
                    f"updated {stamp}{live}"
                )
            except Exception as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.status.value = (
            '<span style="color:#b00020">Could not draw the comparison: '
            f"{html.escape(self.last_error)}</span>"
        )

    def _set_status(self, text: str) -> None:
        extra = ""
        if self.last_export_path is not None:
            extra = f" · report written to <code>{html.escape(self.last_export_path)}</code>"
        self.status.value = f'<span style="color:#555">{html.escape(text)}</span>{extra}'

    # -- export --------------------------------------------------------------------
    def export(self, path: str | os.PathLike[str] | None = None) -> str | None:
        """Write the markdown report of the selected operations; returns its absolute
        path (also shown in the status line), or None when writing failed."""
        target = os.path.abspath(
            os.fspath(path if path is not None else self.export_path.value or "")
        )
        if not os.path.basename(target) or os.path.isdir(target):
            self._fail(ValueError("the report file needs a file name, e.g. wdbx_report.md"))
            return None
        try:
            names = list(self.selected_statistics())
            PerformanceReport(_Selection(self.source, names), "markdown").save(target, "markdown")
        except Exception as exc:
            self._fail(exc)
            return None
        self.last_export_path = target
        self.last_error = None
        self._set_status(f"{len(names)} operations exported")
        return target

    # -- live ----------------------------------------------------------------------
    def _on_live(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.start_live()
        else:
            self.stop_live()

    def start_live(self) -> None:
        """Refresh every ``live_interval_s`` seconds from a daemon thread, when calls arrived."""
        if self._live_thread is not None and self._live_thread.is_alive():
            return
        stop = threading.Event()
        self._live_stop = stop
        self._live_thread = threading.Thread(
            target=self._live_loop, args=(stop,), name="wdbx-comparison-live", daemon=True
        )
        self._live_thread.start()
        if not self.live.value:
            self.live.value = True
        self.live.icon = "pause"

    def stop_live(self) -> None:
        """Stop the Live refresh and wait for its thread."""
        stop, thread = self._live_stop, self._live_thread
        self._live_stop = self._live_thread = None
        if stop is not None:
            stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        if self._parts:  # the controls exist (close() may run on a half-built app)
            if self.live.value:
                self.live.value = False
            self.live.icon = "play"

    def _live_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.live_interval_s):
            if self.comm is None:  # the widget was closed: nobody is watching
                break
            if self._current_signature() != self._signature:
                self.refresh()

    def close(self) -> None:
        """Stop the Live thread, then close the widget and its children."""
        self.stop_live()
        for child in self._parts:
            child.close()
        super().close()


def comparison_widget(
    operations: str | Iterable[str] | None = None,
    profiler: StatisticsSource | None = None,
    **options: Any,
) -> ComparisonWidget:
    """The interactive comparison app for ``operations`` (all when None) of ``profiler``
    (the shared one when None). Options: ``metric``, ``chart``, ``live_interval_s``,
    ``report_path``.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> app = comparison_widget(profiler=profiler, metric="p95")
    >>> app.operations_select.value
    ('load',)
    """
    return ComparisonWidget(operations, profiler, **options)


def _widget_frontend() -> bool:
    """True under a Jupyter kernel (where a front end can render widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_comparison(
    operations: str | Iterable[str] | None = None,
    profiler: StatisticsSource | None = None,
    **options: Any,
) -> ComparisonWidget | None:
    """Show the comparison where the user is: the app under a Jupyter kernel (returned),
    the comparison table as text anywhere else (a terminal IPython, a script).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> show_comparison(profiler=PerformanceProfiler())  # no kernel here: text
    OPERATION COMPARISON (sorted by Mean duration (ms), highest first)
    No operations have been profiled yet.
    """
    if _widget_frontend():
        from IPython.display import display

        app = comparison_widget(operations, profiler, **options)
        display(app)
        return app
    metric = options.get("metric", "mean")
    print(comparison_table_text(operations, profiler, metric=metric), end="")
    return None
