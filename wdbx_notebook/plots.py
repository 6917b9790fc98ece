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

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .report.base import StatisticsSource
from .report.text import printable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CHART_KINDS",
    "DISTRIBUTION_KINDS",
    "METRICS",
    "Metric",
    "metric_value",
    "plot_comparison",
    "plot_distribution",
    "plot_timeline",
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
    )
}

#: Distribution views of :func:`plot_distribution`.
DISTRIBUTION_KINDS = ("box", "violin", "histogram")

#: Every chart the comparison widget offers.
CHART_KINDS = ("bar", *DISTRIBUTION_KINDS, "timeline")

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


def _check_metric(metric: object) -> Metric:
    if isinstance(metric, Metric):
        return metric
    if metric not in METRICS:
        raise ValueError(
            f"unknown metric {metric!r}; choose one of " + ", ".join(repr(k) for k in METRICS)
        )
    return METRICS[str(metric)]


def _check_top(top: object) -> int | None:
    if top is None:
        return None
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(
            f"top must be a positive int (how many operations to draw) or None, got {top!r}"
        )
    return top


def metric_value(stats: dict[str, Any], metric: str | Metric) -> float:
    """The value of ``metric`` (a key of :data:`METRICS`) in one operation's statistics.

    >>> metric_value({"avg_memory_delta": 2048.0}, "memory_per_call")
    2.0
    """
    m = _check_metric(metric)
    return float(stats[m.statistic]) * m.scale


def _source(profiler: StatisticsSource | None) -> StatisticsSource:
    if profiler is None:
        from .profiler import get_performance_profiler

        return get_performance_profiler()
    if not (
        callable(getattr(profiler, "get_statistics", None))
        and callable(getattr(profiler, "get_all_operations", None))
    ):
        raise TypeError(
            "profiler must be a PerformanceProfiler or a saved session (anything with "
            f"get_statistics() and get_all_operations()), got {type(profiler).__name__}"
        )
    return profiler


def resolve_operations(
    operations: str | Iterable[str] | None, profiler: StatisticsSource | None
) -> tuple[StatisticsSource, dict[str, dict[str, Any]]]:
    """The source and ``{name: statistics}`` for the requested operations.

    ``operations=None`` means every operation with calls, slowest (highest
    mean) first; a single string means that one operation. Unknown names raise
    the profiler's ``UnknownOperationError``, which suggests close names.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> source, stats = resolve_operations(None, PerformanceProfiler())
    >>> stats
    {}
    """
    source = _source(profiler)
    if operations is None:
        names = list(source.get_all_operations())
        stats = {name: source.get_statistics(name) for name in names}
        ordered = sorted(names, key=lambda n: -stats[n]["avg_duration_ms"])
        return source, {name: stats[name] for name in ordered}
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

    if "IPython" in sys.modules:
        # IPython shows object-API figures as images only once pyplot's inline
        # backend started; make sure `plot_comparison()` ending a cell draws a chart
        from .jupyter.figures import enable_figure_display

        enable_figure_display()
    # constrained layout keeps long tick labels, titles and notes from overlapping
    return Figure(figsize=(width, height), layout="constrained")


def _empty(fig: Figure, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11, color="0.35")
    return fig


def _title(what: str, shown: int, total: int, top: int | None) -> str:
    if shown < total:
        return f"{what}\n{shown} of {total} operations shown (the worst); pass top=None for all"
    return what


def _durations_ms(source: Any, name: str) -> list[float] | None:
    """Durations (ms) of the operation's recent successful calls, oldest first,
    or None when the source keeps no per-call history (a saved session)."""
    records = _history(source, name)
    if records is None:
        return None
    return [duration for _, duration, ok in records if ok]


def _history(source: Any, name: str) -> list[tuple[float, float, bool]] | None:
    """``(start, seconds since the epoch; duration_ms; success)`` per recent call."""
    if callable(getattr(source, "history_records", None)):
        offset = source.wall_offset_ns
        return [
            ((start + offset) / _NS_PER_S, (end - start) / _NS_PER_MS, error is None)
            for start, end, _thread, _before, _after, error in source.history_records(name)
        ]
    if callable(getattr(source, "get_call_history", None)):
        return [
            (r["timestamp"], r["duration_ms"], bool(r["success"]))
            for r in source.get_call_history(name).get(name, [])
        ]
    return None


