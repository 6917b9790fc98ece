"""Static matplotlib figures comparing profiled operations.

Each function returns a :class:`matplotlib.figure.Figure` built with the
object API (no pyplot state, so nothing piles up in pyplot's figure registry
and the functions are safe to call from a background thread). Save one with
``fig.savefig("comparison.png")``; in Jupyter, show it with ``display(fig)``.

* :func:`plot_comparison`: one horizontal bar per operation for a metric
  (mean, median, p95, p99, max, total time, calls per second, memory delta per
  call or success rate), worst first, with +/- one standard deviation on the
  mean.
* :func:`plot_distribution`: durations of each operation's recent calls as a
  box plot, a violin plot or overlaid histograms, optionally on a log scale.
* :func:`plot_timeline`: each recent call's duration over the session with a
  moving average, optionally over the process's memory (a ``system``
  DataFrame with an ``rss_bytes`` column).
* :func:`plot_trend`: one operation's calls with their rolling mean and p95,
  and a step up marked where :func:`wdbx_notebook.trends.detect_step_up` found one.

Every function reads a :class:`~wdbx_notebook.snapshot.Snapshot` of its
source (a live profiler, a saved session, a merge), so all of them draw the
same numbers the tables and reports show.

Many operations stay readable: bars are horizontal, long names are shortened
in the middle, and only the ``top`` worst are drawn, with a note saying how
many were left out. matplotlib and numpy are imported inside the functions,
so importing this module is cheap.

>>> from wdbx_notebook import PerformanceProfiler, plot_comparison
>>> profiler = PerformanceProfiler()
>>> with profiler.profile_block("load"):
...     pass
>>> fig = plot_comparison(profiler=profiler, metric="p95")
>>> fig.axes[0].get_xlabel()
'p95 duration (ms)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .report.escape import printable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .snapshot import Snapshot

__all__ = [
    "CHART_KINDS",
    "DISTRIBUTION_KINDS",
    "MAX_BINS",
    "METRICS",
    "Metric",
    "metric_value",
    "plot_comparison",
    "plot_distribution",
    "plot_timeline",
    "plot_trend",
    "read_source",
    "resolve_operations",
    "shorten",
]


@dataclass(frozen=True)
class Metric:
    """One way to compare operations: which statistic, in which unit, which end is worse."""

    key: str  # the metric's name in the API ("mean", "p95", ...)
    label: str  # the axis label, with its unit
    statistic: str  # the key of get_statistics() it reads
    scale: float = 1.0  # multiply the statistic by this to get the unit of `label`
    higher_is_worse: bool = True  # sort order: worst first
    spread: str | None = None  # statistic drawn as an error bar (+/-), if meaningful
    column: str = ""  # short table header


#: The metrics every view offers, in menu order.
METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "mean",
            "Mean duration (ms)",
            "avg_duration_ms",
            spread="std_duration_ms",
            column="Mean (ms)",
        ),
        Metric("median", "Median duration (ms)", "median_duration_ms", column="Median (ms)"),
        Metric("p95", "p95 duration (ms)", "p95_duration_ms", column="p95 (ms)"),
        Metric("p99", "p99 duration (ms)", "p99_duration_ms", column="p99 (ms)"),
        Metric("max", "Max duration (ms)", "max_duration_ms", column="Max (ms)"),
        Metric("total", "Total time (ms)", "total_duration_ms", column="Total (ms)"),
        Metric(
            "calls_per_second",
            "Throughput (calls/s)",
            "calls_per_second",
            higher_is_worse=False,
            column="Calls/s",
        ),
        Metric(
            "memory_per_call",
            "Memory delta per call (KiB)",
            "avg_memory_delta",
            scale=1 / 1024,
            column="Mem/call (KiB)",
        ),
        Metric(
            "success_rate",
            "Success rate (%)",
            "success_rate",
            higher_is_worse=False,
            column="Success %",
        ),
        # lowest first: the operations that mostly wait (see wdbx_notebook.explain)
        Metric(
            "cpu_share",
            "CPU share (% of wall time)",
            "cpu_share",
            higher_is_worse=False,
            column="CPU %",
        ),
    )
}

#: Distribution views of :func:`plot_distribution`.
DISTRIBUTION_KINDS = ("box", "violin", "histogram")

#: Every chart the comparison widget offers.
CHART_KINDS = ("bar", *DISTRIBUTION_KINDS, "timeline", "breakdown")

#: The most histogram bins a chart draws (more is no longer a histogram a person can read,
#: and drawing ten million bins takes minutes).
MAX_BINS = 1_000

#: What a subtitle suggests when operations were left out (the widget says it its own way).
SHOW_ALL_HINT = "pass top=None for all"

_NAME_WIDTH = 36
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def shorten(name: str, width: int = _NAME_WIDTH) -> str:
    """An operation name fit for an axis label.

    Control characters are escaped (a newline cannot break the layout), ``$``
    is escaped (matplotlib would read ``$...$`` as mathtext), and names longer
    than ``width`` keep their start and end around an ellipsis, since both
    usually matter (``module.function`` / ``size=10_000``).

    >>> shorten("data_pipeline.load_and_normalise_every_column[size=100000]", 24)
    'data_pipelin…ize=100000]'
    """
    safe = printable(str(name))
    if width >= 5 and len(safe) > width:
        head = width // 2
        tail = width - 1 - head
        safe = safe[:head] + "…" + safe[len(safe) - tail :] if tail else safe[:head] + "…"
    return safe.replace("$", r"\$")


def legend_label(name: str, width: int = 28) -> str:
    """An operation name fit for a legend entry: :func:`shorten`, and never starting
    with ``_`` (matplotlib silently drops legend labels that start with one).

    >>> legend_label("_private_loader")
    '\\u2009_private_loader'
    """
    label = shorten(name, width)
    # a thin space in front: visible as nothing, but the label is no longer "private"
    return "\u2009" + label if label.startswith("_") else label


def _check_metric(metric: object) -> Metric:
    if isinstance(metric, Metric):
        return metric
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(
            f"unknown metric {metric!r}; choose one of " + ", ".join(repr(k) for k in METRICS)
        )
    return METRICS[metric]


def _check_top(top: object) -> int | None:
    if top is None:
        return None
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(
            f"top must be a positive int (how many operations to draw) or None, got {top!r}"
        )
    return top


def _check_bins(bins: object) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise ValueError(f"bins must be an int from 1 to {MAX_BINS:,}, got {bins!r}")
    return bins


def metric_value(stats: dict[str, Any], metric: str | Metric) -> float:
    """The value of ``metric`` (a key of :data:`METRICS`) in one operation's statistics;
    NaN when the operation has no figure for it (no successful call, no memory reading).

    >>> metric_value({"avg_memory_delta": 2048.0}, "memory_per_call")
    2.0
    """
    m = _check_metric(metric)
    value = stats.get(m.statistic)
    if value is None:
        return math.nan
    return float(value) * m.scale


def sort_key(metric: str | Metric) -> Any:
    """A sort key putting the worst value of ``metric`` first and missing values last.

    >>> sorted([{"avg_duration_ms": 1.0}, {"avg_duration_ms": None}, {"avg_duration_ms": 3.0}],
    ...        key=sort_key("mean"))
    [{'avg_duration_ms': 3.0}, {'avg_duration_ms': 1.0}, {'avg_duration_ms': None}]
    """
    m = _check_metric(metric)
    sign = -1.0 if m.higher_is_worse else 1.0

    def key(stats: dict[str, Any]) -> tuple[bool, float]:
        value = metric_value(stats, m)
        return (value != value, sign * value if value == value else 0.0)

    return key


def read_source(profiler: Any = None) -> Snapshot:
    """The :class:`~wdbx_notebook.snapshot.Snapshot` a view reads: of ``profiler``
    (a profiler, a snapshot or saved session), or of the shared profiler when None.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> read_source(PerformanceProfiler()).get_all_operations()
    []
    """
    from .snapshot import as_snapshot

    return as_snapshot(profiler)


def resolve_operations(
    operations: str | Iterable[str] | None, profiler: Any
) -> tuple[Snapshot, dict[str, dict[str, Any]]]:
    """The snapshot read and ``{name: statistics}`` for the requested operations.

    ``operations=None`` means every operation with calls, slowest (highest
    mean) first; a single string means that one operation. Unknown names raise
    ``UnknownOperationError``, which suggests close names.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> source, stats = resolve_operations(None, PerformanceProfiler())
    >>> stats
    {}
    """
    source = read_source(profiler)
    if operations is None:
        stats = {name: source.get_statistics(name) for name in source.get_all_operations()}
        key = sort_key("mean")
        return source, {name: stats[name] for name in sorted(stats, key=lambda n: key(stats[n]))}
    if isinstance(operations, str):
        operations = [operations]
    try:
        names = list(operations)
    except TypeError:
        raise TypeError(
            "operations must be an operation name, a list of names or None (all), "
            f"got {operations!r}"
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"operation names are strings, got {name!r} in operations")
    return source, {name: source.get_statistics(name) for name in dict.fromkeys(names)}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    # constrained layout keeps long tick labels, titles and notes from overlapping;
    # a white face and a thin frame keep the chart readable on a dark page too
    fig = Figure(figsize=(width, height), layout="constrained", facecolor="white")
    frame(fig)
    return fig


def frame(fig: Figure) -> None:
    """Give ``fig`` a thin grey frame, so its white face has an edge on a dark page."""
    fig.patch.set_edgecolor("0.6")
    fig.patch.set_linewidth(1.0)


def _empty(fig: Figure, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11, color="0.35")
    return fig


def title_note(what: str, shown: int, total: int, more: str = SHOW_ALL_HINT) -> str:
    """A chart title, with a second line when only ``shown`` of ``total`` operations are drawn.

    >>> title_note("Mean per operation", 2, 5, "select fewer operations")
    'Mean per operation\\n2 of 5 operations shown (the worst); select fewer operations'
    """
    if shown < total:
        return f"{what}\n{shown} of {total} operations shown (the worst); {more}"
    return what


# -- bars --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bars:
    """What a bar chart of one metric shows: names top to bottom, values, whiskers."""

    metric: Metric
    names: list[str]  # drawn, worst first
    values: list[float]
    lower: list[float] | None  # whisker lengths below / above each bar, when drawn
    upper: list[float] | None
    total: int  # operations with a value (drawn or not)


def bar_data(
    stats: dict[str, dict[str, Any]],
    metric: str | Metric,
    *,
    top: int | None,
    error_bars: bool = True,
    log_scale: bool = False,
    order: Sequence[str] | None = None,
) -> Bars:
    """The bars of ``metric`` for ``stats``: worst first (or in ``order``), ``top`` at most.

    Operations without a value for the metric (no successful call) get no bar.
    On a log scale the lower whisker stops at a tenth of the bar (zero has no
    logarithm), and bars of zero are left out.
    """
    m = _check_metric(metric)
    valued = {n: metric_value(s, m) for n, s in stats.items() if s.get("call_count")}
    valued = {n: v for n, v in valued.items() if v == v and (v > 0 or not log_scale)}
    if order is None:
        key = sort_key(m)
        ordered = sorted(valued, key=lambda n: key(stats[n]))
    else:
        ordered = [n for n in order if n in valued]
    shown = ordered[:top] if top is not None else ordered
    values = [valued[n] for n in shown]
    lower = upper = None
    if error_bars and m.spread is not None and shown:
        spreads = [stats[n].get(m.spread) for n in shown]
        upper = [0.0 if s is None or s != s else float(s) * m.scale for s in spreads]
        # a duration cannot go below zero: clip the lower whisker at the axis
        floor = 0.9 if log_scale else 1.0
        lower = [min(s, v * floor) for s, v in zip(upper, values, strict=True)]
    return Bars(m, shown, values, lower, upper, len(ordered))


def bar_title(bars: Bars, more: str = SHOW_ALL_HINT) -> str:
    """The title of a bar chart (what is drawn, and what was left out)."""
    suffix = " (bars: mean, whiskers: ±1 std)" if bars.upper is not None else ""
    what = f"{bars.metric.label.split(' (')[0]} per operation{suffix}"
    return title_note(what, len(bars.names), bars.total, more)


def draw_bars(ax: Axes, bars: Bars, *, log_scale: bool = False, more: str = SHOW_ALL_HINT) -> None:
    """Draw ``bars`` into ``ax`` (horizontal, the first name at the top)."""
    m = bars.metric
    positions = list(range(len(bars.names)))
    ax.barh(positions, bars.values, color="#4C72B0")
    if bars.upper is not None and bars.lower is not None:
        ax.errorbar(
            bars.values,
            positions,
            xerr=[bars.lower, bars.upper],
            fmt="none",
            ecolor="0.3",
            capsize=3,
        )
    ax.set_yticks(positions, [shorten(n) for n in bars.names])
    ax.set_ylim(len(positions) - 0.5, -0.5)  # the worst operation at the top, where the eye starts
    ax.set_xlabel(m.label + (", log scale" if log_scale else ""))
    ax.set_ylabel("Operation")
    scale_bar_axis(ax, bars, log_scale)
    ax.grid(axis="x", alpha=0.3, which="both" if log_scale else "major")
    ax.set_title(bar_title(bars, more), fontsize=10)


def scale_bar_axis(ax: Axes, bars: Bars, log_scale: bool) -> None:
    """Set the value axis of a bar chart: linear from zero, or log around the values,
    with room for the whiskers."""
    if not bars.values:
        return
    lower = bars.lower or [0.0] * len(bars.values)
    upper = bars.upper or [0.0] * len(bars.values)
    high = max(v + u for v, u in zip(bars.values, upper, strict=True))
    if log_scale:
        _log_axis(ax, "x")
        low = min(v - d for v, d in zip(bars.values, lower, strict=True))
        low = max(low, min(bars.values) / 10)
        ax.set_xlim(low / 1.5, high * 1.5)
    else:
        ax.set_xscale("linear")
        if bars.metric.key == "success_rate":
            ax.set_xlim(0, 105)
        else:
            ax.set_xlim(0, high * 1.05 if high > 0 else 1.0)


def plot_comparison(
    operations: str | Iterable[str] | None = None,
    profiler: Any = None,
    *,
    metric: str = "mean",
    top: int | None = 40,
    error_bars: bool = True,
    log_scale: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """A horizontal bar per operation showing ``metric``, worst at the top.

    Args:
        operations: names to compare; all operations with calls when None.
        profiler: a profiler or saved session; the shared profiler when None.
        metric: a key of :data:`METRICS`: ``"mean"`` (with +/- one standard
            deviation as error bars), ``"median"``, ``"p95"``, ``"p99"``,
            ``"max"``, ``"total"``, ``"calls_per_second"``,
            ``"memory_per_call"`` or ``"success_rate"``.
        top: draw only the ``top`` worst operations (a note says how many
            were left out); None draws all.
        error_bars: draw the spread where the metric has one.
        log_scale: a log value axis, for values spanning several decades
            (bars of zero are left out; lower whiskers stop at 90% of the bar).
        ax: draw into these axes instead of a new figure.

    Operations without a value for the metric (no successful call yet) get no bar.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> for name in ("parse", "load"):
    ...     with profiler.profile_block(name):
    ...         pass
    >>> fig = plot_comparison(profiler=profiler, metric="total")
    >>> fig.axes[0].get_xlabel()
    'Total time (ms)'
    """
    m = _check_metric(metric)
    top = _check_top(top)
    _, stats = resolve_operations(operations, profiler)
    bars = bar_data(stats, m, top=top, error_bars=error_bars, log_scale=bool(log_scale))
    fig = ax.figure if ax is not None else _figure(8.0, max(2.6, 1.3 + 0.3 * len(bars.names)))
    if not bars.names:
        if ax is None:
            return _empty(fig, "No profiled operations to compare yet.")  # type: ignore[arg-type]
        ax.set_axis_off()
        return fig  # type: ignore[return-value]
    draw_bars(ax if ax is not None else fig.add_subplot(), bars, log_scale=bool(log_scale))
    return fig  # type: ignore[return-value]


# -- distributions -----------------------------------------------------------------------
def durations_ms(source: Snapshot, names: Iterable[str]) -> dict[str, Any]:
    """``{name: durations (ms, numpy) of the recent successful calls}``, for names with any."""
    samples = {}
    for name in names:
        durations = source.recent_durations_ns(name)
        if len(durations):
            samples[name] = durations / 1e6
    return samples


_DISTRIBUTION_TITLES = {
    "box": "Duration distribution (box plot)",
    "violin": "Duration distribution (violin plot)",
    "histogram": "Duration histogram",
}


def distribution_height(kind: str, count: int) -> float:
    """The figure height (inches) a distribution chart of ``count`` operations needs."""
    return 4.5 if kind == "histogram" else max(2.6, 1.3 + 0.38 * count)


def draw_distribution(
    ax: Axes,
    samples: dict[str, Any],
    *,
    kind: str,
    log_scale: bool,
    bins: int,
    total: int,
    more: str = SHOW_ALL_HINT,
) -> None:
    """Draw ``samples`` (``{name: durations in ms}``, first at the top) into ``ax``."""
    names = list(samples)
    data = [list(samples[n]) for n in names]
    labels = [shorten(n) for n in names]
    if kind == "histogram":
        _histograms(ax, data, [legend_label(n) for n in names], log_scale, bins)
    else:
        positions = list(range(1, len(names) + 1))
        if kind == "box":
            ax.boxplot(
                data,
                positions=positions,
                orientation="horizontal",
                widths=0.6,
                showfliers=True,
                flierprops={"markersize": 2, "alpha": 0.4},
            )
        else:
            # a violin needs two distinct values; a single value is drawn as a tick
            parts = [(p, d) for p, d in zip(positions, data, strict=True) if len(set(d)) > 1]
            if parts:
                ax.violinplot(
                    [d for _, d in parts],
                    positions=[p for p, _ in parts],
                    orientation="horizontal",
                    showmedians=True,
                    widths=0.8,
                )
            for p, d in zip(positions, data, strict=True):
                if len(set(d)) <= 1:
                    ax.plot([d[0]], [p], marker="|", markersize=14, color="#4C72B0")
        ax.set_yticks(positions, labels)
        ax.set_ylim(len(names) + 0.6, 0.4)  # the first at the top
        ax.set_ylabel("Operation")
        ax.set_xlabel("Duration per call (ms)" + (", log scale" if log_scale else ""))
        if log_scale:
            _log_axis(ax, "x")
        ax.grid(axis="x", alpha=0.3, which="both" if log_scale else "major")
    ax.set_title(
        title_note(
            f"{_DISTRIBUTION_TITLES[kind]}, recent successful calls", len(names), total, more
        ),
        fontsize=10,
    )


def plot_distribution(
    operations: str | Iterable[str] | None = None,
    profiler: Any = None,
    *,
    kind: str = "box",
    log_scale: bool = False,
    top: int | None = 20,
    bins: int = 40,
) -> Figure:
    """How each operation's call durations are spread, from its recent calls.

    ``kind`` is ``"box"`` (median, quartiles, whiskers at 1.5 IQR),
    ``"violin"`` (density with median) or ``"histogram"`` (overlaid step
    histograms on shared bins, ``bins`` from 1 to :data:`MAX_BINS`).
    ``log_scale`` puts durations on a log axis, which keeps fast and slow
    operations readable side by side. Operations are ordered by median,
    slowest first; ``top`` limits how many are drawn (default 20 for
    box/violin, at most 8 for histograms). Only successful calls have
    durations.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> fig = plot_distribution(profiler=profiler, kind="violin", log_scale=True)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    if kind not in DISTRIBUTION_KINDS:
        raise ValueError(
            f"unknown kind {kind!r}; choose one of "
            + ", ".join(repr(k) for k in DISTRIBUTION_KINDS)
        )
    top = _check_top(top)
    bins = _check_bins(bins)
    source, stats = resolve_operations(operations, profiler)
    samples = durations_ms(source, stats)
    ordered = sorted(samples, key=lambda n: -float(stats[n].get("median_duration_ms") or 0.0))
    if kind == "histogram":
        top = min(top or 8, 8)  # more than eight overlaid histograms is a blur
    shown = ordered[:top] if top is not None else ordered
    fig = _figure(8.0, distribution_height(kind, len(shown)))
    if not shown:
        return _empty(fig, "No successful calls to show yet.")
    draw_distribution(
        fig.add_subplot(),
        {n: samples[n] for n in shown},
        kind=kind,
        log_scale=bool(log_scale),
        bins=bins,
        total=len(ordered),
    )
    return fig


