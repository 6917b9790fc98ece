"""The comparison app: an ipywidgets front end over a snapshot's statistics and charts.

:func:`comparison_widget` returns a :class:`ComparisonWidget` (a ``VBox``):

* a multi-select of operations (all by default, slowest first; the order is
  set when the app is built and when Refresh is pressed, never by Live or by
  another control, so the list stays where the eye left it);
* a metric selector (:data:`wdbx_notebook.plots.METRICS`);
* a chart selector: bar chart of the metric, box or violin plot of the
  durations, histogram, timeline with a moving average; a log-scale switch
  (for every chart);
* the statistics table of the selected operations, sorted by the metric,
  worst first;
* Refresh, a Live toggle that re-renders every ``live_interval_s`` seconds
  while the profiled code runs (only when new calls arrived), and Export
  report, which writes the markdown report of the selection to a file.

Every read goes through the read model: the app holds a
:class:`~wdbx_notebook.snapshot.Snapshot` of its source, taken anew by
Refresh and by Live when calls arrived. The chart comes from a
:class:`~wdbx_notebook.jupyter.figures.ChartRenderer` (real matplotlib PNGs
by default) as bytes swapped into one ``Image`` widget: replacing a value is
flicker-free, never grows the notebook's output, works from the Live timer's
thread and lands in the saved widget state.

Displayed, the app also leaves a static twin beside it (the table and the
chart as HTML, the table as text): a front end that renders the widget hides
the twin, while an nbconvert export or a viewer without widgets shows it.

:func:`show_comparison` is what ``%wdbx_compare`` calls: the app under a
kernel with a widget front end, the comparison table as text anywhere else.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
from traitlets import TraitError, observe, validate

from .. import plots
from .._units import CSS
from ..report import PerformanceReport
from ..report.escape import printable
from ..report.table import Table, statistics_table
from ..snapshot import Snapshot
from .figures import Chart, ChartRenderer, ChartRequest, PngChartRenderer

__all__ = [
    "ComparisonWidget",
    "OperationSelect",
    "comparison_table_text",
    "comparison_widget",
    "show_comparison",
]

_CHART_LABELS = {
    "bar": "Bar chart of the metric",
    "box": "Distribution: box plot",
    "violin": "Distribution: violin plot",
    "histogram": "Histogram of durations",
    "timeline": "Timeline with moving average",
    "breakdown": "Where the time goes: CPU / waiting / GC",
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
    "cpu_share": "CPU share",
}

#: Table columns after the operation's name and calls: (metric key, header).
_TABLE_COLUMNS = [(key, m.column) for key, m in plots.METRICS.items()]
#: The same columns as keys of the one statistics table.
_TABLE_KEYS = ["call_count", *(m.statistic for m in plots.METRICS.values())]

_TABLE_NAME_WIDTH = 48

#: Rows the HTML table shows at most (the worst by the metric); the caption says so.
TABLE_ROWS = 1_000

# JupyterLab's theme variables, with light fallbacks for other front ends: the app is
# readable in the light and the dark theme alike
_STYLE = """<style>
.wdbx-compare-scroll{overflow-x:auto;max-width:100%;width:100%}
.wdbx-table,.wdbx-table .widget-html-content{min-width:0;max-width:100%;box-sizing:border-box}
.wdbx-compare-table{border-collapse:collapse;font-size:12px;
 color:var(--jp-content-font-color1,#1a1a1a);background:var(--jp-layout-color0,#fff)}
.wdbx-compare-table td,.wdbx-compare-table th{padding:2px 8px;white-space:nowrap;
 border-bottom:1px solid var(--jp-border-color2,#e0e0e0)}
.wdbx-compare-table th{color:var(--jp-ui-font-color0,#000);text-align:right}
.wdbx-compare-table td{text-align:left}
.wdbx-compare-table th.wdbx-sorted{background:var(--jp-layout-color2,#e8eef8);
 color:var(--jp-ui-font-color0,#000)}
.wdbx-compare-table td.wdbx-num{text-align:right;font-variant-numeric:tabular-nums}
.wdbx-compare-table td.wdbx-sorted{font-weight:bold}
.wdbx-compare-caption{margin:4px 0;font-size:12px;line-height:1.4;
 color:var(--jp-ui-font-color1,#333)}
.wdbx-compare-table code{color:inherit;background:transparent}
.wdbx-compare-status{color:var(--jp-ui-font-color1,#333)}
.wdbx-compare-error{color:inherit;font-weight:bold;padding-left:6px;
 border-left:4px solid var(--jp-error-color1,#eb0000)}
.wdbx-compare-empty{color:var(--jp-ui-font-color1,#333)}
</style>"""


def _attribute(name: str) -> str:
    """``name`` for an HTML attribute: quotes escaped, and every unprintable character
    (bidi overrides, zero-width, lone surrogates) as a character reference, so the exact
    name survives ``html.unescape`` but nothing raw reaches the page."""
    escaped = html.escape(name, quote=True)
    if escaped.isprintable():
        return escaped
    return "".join(ch if ch.isprintable() else f"&#x{ord(ch):x};" for ch in escaped)


def _ordered(stats: dict[str, dict[str, Any]], metric: str) -> list[str]:
    key = plots.sort_key(metric)
    return sorted(stats, key=lambda n: key(stats[n]))


def _table(stats: dict[str, dict[str, Any]], metric: str) -> Table:
    """The one statistics table model of the selection, worst first by ``metric``
    (operations without the figure last): the widget's columns, the report's numbers."""
    m = plots.METRICS[metric]
    return statistics_table(
        None,
        names=list(stats),
        sort_by=m.statistic if m.higher_is_worse else "+" + m.statistic,
        columns=_TABLE_KEYS,
        summaries=stats,
        notes=False,
    )


def _table_html(stats: dict[str, dict[str, Any]], metric: str) -> str:
    """The statistics table of the selection, worst first by ``metric``; names escaped.

    Rows carry ``data-operation`` (the exact name, unprintable characters as
    references) and cells ``data-metric``, for the browser test and user CSS."""
    m = plots.METRICS[metric]
    if not stats:
        return (
            _STYLE + '<div class="wdbx-compare-empty"><i>No operations selected, or nothing has '
            "been profiled yet: run profiled code, then press Refresh.</i></div>"
        )
    head = "".join(
        f'<th{" class=wdbx-sorted" if key == metric else ""} data-metric="{key}">'
        f"{html.escape(header)}</th>"
        for key, header in _TABLE_COLUMNS
    )
    table = _table(stats, metric)
    rows = []
    for rank, row in enumerate(table.rows[:TABLE_ROWS], 1):
        cells = "".join(
            f'<td class="wdbx-num{" wdbx-sorted" if key == metric else ""}" data-metric="{key}">'
            f"{table.cell(row, plots.METRICS[key].statistic)}</td>"
            for key, _ in _TABLE_COLUMNS
        )
        label = html.escape(printable(row.name, _TABLE_NAME_WIDTH))
        badge = (
            f'<span class="wdbx-badge" style="{CSS.BADGE}" '
            'title="among the slowest operations (see the report)">slow</span>'
            if row.slow
            else ""
        )
        tint = f' style="background-color:{CSS.FAIL_TINT}"' if row.failing else ""
        rows.append(
            f'<tr data-operation="{_attribute(row.name)}"{tint}><td>{rank}</td>'
            f'<td title="{html.escape(printable(row.name), quote=True)}">'
            f"<code>{label}</code>{badge}</td>"
            f'<td class="wdbx-num">{table.cell(row, "call_count")}</td>{cells}</tr>'
        )
    order = "highest first" if m.higher_is_worse else "lowest first"
    more = ""
    if len(table.rows) > TABLE_ROWS:
        more = (
            f"; the {TABLE_ROWS:,} worst of {len(table.rows):,} shown, select fewer to see others"
        )
    # The sentence sits above the scrolling box, not in it as a <caption>: in a narrow
    # window it wraps and stays readable while the wide table scrolls.
    return (
        f'{_STYLE}<p class="wdbx-compare-caption">'
        f"Sorted by {html.escape(m.label)}, {order} (worst at the top){more}</p>"
        f'<div class="wdbx-compare-scroll">'
        f'<table class="wdbx-compare-table" data-sort-metric="{metric}">'
        f'<thead><tr><th style="text-align:left">#</th><th style="text-align:left">Operation</th>'
        f"<th>Calls</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def comparison_table_text(
    operations: str | Iterable[str] | None = None,
    profiler: Any = None,
    *,
    metric: str = "mean",
    width: int | None = None,
) -> str:
    """The comparison table as plain text that fits ``width`` columns (default: the
    terminal's): the app's table where widgets cannot render.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> print(comparison_table_text(profiler=profiler).splitlines()[0])
    OPERATION COMPARISON (sorted by Mean duration (ms), highest first)
    """
    m = plots._check_metric(metric)
    _, stats = plots.resolve_operations(operations, profiler)
    return _table_text({name: s for name, s in stats.items() if s["call_count"]}, m.key, width)


def _table_text(stats: dict[str, dict[str, Any]], metric: str, width: int | None = None) -> str:
    """The comparison as text that fits ``width`` columns (default: the terminal's):
    the one table's text rendering, under a line that says how it is sorted."""
    m = plots.METRICS[metric]
    order = "highest first" if m.higher_is_worse else "lowest first"
    title = f"OPERATION COMPARISON (sorted by {m.label}, {order})"
    if not stats:
        return f"{title}\nNo operations have been profiled yet.\n"
    return f"{title}\n{_table(stats, metric).to_text(width, notes=False)}\n"


#: Charts kept per app (PNG bytes, ~20-60 KB each) for controls flipped back and forth.
_CHART_CACHE_SIZE = 24


class OperationSelect(widgets.SelectMultiple):
    """A ``SelectMultiple`` whose selection costs time in the selected values, not in
    selected x options.

    ipywidgets finds each selected value (and label) by scanning the options,
    so selecting all of n operations costs n² comparisons (4.5 s at 10,000);
    here a dict of positions answers each lookup at once. Option values must
    be hashable (operation names are strings).
    """

    _positions: dict[Any, int]
    _label_positions: dict[str, int]

    def _index_options(self) -> None:
        self._positions = {v: i for i, v in enumerate(self._options_values)}
        self._label_positions = {v: i for i, v in enumerate(self._options_labels)}

    def _lookup(self) -> dict[Any, int]:
        if getattr(self, "_indexed_values", None) is not self._options_values:
            self._index_options()
            self._indexed_values = self._options_values
        return self._positions

    @validate("value")
    def _validate_value(self, proposal: Any) -> tuple[Any, ...]:
        positions = self._lookup()
        values = tuple(proposal.value)
        if any(v not in positions for v in values):
            raise TraitError("Invalid selection: value not found")
        return tuple(self._options_values[positions[v]] for v in values)

    @observe("value")
    def _propagate_value(self, change: Any) -> None:
        positions = self._lookup()
        index = tuple(positions[v] for v in change.new)
        if self.index != index:  # type: ignore[has-type]
            self.index = index

    @validate("label")
    def _validate_label(self, proposal: Any) -> tuple[str, ...]:
        self._lookup()
        if any(v not in self._label_positions for v in proposal.value):
            raise TraitError("Invalid selection: label not found")
        return tuple(proposal.value)

    @observe("label")
    def _propagate_label(self, change: Any) -> None:
        self._lookup()
        index = tuple(self._label_positions[v] for v in change.new)
        if self.index != index:
            self.index = index


def _live_loop(ref: weakref.ref[ComparisonWidget], stop: threading.Event, interval: float) -> None:
    """The Live timer. It holds the app only by a weak reference between ticks, so an
    app nobody holds any more is collected and its timer ends."""
    while not stop.wait(interval):
        app = ref()
        if app is None or app.comm is None:  # collected, or closed: nobody is watching
            return
        try:
            app._live_tick()
        finally:
            del app


class ComparisonWidget(widgets.VBox):
    """The comparison app; build it with :func:`comparison_widget`.

    Controls (public attributes): ``operations_select``, ``metric``,
    ``chart``, ``log_scale``, ``refresh_button``, ``live``, ``export_path``,
    ``export_button``; views: ``chart_image`` (PNG), ``table`` (HTML) and
    ``status``. ``render()`` redraws from the current snapshot; ``refresh()``
    takes a new snapshot of the source, re-sorts the operations list and
    redraws. ``render_count``, ``last_error`` and ``snapshot`` tell what happened.
    """

    # class defaults: ipywidgets calls close() from __del__, even on an instance
    # whose __init__ stopped at a bad argument
    _live_stop: threading.Event | None = None
    _live_thread: threading.Thread | None = None
    _parts: tuple[widgets.Widget, ...] = ()

    def __init__(
        self,
        operations: str | Iterable[str] | None = None,
        profiler: Any = None,
        *,
        metric: str = "mean",
        chart: str = "bar",
        live_interval_s: float = 1.5,
        report_path: str = "wdbx_comparison_report.md",
        renderer: ChartRenderer | None = None,
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
        if renderer is not None and not callable(getattr(renderer, "render", None)):
            raise TypeError(
                "renderer must have a render(request) method returning a Chart "
                f"(see wdbx_notebook.jupyter.figures.ChartRenderer), got {renderer!r}"
            )
        snapshot, stats = plots.resolve_operations(operations, profiler)
        # what Refresh re-reads: the profiler (None: the shared one), or a fixed snapshot
        self.source: Any = profiler
        self.snapshot: Snapshot = snapshot
        self.renderer: ChartRenderer = renderer if renderer is not None else PngChartRenderer()
        # with operations=None the app follows the profiler: new operations appear on refresh
        self._follow_all = operations is None
        self._fixed = list(stats)
        self.live_interval_s = float(live_interval_s)
        self.render_count = 0
        self.last_error: str | None = None
        self.last_export_path: str | None = None
        self._render_lock = threading.RLock()
        self._quiet = False  # set while the app itself changes controls, to render once
        self._signature: tuple[Any, ...] = ()
        self._charts: OrderedDict[tuple[Any, ...], Chart] = OrderedDict()
        self._static_id: str | None = None  # the display id of the static twin, once shown
        self._bar_order: tuple[str, ...] = ()  # the bars' order, kept while Live redraws

        # slowest first, whoever chose the operations: the eye starts at the top
        names = _ordered(stats, "mean")
        self.operations_select = OperationSelect(
            options=self._options(names),
            value=tuple(names),
            rows=min(10, max(4, len(names))),
            description="Operations",
            layout=widgets.Layout(width="380px", flex="0 1 auto"),
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
            description="Refresh",
            icon="refresh",
            tooltip="Re-read the profiler and sort the list slowest first",
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
        )
        self.live = widgets.ToggleButton(
            value=False,
            description="Live",
            icon="play",
            tooltip=f"Refresh every {live_interval_s:g} s",
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
        )
        self.export_path = widgets.Text(
            value=report_path,
            description="Report file",
            layout=widgets.Layout(width="auto", flex="1 1 12em", min_width="12em"),
        )
        self.export_button = widgets.Button(
            description="Export report",
            icon="download",
            tooltip="Write the markdown report of the selection",
            # its own width: a narrow window wraps the row instead of cutting the label
            layout=widgets.Layout(width="auto", min_width="max-content", flex="0 0 auto"),
        )
        self.chart_image = widgets.Image(
            format="png",
            layout=widgets.Layout(
                max_width="100%", height="auto", border="1px solid var(--jp-border-color1, #999)"
            ),
        )
        self.table = widgets.HTML(layout=widgets.Layout(max_width="100%", overflow="auto"))
        self.status = widgets.HTML()
        self._title = widgets.HTML("<b>Operation comparison</b>")
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
            self._title,
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

        wrap = widgets.Layout(flex_flow="row wrap", align_items="center", max_width="100%")
        controls = widgets.VBox(
            [
                self.metric,
                self.chart,
                self.log_scale,
                widgets.HBox([self.refresh_button, self.live], layout=wrap),
                widgets.HBox([self.export_path, self.export_button], layout=wrap),
            ],
            layout=widgets.Layout(flex="1 1 20em", min_width="0", max_width="100%"),
        )
        super().__init__(
            [
                self._title,
                widgets.HBox([self.operations_select, controls], layout=wrap),
                self.chart_image,
                self.table,
                self.status,
            ],
            layout=widgets.Layout(max_width="100%", overflow="hidden"),
        )
        self.add_class("wdbx-comparison")
        for control in (self.operations_select, self.metric, self.chart, self.log_scale):
            control.observe(self._on_change, names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.export_button.on_click(lambda _: self.export())
        self.live.observe(self._on_live, names="value")
        self._signature = self._signature_of(snapshot)
        self.render()

    # -- reading the source ------------------------------------------------------------
    @staticmethod
    def _options(names: list[str]) -> list[tuple[str, str]]:
        return [(printable(name), name) for name in names]

    def _take_snapshot(self) -> Snapshot:
        return plots.read_source(self.source)

    @staticmethod
    def _signature_of(snapshot: Snapshot) -> tuple[Any, ...]:
        """What changes when calls arrive: each operation's call count."""
        return tuple(
            (name, snapshot.summary(name).call_count) for name in snapshot.get_all_operations()
        )

    def _option_values(self) -> list[str]:
        return [value for _, value in self.operations_select.options]

    def refresh(self) -> None:
        """Take a new snapshot, sort the operations list slowest first (new operations
        appear; with all selected they are selected too), then redraw."""
        self._update(resort=True)

    def _live_tick(self) -> None:
        """Live: redraw when calls arrived; new operations join the list at its end."""
        try:
            snapshot = self._take_snapshot()
            if self._signature_of(snapshot) != self._signature:
                self._update(resort=False, snapshot=snapshot)
        except Exception as exc:  # the timer goes on; the status line says what failed
            self._fail(exc)

    def _update(self, *, resort: bool, snapshot: Snapshot | None = None) -> None:
        with self._render_lock:
            try:
                snapshot = snapshot if snapshot is not None else self._take_snapshot()
            except Exception as exc:
                self._fail(exc)
                return
            self.snapshot = snapshot
            self._signature = self._signature_of(snapshot)
            if self._follow_all:
                names = snapshot.get_all_operations()
            else:
                names = [n for n in self._fixed if n in snapshot]
            old = self._option_values()
            if resort:
                stats = {n: snapshot.get_statistics(n) for n in names}
                names = _ordered(stats, "mean")
            else:  # keep the list where it is; newcomers at the end
                known = set(names)
                kept = [n for n in old if n in known]
                seen = set(kept)
                names = kept + [n for n in names if n not in seen]
            if names != old:
                selected = set(self.operations_select.value)
                all_selected = len(selected) == len(old)
                olds = set(old)
                keep = tuple(n for n in names if n in selected or (all_selected and n not in olds))
                self._quiet = True
                try:
                    self.operations_select.options = self._options(names)
                    self.operations_select.value = keep
                    self.operations_select.rows = min(10, max(4, len(names)))
                finally:
                    self._quiet = False
            self.render(keep_order=not resort)

    # -- drawing -------------------------------------------------------------------
    def _on_change(self, change: dict[str, Any]) -> None:
        # under the lock, so _quiet is only ever seen by the thread that set it: a
        # user's change during a Live refresh waits for that refresh, then renders
        with self._render_lock:
            if not self._quiet:
                self.render()

    def selected_statistics(self) -> dict[str, dict[str, Any]]:
        """``{name: statistics}`` of the selected operations that have calls, in list order."""
        snapshot = self.snapshot
        return {
            name: snapshot.get_statistics(name)
            for name in self.operations_select.value
            if name in snapshot
        }

    def chart_request(
        self, stats: dict[str, dict[str, Any]] | None = None, *, keep_order: bool = False
    ) -> ChartRequest:
        """What the chart shows now (what the renderer is asked to draw).

        Bars are sorted by the metric, worst first, at each of the user's actions;
        with ``keep_order`` (a Live redraw) they keep their places and newcomers
        join at the bottom, so nothing jumps while calls arrive."""
        stats = self.selected_statistics() if stats is None else stats
        metric = self.metric.value
        ranked = _ordered(stats, metric)
        if keep_order and self._bar_order:
            known = set(stats)
            kept = [n for n in self._bar_order if n in known]
            seen = set(kept)
            ranked = kept + [n for n in ranked if n not in seen]
        return ChartRequest(
            kind=self.chart.value,
            metric=metric,
            log_scale=bool(self.log_scale.value),
            names=tuple(stats),
            stats=stats,
            snapshot=self.snapshot,
            order=tuple(ranked),
        )

    def figure(self) -> Any:
        """The current chart as a new matplotlib Figure (what the image shows)."""
        request = self.chart_request()
        names, log = list(request.names), request.log_scale
        if request.kind == "bar":
            return plots.plot_comparison(names, self.snapshot, metric=request.metric, log_scale=log)
        if request.kind == "timeline":
            return plots.plot_timeline(names, self.snapshot, log_scale=log)
        if request.kind == "breakdown":
            from ..explain import plot_time_breakdown

            return plot_time_breakdown(self.snapshot, names, log_scale=log)
        return plots.plot_distribution(names, self.snapshot, kind=request.kind, log_scale=log)

    def _chart(self, request: ChartRequest) -> Chart:
        """The chart, drawn only when what it shows changed (controls flipped back and
        forth, or a metric change under a box plot, reuse the image)."""
        key = request.key()
        cached = self._charts.get(key)
        if cached is not None:
            self._charts.move_to_end(key)
            return cached
        drawn = self.renderer.render(request)
        self._charts[key] = drawn
        while len(self._charts) > _CHART_CACHE_SIZE:
            self._charts.popitem(last=False)
        return drawn

    def render(self, *, keep_order: bool = False) -> None:
        """Redraw the chart and the table from the current controls and snapshot
        (``keep_order``: a Live redraw, where the bars keep their places).

        Never raises: a failure is shown in the status line and kept in
        ``last_error``, since an exception in a widget callback is lost in the
        kernel's log where nobody looks.
        """
        with self._render_lock:
            try:
                stats = self.selected_statistics()
                request = self.chart_request(stats, keep_order=keep_order)
                self._bar_order = request.order or ()
                chart = self._chart(request)
                table = _table_html(stats, self.metric.value)
                # one image pixel per screen pixel: crisp text, and the page only
                # reflows when the chart's size really changes
                width = str(chart.width)
                if self.chart_image.width != width:
                    self.chart_image.width = width
                self.chart_image.value = chart.png
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
                self._update_static(stats, chart)
            except Exception as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.status.value = (
            f'{_STYLE}<span class="wdbx-compare-error">Could not draw the comparison: '
            f"{html.escape(self.last_error)}</span>"
        )

    def _set_status(self, text: str) -> None:
        extra = ""
        if self.last_export_path is not None:
            extra = f" · report written to <code>{html.escape(self.last_export_path)}</code>"
        self.status.value = (
            f'{_STYLE}<span class="wdbx-compare-status">{html.escape(text)}{extra}</span>'
        )

    # -- the static twin ------------------------------------------------------------
    def static_bundle(self) -> dict[str, str]:
        """The comparison without widgets: ``text/html`` (the table and the chart as an
        embedded PNG) and ``text/plain`` (the table as text). Shown beside the app, it is
        what an nbconvert export or a viewer without widgets displays."""
        stats = self.selected_statistics()
        return self._static(stats, self._chart(self.chart_request(stats)))

    def _static(self, stats: dict[str, dict[str, Any]], chart: Chart) -> dict[str, str]:
        png = base64.b64encode(chart.png).decode("ascii")
        css = f"wdbx-static-{self.model_id}"
        body = (
            f'<div class="wdbx-static {css}">'
            "<p><b>Operation comparison</b> (a static copy of the comparison app: "
            "run the notebook with ipywidgets to explore)</p>"
            f'<img class="wdbx-static-chart" alt="comparison chart" width="{chart.width}" '
            f'style="max-width:100%;border:1px solid var(--jp-border-color1,#999)" '
            f'src="data:image/png;base64,{png}"/>'
            f"{_table_html(stats, self.metric.value)}</div>"
        )
        return {"text/plain": _table_text(stats, self.metric.value), "text/html": body}

    def _update_static(self, stats: dict[str, dict[str, Any]], chart: Chart) -> None:
        if self._static_id is None:
            return
        from IPython.display import update_display

        update_display(self._static(stats, chart), raw=True, display_id=self._static_id)

    def _ipython_display_(self) -> None:
        """Show the app, and its static twin beside it (hidden where the app renders)."""
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        display(bundle, raw=True)
        self._static_id = f"wdbx-static-{self.model_id}"
        display(self.static_bundle(), raw=True, display_id=self._static_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # a front end that renders the app applies this rule and hides the static twin
        rule = f"<style>.wdbx-static-{self.model_id}{{display:none}}</style>"
        if rule not in self._title.value:
            self._title.value = f"<b>Operation comparison</b>{rule}"
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        return bundle

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
            selection = _selection(self.snapshot, names)
            PerformanceReport(selection, "markdown").save(target, "markdown")
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
        """Refresh every ``live_interval_s`` seconds from a daemon thread, when calls arrived.

        The thread holds the app by a weak reference: closing the app, or dropping
        the last reference to it, ends the thread."""
        if self._live_thread is not None and self._live_thread.is_alive():
            return
        stop = threading.Event()
        self._live_stop = stop
        self._live_thread = threading.Thread(
            target=_live_loop,
            args=(weakref.ref(self), stop, self.live_interval_s),
            name="wdbx-comparison-live",
            daemon=True,
        )
        weakref.finalize(self, stop.set)
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

    def close(self) -> None:
        """Stop the Live thread, then close the widget and its children."""
        self.stop_live()
        for child in self._parts:
            child.close()
        super().close()


def _selection(snapshot: Snapshot, names: list[str]) -> Snapshot:
    """The snapshot limited to ``names`` (what the report of a selection reads)."""
    from ..snapshot import Snapshot as _Snapshot

    return _Snapshot(
        {name: snapshot.operation_stats(name) for name in names},
        {name: snapshot.calls(name) for name in names},
        saved_at=snapshot.saved_at,
        environment=snapshot.environment,
        history_limit=snapshot.history_limit,
        path=snapshot.path,
    )


def comparison_widget(
    operations: str | Iterable[str] | None = None,
    profiler: Any = None,
    **options: Any,
) -> ComparisonWidget:
    """The interactive comparison app for ``operations`` (all when None) of ``profiler``
    (the shared one when None). Options: ``metric``, ``chart``, ``live_interval_s``,
    ``report_path``, ``renderer`` (a :class:`~wdbx_notebook.jupyter.figures.ChartRenderer`;
    real matplotlib PNGs by default).

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
    profiler: Any = None,
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