def plot_comparison(
    operations: str | Iterable[str] | None = None,
    profiler: StatisticsSource | None = None,
    *,
    metric: str = "mean",
    top: int | None = 40,
    error_bars: bool = True,
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
        ax: draw into these axes instead of a new figure.

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
    stats = {name: s for name, s in stats.items() if s["call_count"]}
    ordered = sorted(stats, key=lambda n: metric_value(stats[n], m), reverse=m.higher_is_worse)
    shown = ordered[:top] if top is not None else ordered
    fig = ax.figure if ax is not None else _figure(8.0, max(2.6, 1.3 + 0.3 * len(shown)))
    if not shown:
        if ax is None:
            return _empty(fig, "No profiled operations to compare yet.")  # type: ignore[arg-type]
        ax.set_axis_off()
        return fig  # type: ignore[return-value]
    ax = ax if ax is not None else fig.add_subplot()
    values = [metric_value(stats[n], m) for n in shown]
    xerr = None
    if error_bars and m.spread is not None:
        spreads = [float(stats[n][m.spread]) * m.scale for n in shown]
        # a duration cannot go below zero: clip the lower whisker at the axis
        xerr = [[min(s, v) for s, v in zip(spreads, values, strict=True)], spreads]
    positions = list(range(len(shown)))
    ax.barh(positions, values, xerr=xerr, color="#4C72B0", ecolor="0.3", capsize=3 if xerr else 0)
    ax.set_yticks(positions, [shorten(n) for n in shown])
    ax.invert_yaxis()  # the worst operation at the top, where the eye starts
    ax.set_xlabel(m.label)
    ax.set_ylabel("Operation")
    if m.key == "success_rate":
        ax.set_xlim(0, 105)
    ax.grid(axis="x", alpha=0.3)
    suffix = " (bars: mean, whiskers: ±1 std)" if xerr is not None else ""
    ax.set_title(
        _title(f"{m.label.split(' (')[0]} per operation{suffix}", len(shown), len(ordered), top),
        fontsize=10,
    )
    return fig  # type: ignore[return-value]


def plot_distribution(
    operations: str | Iterable[str] | None = None,
    profiler: StatisticsSource | None = None,
    *,
    kind: str = "box",
    log_scale: bool = False,
    top: int | None = 20,
    bins: int = 40,
) -> Figure:
    """How each operation's call durations are spread, from its recent calls.

    ``kind`` is ``"box"`` (median, quartiles, whiskers at 1.5 IQR),
    ``"violin"`` (density with median) or ``"histogram"`` (overlaid step
    histograms on shared bins). ``log_scale`` puts durations on a log axis,
    which keeps fast and slow operations readable side by side. Operations
    are ordered by median, slowest first; ``top`` limits how many are drawn
    (default 20 for box/violin, at most 8 for histograms). Only successful
    calls have durations; a source without per-call history (a saved session)
    gets a figure saying so.

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
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    source, stats = resolve_operations(operations, profiler)
    samples: dict[str, list[float]] = {}
    no_history = False
    for name in stats:
        durations = _durations_ms(source, name)
        if durations is None:
            no_history = True
        elif durations:
            samples[name] = durations
    ordered = sorted(samples, key=lambda n: -stats[n]["median_duration_ms"])
    if kind == "histogram":
        top = min(top or 8, 8)  # more than eight overlaid histograms is a blur
    shown = ordered[:top] if top is not None else ordered
    if kind == "histogram":
        fig = _figure(8.0, 4.5)
    else:
        fig = _figure(8.0, max(2.6, 1.3 + 0.38 * len(shown)))
    if not shown:
        message = (
            "This source keeps no per-call history (a saved session?): "
            "distributions need a live profiler."
            if no_history
            else "No successful calls to show yet."
        )
        return _empty(fig, message)
    ax = fig.add_subplot()
    data = [samples[n] for n in shown]
    labels = [shorten(n) for n in shown]
    if kind == "histogram":
        _histograms(ax, data, labels, log_scale, bins)
    else:
        positions = list(range(1, len(shown) + 1))
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
        ax.set_ylim(len(shown) + 0.6, 0.4)  # slowest at the top
        ax.set_ylabel("Operation")
        ax.set_xlabel("Duration per call (ms)" + (", log scale" if log_scale else ""))
        if log_scale:
            _log_axis(ax, "x")
        ax.grid(axis="x", alpha=0.3, which="both" if log_scale else "major")
    what = {
        "box": "Duration distribution (box plot)",
        "violin": "Duration distribution (violin plot)",
        "histogram": "Duration histogram",
    }[kind]
    ax.set_title(
        _title(f"{what}, recent successful calls", len(shown), len(ordered), top), fontsize=10
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
    for values, label in zip(data, labels, strict=True):
        clipped = np.clip(np.asarray(values, dtype=float), edges[0], edges[-1])
        ax.hist(clipped, bins=list(edges), histtype="step", linewidth=1.6, label=label)
    ax.set_xlabel("Duration per call (ms)" + (", log scale" if log_scale else ""))
    ax.set_ylabel("Calls")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")


def _log_axis(ax: Axes, which: str) -> None:
    """A log axis labelled 1, 2, 5 per decade in plain numbers (matplotlib's default
    labels every minor tick in scientific notation when the range is short, and they collide)."""
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


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


def plot_timeline(
    operations: str | Iterable[str] | None = None,
    profiler: StatisticsSource | None = None,
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
    series: dict[str, tuple[list[float], list[float]]] = {}
    no_history = False
    for name in stats:
        records = _history(source, name)
        if records is None:
            no_history = True
            continue
        ok = [(t, d) for t, d, success in records if success]
        if ok:
            series[name] = ([t for t, _ in ok], [d for _, d in ok])
    ordered = sorted(series, key=lambda n: -stats[n]["avg_duration_ms"])
    shown = ordered[:top] if top is not None else ordered
    fig = _figure(9.0, 4.8)
    if not shown:
        message = (
            "This source keeps no per-call history (a saved session?): "
            "timelines need a live profiler."
            if no_history
            else "No successful calls to show yet."
        )
        return _empty(fig, message)
    ax = fig.add_subplot()
    t0 = min(series[n][0][0] for n in shown)
    for name in shown:
        times, durations = series[name]
        xs = [t - t0 for t in times]
        n_window = window or max(1, min(50, len(durations) // 10))
        (line,) = ax.plot(
            xs,
            _moving_average(durations, n_window),
            linewidth=1.8,
            label=f"{shorten(name, 28)} (avg of {n_window})",
        )
        ax.scatter(xs, durations, s=6, alpha=0.35, color=line.get_color(), linewidths=0)
    ax.set_xlabel("Time since first call (s)")
    ax.set_ylabel("Duration per call (ms)")
    if log_scale:
        _log_axis(ax, "y")
    ax.grid(alpha=0.3)
    span = max(max(series[n][0][-1] for n in shown) - t0, 1e-3)
    # the calls set the time range; a longer system history must not squeeze them
    ax.set_xlim(-0.03 * span, 1.03 * span)
    handles, labels = ax.get_legend_handles_labels()
    if system is not None and len(system):
        twin = ax.twinx()
        xs = [t - t0 for t in _epoch_seconds(system.index)]
        rss_mib = [float(v) / 2**20 for v in system["rss_bytes"]]
        (mem_line,) = twin.plot(xs, rss_mib, color="0.45", linestyle="--", linewidth=1.2)
        twin.set_ylabel("Process memory, RSS (MiB)")
        handles.append(mem_line)
        labels.append("process RSS (MiB)")
    ax.legend(handles, labels, fontsize=8, loc="upper left")
    ax.set_title(
        _title(
            "Call durations over time (dots: calls, lines: moving average)",
            len(shown),
            len(ordered),
            top,
        ),
        fontsize=10,
    )
    return fig