def _histograms(
    ax: Axes, data: Sequence[list[float]], labels: Sequence[str], log_scale: bool, bins: int
) -> None:
    import numpy as np

    low = min(min(d) for d in data)
    high = max(max(d) for d in data)
    if log_scale:
        low = max(low, 1e-6)  # a zero duration (a coarse clock) has no logarithm
        high = max(high, low * 1.0001)
        edges = np.geomspace(low, high * 1.0001, bins + 1)
        _log_axis(ax, "x")
    else:
        high = high if high > low else low + max(abs(low), 1e-6) * 0.01
        edges = np.linspace(low, high, bins + 1)
    handles = []
    for values in data:
        clipped = np.clip(np.asarray(values, dtype=float), edges[0], edges[-1])
        _, _, patches = ax.hist(clipped, bins=list(edges), histtype="step", linewidth=1.6)
        handles.append(patches[0] if isinstance(patches, list) else patches)
    ax.set_xlabel("Duration per call (ms)" + (", log scale" if log_scale else ""))
    ax.set_ylabel("Calls")
    ax.grid(alpha=0.3)
    # explicit labels: the legend keeps every name, "_private" ones included
    ax.legend(handles, list(labels), fontsize=8, loc="upper right")


def _log_axis(ax: Axes, which: str) -> None:
    """A log axis labelled 1, 2, 5 per decade in plain numbers (matplotlib's default
    labels every minor tick in scientific notation when the range is short, and they collide)."""
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


# -- timelines ---------------------------------------------------------------------------
def _moving_average(values: Sequence[float], window: int) -> list[float]:
    """Trailing mean over ``window`` calls (shorter at the start, so the line starts
    at the first call)."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    sums = np.cumsum(np.concatenate(([0.0], arr)))
    idx = np.arange(1, len(arr) + 1)
    lo = np.maximum(idx - window, 0)
    return list((sums[idx] - sums[lo]) / (idx - lo))


def _epoch_seconds(index: Any) -> list[float]:
    """A DataFrame index as seconds since the epoch: datetimes (naive ones read
    as UTC, like ``pd.to_datetime(seconds, unit="s")``) or numbers (already epoch seconds)."""
    import pandas as pd

    if isinstance(index, pd.DatetimeIndex):
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        return list((index - pd.Timestamp(0)) / pd.Timedelta(seconds=1))
    return [float(v) for v in index]


def timeline_series(source: Snapshot, names: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    """``{name: (start times in epoch seconds, durations in ms)}`` of the recent successful
    calls, in start order, for names with any."""
    series = {}
    for name in names:
        durations = source.recent_durations_ns(name)
        if len(durations):
            series[name] = (source.recent_starts_ns(name) / 1e9, durations / 1e6)
    return series


def _line_label(name: str, calls: int, window: int) -> str:
    label = legend_label(name)
    if calls == 1:
        return f"{label} (1 call)"
    if window <= 1:
        return label  # the line joins the calls themselves
    return f"{label} (avg of {window})"


def draw_timeline(
    ax: Axes,
    series: dict[str, tuple[Any, Any]],
    *,
    window: int | None,
    log_scale: bool,
    total: int,
    system: Any = None,
    more: str = SHOW_ALL_HINT,
) -> None:
    """Draw ``series`` (from :func:`timeline_series`) into ``ax``."""
    names = list(series)
    t0 = min(float(series[n][0][0]) for n in names)
    handles, labels = [], []
    for name in names:
        times, durations = series[name]
        xs = [float(t) - t0 for t in times]
        n_window = window or max(1, min(50, len(durations) // 10))
        (line,) = ax.plot(xs, _moving_average(durations, n_window), linewidth=1.8)
        ax.scatter(xs, list(durations), s=6, alpha=0.35, color=line.get_color(), linewidths=0)
        handles.append(line)
        labels.append(_line_label(name, len(durations), min(n_window, len(durations))))
    ax.set_xlabel("Time since first call (s)")
    ax.set_ylabel("Duration per call (ms)")
    if log_scale:
        _log_axis(ax, "y")
    ax.grid(alpha=0.3)
    span = max(max(float(series[n][0][-1]) for n in names) - t0, 1e-3)
    # the calls set the time range; a longer system history must not squeeze them
    ax.set_xlim(-0.03 * span, 1.03 * span)
    if system is not None and len(system):
        twin = ax.twinx()
        xs = [t - t0 for t in _epoch_seconds(system.index)]
        rss_mib = [float(v) / 2**20 for v in system["rss_bytes"]]
        (mem_line,) = twin.plot(xs, rss_mib, color="0.45", linestyle="--", linewidth=1.2)
        twin.set_ylabel("Process memory, RSS (MiB)")
        handles.append(mem_line)
        labels.append("process RSS (MiB)")
    # explicit labels: the legend keeps every name, "_private" ones included
    ax.legend(handles, labels, fontsize=8, loc="upper left")
    ax.set_title(
        title_note(
            "Call durations over time (dots: calls, lines: moving average)",
            len(names),
            total,
            more,
        ),
        fontsize=10,
    )


def plot_timeline(
    operations: str | Iterable[str] | None = None,
    profiler: Any = None,
    *,
    window: int | None = None,
    log_scale: bool = False,
    top: int | None = 8,
    system: Any = None,
) -> Figure:
    """Each recent call's duration over the session, with a moving average.

    Dots are single calls (successful ones), lines their trailing moving
    average over ``window`` calls (default: a tenth of the calls, between 1
    and 50). The x axis counts seconds from the first plotted call. ``top``
    limits the operations drawn (slowest mean first; default 8).

    ``system``: an optional time-indexed DataFrame with an ``rss_bytes``
    column (``system_diagnostics.to_dataframe()``); its index holds
    datetimes (naive ones read as UTC) or epoch seconds. The process's
    resident memory is drawn on a second axis, in MiB.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> for _ in range(3):
    ...     with profiler.profile_block("load"):
    ...         pass
    >>> fig = plot_timeline(profiler=profiler)
    >>> fig.axes[0].get_ylabel()
    'Duration per call (ms)'
    """
    top = _check_top(top)
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window < 1
    ):
        raise ValueError(f"window must be a positive int (calls averaged) or None, got {window!r}")
    if system is not None and "rss_bytes" not in getattr(system, "columns", ()):
        raise ValueError(
            "system must be a time-indexed DataFrame with an 'rss_bytes' column "
            "(system_diagnostics.to_dataframe()), got " + type(system).__name__
        )
    source, stats = resolve_operations(operations, profiler)
    series = timeline_series(source, stats)
    key = sort_key("mean")
    ordered = sorted(series, key=lambda n: key(stats[n]))
    shown = ordered[:top] if top is not None else ordered
    fig = _figure(9.0, 4.8)
    if not shown:
        return _empty(fig, "No successful calls to show yet.")
    draw_timeline(
        fig.add_subplot(),
        {n: series[n] for n in shown},
        window=window,
        log_scale=bool(log_scale),
        total=len(ordered),
        system=system,
    )
    return fig


# -- one operation's trend -----------------------------------------------------------------
def plot_trend(
    name: str,
    window: int | None = None,
    profiler: Any = None,
    *,
    detect: bool = True,
) -> Figure:
    """Durations of ``name``'s recent calls with their rolling mean and rolling p95.

    Dots are successful calls in order; lines the rolling mean and rolling
    p95 over ``window`` calls (default: a twentieth of the calls, between 5
    and 200). A detected step up (see
    :func:`wdbx_notebook.trends.detect_step_up`) is marked where it began.

    Args:
        name: the operation.
        window: calls per rolling window.
        profiler: a live profiler or a saved session (the shared profiler
            when omitted).
        detect: mark a step up when one is found.

    Returns:
        A matplotlib ``Figure`` (not shown or kept by pyplot: display it, or
        ``fig.savefig(path)``).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> for _ in range(30):
    ...     with profiler.profile_block("load"):
    ...         pass
    >>> plot_trend("load", profiler=profiler).axes[0].get_ylabel()
    'Duration (ms)'
    """
    import numpy as np

    from .trends import _check_window, detect_step_up, rolling_statistics, successful_calls

    if window is not None:
        window = _check_window(window)
    source = read_source(profiler)
    _, durations_ns, earlier = successful_calls(source, name)
    fig = _figure(9.0, 4.5)
    ax = fig.add_subplot()
    if not len(durations_ns):
        ax.text(
            0.5,
            0.5,
            f"No successful calls of {shorten(name, 60)} kept.",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    durations = durations_ns / 1e6
    n = len(durations)
    size = window or max(5, min(200, n // 20))
    size = min(size, n)
    calls = np.arange(earlier + 1, earlier + n + 1)
    mean, p95 = rolling_statistics(durations, size)
    ax.scatter(calls, durations, s=6, alpha=0.3, color="0.4", linewidths=0, label="calls")
    ax.plot(calls, mean, linewidth=1.8, color="tab:blue", label=f"rolling mean ({size} calls)")
    ax.plot(calls, p95, linewidth=1.4, color="tab:orange", label=f"rolling p95 ({size} calls)")
    if detect:
        step = detect_step_up(source, name)
        if step is not None:
            ax.axvline(
                step.call_number,
                color="tab:red",
                linestyle="--",
                linewidth=1.2,
                label=f"step up {step.ratio:.2f}x at call #{step.call_number:,}",
            )
    ax.set_xlabel("Call (successful calls, in order)")
    ax.set_ylabel("Duration (ms)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"Trend of {shorten(name, 60)}", fontsize=10)
    return fig
